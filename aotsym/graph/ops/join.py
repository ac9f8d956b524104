"""Joining tensors: ``Join(axis)`` (concatenate) and the builders ``concatenate``, ``stack``
and ``join`` (Theano's spelling, axis first).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  ``Join`` takes tensors of
equal ndim whose lengths agree outside ``axis``; the output dtype is the NumPy upcast of the
inputs.  ``stack`` is a Join of inputs given a new length-1 axis by DimShuffle, so later layers
see one op.  The gradient splits the output gradient back into the inputs' pieces with
Subtensor slices whose bounds are running sums of the inputs' lengths.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Variable
from aotsym.graph.convert import as_tensor_variable, is_python_scalar
from aotsym.graph.op import Op
from aotsym.graph.types import (BadArgumentError, TensorType, dtype_kind, upcast,
                                weak_scalar_dtype)


class Join(Op):
    """Concatenate the inputs along ``axis`` (a non-negative int), as ``np.concatenate``."""

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = int(axis)
        if self.axis < 0:
            raise ValueError(f"Join: axis must be normalized to be non-negative, got {axis}")

    def __str__(self):
        return f"Join{{axis={self.axis}}}"

    def output_types(self, inputs):
        if not inputs:
            raise ValueError("Join: needs at least one tensor")
        ndims = {v.ndim for v in inputs}
        if len(ndims) != 1:
            raise ValueError(f"{self}: all inputs must have the same ndim, got "
                             f"{[v.ndim for v in inputs]}")
        ndim = ndims.pop()
        if self.axis >= ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for inputs of ndim "
                             f"{ndim}")
        bc = []
        for d in range(ndim):
            if d == self.axis:
                bc.append(len(inputs) == 1 and inputs[0].broadcastable[d])
            else:
                # Lengths must agree at run time, so one input of length 1 fixes them all.
                bc.append(any(v.broadcastable[d] for v in inputs))
        return [TensorType(upcast(*[v.dtype for v in inputs]), bc)]

    def perform(self, node, inputs):
        first = inputs[0].shape
        for k, x in enumerate(inputs[1:], 1):
            for d in range(len(first)):
                if d != self.axis and x.shape[d] != first[d]:
                    raise ValueError(
                        f"{self}: input 0 has shape {first} but input {k} has shape {x.shape}; "
                        f"they must have equal lengths in every dimension but {self.axis}")
        out_dtype = node.outputs[0].dtype
        return [np.concatenate([np.asarray(x, dtype=out_dtype) for x in inputs],
                               axis=self.axis)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        from aotsym.graph.ops.shape import shape_i
        from aotsym.graph.ops.subtensor import getitem
        (gz,) = output_grads
        grads, start = [], as_tensor_variable(np.int64(0))
        for x in inputs:
            stop = m.add(start, shape_i(x, self.axis))
            if dtype_kind(x.dtype) in "fc":
                index = (slice(None),) * self.axis + (slice(start, stop),)
                grads.append(getitem(gz, index))
            else:
                grads.append(None)
            start = stop
        return grads

    def infer_shape(self, node, input_shapes):
        from aotsym.graph.ops import math as m
        out = []
        for d in range(node.outputs[0].ndim):
            if d == self.axis:
                out.append(m.add(*[s[d] for s in input_shapes]) if len(input_shapes) > 1
                           else input_shapes[0][d])
            else:
                known = [s[d] for v, s in zip(node.inputs, input_shapes)
                         if not v.broadcastable[d]]
                out.append(1 if node.outputs[0].broadcastable[d] else known[0])
        return [tuple(out)]


def _as_tensors(tensors, what):
    """Convert a sequence of operands: Python scalars take the dtype of the tensors beside them."""
    if isinstance(tensors, Variable) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{what}: expected a list or tuple of tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{what}: needs at least one tensor")
    converted = [None if is_python_scalar(t) else as_tensor_variable(t) for t in tensors]
    strong = [v.dtype for v in converted if v is not None]
    return [as_tensor_variable(t, dtype=weak_scalar_dtype(t, strong)) if v is None else v
            for t, v in zip(tensors, converted)]


def _normalize_axis(axis, ndim, what):
    from aotsym.graph.ops.reduce import axis_error, plain_axis
    axis = plain_axis(axis)
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"{what}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise axis_error(f"{what}: axis {axis} is out of range for tensors of ndim {ndim}")
    return int(axis) % ndim


def concatenate(tensors, axis=0):
    """``np.concatenate``: join ``tensors`` along an existing ``axis`` (None: flatten first)."""
    tensors = _as_tensors(tensors, "concatenate")
    if axis is None:
        from aotsym.graph.ops.reshape import flatten
        tensors = [flatten(t, 1) for t in tensors]
        axis = 0
    ndims = [t.ndim for t in tensors]
    if 0 in ndims:
        raise BadArgumentError("concatenate: zero-dimensional tensors (scalars) cannot be "
                               "concatenated; use stack")
    if len(set(ndims)) != 1:
        raise ValueError(f"Join: all inputs must have the same ndim, got {ndims}")
    axis = _normalize_axis(axis, ndims[0], "concatenate")
    if len(tensors) == 1:
        return tensors[0]
    return Join(axis)(*tensors)


def join(axis, *tensors):
    """Theano's ``T.join(axis, *tensors)``: concatenate along ``axis``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return concatenate(list(tensors), axis=axis)


def stack(tensors, *more, axis=0):
    """``np.stack``: join tensors of equal shape along a new ``axis``.

    Theano's older spelling ``stack(a, b, c)`` (tensors as separate arguments) works too,
    and so does ``stack([a, b], axis)`` (the axis as the second positional argument).
    """
    if isinstance(tensors, (list, tuple)) and len(more) == 1:
        (axis,), more = more, ()
    if more or isinstance(tensors, Variable) or not isinstance(tensors, (list, tuple)):
        tensors = [tensors, *more]
    tensors = _as_tensors(list(tensors), "stack")
    ndims = [t.ndim for t in tensors]
    if len(set(ndims)) != 1:
        raise ValueError(f"stack: all inputs must have the same ndim, got {ndims}")
    ndim = ndims[0]
    from aotsym.graph.ops.reduce import axis_error, plain_axis
    axis = plain_axis(axis)
    if not isinstance(axis, (int, np.integer)) or not -(ndim + 1) <= axis <= ndim:
        raise axis_error(f"stack: axis {axis!r} is out of range for stacking tensors of ndim "
                         f"{ndim} (valid: {-(ndim + 1)} .. {ndim})")
    axis = int(axis) % (ndim + 1)
    from aotsym.graph.ops.elemwise import DimShuffle
    order = list(range(ndim))
    order.insert(axis, "x")
    expanded = [DimShuffle(t.broadcastable, order)(t) for t in tensors]
    if len(expanded) == 1:
        return expanded[0]
    return Join(axis)(*expanded)
