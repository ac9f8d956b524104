"""``aotsym.tensor.elemwise``: Theano's ``theano.tensor.elemwise`` module path.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters): re-exports only.
Ported code tests a node's op with ``isinstance(node.op, T.Elemwise)`` (Theano's GPU
tutorial: "used the cpu" when the compiled graph still has an ``Elemwise``), or
``T.elemwise.DimShuffle``; ``CAReduce`` is Theano's name for the reductions' op
(:class:`aotsym.graph.ops.reduce.Reduce`).  The module is callable as ``T.elemwise(name,
*args)`` (:func:`aotsym.graph.ops.math.elemwise`), the function whose name it shadows.
"""

from aotsym.graph.ops.elemwise import DimShuffle, Elemwise  # noqa: F401
from aotsym.graph.ops.math import elemwise as _elemwise
from aotsym.graph.ops.reduce import Reduce as CAReduce  # noqa: F401
from aotsym.tensor._namesake import stand_in_for

__all__ = ["CAReduce", "DimShuffle", "Elemwise"]

stand_in_for(__name__, _elemwise)
