"""Indexing: basic (``Subtensor``) and integer-array (``AdvancedSubtensor1``,
``AdvancedSubtensor``) indexing, with their ``inc``/``set`` counterparts.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  ``getitem`` (installed as
``Variable.__getitem__``) follows NumPy:

* basic indexing — ints (negative too), slices with any step, ``None``/``np.newaxis``,
  ``Ellipsis`` — is one ``Subtensor(idx_list)`` whose output is a *view* of the input.  The
  static structure lives in ``idx_list`` (one entry per leading dimension):

  - an ``int``: a constant index (the dimension is dropped);
  - ``"?"``: a symbolic index, the next int64 scalar input;
  - a ``(start, stop, step)`` tuple, each ``None``, an ``int`` or ``"?"``: a slice.

  ``None`` in the user's index becomes a DimShuffle after the Subtensor.
* an integer vector on the first axis (``x[ivec]``) is ``AdvancedSubtensor1`` (a gather);
* any other mix of integer arrays with ints and slices (``x[T.arange(n), y]``) is
  ``AdvancedSubtensor``, whose ``idx_list`` marks array inputs with ``"a"``.  The result's
  dimensions are placed by NumPy's rule (adjacent array indices replace their dimensions in
  place; separated ones go first).

``set_subtensor(x[idx], y)`` / ``inc_subtensor(x[idx], y)`` (Theano) unpack the indexing node
and build the matching ``IncSubtensor`` / ``AdvancedIncSubtensor1`` / ``AdvancedIncSubtensor``,
which return a fresh copy of ``x`` unless ``inplace`` (set by the inplace pass only).  ``y``
broadcasts into the indexed region as NumPy's ``x[idx] = y`` does (Theano's perform): missing
leading dimensions and dimensions of length 1 at run time repeat, declared broadcastable or
not; y's gradient is summed back over them (:mod:`.sum_to_shape`).  Repeated integer indices
accumulate with ``inc`` (``np.add.at``) and the last write wins with ``set``.

A boolean mask (``x[mask]``, ``x[:, mask]``, a mask of one or more dimensions, ``True`` /
``False``) stands for its nonzero indices, as in NumPy: ``getitem`` replaces it by the index
vectors of a checked ``Nonzero`` (:func:`aotsym.graph.ops.nonzero.mask_indices`), so reading,
``set``/``inc`` and the gradient are those of the integer-array ops above; a mask of the wrong
shape is an IndexError at run time.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Variable
from aotsym.graph.convert import as_tensor_variable, as_tensor_variables
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType, dtype_kind

SYMBOLIC = "?"  # idx_list placeholder: the next scalar input
ARRAY = "a"     # idx_list placeholder (advanced ops only): the next integer-array input

_FULL = (None, None, None)


# ---------------------------------------------------------------------------- idx_list helpers


def _is_slice(entry) -> bool:
    return isinstance(entry, tuple)


def _n_inputs(entry) -> int:
    if _is_slice(entry):
        return sum(part == SYMBOLIC for part in entry)
    return 1 if entry in (SYMBOLIC, ARRAY) else 0


def _format(idx_list) -> str:
    parts = []
    for e in idx_list:
        if _is_slice(e):
            start, stop, step = ("" if p is None else str(p) for p in e)
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
        else:
            parts.append(str(e))
    return ", ".join(parts)


def _numpy_index(idx_list, values) -> tuple:
    """The NumPy index for ``idx_list`` with the symbolic entries taken from ``values``."""
    it = iter(values)

    def take(part):
        if part == SYMBOLIC:
            return int(next(it))
        return part
    out = []
    for e in idx_list:
        if _is_slice(e):
            out.append(slice(*(take(p) for p in e)))
        elif e == ARRAY:
            out.append(np.asarray(next(it)))
        else:
            out.append(take(e))
    return tuple(out)


def _check_idx_list(op, x, extras, idx_list, arrays_allowed=False):
    if len(idx_list) > x.ndim:
        raise IndexError(f"{op}: {len(idx_list)} indices for a tensor of ndim {x.ndim}")
    need = sum(_n_inputs(e) for e in idx_list)
    if need != len(extras):
        raise TypeError(f"{op}: the index needs {need} symbolic inputs, got {len(extras)}")
    it = iter(extras)
    for e in idx_list:
        parts = e if _is_slice(e) else (e,)
        for p in parts:
            if p == ARRAY:
                v = next(it)
                if not arrays_allowed or dtype_kind(v.dtype) not in "iu":
                    raise TypeError(f"{op}: index arrays must have an integer dtype, got "
                                    f"{v.type.describe()}")
            elif p == SYMBOLIC:
                v = next(it)
                if v.ndim != 0 or dtype_kind(v.dtype) not in "iu":
                    raise TypeError(f"{op}: indices must be integer scalars, got "
                                    f"{v.type.describe()}")


def _slice_broadcastable(entry, input_bc) -> bool:
    """Whether slicing a dimension gives a dimension known to have length 1."""
    if not input_bc or SYMBOLIC in entry:
        return False
    return len(range(1)[slice(*entry)]) == 1


def _wrap_index_errors(op, fn):
    try:
        return fn()
    except IndexError as exc:
        raise IndexError(f"{op}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{op}: {exc}") from None


def _check_value_fits(op, target_shape, y, y_bc):
    """NumPy's rule for the value written into an indexed region (right-aligned; a missing or
    length-1 dimension repeats), checked before anything is written."""
    offset = len(target_shape) - y.ndim
    for d, (n, b) in enumerate(zip(y.shape, y_bc)):
        want = target_shape[offset + d]
        if b and n != 1:
            raise ValueError(f"{op}: the value's dimension {d} is declared broadcastable "
                             f"but has length {n}")
        if n != want and n != 1:
            raise ValueError(
                f"{op}: a value of shape {y.shape} does not fit the indexed region of shape "
                f"{tuple(target_shape)}; only dimensions of length 1 (or missing on the "
                "left) are repeated")


def _check_value_type(op, x, y, region_ndim):
    if y.ndim > region_ndim:
        raise ValueError(f"{op}: the value has ndim {y.ndim}, more than the {region_ndim} "
                         "dimensions of the indexed region")
    if not np.can_cast(y.dtype, x.dtype, casting="same_kind"):
        raise TypeError(f"{op}: cannot write a {y.dtype} value into a {x.dtype} tensor; cast "
                        f"it first (T.cast(y, '{x.dtype}'))")


# ---------------------------------------------------------------------------- basic indexing


class Subtensor(Op):
    """Basic indexing ``x[idx_list]`` (module docstring); the output is a view of ``x``."""

    __props__ = ("idx_list",)
    view_map = {0: [0]}

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return f"Subtensor{{{_format(self.idx_list)}}}"

    def output_types(self, inputs):
        x, extras = inputs[0], inputs[1:]
        _check_idx_list(self, x, extras, self.idx_list)
        bc = []
        for d, e in enumerate(self.idx_list):
            if _is_slice(e):
                bc.append(_slice_broadcastable(e, x.broadcastable[d]))
        bc.extend(x.broadcastable[len(self.idx_list):])
        return [TensorType(x.dtype, bc)]

    def perform(self, node, inputs):
        x, extras = inputs[0], inputs[1:]
        index = _numpy_index(self.idx_list, extras)
        return [_wrap_index_errors(self, lambda: x[index + (Ellipsis,)])]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.alloc import zeros_like
        x, extras = inputs[0], inputs[1:]
        (gz,) = output_grads
        if dtype_kind(x.dtype) not in "fc":
            return [None] * len(inputs)
        gx = IncSubtensor(self.idx_list)(zeros_like(x), gz, *extras)
        return [gx] + [None] * len(extras)

    def infer_shape(self, node, input_shapes):
        """The lengths of the sliced dimensions, where the slice's parts are constants
        (None where one is symbolic: that length is not known from the input's)."""
        from aotsym.graph.ops.shape import slice_length
        x_shape = input_shapes[0]
        out = []
        for d, e in enumerate(self.idx_list):
            if _is_slice(e):
                out.append(x_shape[d] if e in (_FULL, (None, None, 1)) else
                           None if SYMBOLIC in e else slice_length(e, x_shape[d]))
        return [tuple(out) + tuple(x_shape[len(self.idx_list):])]


class _IndexedWrite(Op):
    """What IncSubtensor and AdvancedIncSubtensor share: ``x`` with ``x[idx_list]``
    incremented by (or, with ``set_instead_of_inc``, set to) ``y``; inputs ``x``, ``y``, then
    the index inputs.  A subclass names its reading op (``read_op``) and its label."""

    __props__ = ("idx_list", "set_instead_of_inc", "inplace")
    label = ""

    def __init__(self, idx_list, set_instead_of_inc=False, inplace=False):
        self.idx_list = tuple(idx_list)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        tail = ", inplace" if self.inplace else ""
        return f"{self.label}{kind}Subtensor{{{_format(self.idx_list)}{tail}}}"

    def read_op(self) -> Op:
        raise NotImplementedError

    def grad(self, node, inputs, output_grads):
        return _indexed_write_grad(self, self.read_op(), inputs, output_grads)


class IncSubtensor(_IndexedWrite):
    """Basic indexing written to: ``set_subtensor(x[1:3], y)``, ``inc_subtensor(x[i], y)``."""

    def read_op(self):
        return Subtensor(self.idx_list)

    def output_types(self, inputs):
        x, y, extras = inputs[0], inputs[1], inputs[2:]
        region = Subtensor(self.idx_list).output_types([x, *extras])[0]
        _check_value_type(self, x, y, region.ndim)
        return [x.type]

    def perform(self, node, inputs):
        x, y, extras = inputs[0], inputs[1], inputs[2:]
        out = x if self.inplace else x.copy()
        index = _numpy_index(self.idx_list, extras) + (Ellipsis,)
        region = _wrap_index_errors(self, lambda: out[index])
        _check_value_fits(self, region.shape, y, node.inputs[1].broadcastable)
        with np.errstate(all="ignore"):
            if self.set_instead_of_inc:
                region[...] = y
            else:
                region[...] = region + y
        return [out]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def _indexed_write_grad(op, read, inputs, output_grads):
    """Gradients of ``set/inc_subtensor(x[idx], y)`` for any indexing op pair.

    ``read`` is the op that reads the same region (Subtensor for IncSubtensor, ...).  x's
    gradient is ``gz`` with the region zeroed when it was overwritten (set), else ``gz``;
    y's is ``gz`` read at the region, summed where y was broadcast.
    """
    x, y, extras = inputs[0], inputs[1], inputs[2:]
    (gz,) = output_grads
    gx = gy = None
    if dtype_kind(x.dtype) in "fc":
        if op.set_instead_of_inc:
            zero = as_tensor_variable(np.zeros((), dtype=gz.dtype))
            gx = type(op)(op.idx_list, True)(gz, zero, *extras)
        else:
            gx = gz
    if dtype_kind(y.dtype) in "fc":
        from aotsym.graph.ops.sum_to_shape import reduce_to_value
        gy = reduce_to_value(read(gz, *extras), y)
    return [gx, gy] + [None] * len(extras)


# ---------------------------------------------------------------------------- advanced indexing


class AdvancedSubtensor1(Op):
    """``x[ilist]`` for an integer vector ``ilist``: rows of ``x`` gathered (a fresh array)."""

    def output_types(self, inputs):
        x, ilist = inputs
        if x.ndim < 1:
            raise IndexError("AdvancedSubtensor1: cannot index a scalar")
        if ilist.ndim != 1 or dtype_kind(ilist.dtype) not in "iu":
            raise TypeError(f"AdvancedSubtensor1: the index must be an integer vector, got "
                            f"{ilist.type.describe()}")
        return [TensorType(x.dtype, ilist.broadcastable + x.broadcastable[1:])]

    def perform(self, node, inputs):
        x, ilist = inputs
        _check_bounds(self, ilist, x.shape[0], 0)
        return [x.take(ilist, axis=0)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.alloc import zeros_like
        x, ilist = inputs
        (gz,) = output_grads
        if dtype_kind(x.dtype) not in "fc":
            return [None, None]
        return [AdvancedIncSubtensor1()(zeros_like(x), gz, ilist), None]

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[1][0],) + tuple(input_shapes[0][1:])]


