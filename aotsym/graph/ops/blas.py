"""Products: the ``Dot`` op and the builders ``dot``, ``matmul``, ``batched_dot``,
``batched_tensordot``, ``tensordot`` and ``outer``.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  ``Dot`` is the one product
op: vector·vector (a scalar), matrix·vector, vector·matrix and matrix·matrix, in the NumPy
upcast of the two dtypes (integer products are allowed and stay integer, as in ``np.dot``).
Everything else is built from it with DimShuffle and Reshape, so the optimizer sees one op
to turn into Gemm/Gemv/Ger (``aotsym/graph/ops/gemm.py``) and the C backend one BLAS family:

* ``dot(a, b)`` — ``np.dot``: a scalar operand is a multiplication; ndim > 2 is a tensordot
  over the last axis of ``a`` and the second-to-last of ``b``;
* ``tensordot(a, b, axes)`` — summed axes moved together, both operands reshaped to
  matrices, one Dot, reshaped back;
* ``batched_dot`` / ``batched_tensordot`` / ``matmul`` — batches of products, built as a
  broadcast multiply and a sum (``matmul`` of two ≤2-d operands is a plain Dot).
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variables
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind, upcast

_KINDS = {(1, 1): "vector·vector", (2, 1): "matrix·vector", (1, 2): "vector·matrix",
          (2, 2): "matrix·matrix"}


class Dot(Op):
    """``np.dot`` of two vectors or matrices (see the module docstring)."""

    def output_types(self, inputs):
        a, b = inputs
        if (a.ndim, b.ndim) not in _KINDS:
            raise TypeError(f"Dot: takes vectors and matrices, got {a.type.describe()} and "
                            f"{b.type.describe()}; use T.dot or T.tensordot for other ranks")
        bc = a.broadcastable[:-1] + b.broadcastable[1:] if b.ndim == 2 else a.broadcastable[:-1]
        return [TensorType(upcast(a.dtype, b.dtype), bc)]

    def perform(self, node, inputs):
        a, b = inputs
        inner_b = b.shape[0]
        if a.shape[-1] != inner_b:
            kind = _KINDS[(a.ndim, b.ndim)]
            raise ValueError(f"Dot: shapes {a.shape} and {b.shape} are not aligned for a "
                             f"{kind} product: {a.shape[-1]} (dimension {a.ndim - 1} of the "
                             f"first) != {inner_b} (dimension 0 of the second)")
        dtype = node.outputs[0].dtype
        with np.errstate(all="ignore"):
            return [np.asarray(np.dot(a.astype(dtype, copy=False), b.astype(dtype, copy=False)),
                               dtype=dtype)]

    def grad(self, node, inputs, output_grads):
        a, b = inputs
        (gz,) = output_grads
        nd = (a.ndim, b.ndim)
        if nd == (1, 1):
            ga, gb = gz * b, gz * a
        elif nd == (2, 1):
            ga, gb = outer(gz, b), dot(gz, a)
        elif nd == (1, 2):
            ga, gb = dot(b, gz), outer(a, gz)
        else:
            ga, gb = dot(gz, b.T), dot(a.T, gz)
        return [ga if dtype_kind(a.dtype) in "fc" else None,
                gb if dtype_kind(b.dtype) in "fc" else None]

    def infer_shape(self, node, input_shapes):
        sa, sb = input_shapes
        return [tuple(sa[:-1]) + tuple(sb[1:])]


_dot = Dot()


def _check_ranks(a, b, what):
    for name, v in (("first", a), ("second", b)):
        if dtype_kind(v.dtype) not in "biufc":
            raise TypeError(f"{what}: unsupported dtype {v.dtype} for the {name} operand")


def dot(a, b):
    """``np.dot(a, b)``: scalars multiply, vectors/matrices use Dot, higher ranks tensordot."""
    from aotsym.graph.ops import math as m
    a, b = as_tensor_variables([a, b])
    _check_ranks(a, b, "dot")
    if a.ndim == 0 or b.ndim == 0:
        return m.mul(a, b)
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    return tensordot(a, b, [[a.ndim - 1], [max(b.ndim - 2, 0)]])


def outer(x, y):
    """The outer product of two vectors (a matrix·matrix Dot of a column and a row)."""
    from aotsym.graph.ops.elemwise import dimshuffle
    x, y = as_tensor_variables([x, y])
    if x.ndim != 1 or y.ndim != 1:
        from aotsym.graph.ops.reshape import flatten
        x, y = flatten(x, 1), flatten(y, 1)
    return _dot(dimshuffle(x, 0, "x"), dimshuffle(y, "x", 0))


def _normalize_axes(axes, a, b):
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if n < 0 or n > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={n} is out of range for operands of ndim "
                             f"{a.ndim} and {b.ndim}")
        return list(range(a.ndim - n, a.ndim)), list(range(n))
    try:
        axes_a, axes_b = axes
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: axes must be an int or a pair of axis lists, got "
                        f"{axes!r}") from None
    axes_a = [axes_a] if isinstance(axes_a, (int, np.integer)) else list(axes_a)
    axes_b = [axes_b] if isinstance(axes_b, (int, np.integer)) else list(axes_b)
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: {len(axes_a)} axes of the first operand but "
                         f"{len(axes_b)} of the second")
    out = []
    for name, ax, v in (("first", axes_a, a), ("second", axes_b, b)):
        norm = []
        for d in ax:
            if not isinstance(d, (int, np.integer)) or not -v.ndim <= d < v.ndim:
                raise ValueError(f"tensordot: axis {d!r} is out of range for the {name} "
                                 f"operand of ndim {v.ndim}")
            norm.append(int(d) % v.ndim)
        if len(set(norm)) != len(norm):
            raise ValueError(f"tensordot: repeated axis in {ax} for the {name} operand")
        out.append(norm)
    return out


def tensordot(a, b, axes=2):
    """``np.tensordot``: sum products over ``axes`` (an int n: the last n axes of ``a`` with
    the first n of ``b``; or a pair of axis lists)."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.elemwise import dimshuffle
    from aotsym.graph.ops.reshape import reshape
    from aotsym.graph.ops.shape import shape_i, specify_shape
    a, b = as_tensor_variables([a, b])
    _check_ranks(a, b, "tensordot")
    axes_a, axes_b = _normalize_axes(axes, a, b)
    free_a = [d for d in range(a.ndim) if d not in axes_a]
    free_b = [d for d in range(b.ndim) if d not in axes_b]
    at = dimshuffle(a, *(free_a + axes_a))
    bt = dimshuffle(b, *(axes_b + free_b))
    if len(axes_a) > 1:
        # Equal products of the summed lengths are not enough: check them one by one.
        bt = specify_shape(bt, [shape_i(a, d) for d in axes_a] +
                           [shape_i(b, d) for d in free_b], context="tensordot")

    def prod(v, dims):
        if not dims:
            return 1
        if all(v.broadcastable[d] for d in dims):
            return 1
        return m.mul(*[shape_i(v, d) for d in dims]) if len(dims) > 1 else shape_i(v, dims[0])

    a2 = reshape(at, [prod(a, free_a), prod(a, axes_a)])
    b2 = reshape(bt, [prod(b, axes_b), prod(b, free_b)])
    out = _dot(a2, b2)
    out_shape = [shape_i(a, d) for d in free_a] + [shape_i(b, d) for d in free_b]
    return reshape(out, out_shape, ndim=len(out_shape))


