"""Reshaping: the ``Reshape(ndim)`` op and the builders ``reshape``, ``flatten``, ``transpose``.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  ``Reshape`` takes the tensor
and its new shape as a symbolic int64 vector of length ``ndim`` (at most one entry may be -1,
NumPy's "whatever is left").  Where the shape vector's entries are known statically (a
constant, a stack of scalars, or another tensor's ``Shape``), a constant 1 makes that output
dimension broadcastable.

Aliasing: ``perform`` uses ``np.reshape``, which returns a view of a C-contiguous input and a
copy otherwise.  ``view_map`` declares the output a view of the input — the conservative
declaration (whoever writes into the input or the output must assume they share memory);
the C backend makes a view only when the input is contiguous and copies otherwise.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Variable
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.ops.shape import (ShapeTuple, as_int_scalar, constant_value, make_vector,
                                    shape, shape_i, vector_entries)
from aotsym.graph.types import TensorType, dtype_kind


class Reshape(Op):
    """``np.reshape(x, shape)`` with ``shape`` an int64 vector input of length ``ndim``."""

    __props__ = ("ndim",)
    view_map = {0: [0]}  # a view when the input is contiguous (module docstring)

    def __init__(self, ndim):
        self.ndim = int(ndim)
        if self.ndim < 0:
            raise ValueError(f"Reshape: ndim must be >= 0, got {ndim}")

    def __str__(self):
        return f"Reshape{{{self.ndim}}}"

    def output_types(self, inputs):
        x, shp = inputs
        if shp.ndim != 1 or dtype_kind(shp.dtype) not in "iu":
            raise TypeError(f"{self}: the new shape must be an integer vector, got "
                            f"{shp.type.describe()}")
        entries = vector_entries(shp)
        if entries is not None and len(entries) != self.ndim:
            raise ValueError(f"{self}: the new shape has {len(entries)} entries, expected "
                             f"{self.ndim}")
        if entries is None:
            bc = [False] * self.ndim
        else:
            bc = [constant_value(e) == 1 for e in entries]
        return [TensorType(x.dtype, bc)]

    def perform(self, node, inputs):
        x, shp = inputs
        new = [int(s) for s in shp]
        if len(new) != self.ndim:
            raise ValueError(f"{self}: the new shape {tuple(new)} has {len(new)} entries, "
                             f"expected {self.ndim}")
        unknown = [i for i, s in enumerate(new) if s == -1]
        if len(unknown) > 1 or any(s < -1 for s in new):
            raise ValueError(f"{self}: invalid new shape {tuple(new)}: lengths must be >= 0, "
                             "with at most one -1")
        known = int(np.prod([s for s in new if s != -1], dtype="int64"))
        if unknown:
            if known == 0 or x.size % known:
                raise ValueError(f"{self}: cannot reshape an array of shape {x.shape} "
                                 f"({x.size} elements) into shape {tuple(new)}")
            new[unknown[0]] = x.size // known
        elif known != x.size:
            raise ValueError(f"{self}: cannot reshape an array of shape {x.shape} "
                             f"({x.size} elements) into shape {tuple(new)}")
        for d, b in enumerate(node.outputs[0].broadcastable):
            if b and new[d] != 1:
                raise ValueError(f"{self}: dimension {d} is declared broadcastable but would "
                                 f"have length {new[d]}")
        return [np.reshape(x, new)]

    def grad(self, node, inputs, output_grads):
        x, _ = inputs
        (gz,) = output_grads
        if dtype_kind(x.dtype) not in "fc":
            return [None, None]
        return [reshape(gz, shape(x), ndim=x.ndim), None]

    def infer_shape(self, node, input_shapes):
        entries = vector_entries(node.inputs[1])
        if entries is None or any(constant_value(e) is None or constant_value(e) < 0
                                  for e in entries):
            return None
        return [tuple(constant_value(e) for e in entries)]


def _shape_vector(shape_arg, what="reshape"):
    """(int64 shape vector, ndim or None) for the spellings ``reshape`` accepts."""
    if isinstance(shape_arg, ShapeTuple):
        return shape(shape_arg.var), shape_arg.var.ndim
    if isinstance(shape_arg, (int, np.integer)) or (
            isinstance(shape_arg, Variable) and shape_arg.ndim == 0):
        shape_arg = (shape_arg,)
    if isinstance(shape_arg, (list, tuple)):
        values = [constant_value(as_int_scalar(s, f"{what}: shape entry {i}"))
                  for i, s in enumerate(shape_arg)]
        if sum(v == -1 for v in values) > 1:
            raise ValueError(f"{what}: the new shape {tuple(values)} may contain at most one -1")
        bad = [v for v in values if v is not None and v < -1]
        if bad:
            raise ValueError(f"{what}: negative length {bad[0]} in the new shape")
        return make_vector(shape_arg, f"{what}: shape"), len(shape_arg)
    if isinstance(shape_arg, np.ndarray):
        return _shape_vector(tuple(int(s) for s in shape_arg.ravel()), what)
    if isinstance(shape_arg, Variable):
        if shape_arg.ndim != 1 or dtype_kind(shape_arg.dtype) not in "iu":
            raise TypeError(f"{what}: the new shape must be an integer vector, got "
                            f"{shape_arg.type.describe()}")
        from aotsym.graph.ops.math import cast
        entries = vector_entries(shape_arg)
        return cast(shape_arg, "int64"), None if entries is None else len(entries)
    raise TypeError(f"{what}: cannot use {type(shape_arg).__name__} {shape_arg!r} as a shape")


def reshape(x, shape, ndim=None):
    """``x`` with a new shape: a tuple of ints / int scalar variables / ``y.shape`` entries
    (one may be -1), or an int vector variable (then give ``ndim`` unless it is known)."""
    x = as_tensor_variable(x)
    vec, known_ndim = _shape_vector(shape)
    if ndim is None:
        if known_ndim is None:
            raise ValueError("reshape: the length of the symbolic shape vector is not known; "
                             "pass ndim=")
        ndim = known_ndim
    elif known_ndim is not None and known_ndim != ndim:
        raise ValueError(f"reshape: ndim={ndim} but the new shape has {known_ndim} entries")
    return Reshape(ndim)(x, vec)


def flatten(x, ndim=1, outdim=None):
    """Keep the first ``ndim - 1`` dimensions and collapse the rest into one (Theano)."""
    x = as_tensor_variable(x)
    if outdim is not None:  # Theano's older keyword
        ndim = outdim
    if not isinstance(ndim, (int, np.integer)) or not 1 <= ndim <= max(x.ndim, 1):
        raise ValueError(f"flatten: ndim must be between 1 and {max(x.ndim, 1)} for a tensor "
                         f"of ndim {x.ndim}, got {ndim!r}")
    kept = [shape_i(x, d) for d in range(ndim - 1)]
    rest = range(ndim - 1, x.ndim)
    if all(x.broadcastable[d] for d in rest):
        last = 1
    else:
        from aotsym.graph.ops import math as m
        last = m.mul(*[shape_i(x, d) for d in rest]) if len(rest) > 1 else shape_i(x, rest[0])
    return reshape(x, kept + [last], ndim=ndim)


def transpose(x, axes=None):
    """``np.transpose``: reverse the dimensions, or permute them by ``axes``."""
    from aotsym.graph.ops.elemwise import dimshuffle
    x = as_tensor_variable(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(axes)
    if len(axes) != x.ndim:
        raise ValueError(f"transpose: axes {axes} do not match a tensor of ndim {x.ndim}")
    normalized = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -x.ndim <= a < x.ndim:
            raise ValueError(f"transpose: axis {a!r} is out of range for ndim {x.ndim}")
        normalized.append(int(a) % x.ndim)
    if sorted(normalized) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of 0..{x.ndim - 1}")
    out = dimshuffle(x, *normalized)
    if x.name and out is not x and normalized == list(reversed(range(x.ndim))):
        out.name = x.name + ".T"       # Theano's name for a named variable's transpose
    return out
