"""``theano.tensor.subtensor``: Theano's module of indexing functions, at its Theano path.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  The ops and
``set_subtensor`` / ``inc_subtensor`` are :mod:`aotsym.graph.ops.subtensor`'s; this module adds
Theano's functional spellings of advanced indexing writes (``advanced_inc_subtensor1(x, y,
ilist)`` is ``inc_subtensor(x[ilist], y)``) and ``get_canonical_form_slice``.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.ops.subtensor import (AdvancedIncSubtensor,  # noqa: F401
                                        AdvancedIncSubtensor1, AdvancedSubtensor,
                                        AdvancedSubtensor1, IncSubtensor, Subtensor, getitem,
                                        inc_subtensor, set_subtensor, take)

__all__ = ["set_subtensor", "inc_subtensor", "advanced_subtensor1", "advanced_subtensor",
           "advanced_inc_subtensor1", "advanced_set_subtensor1", "advanced_inc_subtensor",
           "advanced_set_subtensor", "get_canonical_form_slice", "take"]


def advanced_subtensor1(x, ilist):
    """``x[ilist]`` for an integer vector ``ilist`` (Theano's)."""
    return getitem(as_tensor_variable(x), as_tensor_variable(ilist))


def advanced_subtensor(x, *args):
    """``x[args]`` with integer-array indices (Theano's)."""
    return getitem(as_tensor_variable(x), tuple(args))


def advanced_inc_subtensor1(x, y, ilist):
    """``inc_subtensor(x[ilist], y)``: repeated indices accumulate (Theano's)."""
    return inc_subtensor(advanced_subtensor1(x, ilist), y)


def advanced_set_subtensor1(x, y, ilist):
    """``set_subtensor(x[ilist], y)`` (Theano's)."""
    return set_subtensor(advanced_subtensor1(x, ilist), y)


def advanced_inc_subtensor(x, y, *args):
    """``inc_subtensor(x[args], y)`` (Theano's)."""
    return inc_subtensor(advanced_subtensor(x, *args), y)


def advanced_set_subtensor(x, y, *args):
    """``set_subtensor(x[args], y)`` (Theano's)."""
    return set_subtensor(advanced_subtensor(x, *args), y)


def get_canonical_form_slice(theslice, length):
    """Theano's: ``(slice(start, stop, step), direction)`` with ``step > 0`` such that
    ``a[start:stop:step][::direction]`` is ``a[theslice]`` for any ``a`` of ``length``
    elements.  An int (or int scalar) ``theslice`` gives ``(index, 1)`` with a negative
    index counted from the end.  Bounds may be symbolic; the parts are int64 scalars then.
    """
    from aotsym.graph.ops import math as m
    if not isinstance(theslice, slice):
        idx = as_tensor_variable(theslice)
        return m.switch(m.lt(idx, 0), idx + length, idx), 1
    if isinstance(length, (int, np.integer)) and all(
            p is None or isinstance(p, (int, np.integer))
            for p in (theslice.start, theslice.stop, theslice.step)):
        start, stop, step = theslice.indices(int(length))
        if step > 0:
            return slice(start, stop, step), 1
        n = max(0, -(-(stop - start) // step))
        return slice(start + (n - 1) * step, start + 1, -step), -1

    def i64(v):
        return m.cast(as_tensor_variable(v), "int64")

    length = i64(length)
    step = i64(1 if theslice.step is None else theslice.step)
    pos = m.gt(step, 0)
    zero, one = i64(0), i64(1)

    def bound(v, default_pos, default_neg):
        # NumPy's slice.indices: negative counts from the end, then clamped to the range
        # [0, length] (positive step) or [-1, length - 1] (negative step)
        if v is None:
            return m.switch(pos, default_pos, default_neg)
        v = i64(v)
        v = m.switch(m.lt(v, 0), v + length, v)
        lo = m.switch(pos, zero, -one)
        hi = m.switch(pos, length, length - 1)
        return m.minimum(m.maximum(v, lo), hi)

    start = bound(theslice.start, zero, length - 1)
    stop = bound(theslice.stop, length, -one)
    # elements: start, start + step, ... (n of them); reversed for a negative step
    down = m.maximum(-step, one)
    n_neg = m.maximum(zero, (start - stop + down - 1) // down)
    last = start + (n_neg - 1) * step
    return (slice(m.switch(pos, start, last), m.switch(pos, stop, start + 1),
                  m.switch(pos, step, -step)),
            m.switch(pos, one, -one))
