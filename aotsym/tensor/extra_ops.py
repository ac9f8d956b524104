"""``T.extra_ops`` (Theano's ``theano.tensor.extra_ops``): cumsum, cumprod, diff, repeat,
bincount, squeeze, fill_diagonal, to_one_hot.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  Most are built from
existing ops (slices, dimshuffle, alloc, reshape, comparisons, set_subtensor), so they compile
with the C backend and differentiate like any graph.  Three need ops of their own, defined
here once (type rule, NumPy reference, gradient, shape): ``CumOp`` (cumsum / cumprod, a C
kernel), and ops whose reference is the NumPy function — ``BinCount``, ``RepeatOp`` (repeat
by a vector of counts), ``SearchsortedOp``, ``Unique``, ``Bartlett``, ``UnravelIndex``,
``RavelMultiIndex`` — which a compiled function calls back (their ``perform``; see
:mod:`aotsym.emit_c.cumulative`); a standalone module built by ``aotsym build`` refuses them
at build time.  Theano's op classes take ``axis=None`` as its functions do.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind, floatx

__all__ = ["cumsum", "cumprod", "diff", "repeat", "bincount", "squeeze", "fill_diagonal",
           "to_one_hot", "CumOp", "BinCount", "RepeatOp", "searchsorted", "compress",
           "cpu_contiguous", "bartlett", "fill_diagonal_offset", "unique", "unravel_index",
           "ravel_multi_index", "SearchsortedOp", "DiffOp", "Bartlett", "Unique",
           "UnravelIndex", "RavelMultiIndex"]


def _axis(axis, ndim, what):
    if not isinstance(axis, (int, np.integer)) or not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{what}: axis {axis!r} is out of range for a tensor of ndim {ndim}")
    return int(axis) % max(ndim, 1)


class CumOp(Op):
    """Running sum (``mode='add'``) or product (``'mul'``) along ``axis`` (NumPy's
    ``cumsum`` / ``cumprod``; integers and bool accumulate in NumPy's dtype)."""

    __props__ = ("axis", "mode")

    def __init__(self, axis=None, mode="add"):
        if mode not in ("add", "mul"):
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        self.axis, self.mode = None if axis is None else int(axis), mode

    def __call__(self, x):
        """Theano's ``CumOp(axis=None)(x)`` / a negative axis: through :func:`cumsum`, which
        flattens and normalizes (a node's op always has a normalized axis)."""
        if self.axis is None or self.axis < 0:
            return _cum(x, self.axis, self.mode)
        return Op.__call__(self, x)

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

    def __init__(self, axis=None):
        self.axis = None if axis is None else int(axis)

    def __call__(self, x, repeats):
        """Theano's ``RepeatOp(axis=None)(x, repeats)`` / a negative axis: through
        :func:`repeat` (a node's op always has a normalized axis)."""
        if self.axis is None or self.axis < 0 or np.ndim(repeats) == 0 or getattr(
                as_tensor_variable(repeats), "ndim", 1) == 0:
            return repeat(x, repeats, self.axis)
        return Op.__call__(self, x, repeats)

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
    if repeats.dtype == "uint64":
        raise TypeError("repeat: uint64 repeats do not cast safely to int64 (Theano refuses "
                        "them too); cast them to int64")
    if repeats.ndim == 1 and repeats.broadcastable[0]:
        repeats = repeats[0]      # one count for every element (NumPy broadcasts it)
    if repeats.ndim == 1:
        return RepeatOp(axis)(x, repeats)
    if repeats.ndim != 0:
        raise TypeError("repeat: repeats must be an int or a vector of ints")
    if getattr(repeats, "data", None) is not None and int(repeats.data) == 1:
        return x                  # keeps x's broadcastable pattern (Theano's)
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
    """``a`` with its main diagonal (``a[i, i, ...]``) set to the scalar ``val``, as
    ``np.fill_diagonal`` (``ndim >= 2``; a tall matrix's diagonal stops at the last
    column, and the rectangular rest is untouched)."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.alloc import arange
    from aotsym.graph.ops.subtensor import getitem, set_subtensor
    a = as_tensor_variable(a)
    if a.ndim < 2:
        raise TypeError(f"fill_diagonal: a must have at least 2 dimensions, got "
                        f"{a.type.describe()}")
    val = as_tensor_variable(val)
    if val.ndim != 0:
        raise TypeError(f"fill_diagonal: val must be a scalar, got {val.type.describe()}")
    n = a.shape[0]
    for d in range(1, a.ndim):
        n = m.minimum(n, a.shape[d])
    idx = arange(n)
    return set_subtensor(getitem(a, (idx,) * a.ndim), m.cast(val, a.dtype))


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


# ---------------------------------------------------------------------------- NumPy's
# searchsorted, unique, bartlett, unravel_index, ravel_multi_index: ops whose reference is
# the NumPy function; compiled functions call their perform back (emit_c/cumulative.py).


def _int_vector_dims(dims, what, ndim=None):
    """``dims`` (a tuple of ints, an array, or an int vector variable) as an int64 vector
    variable, with its length (``ndim`` where the length is not known)."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.join import stack
    if isinstance(dims, (tuple, list)) and any(hasattr(d, "type") for d in dims):
        dims = stack([m.cast(as_tensor_variable(d), "int64") for d in dims])
    elif isinstance(dims, (tuple, list, np.ndarray)):
        arr = np.asarray(dims)
        if arr.ndim != 1:
            raise TypeError(f"{what}: dims must be a 1-d sequence of ints, got {dims!r}")
        if arr.size and dtype_kind(arr.dtype) not in "iu":
            raise TypeError(f"{what}: dims must be integers, got {dims!r}")
        return as_tensor_variable(arr.astype("int64")), len(arr)
    dims = as_tensor_variable(dims)
    if dims.ndim != 1 or dtype_kind(dims.dtype) not in "iu":
        raise TypeError(f"{what}: dims must be an int vector, got {dims.type.describe()}")
    if ndim is None:
        ndim = dims._known_length()      # Theano's get_vector_length
        if ndim is None:
            raise ValueError(f"{what}: the length of dims is not known; pass ndim=")
    if not isinstance(ndim, (int, np.integer)):
        raise ValueError(f"{what}: ndim must be an int, got {ndim!r}")
    return m.cast(dims, "int64"), int(ndim)


class SearchsortedOp(Op):
    """``np.searchsorted(x, v, side, sorter)``: int64 insertion points of ``v`` into the
    sorted vector ``x`` (``x`` sorted by ``sorter`` where given)."""

    __props__ = ("side",)

    def __init__(self, side="left"):
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        self.side = side

    def output_types(self, inputs):
        x, v = inputs[:2]
        if x.ndim != 1:
            raise ValueError(f"searchsorted: x must be a vector, got {x.type.describe()}")
        if len(inputs) == 3:
            s = inputs[2]
            if s.ndim != 1:
                raise ValueError(f"searchsorted: sorter must be a vector, got "
                                 f"{s.type.describe()}")
            if dtype_kind(s.dtype) not in "iu":
                raise TypeError(f"searchsorted: sorter must be integers, got "
                                f"{s.type.describe()}")
        return [TensorType("int64", v.broadcastable)]

    def perform(self, node, inputs):
        x, v = inputs[:2]
        sorter = inputs[2] if len(inputs) == 3 else None
        return [np.asarray(np.searchsorted(x, v, side=self.side, sorter=sorter), "int64")]

    def grad(self, node, inputs, output_grads):
        return [None] * len(inputs)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]


