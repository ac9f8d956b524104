"""``aotsym.tensor.type``: Theano's module path of ``TensorType``
(``theano.tensor.type.TensorType('float32', (False, True))``).

Part of the frontend (**frontend** -> graph -> optimizer -> emitters): a re-export of
:class:`aotsym.graph.types.TensorType`.
"""

from aotsym.graph.types import TensorType  # noqa: F401

__all__ = ["TensorType"]
