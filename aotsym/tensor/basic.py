"""Theano's structure and shape functions of ``theano.tensor.basic`` that the op modules do
not define: broadcast flags (``addbroadcast``, ``unbroadcast``, ``patternbroadcast``,
``shape_pad*``), tiling, stacking and splitting, ``roll``/``flip``/``swapaxes``, diagonals and
triangles (``diagonal``/``diag``/``tri``/``tril``/``triu`` are
:mod:`aotsym.graph.ops.triangular`'s, re-exported), ``max_and_argmax``,
``isclose``/``allclose``, ``iround``, ``square``, ``deg2rad``/``rad2deg`` and
``mgrid``/``ogrid``.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  Every function here
is composed of existing ops (DimShuffle, SpecifyShape, Alloc, Reshape, Join, Subtensor and
its advanced forms, Elemwise, Reduce, ARange), so each one compiles with the C backend and
differentiates like any graph; none adds an op.  Two type-level tricks carry the
broadcastable flags, since the IR has no ``Rebroadcast``:

* ``addbroadcast`` is a ``SpecifyShape`` with a constant 1 on the axes made broadcastable (a
  view; a length other than 1 is a ValueError at run time, as Theano's Rebroadcast);
* ``unbroadcast`` joins ``x`` with an empty slice of itself along the axis: a ``Join`` of two
  inputs is never broadcastable along its axis, whatever the optimizer later learns of the
  lengths, so the type is stable under rewriting (it costs a copy of ``x``).

``nonzero`` / ``flatnonzero`` / ``nonzero_values`` are exported from their op module,
:mod:`aotsym.graph.ops.nonzero` (their output length depends on the data: the ``Nonzero`` op).
Not here: linear algebra (``T.nlinalg``).
"""

from __future__ import annotations

from builtins import max as builtins_max
from functools import reduce as _fold

import numpy as np

from aotsym.graph.basic import Variable
from aotsym.graph.convert import as_tensor_variable, as_tensor_variables
from aotsym.graph.ops import math as m
from aotsym.graph.ops import reduce as r
from aotsym.graph.ops.alloc import alloc, arange
from aotsym.graph.ops.elemwise import dimshuffle
from aotsym.graph.ops.join import Join, concatenate, stack
from aotsym.graph.ops.nonzero import flatnonzero, nonzero, nonzero_values
from aotsym.graph.ops.reduce import int_axes as _axes
from aotsym.graph.ops.reduce import one_int_axis as _one_axis
from aotsym.graph.ops.reshape import reshape
from aotsym.graph.ops.shape import (as_int_scalar, constant_value, shape_i, specify_shape,
                                    vector_entries)
from aotsym.graph.ops.subtensor import getitem
from aotsym.graph.ops.triangular import diag, diagonal, tri, tril, triu  # noqa: F401
from aotsym.graph.types import (COMPLEX_DTYPES, FLOAT_DTYPES, INT_DTYPES, UINT_DTYPES,
                                BadArgumentError, TensorType, dtype_kind, upgrade_to_float)

__all__ = [
    "addbroadcast", "unbroadcast", "patternbroadcast", "shape_padleft", "shape_padright",
    "shape_padaxis", "tile", "horizontal_stack", "vertical_stack", "stacklists", "split",
    "swapaxes", "roll", "flip", "diag", "diagonal", "extract_diag", "trace", "tri", "tril",
    "triu", "max_and_argmax", "isclose", "allclose", "iround", "square", "deg2rad",
    "rad2deg", "mgrid", "ogrid", "nonzero", "flatnonzero", "nonzero_values",
    "int_dtypes", "uint_dtypes", "integer_dtypes", "float_dtypes", "complex_dtypes", "discrete_dtypes",
    "continuous_dtypes", "all_dtypes", "ceil_intdiv", "smallest", "largest", "ptp", "cov",
    "is_flat", "tensor_copy", "NotScalarConstantError", "EmptyConstantError",
    "get_scalar_constant_value", "extract_constant", "get_vector_length", "choose",
    "inverse_permutation", "permute_row_elements", "Tensor",
]

Tensor = TensorType     # Theano's older name of the tensor type class

