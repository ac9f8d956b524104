"""``T.extra_ops`` (Theano's ``theano.tensor.extra_ops``): cumsum, cumprod, diff, repeat,
bincount, squeeze, fill_diagonal, to_one_hot.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  Most are built from
existing ops (slices, dimshuffle, alloc, reshape, comparisons, set_subtensor), so they compile
with the C backend and differentiate like any graph.  Three need ops of their own, defined
here once (type rule, NumPy reference, gradient, shape): ``CumOp`` (cumsum / cumprod),
``BinCount`` and ``RepeatOp`` (repeat by a vector of counts).  The C backend has no
translation for those three: a graph holding one builds only with ``mode='FAST_COMPILE'``
(the reference evaluator), and FAST_RUN says so at build time, naming the op and the line.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind, floatx

__all__ = ["cumsum", "cumprod", "diff", "repeat", "bincount", "squeeze", "fill_diagonal",
           "to_one_hot", "CumOp", "BinCount", "RepeatOp"]


def _axis(axis, ndim, what):
    if not isinstance(axis, (int, np.integer)) or not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{what}: axis {axis!r} is out of range for a tensor of ndim {ndim}")
    return int(axis) % max(ndim, 1)


class CumOp(Op):
    """Running sum (``mode='add'``) or product (``'mul'``) along ``axis`` (NumPy's
    ``cumsum`` / ``cumprod``; integers and bool accumulate in NumPy's dtype)."""

    __props__ = ("axis", "mode")

    def __init__(self, axis, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        self.axis, self.mode = int(axis), mode

    def __str__(self):
        return f"{'CumSum' if self.mode == 'add' else 'CumProd'}{{axis={self.axis}}}"

    def output_types(self, inputs):
        (x,) = inputs
        if not 0 <= self.axis < max(x.ndim, 1) or x.ndim == 0:
            raise ValueError(f"{self}: axis out of range for {x.type.describe()}")
        fn = np.cumsum if self.mode == "add" else np.cumprod
        return [TensorType(fn(np.zeros(1, x.dtype)).dtype.name, x.broadcastable)]

    def perform(self, node, inputs):
        (x,) = inputs
        fn = np.cumsum if self.mode == "add" else np.cumprod
        with np.errstate(all="ignore"):
            return [np.asarray(fn(x, axis=self.axis), dtype=node.outputs[0].dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.subtensor import getitem
        (x,) = inputs
        (gz,) = output_grads
        if dtype_kind(x.dtype) not in "fc":
            return [None]
        flip = (slice(None),) * self.axis + (slice(None, None, -1),)
        if self.mode == "add":   # each x_i reaches every later running sum
            return [getitem(CumOp(self.axis, "add")(getitem(gz, flip)), flip)]
        # d cumprod_j / d x_i = cumprod_j / x_i for j >= i (exact for inputs without zeros)
        z = node.outputs[0]
        return [getitem(CumOp(self.axis, "add")(getitem(gz * z, flip)), flip) / x]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def _cum(x, axis, mode):
    from aotsym.graph.ops.reshape import flatten
    x = as_tensor_variable(x)
    if axis is None or x.ndim == 0:
        x, axis = flatten(x, 1), 0
    return CumOp(_axis(axis, x.ndim, "cumsum" if mode == "add" else "cumprod"), mode)(x)


def cumsum(x, axis=None):
    """Running sum along ``axis`` (None: of the flattened tensor), as ``np.cumsum``."""
    return _cum(x, axis, "add")


def cumprod(x, axis=None):
    """Running product along ``axis`` (None: of the flattened tensor), as ``np.cumprod``."""
    return _cum(x, axis, "mul")


def diff(x, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``, as ``np.diff``."""
    from aotsym.graph.ops.subtensor import getitem
    x = as_tensor_variable(x)
    axis = _axis(axis, x.ndim, "diff")
    head = (slice(None),) * axis
    for _ in range(int(n)):
        x = getitem(x, head + (slice(1, None),)) - getitem(x, head + (slice(None, -1),))
    return x


def squeeze(x):
    """``x`` without its broadcastable (length-1) dimensions (Theano's ``squeeze``)."""
    x = as_tensor_variable(x)
    return x.dimshuffle([d for d, b in enumerate(x.broadcastable) if not b])


class RepeatOp(Op):
    """``np.repeat(x, repeats, axis)`` for a vector of counts, one per element along
    ``axis`` (a scalar count is built from ``alloc`` and ``reshape`` instead)."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = int(axis)

    def output_types(self, inputs):
        x, repeats = inputs
        if repeats.ndim != 1 or dtype_kind(repeats.dtype) not in "iu":
            raise TypeError(f"repeat: repeats must be an integer vector, got "
                            f"{repeats.type.describe()}")
        bc = list(x.broadcastable)
        bc[self.axis] = False
        return [TensorType(x.dtype, bc)]

    def perform(self, node, inputs):
        x, repeats = inputs
        if np.any(repeats < 0):
            raise ValueError("repeat: negative repeat count")
        if len(repeats) != x.shape[self.axis]:
            raise ValueError(f"repeat: {len(repeats)} counts for {x.shape[self.axis]} "
                             f"elements along axis {self.axis}")
        return [np.repeat(x, repeats, axis=self.axis)]

    def grad(self, node, inputs, output_grads):
        x, repeats = inputs
        (gz,) = output_grads
        if dtype_kind(x.dtype) not in "fc":
            return [None, None]
        # the gradient of element i is the sum of its copies: a segment sum, written as the
        # differences of the running sum at the segments' ends
        from aotsym.graph.ops import math as m
        from aotsym.graph.ops.join import concatenate
        from aotsym.graph.ops.subtensor import take
        from aotsym.graph.ops.alloc import zeros
        moved = gz.dimshuffle([self.axis] + [d for d in range(gz.ndim) if d != self.axis])
        run = cumsum(moved, axis=0)
        rest = [moved.shape[d] for d in range(1, moved.ndim)]
        run = concatenate([zeros([1] + rest, dtype=gz.dtype), run], axis=0)
        ends = cumsum(repeats)
        starts = ends - repeats
        seg = take(run, ends, axis=0) - take(run, starts, axis=0)
        back = [0] * x.ndim
        order = [self.axis] + [d for d in range(x.ndim) if d != self.axis]
        for pos, d in enumerate(order):
            back[d] = pos
        return [m.cast(seg.dimshuffle(back), x.dtype), None]


def repeat(x, repeats, axis=None):
    """``np.repeat``: each element ``repeats`` times along ``axis`` (None: of the flattened
    tensor); ``repeats`` is an int (or int scalar variable), or a vector of counts."""
    from aotsym.graph.ops.alloc import alloc
    from aotsym.graph.ops.reshape import flatten, reshape
    x = as_tensor_variable(x)
    if axis is None:
        x, axis = flatten(x, 1), 0
    axis = _axis(axis, x.ndim, "repeat")
    repeats = as_tensor_variable(repeats)
    if dtype_kind(repeats.dtype) not in "iu":
        raise TypeError(f"repeat: repeats must be integers, got {repeats.type.describe()}")
    if repeats.ndim == 1:
        return RepeatOp(axis)(x, repeats)
    if repeats.ndim != 0:
        raise TypeError("repeat: repeats must be an int or a vector of ints")
    shape = [x.shape[d] for d in range(x.ndim)]
    expanded = x.dimshuffle(list(range(axis + 1)) + ["x"] + list(range(axis + 1, x.ndim)))
    tiled = alloc(expanded, *(shape[:axis + 1] + [repeats] + shape[axis + 1:]))
    new_shape = shape[:axis] + [shape[axis] * repeats] + shape[axis + 1:]
    return reshape(tiled, new_shape)


class BinCount(Op):
    """``np.bincount(x, weights, minlength)``: counts (int64) or sums of ``weights``; the
    length of the output is known only at run time."""

    __props__ = ("minlength", "weighted")

    def __init__(self, minlength=0, weighted=False):
        self.minlength, self.weighted = int(minlength or 0), bool(weighted)

    def output_types(self, inputs):
        x = inputs[0]
        if x.ndim != 1 or dtype_kind(x.dtype) not in "iu":
            raise TypeError(f"bincount: x must be a vector of integers, got "
                            f"{x.type.describe()}")
        if self.weighted:
            w = inputs[1]
            if w.ndim != 1:
                raise TypeError(f"bincount: weights must be a vector, got {w.type.describe()}")
            return [TensorType("float64" if dtype_kind(w.dtype) in "biu" else w.dtype,
                               (False,))]
        return [TensorType("int64", (False,))]

    def perform(self, node, inputs):
        x = inputs[0]
        if x.size and x.min() < 0:
            raise ValueError("bincount: the values of x must be non-negative")
        w = inputs[1] if self.weighted else None
        if w is not None and w.shape != x.shape:
            raise ValueError(f"bincount: weights of shape {w.shape} for x of shape {x.shape}")
        out = np.bincount(x, weights=w, minlength=self.minlength)
        return [out.astype(node.outputs[0].dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.subtensor import take
        (gz,) = output_grads
        if not self.weighted or dtype_kind(inputs[1].dtype) not in "fc":
            return [None] * len(inputs)
        return [None, take(gz, inputs[0])]


def bincount(x, weights=None, minlength=None, assert_nonneg=False):
    """How often each value of the int vector ``x`` occurs (with ``weights``: their sums),
    at least ``minlength`` entries; negative values are a ValueError at run time."""
    x = as_tensor_variable(x)
    if weights is None:
        return BinCount(minlength)(x)
    return BinCount(minlength, weighted=True)(x, as_tensor_variable(weights))


def fill_diagonal(a, val):
    """``a`` with its main diagonal set to the scalar ``val`` (a matrix; Theano's)."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.alloc import arange
    from aotsym.graph.ops.subtensor import getitem, set_subtensor
    a = as_tensor_variable(a)
    if a.ndim != 2:
        raise TypeError(f"fill_diagonal: a must be a matrix, got {a.type.describe()}")
    val = as_tensor_variable(val)
    if val.ndim != 0:
        raise TypeError(f"fill_diagonal: val must be a scalar, got {val.type.describe()}")
    idx = arange(m.minimum(a.shape[0], a.shape[1]))
    return set_subtensor(getitem(a, (idx, idx)), m.cast(val, a.dtype))


def to_one_hot(y, nb_class, dtype=None):
    """One row per entry of the int vector ``y``, 1 in column ``y[i]`` (floatX by
    default)."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.alloc import arange
    y = as_tensor_variable(y)
    if y.ndim != 1 or dtype_kind(y.dtype) not in "iu":
        raise TypeError(f"to_one_hot: y must be a vector of integers, got {y.type.describe()}")
    hot = m.eq(y.dimshuffle(0, "x"), arange(nb_class).dimshuffle("x", 0))
    return m.cast(hot, dtype or floatx())