def _check_bounds(op, idx, length, axis):
    if idx.size and (idx.max() >= length or idx.min() < -length):
        bad = idx[(idx >= length) | (idx < -length)].flat[0]
        raise IndexError(f"{op}: index {bad} is out of bounds for dimension {axis} of length "
                         f"{length}")


class AdvancedIncSubtensor1(Op):
    """``x`` with rows ``ilist`` incremented by (or set to) ``y``.  Inputs: x, y, ilist."""

    __props__ = ("set_instead_of_inc", "inplace")

    def __init__(self, set_instead_of_inc=False, inplace=False):
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self):
        kind = "Set" if self.set_instead_of_inc else "Inc"
        return f"Advanced{kind}Subtensor1" + ("{inplace}" if self.inplace else "")

    def output_types(self, inputs):
        x, y, ilist = inputs
        region = AdvancedSubtensor1().output_types([x, ilist])[0]
        _check_value_type(self, x, y, region.ndim)
        return [x.type]

    def perform(self, node, inputs):
        x, y, ilist = inputs
        out = x if self.inplace else x.copy()
        _check_bounds(self, ilist, x.shape[0], 0)
        _check_value_fits(self, (len(ilist),) + x.shape[1:], y, node.inputs[1].broadcastable)
        with np.errstate(all="ignore"):
            if self.set_instead_of_inc:
                out[ilist] = y
            else:
                np.add.at(out, ilist, np.asarray(y, dtype=out.dtype))
        return [out]

    def grad(self, node, inputs, output_grads):
        x, y, ilist = inputs
        (gz,) = output_grads
        gx = gy = None
        if dtype_kind(x.dtype) in "fc":
            if self.set_instead_of_inc:
                zero = as_tensor_variable(np.zeros((), dtype=gz.dtype))
                gx = AdvancedIncSubtensor1(True)(gz, zero, ilist)
            else:
                gx = gz
        if dtype_kind(y.dtype) in "fc":
            from aotsym.graph.ops.sum_to_shape import reduce_to_value
            gy = reduce_to_value(AdvancedSubtensor1()(gz, ilist), y)
        return [gx, gy, None]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def _advanced_type(op, idx_list, x, extras):
    """The output type of ``x[idx_list]`` by NumPy's advanced-indexing rule."""
    _check_idx_list(op, x, extras, idx_list, arrays_allowed=True)
    it = iter(extras)
    arrays, positions, slice_dims = [], [], []
    for d, e in enumerate(idx_list):
        if _is_slice(e):
            for _ in range(_n_inputs(e)):
                next(it)
            slice_dims.append((d, _slice_broadcastable(e, x.broadcastable[d])))
            continue
        positions.append(d)
        if e == ARRAY or e == SYMBOLIC:
            v = next(it)
            if e == ARRAY:
                arrays.append(v)
    nb = max((a.ndim for a in arrays), default=0)
    padded = [(True,) * (nb - a.ndim) + a.broadcastable for a in arrays]
    adv_bc = [all(p[j] for p in padded) for j in range(nb)]
    rest = list(x.broadcastable[len(idx_list):])
    adjacent = positions == list(range(positions[0], positions[-1] + 1)) if positions else True
    if adjacent:
        before = [b for d, b in slice_dims if d < positions[0]]
        after = [b for d, b in slice_dims if d > positions[-1]]
        bc = before + adv_bc + after + rest
    else:
        bc = adv_bc + [b for _, b in slice_dims] + rest
    return TensorType(x.dtype, bc)