# Theano's dtype lists (``T.discrete_dtypes`` ...): the names of the dtypes aotsym has.
int_dtypes = list(INT_DTYPES)
uint_dtypes = list(UINT_DTYPES)
integer_dtypes = int_dtypes + uint_dtypes
float_dtypes = list(FLOAT_DTYPES)
complex_dtypes = list(COMPLEX_DTYPES)
discrete_dtypes = ["bool"] + int_dtypes + uint_dtypes
continuous_dtypes = float_dtypes + complex_dtypes
all_dtypes = discrete_dtypes + continuous_dtypes


# ---------------------------------------------------------------------------- helpers


def _lengths(x):
    return [shape_i(x, d) for d in range(x.ndim)]


def _product(a, b):
    """``a * b`` for int64 scalars or Python ints (constant when both are)."""
    va = a if isinstance(a, int) else constant_value(a)
    vb = b if isinstance(b, int) else constant_value(b)
    if va is not None and vb is not None:
        return va * vb
    return m.mul(a, b)


# ---------------------------------------------------------------------------- broadcast flags


def addbroadcast(x, *axes):
    """``x`` with the dimensions ``axes`` made broadcastable (Theano's ``addbroadcast``).

    A view; at run time each of those dimensions must have length 1 (a ValueError else).
    """
    x = as_tensor_variable(x)
    return _addbroadcast(x, _axes(axes, x.ndim, "addbroadcast") if axes else (), "addbroadcast")


def _addbroadcast(x, axes, what):
    if all(x.broadcastable[a] for a in axes):
        return x
    lengths = [1 if d in axes else n for d, n in enumerate(_lengths(x))]
    return specify_shape(x, lengths, context=f"{what}: a dimension made broadcastable")


def unbroadcast(x, *axes):
    """``x`` with the dimensions ``axes`` made not broadcastable (Theano's ``unbroadcast``).

    The value is unchanged (a copy: see the module docstring).
    """
    x = as_tensor_variable(x)
    axes = _axes(axes, x.ndim, "unbroadcast") if axes else ()
    for a in axes:
        if x.broadcastable[a]:
            empty = getitem(x, (slice(None),) * a + (slice(0, 0),))
            x = Join(a)(x, empty)
    return x


def patternbroadcast(x, broadcastable):
    """``x`` with exactly the broadcastable flags ``broadcastable`` (Theano's
    ``patternbroadcast``): ``addbroadcast`` and ``unbroadcast`` where they differ.  The
    empty pattern leaves ``x`` as it is (Theano's: a scalar's flags applied to a matrix)."""
    x = as_tensor_variable(x)
    pattern = tuple(broadcastable)
    if not pattern:
        return x
    if len(pattern) != x.ndim:
        raise ValueError(f"patternbroadcast: the pattern {pattern} has {len(pattern)} entries "
                         f"for a tensor of ndim {x.ndim}")
    add = [d for d, (b, want) in enumerate(zip(x.broadcastable, pattern)) if want and not b]
    drop = [d for d, (b, want) in enumerate(zip(x.broadcastable, pattern)) if b and not want]
    return unbroadcast(_addbroadcast(x, add, "patternbroadcast"), *drop)


def shape_padleft(t, n_ones=1):
    """``t`` with ``n_ones`` broadcastable dimensions added on the left."""
    t = as_tensor_variable(t)
    return dimshuffle(t, ["x"] * _count(n_ones, "shape_padleft") + list(range(t.ndim)))


def shape_padright(t, n_ones=1):
    """``t`` with ``n_ones`` broadcastable dimensions added on the right."""
    t = as_tensor_variable(t)
    return dimshuffle(t, list(range(t.ndim)) + ["x"] * _count(n_ones, "shape_padright"))


def _count(n, what):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise TypeError(f"{what}: n_ones must be a non-negative int, got {n!r}")
    return int(n)


def shape_padaxis(t, axis):
    """``t`` with a broadcastable dimension inserted at ``axis`` (in ``[-ndim-1, ndim]``)."""
    t = as_tensor_variable(t)
    ndim = t.ndim + 1
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise IndexError(f"shape_padaxis: axis {axis!r} is out of bounds [-{ndim}, {ndim})")
    order = list(range(t.ndim))
    order.insert(int(axis) % ndim, "x")
    return dimshuffle(t, order)


# ---------------------------------------------------------------------------- tile, stack, split