def searchsorted(x, v, side="left", sorter=None):
    """``np.searchsorted``: where the values ``v`` would go in the sorted vector ``x``."""
    op = SearchsortedOp(side)
    if sorter is None:
        return op(as_tensor_variable(x), as_tensor_variable(v))
    return op(as_tensor_variable(x), as_tensor_variable(v), as_tensor_variable(sorter))


def compress(condition, x, axis=None):
    """``np.compress``: the slices of ``x`` along ``axis`` (None: of the flattened ``x``)
    where ``condition`` is true."""
    from aotsym.graph.ops.nonzero import flatnonzero
    from aotsym.graph.ops.subtensor import take
    return take(as_tensor_variable(x), flatnonzero(as_tensor_variable(condition)), axis=axis)


def cpu_contiguous(x):
    """Theano's ``cpu_contiguous``: ``x`` as a C-contiguous array (every output of a
    compiled function is one), gradient the identity."""
    from aotsym.graph.ops.math import identity
    return identity(as_tensor_variable(x))   # (T.identity)


class DiffOp:
    """Theano's ``DiffOp(n, axis)``: calling it builds :func:`diff`."""

    def __init__(self, n=1, axis=-1):
        self.n, self.axis = n, axis

    def __call__(self, x):
        return diff(x, self.n, self.axis)


