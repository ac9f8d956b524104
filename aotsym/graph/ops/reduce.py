"""Reductions: sum, prod, max, min, all, any (one op, ``Reduce``) and argmax/argmin.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).

``Reduce(kind, axis)`` reduces over the sorted tuple ``axis`` and drops those dimensions;
``keepdims=True`` in the builders adds them back with a DimShuffle, so the op itself has one
shape rule.  ``mean``, ``var`` and ``std`` are built from it (``mean = sum / n``), so every
later layer sees only ``Reduce``.  Accumulation dtypes follow NumPy: integer and bool sums
accumulate in int64 (uint64 for unsigned), float32 stays float32 (the C backend accumulates
float32 in double).
"""

from __future__ import annotations

import builtins

import numpy as np

from aotsym.graph.basic import Variable
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind, upgrade_to_float

REDUCE_KINDS = {
    # kind: (numpy function, identity for empty input or None, symbol for printing)
    "sum": (np.sum, 0, "+"),
    "prod": (np.prod, 1, "*"),
    "max": (np.max, None, "max"),
    "min": (np.min, None, "min"),
    "all": (np.all, True, "and"),
    "any": (np.any, False, "or"),
}


def plain_axis(axis):
    """``axis`` with constant variables replaced by their values: Theano accepts
    ``T.constant(0)`` or a constant vector where an axis is expected.  Any other variable is
    a TypeError (an axis must be known when the graph is built)."""
    from aotsym.graph.basic import Constant
    if isinstance(axis, Constant):
        data = np.asarray(axis.data)
        if data.dtype.kind not in "iu":
            raise TypeError(f"an axis must be an integer constant, got {axis!r}")
        return int(data) if data.ndim == 0 else [int(a) for a in data.ravel()]
    if isinstance(axis, Variable):
        raise TypeError(f"an axis must be a constant, got the symbolic {axis!r}")
    if isinstance(axis, np.ndarray):
        return axis.tolist()
    if isinstance(axis, (list, tuple)):
        return [plain_axis(a) for a in axis]
    return axis


def axis_error(message):
    """NumPy's AxisError: a ValueError and an IndexError (Theano's tests expect either)."""
    return np.exceptions.AxisError(message)


def normalize_axis(axis, ndim, what="axis") -> tuple:
    axis = plain_axis(axis)
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = [axis]
    out = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < ndim:
            raise axis_error(f"{what} {a} is out of range for a tensor of ndim {ndim}")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated {what} in {tuple(axis)}")
    return tuple(sorted(out))


def int_axes(axes, ndim, what) -> tuple:
    """The int (or ints) ``axes`` normalized to a sorted tuple in ``range(ndim)``; anything
    but ints is a TypeError naming ``what``."""
    if isinstance(axes, (int, np.integer)):
        axes = (axes,)
    axes = tuple(axes)
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, (bool, np.bool_)):
            raise TypeError(f"{what}: an axis must be an int, got {a!r}")
    return normalize_axis(axes, ndim, f"{what}: axis")


def one_int_axis(axis, ndim, what) -> int:
    return int_axes(axis, ndim, what)[0]


def reduce_dtype(kind, dtype, acc_dtype=None) -> str:
    if acc_dtype is not None:
        return acc_dtype
    k = dtype_kind(dtype)
    if kind in ("all", "any"):
        return "bool"
    if kind in ("sum", "prod") and k in "bi":
        return "int64"
    if kind in ("sum", "prod") and k == "u":
        return "uint64"
    return dtype


