"""``theano.tensor.sort``: ``sort``, ``argsort``, ``topk``, ``argtopk``, ``topk_and_argtopk``
at Theano's module path.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  The ops are
:mod:`aotsym.graph.ops.sort`'s (``SortOp`` / ``ArgSortOp`` are Theano's names of
``Sort`` / ``ArgSort``); ``axis=None`` flattens first, as in Theano.

Importing this module makes the import system bind ``aotsym.tensor.sort`` to it, where
``T.sort`` is the function: the module is therefore callable, as that function
(``T.sort(x)`` sorts whichever of the two the name holds).
"""

from __future__ import annotations

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.ops.sort import ArgSort as ArgSortOp  # noqa: F401
from aotsym.graph.ops.sort import Sort as SortOp  # noqa: F401
from aotsym.graph.ops.sort import TopKOp, argsort, sort
from aotsym.tensor._namesake import stand_in_for

__all__ = ["sort", "argsort", "topk", "argtopk", "topk_and_argtopk", "SortOp", "ArgSortOp",
           "TopKOp"]


def _topk(x, kth, axis, sorted, idx_dtype, values, indices):
    from aotsym.graph.ops.reshape import flatten
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = flatten(x), 0
    return TopKOp(axis, sorted, idx_dtype, values, indices)(x, kth)


def topk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):
    """The ``kth`` largest values of ``x`` along ``axis`` (``kth < 0``: the ``-kth``
    smallest); ``sorted=True``: largest first (smallest first for ``kth < 0``), else in no
    particular order.  ``axis=None``: of the flattened ``x``."""
    return _topk(x, kth, axis, sorted, idx_dtype, True, False)


def argtopk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):
    """The indices (``idx_dtype``) along ``axis`` of :func:`topk`'s values."""
    return _topk(x, kth, axis, sorted, idx_dtype, False, True)


def topk_and_argtopk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):
    """``(topk(...), argtopk(...))`` from one op."""
    return tuple(_topk(x, kth, axis, sorted, idx_dtype, True, True))


stand_in_for(__name__, sort)   # T.sort(x) stays the function once this module is imported