class AdvancedSubtensor(Op):
    """``x[idx_list]`` with integer-array entries (``"a"``) mixed with ints and slices."""

    __props__ = ("idx_list",)

    def __init__(self, idx_list):
        self.idx_list = tuple(idx_list)

    def __str__(self):
        return f"AdvancedSubtensor{{{_format(self.idx_list)}}}"

    def output_types(self, inputs):
        return [_advanced_type(self, self.idx_list, inputs[0], inputs[1:])]

    def perform(self, node, inputs):
        x, extras = inputs[0], inputs[1:]
        index = _numpy_index(self.idx_list, extras)
        return [np.array(_wrap_index_errors(self, lambda: x[index]))]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.alloc import zeros_like
        x, extras = inputs[0], inputs[1:]
        (gz,) = output_grads
        if dtype_kind(x.dtype) not in "fc":
            return [None] * len(inputs)
        gx = AdvancedIncSubtensor(self.idx_list)(zeros_like(x), gz, *extras)
        return [gx] + [None] * len(extras)


class AdvancedIncSubtensor(_IndexedWrite):
    """Integer-array indexing written to: increments accumulate over repeated indices
    (``np.add.at``); with set, the last write wins."""

    label = "Advanced"

    def read_op(self):
        return AdvancedSubtensor(self.idx_list)

    def output_types(self, inputs):
        x, y, extras = inputs[0], inputs[1], inputs[2:]
        region = _advanced_type(self, self.idx_list, x, extras)
        _check_value_type(self, x, y, region.ndim)
        return [x.type]

    def perform(self, node, inputs):
        x, y, extras = inputs[0], inputs[1], inputs[2:]
        out = x if self.inplace else x.copy()
        index = _numpy_index(self.idx_list, extras)
        region_shape = _wrap_index_errors(self, lambda: out[index]).shape
        _check_value_fits(self, region_shape, y, node.inputs[1].broadcastable)
        with np.errstate(all="ignore"):
            if self.set_instead_of_inc:
                out[index] = y
            else:
                np.add.at(out, index, np.asarray(y, dtype=out.dtype))
        return [out]


    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