def batched_dot(a, b):
    """Products of matching batch entries: ``a[i] · b[i]`` for each ``i`` of the first axis
    (Theano's ``batched_dot``): a vector operand scales the other's entries, operands of
    ndim above 3 are ``batched_tensordot`` over ``a``'s last axis and ``b``'s second-to-last
    (its second for a matrix), as Theano 1.0's."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.elemwise import dimshuffle
    from aotsym.graph.ops.reduce import sum as tsum
    a, b = as_tensor_variables([a, b])
    if a.ndim == 0 or b.ndim == 0:
        raise TypeError(f"batched_dot: operands must have a (first) batch axis, got "
                        f"{a.type.describe()} and {b.type.describe()}")
    if a.ndim == 1:
        return m.mul(dimshuffle(a, 0, *["x"] * (b.ndim - 1)), b)
    if b.ndim == 1:
        return m.mul(a, dimshuffle(b, 0, *["x"] * (a.ndim - 1)))
    if a.ndim > 3 or b.ndim > 3:
        return batched_tensordot(a, b, [[a.ndim - 1], [max(1, b.ndim - 2)]])
    if a.ndim == 2 and b.ndim == 2:
        return tsum(m.mul(a, b), axis=1)
    if a.ndim == 3 and b.ndim == 3:   # (n, i, k) x (n, k, j) -> (n, i, j)
        return tsum(m.mul(dimshuffle(a, 0, 1, 2, "x"), dimshuffle(b, 0, "x", 1, 2)), axis=2)
    if a.ndim == 3:                   # (n, i, k) x (n, k) -> (n, i)
        return tsum(m.mul(a, dimshuffle(b, 0, "x", 1)), axis=2)
    return tsum(m.mul(dimshuffle(a, 0, 1, "x"), b), axis=1)   # (n, k) x (n, k, j) -> (n, j)


def batched_tensordot(a, b, axes=2):
    """Theano's ``batched_tensordot``: ``tensordot(a[i], b[i], axes)`` for each ``i`` of the
    first (batch) axis.  ``axes`` counts from the batched operands (axis 0 is the batch):
    an int n sums the last n axes of ``a`` with axes 1..n of ``b``; a pair lists the summed
    axes of each (an int or a list each).  The result's axes: the batch, ``a``'s free axes,
    then ``b``'s.  Built as one broadcast product summed over the paired axes."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.elemwise import dimshuffle
    from aotsym.graph.ops.reduce import sum as tsum
    a, b = as_tensor_variables([a, b])
    if a.ndim < 2 or b.ndim < 2:
        raise TypeError(f"batched_tensordot: operands need a batch axis and one more, got "
                        f"{a.type.describe()} and {b.type.describe()}")
    if isinstance(axes, (int, np.integer)):
        axes = [list(range(a.ndim - int(axes), a.ndim)), list(range(1, int(axes) + 1))]
    if len(axes) != 2:
        raise ValueError(f"batched_tensordot: axes must be an int or a pair, got {axes!r}")
    pairs = []
    for ax, v, name in ((axes[0], a, "first"), (axes[1], b, "second")):
        ax = [ax] if isinstance(ax, (int, np.integer)) else list(ax)
        norm = [int(d) + v.ndim if int(d) < 0 else int(d) for d in ax]
        if any(d < 1 or d >= v.ndim for d in norm) or len(set(norm)) != len(norm):
            raise ValueError(f"batched_tensordot: axes {ax} of the {name} operand must be "
                             f"distinct non-batch axes of its {v.ndim} dimensions")
        pairs.append(norm)
    if len(pairs[0]) != len(pairs[1]):
        raise ValueError(f"batched_tensordot: {len(pairs[0])} axes of the first operand "
                         f"against {len(pairs[1])} of the second")
    free_a = [d for d in range(1, a.ndim) if d not in pairs[0]]
    free_b = [d for d in range(1, b.ndim) if d not in pairs[1]]
    # (n, free_a..., 1..., summed...) * (n, 1..., free_b..., summed...), summed at the end
    at = dimshuffle(a, 0, *free_a, *["x"] * len(free_b), *pairs[0])
    bt = dimshuffle(b, 0, *["x"] * len(free_a), *free_b, *pairs[1])
    first = 1 + len(free_a) + len(free_b)
    out = tsum(m.mul(at, bt), axis=list(range(first, first + len(pairs[0]))))
    if out.dtype != upcast(a.dtype, b.dtype):  # integer sums accumulate in int64
        out = m.cast(out, upcast(a.dtype, b.dtype))
    return out


