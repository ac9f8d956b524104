"""Shape ops: ``Shape`` (an int64 vector) and ``Shape_i`` (one length, an int64 scalar).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  Symbolic shapes are int64
scalar variables; ``infer_shape`` rules build them so the optimizer can replace a runtime
``Shape_i`` of a computed value by the shape of its inputs.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Constant
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType


class Shape(Op):
    """The shape of a tensor as an int64 vector."""

    def output_types(self, inputs):
        return [TensorType("int64", (inputs[0].ndim == 1,))]

    def perform(self, node, inputs):
        return [np.asarray(inputs[0].shape, dtype="int64")]

    def grad(self, node, inputs, output_grads):
        return [None]

    def infer_shape(self, node, input_shapes):
        return [(node.inputs[0].ndim,)]


class Shape_i(Op):  # noqa: N801 - Theano's name
    """The length of dimension ``i`` as an int64 scalar."""

    __props__ = ("i",)

    def __init__(self, i):
        self.i = int(i)

    def __str__(self):
        return f"Shape_i{{{self.i}}}"

    def output_types(self, inputs):
        if not 0 <= self.i < inputs[0].ndim:
            raise ValueError(f"Shape_i{{{self.i}}} of a tensor of ndim {inputs[0].ndim}")
        return [TensorType("int64", ())]

    def perform(self, node, inputs):
        return [np.asarray(inputs[0].shape[self.i], dtype="int64")]

    def grad(self, node, inputs, output_grads):
        return [None]

    def infer_shape(self, node, input_shapes):
        return [()]


def shape(x):
    return Shape()(as_tensor_variable(x))


def shape_i(x, i):
    """Length of dimension ``i`` (a constant 1 for a broadcastable dimension)."""
    x = as_tensor_variable(x)
    i = int(i) % x.ndim if x.ndim else int(i)
    if x.broadcastable[i]:
        return as_tensor_variable(np.int64(1))
    if isinstance(x, Constant):
        return as_tensor_variable(np.int64(x.data.shape[i]))
    return Shape_i(i)(x)


class ShapeTuple(tuple):
    """``x.shape``: indexable like a tuple of int64 scalars, usable where a vector is expected."""

    def __new__(cls, x):
        self = super().__new__(cls, [shape_i(x, i) for i in range(x.ndim)])
        self.var = x
        return self

    def __aotsym_variable__(self):
        return shape(self.var)

    def __getitem__(self, item):
        got = tuple.__getitem__(self, item)
        return list(got) if isinstance(item, slice) else got