# ---------------------------------------------------------------------------- builders

def _is_bool_like(entry) -> bool:
    if isinstance(entry, (bool, np.bool_)):
        return True
    if isinstance(entry, Variable):
        return entry.dtype == "bool"
    if isinstance(entry, np.ndarray):
        return entry.dtype == bool
    if isinstance(entry, (list, tuple)):
        return np.asarray(entry).dtype == bool if entry and not any(
            isinstance(e, Variable) for e in entry) else False
    return False


def _as_index_array(entry) -> Variable:
    if isinstance(entry, (list, tuple)) and entry and not any(
            isinstance(e, Variable) for e in entry) and np.asarray(entry).dtype.kind not in "iub":
        raise TypeError(f"indices must be integers, got {entry!r}")   # x[[0., 1]] (NumPy)
    v = as_tensor_variable(entry) if not isinstance(entry, (list, tuple)) or any(
        isinstance(e, Variable) for e in entry) else as_tensor_variable(
        np.asarray(entry, dtype="int64") if len(entry) else np.zeros(0, dtype="int64"))
    if dtype_kind(v.dtype) not in "iu":
        raise TypeError(f"indices must be integers, got {v.type.describe()}")
    return v


def _scalar_part(part, what):
    """A slice bound / scalar index: None, an int, or (SYMBOLIC, int64 variable)."""
    from aotsym.graph.ops.shape import as_int_scalar, constant_value
    if part is None:
        return None, None
    if isinstance(part, (bool, np.bool_)):
        raise TypeError(f"{what} must be an integer, got {part!r}")
    if isinstance(part, (int, np.integer)):
        return int(part), None
    if isinstance(part, np.ndarray) and part.ndim == 0 and part.dtype.kind in "iu":
        return int(part), None
    if isinstance(part, Variable) and part.ndim == 0 and dtype_kind(part.dtype) not in "iu":
        raise TypeError(f"{what} must be an integer, got {part.type.describe()}; cast it "
                        "(T.cast(i, 'int64'))")
    var = as_int_scalar(part, what)
    value = constant_value(var)
    return (value, None) if value is not None else (SYMBOLIC, var)


