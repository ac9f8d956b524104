"""Making tensors from shapes: ``Alloc``, ``ARange``, ``Eye`` and the builders ``alloc``,
``zeros``, ``ones``, ``zeros_like``, ``ones_like``, ``arange``, ``eye``.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  Shapes are int64 scalar
inputs; a constant length 1 makes the output dimension broadcastable.  ``Alloc`` broadcasts
its value with the IR's static rule: the value's dimensions align to the right, and only its
broadcastable dimensions (and the missing leading ones) are repeated, so the gradient (a sum
over exactly those dimensions) always has the value's shape.

``arange``'s dtype is NumPy's for the operands' dtypes, with the weak-scalar rule of
``types.py``: ``arange(10)`` is int64, ``arange(k)`` for an int32 ``k`` is int32,
``arange(0., 1., .1)`` is floatX.
"""

from __future__ import annotations

import math

import numpy as np

from aotsym.graph.basic import Constant, Variable
from aotsym.graph.convert import as_tensor_variable, as_tensor_variables, is_python_scalar
from aotsym.graph.op import Op
from aotsym.graph.ops.shape import ShapeTuple, as_int_scalar, constant_value, vector_entries
from aotsym.graph.types import TensorType, check_dtype, dtype_kind, floatx, upcast


def _check_lengths(op, lengths):
    for i, n in enumerate(lengths):
        if n < 0:
            raise ValueError(f"{op}: negative length {n} requested for dimension {i}")


class Alloc(Op):
    """``value`` broadcast to the shape given by the scalar inputs after it (a fresh array)."""

    def output_types(self, inputs):
        value, dims = inputs[0], inputs[1:]
        for i, d in enumerate(dims):
            if d.ndim != 0 or dtype_kind(d.dtype) not in "iu":
                raise TypeError(f"Alloc: length {i} must be an integer scalar, got "
                                f"{d.type.describe()}")
        if value.ndim > len(dims):
            raise ValueError(f"Alloc: the value has ndim {value.ndim}, more than the "
                             f"{len(dims)} dimensions requested")
        bc = [constant_value(d) == 1 for d in dims]
        return [TensorType(value.dtype, bc)]

    def perform(self, node, inputs):
        value, dims = inputs[0], tuple(int(d) for d in inputs[1:])
        _check_lengths(self, dims)
        offset = len(dims) - value.ndim
        for d, (n, b) in enumerate(zip(value.shape, node.inputs[0].broadcastable)):
            want = dims[offset + d]
            if b:
                if n != 1:
                    raise ValueError(f"Alloc: the value's dimension {d} is declared "
                                     f"broadcastable but has length {n}")
            elif n != want:
                raise ValueError(
                    f"Alloc: the value has shape {value.shape}, which does not fit the "
                    f"requested shape {dims} (dimension {d} has length {n}, not {want}); only "
                    "dimensions declared broadcastable are repeated")
        return [np.array(np.broadcast_to(value, dims), dtype=node.outputs[0].dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops.elemwise import reduce_to_input
        value = inputs[0]
        (gz,) = output_grads
        gv = reduce_to_input(gz, value) if dtype_kind(value.dtype) in "fc" else None
        return [gv] + [None] * (len(inputs) - 1)

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs[1:])]


def _shape_entries(shape, what):
    """A list of int64 scalar variables from an int, a tuple/list, ``x.shape`` or a vector."""
    if isinstance(shape, ShapeTuple):
        return list(shape)
    if isinstance(shape, (int, np.integer)) or (isinstance(shape, Variable) and shape.ndim == 0):
        shape = (shape,)
    if isinstance(shape, Variable):
        entries = vector_entries(shape)
        if entries is None:
            raise ValueError(f"{what}: the length of the symbolic shape vector {shape!r} is not "
                             "known; pass a tuple of scalars")
        shape = entries
    if isinstance(shape, np.ndarray):
        shape = [int(s) for s in shape.ravel()]
    if not isinstance(shape, (list, tuple)):
        raise TypeError(f"{what}: cannot use {type(shape).__name__} {shape!r} as a shape")
    out = [as_int_scalar(s, f"{what}: shape entry {i}") for i, s in enumerate(shape)]
    for i, s in enumerate(out):
        val = constant_value(s)
        if val is not None and val < 0:
            raise ValueError(f"{what}: negative length {val} in dimension {i}")
    return out


def alloc(value, *shape):
    """Theano's ``T.alloc(value, *shape)``: ``value`` broadcast to ``shape``."""
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    return Alloc()(as_tensor_variable(value), *_shape_entries(tuple(shape), "alloc"))


def _full(shape, fill_value, dtype, what):
    dtype = check_dtype(dtype or floatx())
    return Alloc()(as_tensor_variable(np.asarray(fill_value, dtype=dtype)),
                   *_shape_entries(shape, what))


def zeros(shape, dtype=None):
    """A tensor of zeros (``dtype`` defaults to floatX)."""
    return _full(shape, 0, dtype, "zeros")


def ones(shape, dtype=None):
    return _full(shape, 1, dtype, "ones")


def full(shape, fill_value, dtype=None):
    if dtype is None and isinstance(fill_value, Variable):
        return alloc(fill_value, *_shape_entries(shape, "full"))
    if dtype is None:
        dtype = as_tensor_variable(fill_value).dtype
    return _full(shape, fill_value, dtype, "full")


def _fill_like(x, value, dtype):
    from aotsym.graph.ops.math import fill
    x = as_tensor_variable(x)
    dtype = check_dtype(dtype or x.dtype)
    return fill(x, as_tensor_variable(np.asarray(value, dtype=dtype)))