def tile(x, reps, ndim=None):
    """``np.tile``: ``x`` repeated ``reps[d]`` times along each dimension (Theano's).

    ``reps``: an int or int scalar variable, a list/tuple of them, or an int vector variable
    (then ``ndim``, the output's ndim, is needed unless its length is known).  Missing
    leading entries of ``reps`` are 1.
    """
    x = as_tensor_variable(x)
    if ndim is not None and (not isinstance(ndim, (int, np.integer)) or ndim < x.ndim):
        raise ValueError(f"tile: ndim must be an int at least x.ndim ({x.ndim}), got {ndim!r}")
    if isinstance(reps, (list, tuple)):
        reps = [as_int_scalar(v, f"tile: reps entry {i}") for i, v in enumerate(reps)]
    else:
        rv = as_tensor_variable(reps)
        if dtype_kind(rv.dtype) not in "iu" or rv.ndim > 1:
            raise BadArgumentError(f"tile: reps must be integers (a scalar or a vector), "
                                   f"got {rv.type.describe()}")
        if rv.ndim == 0:
            reps = [as_int_scalar(rv, "tile: reps")]
        elif vector_entries(rv) is not None:
            reps = [as_int_scalar(v, "tile: reps entry") for v in vector_entries(rv)]
        elif ndim is None:
            raise ValueError("tile: reps is a symbolic vector of unknown length; pass ndim=")
        else:
            # pad on the left with ones: a negative pad (reps longer than ndim) is an
            # Alloc error at run time
            pad = alloc(np.int64(1), m.sub(np.int64(ndim), shape_i(rv, 0)))
            padded = concatenate([pad, m.cast(rv, "int64")])
            reps = [getitem(padded, i) for i in range(ndim)]
    for i, v in enumerate(reps):
        if constant_value(v) is not None and constant_value(v) < 0:
            raise ValueError(f"tile: negative repetition {constant_value(v)} in reps entry {i}")
    if ndim is not None and len(reps) > ndim:
        raise ValueError(f"tile: {len(reps)} repetitions for ndim={ndim}")
    ndim = max(len(reps), x.ndim) if ndim is None else int(ndim)
    reps = [as_int_scalar(1)] * (ndim - len(reps)) + reps
    lengths = [as_int_scalar(1)] * (ndim - x.ndim) + _lengths(x)
    if all(constant_value(v) == 1 for v in reps):
        return shape_padleft(x, ndim - x.ndim)
    # x with a broadcastable dimension before each of its own, broadcast to
    # (reps[0], lengths[0], reps[1], ...): one contiguous write, then a reshape (a view)
    missing = ndim - x.ndim
    spread = dimshuffle(x, [p for d in range(ndim)
                            for p in ("x", "x" if d < missing else d - missing)])
    y = alloc(spread, *[n for pair in zip(reps, lengths) for n in pair])
    return reshape(y, [_product(a, b) for a, b in zip(reps, lengths)], ndim=ndim)


def _matrices(args, what):
    if not args:
        raise ValueError(f"{what}: needs at least one matrix")
    args = [as_tensor_variable(a) for a in args]
    for i, a in enumerate(args):
        if a.ndim != 2:
            raise TypeError(f"{what}: argument {i} must be a matrix, got {a.type.describe()}")
    return args


def horizontal_stack(*args):
    """The matrices ``args`` side by side (joined along axis 1; Theano's)."""
    return concatenate(_matrices(args, "horizontal_stack"), axis=1)


def vertical_stack(*args):
    """The matrices ``args`` one above the other (joined along axis 0; Theano's)."""
    return concatenate(_matrices(args, "vertical_stack"), axis=0)


def stacklists(arg):
    """Nested lists of tensors (scalars, typically) stacked into one tensor of the lists'
    shape: ``stacklists([[a, b], [c, d]])`` is a 2x2 matrix (Theano's)."""
    if isinstance(arg, (list, tuple)):
        if not arg:
            raise ValueError("stacklists: an empty list has no tensor to stack")
        return stack([stacklists(a) for a in arg])
    return as_tensor_variable(arg)