def _n_consumed(e) -> int:
    """How many dimensions of the indexed tensor an index entry consumes."""
    if e is None or e is Ellipsis:
        return 0
    if _is_bool_like(e):   # a k-d mask covers k dimensions
        return e.ndim if isinstance(e, Variable) else np.ndim(e)
    return 1


def _expand(x, index):
    """The index as a list of per-entry items with Ellipsis expanded (NumPy's rules)."""
    if not isinstance(index, tuple):
        index = (index,)
    if sum(e is Ellipsis for e in index) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(_n_consumed(e) for e in index)
    if consumed > x.ndim:
        raise IndexError(f"too many indices for a tensor of ndim {x.ndim}: {consumed} given")
    out = []
    for e in index:
        if e is Ellipsis:
            out.extend([slice(None)] * (x.ndim - consumed))
        else:
            out.append(e)
    return out


def _is_array_entry(e) -> bool:
    if isinstance(e, Variable):
        return e.ndim > 0
    if isinstance(e, np.ndarray):
        return e.ndim > 0
    return isinstance(e, (list, tuple))


def getitem(x, index):
    """``x[index]`` with NumPy's semantics (module docstring)."""
    x = as_tensor_variable(x)
    if isinstance(index, list):
        # x[[0, 2]]: NumPy reads a list as an index array; a list holding a slice is a tuple
        # of entries (Theano 1.0's rule, and old NumPy's: x[[slice(None), 0]] is x[:, 0])
        index = tuple(index) if any(isinstance(e, slice) for e in index) else (index,)
    entries = _expand(x, index)
    if any(_is_bool_like(e) for e in entries):
        x, entries = _masks_as_indices(x, entries)
    if any(_is_array_entry(e) for e in entries):
        if any(e is None for e in entries):
            x, entries = _new_axes_as_slices(x, entries)
        return _advanced_getitem(x, entries)

    idx_list, extras, order = [], [], []
    dim = 0  # next input dimension
    out_dim = 0  # next Subtensor output dimension
    for e in entries:
        if e is None:
            order.append("x")
            continue
        if isinstance(e, slice):
            idx_list.append(_slice_entry(e, extras))
            order.append(out_dim)
            out_dim += 1
        else:
            value, var = _scalar_part(e, "index")
            if var is not None:
                extras.append(var)
            elif abs(value) > _INT64_MAX:
                raise IndexError(f"index {value} is out of bounds for dimension {dim} of "
                                 f"{x.type.describe()}")
            elif x.broadcastable[dim] and value not in (0, -1):
                raise IndexError(f"index {value} is out of bounds for dimension {dim} of "
                                 f"{x.type.describe()}, which has length 1")
            idx_list.append(value)
        dim += 1
    order.extend(range(out_dim, out_dim + x.ndim - dim))
    out = Subtensor(idx_list)(x, *extras)
    if "x" in order:
        from aotsym.graph.ops.elemwise import DimShuffle
        out = DimShuffle(out.broadcastable, order)(out)
    return out