class Bartlett(Op):
    """``np.bartlett(M)``: the float64 triangular window of ``M`` points."""

    def output_types(self, inputs):
        (m,) = inputs
        if m.ndim != 0 or dtype_kind(m.dtype) not in "iu":
            raise TypeError(f"bartlett: M must be an integer scalar, got {m.type.describe()}")
        return [TensorType("float64", (False,))]

    def perform(self, node, inputs):
        return [np.bartlett(int(inputs[0])).astype("float64")]

    def grad(self, node, inputs, output_grads):
        return [None]


def bartlett(M):
    """``np.bartlett(M)`` (an int, or an int scalar variable)."""
    return Bartlett()(as_tensor_variable(M))


def fill_diagonal_offset(a, val, offset):
    """The matrix ``a`` with the diagonal ``offset`` above the main one (below where
    negative) set to the scalar ``val`` (Theano's)."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.alloc import arange
    from aotsym.graph.ops.subtensor import getitem, set_subtensor
    a, val, offset = (as_tensor_variable(v) for v in (a, val, offset))
    if a.ndim != 2:
        raise TypeError(f"fill_diagonal_offset: a must be a matrix, got {a.type.describe()}")
    if val.ndim != 0:
        raise TypeError(f"fill_diagonal_offset: val must be a scalar, got "
                        f"{val.type.describe()}")
    if offset.ndim != 0 or dtype_kind(offset.dtype) not in "iu":
        raise TypeError(f"fill_diagonal_offset: offset must be an integer scalar, got "
                        f"{offset.type.describe()}")
    off = m.cast(offset, "int64")
    row0, col0 = m.maximum(-off, 0), m.maximum(off, 0)
    n = m.maximum(m.minimum(a.shape[0] - row0, a.shape[1] - col0), 0)
    idx = arange(n)
    return set_subtensor(getitem(a, (idx + row0, idx + col0)), m.cast(val, a.dtype))


class Unique(Op):
    """``np.unique(x, return_index, return_inverse, return_counts, axis)`` (Theano's op):
    the sorted unique values (of the flattened ``x``, or slices along ``axis``), then the
    int64 vectors asked for.  The inverse has the shape NumPy gives it."""

    __props__ = ("return_index", "return_inverse", "return_counts", "axis")

    def __init__(self, return_index=False, return_inverse=False, return_counts=False,
                 axis=None):
        self.return_index, self.return_inverse = bool(return_index), bool(return_inverse)
        self.return_counts = bool(return_counts)
        self.axis = None if axis is None else int(axis)

    def __call__(self, x, return_list=False):
        out = Op.__call__(self, x)
        return out if isinstance(out, list) or not return_list else [out]

    def output_types(self, inputs):
        (x,) = inputs
        if self.axis is None:
            values = TensorType(x.dtype, (False,))
            inverse_ndim = np.unique(np.zeros((1, 1)), return_inverse=True)[1].ndim
            inverse = TensorType("int64", (False,) * (x.ndim if inverse_ndim == 2 else 1))
        else:
            if not -x.ndim <= self.axis < x.ndim:
                raise ValueError(f"unique: axis {self.axis} is out of range for a tensor of "
                                 f"ndim {x.ndim}")
            bc = list(x.broadcastable)
            bc[self.axis % x.ndim] = False
            values, inverse = TensorType(x.dtype, bc), TensorType("int64", (False,))
        vec = TensorType("int64", (False,))
        return [values] + [t for t, on in ((vec, self.return_index),
                                           (inverse, self.return_inverse),
                                           (vec, self.return_counts)) if on]

    def perform(self, node, inputs):
        outs = np.unique(inputs[0], self.return_index, self.return_inverse,
                         self.return_counts, axis=self.axis)
        outs = list(outs) if isinstance(outs, tuple) else [outs]
        return [np.asarray(o).astype(v.dtype).reshape(
            o.shape if v.ndim == np.ndim(o) else (-1,)) for o, v in zip(outs, node.outputs)]

    def grad(self, node, inputs, output_grads):
        return [None]


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """``np.unique`` (one output, or the list of those asked for)."""
    return Unique(return_index, return_inverse, return_counts, axis)(as_tensor_variable(ar))


class UnravelIndex(Op):
    """``np.unravel_index(indices, dims, order)``: one int64 array of ``indices``' shape
    per dimension; out-of-range indices are a ValueError at run time."""

    __props__ = ("ndim", "order")

    def __init__(self, ndim, order="C"):
        if order not in ("C", "F"):
            raise ValueError(f"unravel_index: order must be 'C' or 'F', got {order!r}")
        self.ndim, self.order = int(ndim), order

    def output_types(self, inputs):
        indices, dims = inputs
        if dtype_kind(indices.dtype) not in "iu":
            raise TypeError(f"unravel_index: indices must be integers, got "
                            f"{indices.type.describe()}")
        return [TensorType("int64", indices.broadcastable) for _ in range(self.ndim)]

    def perform(self, node, inputs):
        indices, dims = inputs
        if len(dims) != self.ndim:
            raise ValueError(f"unravel_index: {len(dims)} dims for ndim={self.ndim}")
        return [np.asarray(o, "int64") for o in
                np.unravel_index(indices, tuple(int(d) for d in dims), order=self.order)]

    def grad(self, node, inputs, output_grads):
        return [None, None]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]] * self.ndim


def unravel_index(indices, dims, order="C", ndim=None):
    """``np.unravel_index``: a tuple of ``len(dims)`` int64 arrays (``ndim=``: that length,
    where ``dims`` is a vector variable of unknown length)."""
    indices = as_tensor_variable(indices)
    if dtype_kind(indices.dtype) not in "iu":
        raise TypeError(f"unravel_index: indices must be integers, got "
                        f"{indices.type.describe()}")
    dims, n = _int_vector_dims(dims, "unravel_index", ndim)
    out = UnravelIndex(n, order)(indices, dims)
    return tuple(out) if isinstance(out, list) else (out,)


class RavelMultiIndex(Op):
    """``np.ravel_multi_index(multi_index, dims, mode, order)``: inputs the index arrays
    then the dims vector; int64 output."""

    __props__ = ("mode", "order")

    def __init__(self, mode="raise", order="C"):
        if mode not in ("raise", "wrap", "clip") or order not in ("C", "F"):
            raise ValueError(f"ravel_multi_index: bad mode {mode!r} or order {order!r}")
        self.mode, self.order = mode, order

    def output_types(self, inputs):
        idx = inputs[:-1]
        for i in idx:
            if dtype_kind(i.dtype) not in "iu":
                raise TypeError(f"ravel_multi_index: indices must be integers, got "
                                f"{i.type.describe()}")
        bc = [all(b) for b in zip(*[i.broadcastable for i in idx])] if idx else []
        return [TensorType("int64", tuple(bc))]

    def perform(self, node, inputs):
        *idx, dims = inputs
        if len(dims) != len(idx):
            raise ValueError(f"ravel_multi_index: {len(idx)} index arrays for {len(dims)} "
                             "dims")
        return [np.asarray(np.ravel_multi_index(tuple(idx), tuple(int(d) for d in dims),
                                                mode=self.mode, order=self.order), "int64")]

    def grad(self, node, inputs, output_grads):
        return [None] * len(inputs)


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """``np.ravel_multi_index``: the flat indices of the index arrays ``multi_index``."""
    if not isinstance(multi_index, (tuple, list)):
        raise TypeError("ravel_multi_index: multi_index must be a tuple or a list")
    idx = [as_tensor_variable(i) for i in multi_index]
    dims, _ = _int_vector_dims(dims, "ravel_multi_index", len(idx))
    return RavelMultiIndex(mode, order)(*idx, dims)