def split(x, splits_size, n_splits, axis=0):
    """``x`` cut along ``axis`` into ``n_splits`` pieces of the lengths ``splits_size`` (a
    list of ints, or an int vector variable); a list of the pieces, or the one piece when
    ``n_splits`` is 1 (Theano's ``split``).

    The lengths must be non-negative and add up to ``x.shape[axis]``: a ValueError at run
    time otherwise (a negative constant length is refused at once).
    """
    x = as_tensor_variable(x)
    if x.ndim == 0:
        raise TypeError("split: x must have at least one dimension")
    axis = _one_axis(axis, x.ndim, "split")
    if not isinstance(n_splits, (int, np.integer)) or isinstance(n_splits, bool) \
            or n_splits < 1:
        raise ValueError(f"split: n_splits must be a positive int, got {n_splits!r}")
    n_splits = int(n_splits)
    if isinstance(splits_size, (list, tuple, np.ndarray)) and not any(
            isinstance(s, Variable) for s in np.ravel(np.asarray(splits_size, dtype=object))):
        sizes = [as_int_scalar(s, f"split: splits_size entry {i}")
                 for i, s in enumerate(np.ravel(np.asarray(splits_size, dtype=object)))]
    else:
        sv = as_tensor_variable(splits_size)
        if sv.ndim != 1 or dtype_kind(sv.dtype) not in "iu":
            raise TypeError(f"split: splits_size must be an int vector, got "
                            f"{sv.type.describe()}")
        sizes = vector_entries(sv)
        if sizes is None:
            sv = specify_shape(sv, [n_splits], context="split: splits_size")
            sizes = [getitem(sv, i) for i in range(n_splits)]
        sizes = [as_int_scalar(s, "split: splits_size entry") for s in sizes]
    if len(sizes) != n_splits:
        raise ValueError(f"split: {len(sizes)} lengths given for n_splits={n_splits}")
    known = [constant_value(s) for s in sizes]
    if any(k is not None and k < 0 for k in known):
        raise ValueError(f"split: negative length in splits_size {known}")
    lengths = _lengths(x)
    total = sizes[0] if n_splits == 1 else m.add(*sizes)
    if all(k is not None for k in known):
        total = sum(known)
    x = specify_shape(x, lengths[:axis] + [total] + lengths[axis + 1:], context="split")
    head = (slice(None),) * axis
    pieces, start = [], 0
    for size, k in zip(sizes, known):
        stop = start + k if k is not None and isinstance(start, int) else m.add(start, size)
        piece = getitem(x, head + (slice(start, stop),))
        if k is None:   # a negative length would show as a shorter piece: say so
            piece = specify_shape(piece, lengths[:axis] + [size] + lengths[axis + 1:],
                                  context="split: a negative length in splits_size")
        pieces.append(piece)
        start = stop
    return pieces if n_splits > 1 else pieces[0]   # Theano's: one output is not a list


# ---------------------------------------------------------------------------- reordering


def swapaxes(y, axis1, axis2):
    """``np.swapaxes``: ``y`` with dimensions ``axis1`` and ``axis2`` exchanged (a view)."""
    y = as_tensor_variable(y)
    a = _one_axis(axis1, y.ndim, "swapaxes")
    b = _one_axis(axis2, y.ndim, "swapaxes")
    order = list(range(y.ndim))
    order[a], order[b] = order[b], order[a]
    return dimshuffle(y, order)


def flip(arr, axis=None):
    """``np.flip``: ``arr`` with the order of its elements reversed along ``axis`` (an int,
    a tuple of ints, or None for every axis); a view (PyTensor's)."""
    x = as_tensor_variable(arr)
    axes = tuple(range(x.ndim)) if axis is None else _axes(axis, x.ndim, "flip")
    if not axes:
        return x
    return getitem(x, tuple(slice(None, None, -1) if d in axes else slice(None)
                            for d in range(x.ndim)))