def _masks_as_indices(x, entries):
    """``(x, entries)`` with every boolean mask replaced by its nonzero index vectors (NumPy's
    rule).  A 0-d mask (``x[True]``, ``x[m]`` for a bool scalar ``m``) indexes a new leading
    axis of length 1, as NumPy's: ``x[m]`` is ``x[None][m[None]]``."""
    from aotsym.graph.ops.elemwise import dimshuffle
    from aotsym.graph.ops.nonzero import mask_indices
    masks = [as_tensor_variable(np.asarray(e, dtype=bool)) if not isinstance(e, Variable)
             else e for e in entries if _is_bool_like(e)]
    if any(m.ndim == 0 for m in masks):
        if len(entries) != 1:
            raise IndexError("a 0-d boolean index (x[True], a bool scalar) combined with "
                             "other indices is not supported; index in two steps")
        x = dimshuffle(x, "x", *range(x.ndim))
        masks = [dimshuffle(masks[0], "x")]
        entries = [masks[0]]
    out, dim, k = [], 0, 0
    for e in entries:
        if _is_bool_like(e):
            mask = masks[k]
            k += 1
            out.extend(mask_indices(x, mask, dim))
            dim += mask.ndim
        else:
            out.append(e)
            dim += e is not None
    return x, out


def _new_axes_as_slices(x, entries):
    """``(x, entries)`` with each ``None`` made a length-1 axis of ``x`` indexed by a full
    slice: NumPy's rule for ``np.newaxis`` beside integer arrays (``x[..., None, [1, 2]]``;
    it separates array indices as a slice does)."""
    from aotsym.graph.ops.elemwise import dimshuffle
    pattern, out, dim = [], [], 0
    for e in entries:
        if e is None:
            pattern.append("x")
            out.append(slice(None))
        else:
            pattern.append(dim)
            dim += 1
            out.append(e)
    return dimshuffle(x, *(pattern + list(range(dim, x.ndim)))), out