def matmul(a, b):
    """``np.matmul`` / ``a @ b``: vectors and matrices as Dot, stacks of matrices batched
    with broadcasting over the leading dimensions."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.elemwise import dimshuffle
    from aotsym.graph.ops.reduce import sum as tsum
    a, b = as_tensor_variables([a, b])
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: scalar operands are not allowed (use *)")
    if a.ndim <= 2 and b.ndim <= 2:
        return _dot(a, b)
    # Promote vectors as NumPy does, multiply with broadcasting and sum the inner axis.
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a_vec:
        a = dimshuffle(a, "x", 0)
    if b_vec:
        b = dimshuffle(b, 0, "x")
    nd = max(a.ndim, b.ndim)
    a = m.pad_ndim(a, nd)
    b = m.pad_ndim(b, nd)
    batch = list(range(nd - 2))
    # (..., i, k, 1) * (..., 1, k, j) -> sum over k
    prod_ = m.mul(dimshuffle(a, *batch, nd - 2, nd - 1, "x"),
                  dimshuffle(b, *batch, "x", nd - 2, nd - 1))
    out = tsum(prod_, axis=nd - 1)
    if out.dtype != upcast(a.dtype, b.dtype):  # integer sums accumulate in int64
        out = m.cast(out, upcast(a.dtype, b.dtype))
    if a_vec:
        out = dimshuffle(out, *[d for d in range(out.ndim) if d != out.ndim - 2])
    if b_vec:
        out = dimshuffle(out, *range(out.ndim - 1))
    return out

