"""Shape ops: ``Shape`` (an int64 vector) and ``Shape_i`` (one length, an int64 scalar).

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  Symbolic shapes are int64
scalar variables; ``infer_shape`` rules build them so the optimizer can replace a runtime
``Shape_i`` of a computed value by the shape of its inputs.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Constant, Variable
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
    """Theano's ``T.shape(x)``: the int64 shape vector, which unpacks into the lengths
    (``n, d = T.shape(X)``: a vector of known length iterates, :meth:`Variable.__iter__`)."""
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
    """``x.shape``: indexable like a tuple of int64 scalars, usable where a vector is expected.

    Any other attribute is the int64 vector's (Theano's ``x.shape`` is that vector):
    ``x.shape.eval()``, ``x.shape.ndim``, ``x.shape.prod()`` ...; so is arithmetic:
    ``x.shape * 2`` is the vector doubled, as in Theano (a tuple's ``*`` would repeat it and
    ``+`` concatenate, silently).
    """

    def __new__(cls, x):
        self = super().__new__(cls, [shape_i(x, i) for i in range(x.ndim)])
        self.var = x
        return self

    def __aotsym_variable__(self):
        return shape(self.var)

    def __getitem__(self, item):
        got = tuple.__getitem__(self, item)
        return list(got) if isinstance(item, slice) else got

    def __getattr__(self, name):
        if name.startswith("__") or name == "var":
            raise AttributeError(name)
        return getattr(shape(self.var), name)

    def _vector_op(name):   # noqa: N805 - builds methods below
        def method(self, other):
            vec = shape(self.var)
            return getattr(vec, name)(other)
        method.__name__ = name
        return method

    for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
                  "__floordiv__", "__rfloordiv__", "__truediv__", "__rtruediv__", "__mod__",
                  "__rmod__", "__pow__"):
        locals()[_name] = _vector_op(_name)
    del _name, _vector_op

    def __neg__(self):
        return -shape(self.var)


# ---------------------------------------------------------------------------- static helpers
#
# Shapes and indices are int64 scalar variables.  The helpers below convert user spellings
# (Python ints, NumPy integers, integer scalar variables, ``x.shape[i]``) into them, and read
# back what is known statically (a constant's value) so type rules can mark length-1
# dimensions broadcastable.


def as_int_scalar(value, what="index"):
    """``value`` as an int64 scalar variable, or a TypeError saying what was wrong."""
    from aotsym.graph.basic import Variable
    from aotsym.graph.ops.math import cast
    from aotsym.graph.types import dtype_kind
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be an integer, got the boolean {value!r}")
    if isinstance(value, (int, np.integer)):
        return as_tensor_variable(np.int64(value))
    if isinstance(value, Variable):
        if value.ndim != 0 or dtype_kind(value.dtype) not in "iu":
            raise TypeError(f"{what} must be an integer scalar, got {value.type.describe()}")
        if value.dtype == "uint64":
            # saturate, not wrap: 2**64 - 1 is out of bounds (NumPy's IndexError), not -1
            from aotsym.graph.ops.math import minimum
            value = minimum(value, np.uint64(2 ** 63 - 1))
        return cast(value, "int64")
    raise TypeError(f"{what} must be an integer or an integer scalar variable, "
                    f"got {type(value).__name__} {value!r}")


def constant_value(v):
    """The Python int held by a constant integer scalar ``v`` (casts seen through), or None."""
    from aotsym.graph.ops.elemwise import Elemwise
    while (v.owner is not None and isinstance(v.owner.op, Elemwise)
           and v.owner.op.scalar_op.name == "cast" and v.dtype in ("int32", "int64")):
        v = v.owner.inputs[0]
    if isinstance(v, Constant) and v.ndim == 0 and v.data.dtype.kind in "iu":
        return int(v.data)
    return None


def vector_entries(v):
    """The entries of an integer vector ``v`` as a list of scalar variables, when its length
    is known statically (a constant, a stack of scalars, a ``Shape``, or a ``Join`` along
    axis 0 of such vectors: constant folding turns a stacked constant scalar into a
    one-element constant vector, and the entries stay known); else None."""
    from aotsym.graph.ops.elemwise import DimShuffle
    from aotsym.graph.ops.join import Join
    if v.ndim != 1:
        return None
    out = []
    stack = [v]
    while stack:
        u = stack.pop()
        node = u.owner
        if isinstance(u, Constant):
            out.extend(as_tensor_variable(np.int64(e)) for e in u.data)
        elif node is None:
            return None
        elif isinstance(node.op, Shape):
            out.extend(ShapeTuple(node.inputs[0]))
        elif isinstance(node.op, DimShuffle) and node.op.new_order == ("x",):
            out.append(node.inputs[0])  # a stack of one scalar
        elif isinstance(node.op, Join) and node.op.axis == 0:
            stack.extend(reversed(node.inputs))
        else:
            return None
    return out


def make_vector(entries, what="shape"):
    """An int64 vector of the scalars ``entries`` (a constant when they all are)."""
    scalars = [as_int_scalar(e, f"{what} entry {i}") for i, e in enumerate(entries)]
    values = [constant_value(s) for s in scalars]
    if all(val is not None for val in values):
        return as_tensor_variable(np.asarray(values, dtype="int64").reshape(len(values)))
    from aotsym.graph.ops.join import stack
    return stack(scalars)


def slice_length(entry, n):
    """``len(range(n)[start:stop:step])`` for constant (or None) ``start``, ``stop``,
    ``step``: for a symbolic length ``n`` (an int64 scalar), NumPy's clamping of the bounds
    as int64 arithmetic; for an int, the number; None for anything else."""
    from aotsym.graph.ops import math as m
    start, stop, step = entry
    if isinstance(n, (int, np.integer)):
        return len(range(int(n))[slice(start, stop, step)])
    if not isinstance(n, Variable):
        return None
    step = 1 if step is None else int(step)

    def const(v):
        return as_tensor_variable(np.int64(v))

    def bound(v, default, lowest):
        # a bound of range(n)[...] clamped as NumPy does: [0, n] for step > 0, [-1, n-1]
        # for step < 0 (lowest: 0 or -1)
        if v is None:
            return default
        if v >= 0:
            return m.minimum(const(v), m.add(n, const(lowest)))
        return m.maximum(m.add(n, const(v)), const(lowest))

    if step > 0:
        first, end = bound(start, const(0), 0), bound(stop, n, 0)
        span = m.sub(end, first)
    else:
        first = bound(start, m.sub(n, const(1)), -1)
        end = bound(stop, const(-1), -1)
        span = m.sub(first, end)
    size = abs(step)
    count = span if size == 1 else m.int_div(m.add(span, const(size - 1)), const(size))
    return m.maximum(count, const(0))


class SpecifyShape(Op):
    """``x`` unchanged, after checking at run time that its shape is the given one (a view).

    Inputs: ``x`` and one int64 scalar per dimension.  ``context`` names the builder that
    inserted the check, for the error message.
    """

    __props__ = ("context",)
    view_map = {0: [0]}

    def __init__(self, context="specify_shape"):
        self.context = context

    def __str__(self):
        return "SpecifyShape"

    def output_types(self, inputs):
        x, dims = inputs[0], inputs[1:]
        if len(dims) != x.ndim:
            raise ValueError(f"{self.context}: {len(dims)} lengths given for a tensor of ndim "
                             f"{x.ndim}")
        bc = [b or constant_value(d) == 1 for b, d in zip(x.broadcastable, dims)]
        return [TensorType(x.dtype, bc)]

    def perform(self, node, inputs):
        x, dims = inputs[0], tuple(int(d) for d in inputs[1:])
        if x.shape != dims:
            raise ValueError(f"{self.context}: a tensor has shape {x.shape}, expected {dims}")
        return [x]

    def grad(self, node, inputs, output_grads):
        return [output_grads[0]] + [None] * (len(inputs) - 1)

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs[1:])]


def specify_shape(x, shape, context="specify_shape"):
    x = as_tensor_variable(x)
    dims = [as_int_scalar(d, f"{context}: length") for d in shape]
    return SpecifyShape(context)(x, *dims)