def zeros_like(x, dtype=None):
    """Zeros with the shape (and, unless ``dtype`` is given, the dtype) of ``x``."""
    return _fill_like(x, 0, dtype)


def ones_like(x, dtype=None):
    return _fill_like(x, 1, dtype)


# ---------------------------------------------------------------------------- arange


def _arange_length(start, stop, step):
    if step == 0:
        raise ValueError("ARange: step must not be zero")
    return max(int(math.ceil((stop - start) / step)), 0)


class ARange(Op):
    """``np.arange(start, stop, step)`` in ``dtype``; the three bounds are scalar inputs.

    The length is ``max(ceil((stop - start) / step), 0)``.  Values are NumPy's: the first two
    (``start`` and ``start + step``) are computed in the bounds' type and converted to
    ``dtype``, and their difference in ``dtype`` is the step (which matters only when a float
    range is converted to integers: ``arange(-1.5, 2, dtype=int32)`` is ``[-1, 0, 1, 2]``).
    """

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = check_dtype(dtype)

    def __str__(self):
        return f"ARange{{{self.dtype}}}"

    def output_types(self, inputs):
        for name, v in zip(("start", "stop", "step"), inputs):
            if v.ndim != 0 or dtype_kind(v.dtype) not in "biuf":
                raise TypeError(f"ARange: {name} must be a real scalar, got "
                                f"{v.type.describe()}")
        length = None
        values = [v.data.item() if isinstance(v, Constant) else None for v in inputs]
        if all(val is not None for val in values) and values[2] != 0:
            length = _arange_length(*values)
        return [TensorType(self.dtype, (length == 1,))]

    def perform(self, node, inputs):
        start, stop, step = (x.item() for x in inputs)
        n = _arange_length(start, stop, step)
        out = np.arange(start, stop, step, dtype=self.dtype)
        assert len(out) == n, (start, stop, step, self.dtype)
        return [out]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        from aotsym.graph.ops.reduce import sum as tsum
        from aotsym.graph.ops.shape import shape_i
        (gz,) = output_grads
        if dtype_kind(self.dtype) not in "fc":
            return [None, None, None]
        # out[i] = start + i * step; the length depends on stop only discretely.
        index = arange(shape_i(node.outputs[0], 0), dtype=self.dtype)
        grads = [tsum(gz), m.fill(inputs[1], 0.0), tsum(gz * index)]
        return [g if dtype_kind(v.dtype) in "fc" else None for g, v in zip(grads, inputs)]

    def infer_shape(self, node, input_shapes):
        from aotsym.graph.ops import math as m
        start, stop, step = node.inputs
        n = m.ceil(m.true_div(m.sub(stop, start), step))
        return [(m.cast(m.maximum(n, 0), "int64"),)]


def arange(start, stop=None, step=1, dtype=None):
    """``np.arange``: ``arange(stop)``, ``arange(start, stop[, step])``.  Without ``dtype``,
    integer bounds give int64 (uint64 if unsigned), as in Theano; floats NumPy's upcast."""
    if stop is None:
        start, stop = 0, start
    args = [start, stop, step]
    for name, a in zip(("start", "stop", "step"), args):
        if isinstance(a, complex) or (isinstance(a, Variable) and (
                a.ndim != 0 or dtype_kind(a.dtype) not in "biuf")):
            raise TypeError(f"arange: {name} must be a real scalar, got {a!r}")
    if is_python_scalar(step) and step == 0:
        raise ValueError("arange: step must not be zero")
    if all(is_python_scalar(a) for a in args):
        kind = floatx() if any(isinstance(a, float) for a in args) else "int64"
        start, stop, step = (as_tensor_variable(a, dtype=kind) for a in args)
    else:
        start, stop, step = as_tensor_variables(args)
    inferred = upcast(start.dtype, stop.dtype, step.dtype)
    # Theano's rule: any signed integer (or bool) range is int64, any unsigned one uint64
    inferred = {"b": "int64", "i": "int64", "u": "uint64"}.get(dtype_kind(inferred), inferred)
    return ARange(dtype or inferred)(start, stop, step)


# ---------------------------------------------------------------------------- eye


class Eye(Op):
    """``np.eye(n, m, k)``; ``n``, ``m`` and ``k`` are int scalar inputs."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = check_dtype(dtype)

    def __str__(self):
        return f"Eye{{{self.dtype}}}"

    def output_types(self, inputs):
        for name, v in zip(("n", "m", "k"), inputs):
            if v.ndim != 0 or dtype_kind(v.dtype) not in "iu":
                raise TypeError(f"Eye: {name} must be an integer scalar, got "
                                f"{v.type.describe()}")
        n, m, _ = (constant_value(v) for v in inputs)
        return [TensorType(self.dtype, (n == 1, m == 1))]

    def perform(self, node, inputs):
        n, m, k = (int(v) for v in inputs)
        _check_lengths(self, (n, m))
        return [np.eye(n, m, k, dtype=self.dtype)]

    def grad(self, node, inputs, output_grads):
        return [None, None, None]

    def infer_shape(self, node, input_shapes):
        return [(node.inputs[0], node.inputs[1])]


def eye(n, m=None, k=0, dtype=None):
    """The identity-like matrix ``np.eye(n, m, k)`` (``dtype`` defaults to floatX)."""
    n = as_int_scalar(n, "eye: n")
    m = n if m is None else as_int_scalar(m, "eye: m")
    return Eye(dtype or floatx())(n, m, as_int_scalar(k, "eye: k"))


def identity_like(x, dtype=None):
    """An identity matrix with the shape of the matrix ``x``."""
    from aotsym.graph.ops.shape import shape_i
    x = as_tensor_variable(x)
    return eye(shape_i(x, 0), shape_i(x, 1), 0, dtype or x.dtype)