def roll(x, shift, axis=None):
    """``np.roll``: elements of ``x`` shifted by ``shift`` along ``axis``, those past the end
    coming back at the start; ``axis=None`` rolls the flattened tensor.  ``shift`` may be an
    int scalar variable; ``shift`` and ``axis`` may be tuples (each axis rolled in turn)."""
    x = as_tensor_variable(x)
    if axis is None:
        if x.ndim == 0:
            return x
        if isinstance(shift, (list, tuple)):
            raise ValueError("roll: a tuple of shifts needs a tuple of axes")
        if x.ndim == 1:
            return _roll_axis(x, shift, 0)
        flat = reshape(x, [m.mul(*_lengths(x))], ndim=1)
        return reshape(_roll_axis(flat, shift, 0), _lengths(x), ndim=x.ndim)
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    shifts = list(shift) if isinstance(shift, (list, tuple)) else [shift] * len(axes)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
    for s, a in zip(shifts, axes):
        x = _roll_axis(x, s, _one_axis(a, x.ndim, "roll"))
    return x


def _roll_axis(x, shift, axis):
    n = shape_i(x, axis)
    shift = as_int_scalar(shift, "roll: shift")
    k, length = constant_value(shift), constant_value(n)
    if k is not None and length is not None:
        cut = length - k % max(length, 1)
        if cut in (0, length):
            return x
    else:   # maximum: an empty axis rolls to itself (no division by zero)
        cut = m.sub(n, m.mod(shift, m.maximum(n, np.int64(1))))
    head = (slice(None),) * axis
    return Join(axis)(getitem(x, head + (slice(cut, None),)),
                      getitem(x, head + (slice(None, cut),)))


# ---------------------------------------------------------------------------- diagonals
# (diagonal, diag, tri, tril, triu: aotsym.graph.ops.triangular, where the linear-algebra
# gradients can use them too)


def extract_diag(x):
    """The main diagonal of the matrix ``x`` (Theano's ``extract_diag``)."""
    return diagonal(x)


def trace(a, offset=0, axis1=0, axis2=1):
    """``np.trace``: the sum along the diagonal ``offset`` (over ``axis1`` and ``axis2``)."""
    return r.sum(diagonal(a, offset, axis1, axis2), axis=-1)


# ---------------------------------------------------------------------------- reductions


def max_and_argmax(a, axis=None, keepdims=False):
    """``[max(a, axis), argmax(a, axis)]`` (Theano's).  Over several axes, the argmax is
    the index into those axes flattened (in their order in ``a``)."""
    a = as_tensor_variable(a)
    axes = r.normalize_axis(axis, a.ndim, "max_and_argmax: axis")
    return [r.max(a, axis=axes, keepdims=keepdims), r.argmax(a, axis=axes, keepdims=keepdims)]


# ---------------------------------------------------------------------------- elementwise


def isclose(a, b, rtol=1.0e-5, atol=1.0e-8, equal_nan=False):
    """``np.isclose``: elementwise ``|a - b| <= atol + rtol * |b|`` (b finite), or ``a == b``
    (equal infinities); NaN is close to NaN only with ``equal_nan``.  A bool tensor."""
    a, b = as_tensor_variables([a, b])
    b = m.cast(b, upgrade_to_float(b.dtype))
    finite_b = m.invert(m.or_(m.isnan(b), m.isinf(b)))
    near = m.le(m.abs(m.sub(a, b)), m.add(atol, m.mul(rtol, m.abs(b))))
    close = m.or_(m.and_(near, finite_b), m.eq(a, b))
    if equal_nan:
        close = m.or_(close, m.and_(m.isnan(a), m.isnan(b)))
    return close


def allclose(a, b, rtol=1.0e-5, atol=1.0e-8, equal_nan=False):
    """``np.allclose``: whether every element of ``a`` is close to ``b`` (a bool scalar)."""
    return r.all(isclose(a, b, rtol, atol, equal_nan))


def iround(a, mode=None):
    """``a`` rounded to the nearest integer, as int64 (Theano's).  ``mode``:
    ``'half_to_even'`` (the default, NumPy's) or ``'half_away_from_zero'``."""
    a = as_tensor_variable(a)
    if mode in (None, "half_to_even"):
        rounded = m.round_half_to_even(a)
    elif mode == "half_away_from_zero":
        whole = m.trunc(a)
        half = m.ge(m.abs(m.sub(a, whole)), 0.5)   # a - trunc(a) is exact
        rounded = m.add(whole, m.mul(m.sgn(a), m.cast(half, a.dtype)))
    else:
        raise ValueError(f"iround: mode must be 'half_to_even' or 'half_away_from_zero', "
                         f"got {mode!r}")
    return m.cast(rounded, "int64")