_INT64_MAX = 2 ** 63 - 1


def _slice_entry(e: slice, extras: list) -> tuple:
    """A slice as a static (start, stop, step) entry; symbolic bounds go to ``extras``."""
    parts = []
    for name, p in (("start", e.start), ("stop", e.stop), ("step", e.step)):
        value, var = _scalar_part(p, f"slice {name}")
        if isinstance(value, int):   # beyond int64 (x[:2**63]): clamped, NumPy's answer
            value = min(max(value, -_INT64_MAX), _INT64_MAX)
        parts.append(value)
        if var is not None:
            extras.append(var)
    if parts[2] == 0:
        raise ValueError("slice step cannot be zero")
    return tuple(parts)


def _advanced_getitem(x, entries):
    if any(e is None for e in entries):
        raise TypeError("np.newaxis (None) cannot be combined with integer-array indexing in "
                        "aotsym; index first, then add the axis with dimshuffle")
    idx_list, extras = [], []
    for e in entries:
        if isinstance(e, slice):
            idx_list.append(_slice_entry(e, extras))
        elif _is_array_entry(e):
            extras.append(_as_index_array(e))
            idx_list.append(ARRAY)
        else:
            value, var = _scalar_part(e, "index")
            idx_list.append(value)
            if var is not None:
                extras.append(var)
    trailing_full = all(_is_slice(e) and e == _FULL for e in idx_list[1:])
    if idx_list[0] == ARRAY and extras[0].ndim == 1 and trailing_full:
        return AdvancedSubtensor1()(x, extras[0])
    while idx_list and _is_slice(idx_list[-1]) and idx_list[-1] == _FULL:
        idx_list.pop()
    return AdvancedSubtensor(idx_list)(x, *extras)


def take(x, indices, axis=None, mode="raise"):
    """``np.take``: elements of ``x`` at integer ``indices`` along ``axis`` (None: of the
    flattened ``x``); ``mode`` as NumPy's: 'raise' (an index out of range is an error),
    'wrap' (taken modulo the length), 'clip' (to the first or last element)."""
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    x = as_tensor_variable(x)
    if _is_bool_like(indices):
        raise TypeError("take: the indices must be integers, got a boolean mask; index with "
                        "the mask instead (x[mask])")
    if axis is None:
        from aotsym.graph.ops.reshape import flatten
        x, axis = flatten(x, 1), 0
    if not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"take: axis {axis!r} is out of range for a tensor of ndim {x.ndim}")
    axis = int(axis) % x.ndim
    indices = _as_index_array(indices)
    if mode != "raise":
        from aotsym.graph.ops import math as m
        n = x.shape[axis]
        indices = indices % n if mode == "wrap" else m.clip(indices, 0, n - 1)
    return getitem(x, (slice(None),) * axis + (indices,))


def _unpack_indexing(x_sub, what):
    """(op, indexed tensor, index inputs, dims added by None) of an indexing result."""
    from aotsym.graph.ops.elemwise import DimShuffle
    if not isinstance(x_sub, Variable) or x_sub.owner is None:
        raise TypeError(f"{what}: the first argument must be an indexing of a tensor "
                        f"(x[...]), got {x_sub!r}")
    node = x_sub.owner
    added = ()
    if isinstance(node.op, DimShuffle):
        kept = [d for d in node.op.new_order if d != "x"]
        inner = node.inputs[0].owner
        if kept != list(range(node.inputs[0].ndim)) or inner is None or not isinstance(
                inner.op, Subtensor):
            raise TypeError(f"{what}: the first argument must be an indexing of a tensor "
                            f"(x[...]), got the output of {node.op}")
        added = node.op.augment
        node = inner
    if not isinstance(node.op, (Subtensor, AdvancedSubtensor1, AdvancedSubtensor)):
        raise TypeError(f"{what}: the first argument must be an indexing of a tensor "
                        f"(x[...]), got the output of {node.op}")
    return node, added


