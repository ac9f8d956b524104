"""Diagonals and triangles: ``diagonal``, ``diag``, ``tri``, ``tril``, ``triu`` (NumPy's and
Theano's), composed of existing ops (ARange, Elemwise, DimShuffle, Subtensor and its
advanced forms, Alloc); none adds an op.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  Here rather than in
:mod:`aotsym.tensor.basic` (which re-exports them) because the linear-algebra gradients
(:mod:`aotsym.graph.ops.linalg`) are written with them, and the graph layer does not reach up
into the frontend's namespace.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.ops import math as m
from aotsym.graph.ops.alloc import arange, zeros
from aotsym.graph.ops.elemwise import dimshuffle
from aotsym.graph.ops.reduce import one_int_axis
from aotsym.graph.ops.shape import as_int_scalar, shape_i
from aotsym.graph.ops.subtensor import getitem, set_subtensor
from aotsym.graph.types import floatx


def _diagonal_index(rows, cols, offset):
    """(row indices, column indices) of diagonal ``offset`` of a rows x cols matrix."""
    below, above = max(0, -offset), max(0, offset)
    n = m.maximum(m.minimum(m.sub(rows, np.int64(below)), m.sub(cols, np.int64(above))),
                  np.int64(0))
    idx = arange(n, dtype="int64")
    return m.add(idx, np.int64(below)), m.add(idx, np.int64(above))


def _int_offset(offset, what):
    if not isinstance(offset, (int, np.integer)) or isinstance(offset, bool):
        raise TypeError(f"{what}: the offset must be an int, got {offset!r}")
    return int(offset)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """``np.diagonal``: the diagonal ``offset`` of the 2-d sub-arrays over ``axis1`` and
    ``axis2``, as the last dimension of the result (a copy)."""
    a = as_tensor_variable(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal: a must have at least 2 dimensions, got "
                         f"{a.type.describe()}")
    offset = _int_offset(offset, "diagonal")
    a1, a2 = one_int_axis(axis1, a.ndim, "diagonal"), one_int_axis(axis2, a.ndim, "diagonal")
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({a1})")
    rest = [d for d in range(a.ndim) if d not in (a1, a2)]
    b = dimshuffle(a, [a1, a2] + rest)
    rows, cols = _diagonal_index(shape_i(b, 0), shape_i(b, 1), offset)
    d = getitem(b, (rows, cols))
    return dimshuffle(d, list(range(1, d.ndim)) + [0])


def diag(v, k=0):
    """Theano's ``T.diag``: a vector gives the square matrix with ``v`` on its diagonal
    ``k`` (zeros elsewhere); a tensor of ndim >= 2 gives its diagonal ``k``."""
    v = as_tensor_variable(v)
    k = _int_offset(k, "diag")
    if v.ndim >= 2:
        return diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: v must have at least 1 dimension, got {v.type.describe()}")
    size = m.add(shape_i(v, 0), np.int64(abs(k)))
    rows, cols = _diagonal_index(size, size, k)
    return set_subtensor(getitem(zeros((size, size), dtype=v.dtype), (rows, cols)), v)


def tri(N, M=None, k=0, dtype=None):  # noqa: N803 - NumPy's names
    """``np.tri``: an ``N`` x ``M`` matrix with ones at and below the diagonal ``k``, zeros
    above (``dtype`` defaults to floatX); ``N``, ``M`` and ``k`` may be int scalar variables."""
    n = as_int_scalar(N, "tri: N")
    mm = n if M is None else as_int_scalar(M, "tri: M")
    k = as_int_scalar(k, "tri: k")
    rows = dimshuffle(arange(n, dtype="int64"), 0, "x")
    cols = dimshuffle(arange(mm, dtype="int64"), "x", 0)
    return m.cast(m.ge(m.add(rows, k), cols), dtype or floatx())


def _triangle(x, k, lower, what):
    x = as_tensor_variable(x)
    if x.ndim < 2:
        raise ValueError(f"{what}: m must have at least 2 dimensions, got {x.type.describe()}")
    keep = tri(shape_i(x, -2), shape_i(x, -1), k if lower else m.sub(as_int_scalar(k), 1),
               dtype="bool")
    zero = as_tensor_variable(np.zeros((), dtype=x.dtype))
    return m.switch(keep, x, zero) if lower else m.switch(keep, zero, x)


def tril(m, k=0):  # noqa: F811 - Theano's argument name shadows the math module here
    """``np.tril``: ``m`` with the elements above the diagonal ``k`` set to zero (the last
    two dimensions)."""
    return _triangle(m, k, True, "tril")


def triu(m, k=0):  # noqa: F811
    """``np.triu``: ``m`` with the elements below the diagonal ``k`` set to zero (the last
    two dimensions)."""
    return _triangle(m, k, False, "triu")