def ceil_intdiv(a, b):
    """``ceil(a / b)`` computed exactly for integers: ``a // b + (a % b != 0)`` (Theano's),
    in the dtype of ``a // b``."""
    div = m.int_div(a, b)
    return m.add(m.cast(m.neq(m.mod(a, b), 0), div.dtype), div)


def smallest(*args):
    """The elementwise smallest of the arguments (Theano's; Python's ``min``)."""
    if len(args) == 2:
        a, b = as_tensor_variables(args)
        return m.switch(m.lt(a, b), a, b)
    return r.min(stack(list(args)), axis=0)


def largest(*args):
    """The elementwise largest of the arguments (Theano's; Python's ``max``)."""
    if len(args) == 2:
        a, b = as_tensor_variables(args)
        return m.switch(m.gt(a, b), a, b)
    return r.max(stack(list(args)), axis=0)


def tensor_copy(x):
    """A copy of ``x`` (Theano's ``tensor_copy``, the identity elementwise op)."""
    return m.identity(x)


def ptp(a, axis=None):
    """``max(a, axis) - min(a, axis)`` (Theano's ``ptp``: peak to peak)."""
    a = as_tensor_variable(a)
    return m.sub(r.max(a, axis=axis), r.min(a, axis=axis))


def cov(m_, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """The covariance matrix of the rows of ``m_`` (columns when ``rowvar=False``), as
    ``np.cov`` and Theano's ``cov`` (no ``fweights`` / ``aweights``)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights and aweights are not implemented")
    x = as_tensor_variable(m_)
    if not rowvar:
        x = x.T
    if y is not None:
        y = as_tensor_variable(y)
        x = concatenate([x, y if rowvar else y.T], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    x = m.sub(x, r.mean(x, axis=1, keepdims=True))
    fact = m.sub(shape_i(x, 1), ddof)
    from aotsym.graph.ops.blas import dot
    c = m.true_div(dot(x, x.T), fact)
    return c.squeeze() if hasattr(c, "squeeze") else c


def is_flat(var, ndim=None, outdim=None):
    """Whether ``var`` has ``ndim`` dimensions (1 by default); a Python bool."""
    if outdim is not None and ndim is not None:
        raise ValueError("is_flat: give ndim only (outdim is its deprecated name)")
    ndim = outdim if ndim is None and outdim is not None else (1 if ndim is None else ndim)
    return var.ndim == ndim


class NotScalarConstantError(Exception):
    """``get_scalar_constant_value``: the variable is not a constant scalar."""


class EmptyConstantError(NotScalarConstantError):
    """``get_scalar_constant_value``: the constant is empty."""


def get_scalar_constant_value(v, elemwise=True, only_process_constants=False,
                              max_recur=10):
    """The NumPy scalar ``v`` always holds (Theano's): a number, a 0-d or one-element array,
    or a variable whose value is a constant's whatever the inputs (``second(x, 0)``,
    ``alloc(c, n)``, a broadcastable axis' length, elementwise ops of such: Theano's
    gradients build them); else ``NotScalarConstantError``."""
    if v is None:
        raise NotScalarConstantError("None is not a constant")
    if not isinstance(v, Variable):
        data = np.asarray(v)
    else:
        data = _constant_data(v, max_recur if elemwise else 0, only_process_constants)
    if data.size == 0:
        raise EmptyConstantError(f"{v} is an empty constant")
    if data.ndim > 0 and not (data == data.flat[0]).all():
        raise NotScalarConstantError(f"{v} holds several values")
    return data.flat[0] if data.ndim else data[()]


def _constant_data(v, depth, only_process_constants):
    from aotsym.graph.basic import Constant
    from aotsym.graph.ops.alloc import Alloc
    from aotsym.graph.ops.elemwise import DimShuffle, Elemwise
    from aotsym.graph.ops.shape import SpecifyShape
    while not isinstance(v, Constant) and v.owner is not None and not only_process_constants:
        op = v.owner.op          # ops that repeat or reshape one input's values
        if isinstance(op, Elemwise) and op.scalar_op.name in ("second", "identity"):
            v = v.owner.inputs[-1]
        elif isinstance(op, (Alloc, DimShuffle, SpecifyShape)):
            v = v.owner.inputs[0]
        else:
            break
    if isinstance(v, Constant):
        return np.asarray(v.data)
    node = v.owner
    if node is None or only_process_constants or depth <= 0:
        raise NotScalarConstantError(f"{v} is not a constant")
    from aotsym.graph.ops.subtensor import Subtensor
    if isinstance(node.op, Subtensor) and len(node.op.idx_list) == 1 and isinstance(
            node.op.idx_list[0], (int, np.integer)) and not isinstance(node.op.idx_list[0], bool):
        entries = vector_entries(node.inputs[0])     # stack([b, 2, 3])[1] is 2, whatever b
        if entries is not None and -len(entries) <= node.op.idx_list[0] < len(entries):
            return _constant_data(entries[node.op.idx_list[0]], depth - 1, False)
    if isinstance(node.op, Elemwise):
        # each input's one value, then the op on those scalars
        args = [np.asarray(get_scalar_constant_value(i, True, False, depth - 1),
                           dtype=i.dtype) for i in node.inputs]
        return np.asarray(node.op.perform(node, args)[0])
    for u in node.inputs:
        _constant_data(u, depth - 1, False)          # raises unless every input is constant
    from aotsym.graph.evaluate import evaluate
    return np.asarray(evaluate([v], {})[0])


def extract_constant(x, elemwise=True, only_process_constants=False):
    """``x``'s constant scalar value (a NumPy scalar, a copy) when it has one, else ``x``
    (Theano's)."""
    try:
        return get_scalar_constant_value(x, elemwise, only_process_constants)
    except NotScalarConstantError:
        return x


def get_vector_length(v):
    """The length of the vector ``v`` when it is known while the graph is built (a
    constant, a stack of scalars, a shape ...); else a ValueError (Theano's)."""
    v = as_tensor_variable(v)
    if v.ndim != 1:
        raise TypeError(f"get_vector_length: expects a vector, got {v.type.describe()}")
    if v.broadcastable[0]:
        return 1
    entries = vector_entries(v)
    if entries is None:
        raise ValueError(f"get_vector_length: the length of {v} is not known before it runs")
    return len(entries)


def inverse_permutation(perm):
    """The inverse of the permutation ``perm`` (along its last axis): ``inv[perm[i]] = i``
    (Theano's), in ``perm``'s dtype."""
    from aotsym.graph.ops.sort import argsort
    perm = as_tensor_variable(perm)
    return m.cast(argsort(perm, axis=-1), perm.dtype)


def permute_row_elements(x, y, inverse=0):
    """The rows (last axis) of ``x`` permuted by ``y`` (Theano's): ``out[..., i] =
    x[..., y[..., i]]``, or with ``inverse`` ``out[..., y[..., i]] = x[..., i]``.  The
    leading axes broadcast as elementwise ops do (a vector ``y`` permutes every row)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if dtype_kind(y.dtype) not in "iu":
        raise TypeError(f"permute_row_elements: the permutation must be integers, got "
                        f"{y.type.describe()}")
    n = builtins_max(x.ndim, y.ndim, 1)
    x, y = shape_padleft(x, n - x.ndim), shape_padleft(y, n - y.ndim)
    if inverse:
        y = inverse_permutation(y)
    y = m.cast(y, "int64")
    xb, yb = m.second(y, x), m.second(x, y)            # both at the common shape
    grids = [dimshuffle(arange(shape_i(yb, d)), ["x"] * d + [0] + ["x"] * (n - 1 - d))
             for d in range(n - 1)]
    return getitem(xb, tuple(grids) + (yb,))


def choose(a, choices, out=None, mode="raise"):
    """``np.choose``: ``choices[a[I]][I]`` at each position ``I`` of the broadcast of ``a``
    and the choices (a list of tensors, or one tensor whose first axis lists them).  The
    broadcast is NumPy's, at run time: a length-1 axis repeats even where the type does not
    say it is broadcastable; other mismatched lengths are an IndexError.  ``mode``:
    ``'raise'`` (an index outside ``[0, n)`` is an IndexError at run time), ``'wrap'``
    (taken modulo n) or ``'clip'``."""
    if out is not None:
        raise TypeError("choose: out is not supported (aotsym's results are fresh arrays)")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    a = as_tensor_variable(a)
    if dtype_kind(a.dtype) not in "iu":
        raise TypeError(f"choose: the index array must be integers, got {a.type.describe()}")
    listed = isinstance(choices, (list, tuple))
    parts = as_tensor_variables(list(choices)) if listed else [as_tensor_variable(choices)]
    lead = 0 if listed else 1                      # the choices' own axis, when one tensor
    k = builtins_max([a.ndim] + [p.ndim - lead for p in parts])
    a = shape_padleft(a, k - a.ndim)
    parts = [dimshuffle(p, list(range(lead)) + ["x"] * (k + lead - p.ndim) +
                        list(range(lead, p.ndim))) for p in parts]
    lengths = []
    for d in range(k):          # the broadcastable ones are 1 (all of them: the result's too)
        axis = [(a, d)] + [(p, d + lead) for p in parts]
        known = [shape_i(v, j) for v, j in axis if not v.broadcastable[j]]
        lengths.append(_fold(m.maximum, known) if known else shape_i(a, d))
    grids = [dimshuffle(arange(lengths[d]), ["x"] * d + [0] + ["x"] * (k - 1 - d))
             for d in range(k)]

    def spread(x, skip):
        """``x``'s trailing ``k`` axes indexed to the broadcast shape (length 1 repeats)."""
        index = [m.switch(m.eq(shape_i(x, d + skip), 1), m.mul(g, 0), g)
                 for d, g in enumerate(grids)]
        return getitem(x, (slice(None),) * skip + tuple(index)) if k else x

    a = m.cast(spread(a, 0), "int64")
    stacked = stack([spread(p, 0) for p in parts]) if listed else spread(parts[0], 1)
    n = shape_i(stacked, 0)
    if mode == "wrap":
        a = m.mod(a, n)
    elif mode == "clip":
        a = m.clip(a, 0, m.sub(n, 1))
    else:                                    # a negative index must not wrap: send it past n
        a = m.switch(m.lt(a, 0), n, a)
    return getitem(stacked, tuple([a] + grids))


def square(x):
    """Elementwise ``x * x`` (Theano's ``sqr``)."""
    return m.sqr(x)


def _scaled(x, factor):
    x = as_tensor_variable(x)
    dtype = upgrade_to_float(x.dtype)
    return m.mul(m.cast(x, dtype), as_tensor_variable(np.asarray(factor, dtype=dtype)))


def deg2rad(x):
    """Angles in degrees to radians: ``x * (pi / 180)`` (as ``np.deg2rad``)."""
    return _scaled(x, np.pi / 180.0)


def rad2deg(x):
    """Angles in radians to degrees: ``x * (180 / pi)`` (as ``np.rad2deg``)."""
    return _scaled(x, 180.0 / np.pi)


# ---------------------------------------------------------------------------- grids


class _NdGrid:
    """Theano's ``mgrid`` / ``ogrid``: ``mgrid[0:4, 0:5]`` is a list of two 4x5 tensors
    (the row and column coordinates); ``ogrid`` gives them unbroadcast as a column and a
    row.  Slice bounds may be int or float scalars, or scalar variables (``np.arange``'s
    rules); a single slice gives one range."""

    def __init__(self, sparse):
        self.sparse = sparse

    def __getitem__(self, key):
        what = "ogrid" if self.sparse else "mgrid"
        single = isinstance(key, slice)
        key = (key,) if single else tuple(key)
        ranges = []
        for sl in key:
            if not isinstance(sl, slice):
                raise TypeError(f"{what}: expects slices, got {sl!r}")
            if isinstance(sl.step, complex):
                raise NotImplementedError(f"{what}: a complex step (a number of points) is "
                                          "not supported; use T.arange")
            ranges.append(arange(0 if sl.start is None else sl.start, sl.stop,
                                 1 if sl.step is None else sl.step))
        if single:
            return ranges[0]
        ndim = len(ranges)
        placed = [dimshuffle(v, ["x"] * j + [0] + ["x"] * (ndim - 1 - j))
                  for j, v in enumerate(ranges)]
        if self.sparse:
            return placed
        lengths = [shape_i(v, 0) for v in ranges]
        return [alloc(v, *lengths) for v in placed]


mgrid = _NdGrid(sparse=False)
ogrid = _NdGrid(sparse=True)