class Reduce(Op):
    """Reduce ``axis`` (a sorted tuple) with ``kind``; the output drops those dimensions."""

    __props__ = ("kind", "axis", "dtype")

    def __init__(self, kind, axis, dtype=None):
        if kind not in REDUCE_KINDS:
            raise ValueError(f"unknown reduction {kind!r}")
        self.kind, self.axis, self.dtype = kind, tuple(axis), dtype

    def __str__(self):
        return f"Reduce{{{self.kind}, axis={list(self.axis)}}}"

    def output_types(self, inputs):
        (x,) = inputs
        if builtins.any(a >= x.ndim for a in self.axis):
            raise ValueError(f"{self}: axis out of range for ndim {x.ndim}")
        bc = tuple(b for d, b in enumerate(x.broadcastable) if d not in self.axis)
        return [TensorType(reduce_dtype(self.kind, x.dtype, self.dtype), bc)]

    def perform(self, node, inputs):
        (x,) = inputs
        fn, identity, _ = REDUCE_KINDS[self.kind]
        out_dtype = node.outputs[0].dtype
        if identity is None and builtins.any(x.shape[a] == 0 for a in self.axis):
            raise ValueError(f"{self}: zero-size array to a {self.kind} reduction, "
                             "which has no identity")
        with np.errstate(all="ignore"):
            if self.kind in ("sum", "prod"):
                res = fn(x, axis=self.axis, dtype=out_dtype)
            else:
                res = fn(x, axis=self.axis)
        return [np.asarray(res, dtype=out_dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        (x,) = inputs
        (gz,) = output_grads
        (z,) = node.outputs
        if dtype_kind(x.dtype) not in "fc":
            return [None]
        keep = expand_reduced(gz, x.ndim, self.axis)
        if self.kind == "sum":
            return [m.cast(m.fill(x, keep), x.dtype)]
        zk = expand_reduced(z, x.ndim, self.axis)
        if self.kind == "prod":
            # d prod / dx_i = prod / x_i where x_i != 0 (exact for inputs without zeros).
            return [m.cast(keep * zk / x, x.dtype)]
        if self.kind in ("max", "min"):
            # The gradient goes to every position that attains the extremum (as Theano does).
            return [m.cast(keep * m.eq(x, zk), x.dtype)]
        return [None]

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        return [tuple(s for d, s in enumerate(shape) if d not in self.axis)]


def expand_reduced(v: Variable, ndim: int, axis) -> Variable:
    """Put length-1 dimensions back where ``axis`` was reduced (keepdims)."""
    from aotsym.graph.ops.elemwise import DimShuffle
    order, j = [], 0
    for d in range(ndim):
        if d in axis:
            order.append("x")
        else:
            order.append(j)
            j += 1
    if order == list(range(v.ndim)):
        return v
    return DimShuffle(v.broadcastable, order)(v)


def _reduce(kind, x, axis=None, keepdims=False, dtype=None, acc_dtype=None):
    x = as_tensor_variable(x)
    axis = normalize_axis(axis, x.ndim)
    out = Reduce(kind, axis, dtype or acc_dtype)(x) if axis else x
    if not axis and (dtype or acc_dtype):
        from aotsym.graph.ops.math import cast
        out = cast(out, dtype or acc_dtype)
    if kind in ("all", "any") and not axis and x.dtype != "bool":
        from aotsym.graph.ops.math import neq
        out = neq(out, 0)
    if kind in ("sum", "prod") and not axis and out.dtype != reduce_dtype(kind, x.dtype, dtype):
        from aotsym.graph.ops.math import cast
        out = cast(out, reduce_dtype(kind, x.dtype, dtype))
    return expand_reduced(out, x.ndim, axis) if keepdims else out


def sum(x, axis=None, keepdims=False, dtype=None, acc_dtype=None):  # noqa: A001
    """Sum over ``axis`` (None: all).  Integers accumulate in int64 as in NumPy."""
    return _reduce("sum", x, axis, keepdims, dtype, acc_dtype)


def prod(x, axis=None, keepdims=False, dtype=None, acc_dtype=None):
    return _reduce("prod", x, axis, keepdims, dtype, acc_dtype)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce("max", x, axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce("min", x, axis, keepdims)


def all(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce("all", x, axis, keepdims)


def any(x, axis=None, keepdims=False):  # noqa: A001
    return _reduce("any", x, axis, keepdims)


def count(x: Variable, axis) -> Variable:
    """The number of elements reduced over ``axis``, as an int64 scalar variable."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.shape import shape_i
    axis = normalize_axis(axis, x.ndim)
    if not axis:
        return as_tensor_variable(np.int64(1))
    return m.mul(*[shape_i(x, a) for a in axis])


def _mean_dtype(dtype) -> str:
    """NumPy's mean/var dtype: a float's own, float64 for every integer and bool."""
    return dtype if dtype_kind(dtype) in "fc" else "float64"


def mean(x, axis=None, keepdims=False, dtype=None, acc_dtype=None):
    """Arithmetic mean; integer or bool input gives float64, as in NumPy.  ``dtype`` is the
    sum's dtype; an integer one is divided to float64 (Theano's rule)."""
    from aotsym.graph.ops import math as m
    x = as_tensor_variable(x)
    sum_dtype = dtype or _mean_dtype(x.dtype)
    out_dtype = _mean_dtype(sum_dtype)
    s = sum(x, axis, keepdims, dtype=sum_dtype, acc_dtype=acc_dtype)
    return m.cast(m.true_div(s, m.cast(count(x, axis), out_dtype)), out_dtype)


def var(x, axis=None, keepdims=False, ddof=0, corrected=False):
    """Variance: the sum of squared deviations over ``n - ddof`` (``n`` the number of
    values reduced, as NumPy).  ``corrected`` (Theano's): the corrected two-pass algorithm,
    which subtracts ``sum(x - mean) ** 2 / (n * (n - ddof))``, the rounding error of the
    mean (0 in exact arithmetic); it is not Bessel's correction (that is ``ddof=1``)."""
    from aotsym.graph.ops import math as m
    x = as_tensor_variable(x)
    if dtype_kind(x.dtype) not in "fc":
        x = m.cast(x, _mean_dtype(x.dtype))
    centered = x - mean(x, axis, keepdims=True)
    complex_ = dtype_kind(x.dtype) == "c"
    sq = m.sqr(m.abs(centered)) if complex_ else m.sqr(centered)
    total = sum(sq, axis, keepdims)
    n = m.cast(count(x, axis), total.dtype)
    out = total / (n - ddof) if ddof else total / n
    if corrected:
        s = sum(centered, axis, keepdims)
        s2 = m.sqr(m.abs(s)) if complex_ else m.sqr(s)
        out = out - s2 / (n * (n - ddof) if ddof else m.sqr(n))
    return m.cast(out, total.dtype)


def std(x, axis=None, keepdims=False, ddof=0, corrected=False):
    from aotsym.graph.ops import math as m
    return m.sqrt(var(x, axis, keepdims, ddof, corrected))


class ArgReduce(Op):
    """Index of the max (``kind='argmax'``) or min along ``axis`` (None: the flattened array)."""

    __props__ = ("kind", "axis")

    def __init__(self, kind, axis):
        self.kind, self.axis = kind, axis

    def output_types(self, inputs):
        (x,) = inputs
        bc = () if self.axis is None else tuple(
            b for d, b in enumerate(x.broadcastable) if d != self.axis)
        return [TensorType("int64", bc)]

    def perform(self, node, inputs):
        (x,) = inputs
        # NumPy's rule: an empty reduced axis (or an empty array, axis None) has no answer;
        # a non-empty axis of an array empty elsewhere gives an empty result
        if (x.size == 0 if self.axis is None else x.shape[self.axis] == 0):
            raise ValueError(f"{self.kind} of an empty sequence")
        fn = np.argmax if self.kind == "argmax" else np.argmin
        return [np.asarray(fn(x, axis=self.axis), dtype="int64")]

    def grad(self, node, inputs, output_grads):
        return [None]


def _argreduce(kind, x, axis, keepdims):
    """Over several axes (Theano's), the index into those axes flattened in their order in
    ``x``: the kept axes are moved first and the reduced ones flattened into one."""
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.ndim, f"{kind}: axis")
    if len(axes) == x.ndim:
        out = ArgReduce(kind, None)(x)
    elif len(axes) == 1:
        out = ArgReduce(kind, axes[0])(x)
    else:
        from aotsym.graph.ops.elemwise import dimshuffle
        from aotsym.graph.ops.math import mul
        from aotsym.graph.ops.reshape import reshape
        from aotsym.graph.ops.shape import shape_i
        kept = [d for d in range(x.ndim) if d not in axes]
        lengths = [shape_i(x, d) for d in range(x.ndim)]
        flat = reshape(dimshuffle(x, kept + list(axes)),
                       [lengths[d] for d in kept] + [mul(*[lengths[d] for d in axes])],
                       ndim=len(kept) + 1)
        out = ArgReduce(kind, len(kept))(flat)
    return expand_reduced(out, x.ndim, axes) if keepdims else out


def argmax(x, axis=None, keepdims=False):
    return _argreduce("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    return _argreduce("argmin", x, axis, keepdims)