class IndexedWriteTypeError(TypeError, ValueError):
    """A value that cannot be written into an indexed region for its type (more dimensions
    than the region): Theano's TypeError, and a ValueError as aotsym raised before."""


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False,
                  tolerate_inplace_aliasing=False):
    """Theano's ``inc_subtensor(x[idx], y)``: a copy of ``x`` with ``y`` added at ``idx``."""
    what = "set_subtensor" if set_instead_of_inc else "inc_subtensor"
    node, added = _unpack_indexing(x, what)
    region = x
    y = as_tensor_variables([region, y])[1]
    if y.ndim > region.ndim:
        raise IndexedWriteTypeError(
            f"{what}: the value has ndim {y.ndim}, more than the ndim {region.ndim} of the "
            f"indexed region {region.type.describe()}")
    if added:  # the region was given length-1 axes with None: take them off the value
        from aotsym.graph.ops.elemwise import DimShuffle
        from aotsym.graph.ops.math import pad_ndim
        y = pad_ndim(y, region.ndim)
        for a in added:
            if not y.broadcastable[a]:
                raise ValueError(f"{what}: the value's dimension {a} must be broadcastable, "
                                 "as that axis was added to the region with None")
        y = DimShuffle(y.broadcastable, [d for d in range(y.ndim) if d not in added])(y)
    x0, extras = node.inputs[0], node.inputs[1:]
    op = node.op
    if isinstance(op, AdvancedSubtensor) and x0.owner is not None and "x" in getattr(
            x0.owner.op, "new_order", ()):
        # x[None, [0, 1]] reads a dimshuffle of x (_new_axes_as_slices): writing there would
        # return that tensor, not x; refused rather than guessed
        raise TypeError(f"{what}: writing through an index that mixes None (np.newaxis) "
                        "with integer arrays is not supported; index without None and "
                        "give the value the shape of that region")
    if isinstance(op, AdvancedSubtensor1) and _is_0d_mask_index(extras[0]):
        raise TypeError(f"{what}: writing through a 0-d boolean index (x[True], x[b] for a "
                        "bool scalar b) is not supported; use T.switch(b, value, x)")
    if isinstance(op, Subtensor):
        new = IncSubtensor(op.idx_list, set_instead_of_inc, inplace)
        return new(x0, y, *extras)
    if isinstance(op, AdvancedSubtensor1):
        return AdvancedIncSubtensor1(set_instead_of_inc, inplace)(x0, y, *extras)
    return AdvancedIncSubtensor(op.idx_list, set_instead_of_inc, inplace)(x0, y, *extras)


def _is_0d_mask_index(index) -> bool:
    """Whether ``index`` is the index vector of a 0-d mask (``_masks_as_indices``), whose
    region lies in a new leading axis: a write there would not have ``x``'s shape."""
    from aotsym.graph.ops.elemwise import DimShuffle
    from aotsym.graph.ops.nonzero import Nonzero
    rows = index.owner
    if rows is None or not isinstance(rows.op, Subtensor) or rows.inputs[0].owner is None:
        return False
    nz = rows.inputs[0].owner
    if not isinstance(nz.op, Nonzero) or nz.op.mask_axis != 0:
        return False
    mask = nz.inputs[0].owner
    return mask is not None and isinstance(mask.op, DimShuffle) and mask.inputs[0].ndim == 0


def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """Theano's ``set_subtensor(x[idx], y)``: a copy of ``x`` with ``y`` written at ``idx``."""
    return inc_subtensor(x, y, inplace, set_instead_of_inc=True,
                         tolerate_inplace_aliasing=tolerate_inplace_aliasing)

