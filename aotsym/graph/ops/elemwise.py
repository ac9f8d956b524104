"""Elementwise ops and DimShuffle: the broadcasting core of the IR.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).

``Elemwise(scalar_op)`` applies one row of :mod:`aotsym.graph.scalar` to inputs of equal ndim;
the builders in :mod:`aotsym.graph.ops.math` pad lower-ndim operands with a DimShuffle first.
Broadcasting is static (Theano's rule): a dimension broadcasts only where the type says it is
broadcastable; a length mismatch at run time is a ``ValueError`` naming the node.

``DimShuffle(input_broadcastable, new_order)`` reorders dimensions, inserts broadcastable ones
(``'x'``) and drops broadcastable ones.  It is a view of its input.
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Variable
from aotsym.graph.op import Op
from aotsym.graph.scalar import SCALAR_OPS, ScalarOp
from aotsym.graph.types import TensorType, dtype_kind


def broadcast_pattern(inputs, opname="elemwise") -> tuple:
    ndims = {v.ndim for v in inputs}
    if len(ndims) > 1:
        raise TypeError(f"{opname}: inputs must have equal ndim (got {sorted(ndims)}); "
                        "the tensor builders pad them with dimshuffle")
    ndim = ndims.pop() if ndims else 0
    return tuple(all(v.broadcastable[d] for v in inputs) for d in range(ndim))


def check_broadcast_shapes(shapes, bcast_patterns, what) -> tuple:
    """The output shape of an elementwise application, or a ValueError saying what differs."""
    ndim = len(shapes[0]) if shapes else 0
    out = []
    for d in range(ndim):
        length = None
        for i, (shape, pattern) in enumerate(zip(shapes, bcast_patterns)):
            if pattern[d]:
                if shape[d] != 1:
                    raise ValueError(f"{what}: input {i} has length {shape[d]} in dimension {d}, "
                                     "which its type declares broadcastable (length 1)")
                continue
            if length is None:
                length = shape[d]
            elif shape[d] != length:
                lens = [s[d] for s in shapes]
                raise ValueError(f"{what}: input shapes {[tuple(s) for s in shapes]} do not "
                                 f"match in dimension {d} (lengths {lens}); only dimensions "
                                 "declared broadcastable broadcast")
        out.append(1 if length is None else length)
    return tuple(out)


class Elemwise(Op):
    """Apply ``scalar_op`` elementwise.  ``dtype`` is set only for ``cast``.

    ``inplace`` is a tuple of (output, input) pairs: the output is written into that input's
    buffer (set by the inplace pass only).
    """

    __props__ = ("scalar_op", "dtype", "inplace")

    def __init__(self, scalar_op, dtype=None, inplace=()):
        if isinstance(scalar_op, str):
            scalar_op = SCALAR_OPS[scalar_op]
        self.scalar_op: ScalarOp = scalar_op
        self.dtype = dtype
        self.inplace = tuple(inplace)
        self.destroy_map = {o: [i] for o, i in self.inplace}

    def __str__(self):
        name = self.scalar_op.name
        if self.dtype is not None:
            name = f"{name}{{{self.dtype}}}"
        if self.inplace:
            return f"Elemwise{{{name},inplace}}"
        return f"Elemwise{{{name}}}"

    def dtypes(self, in_dtypes):
        """(compute dtype per input, output dtype)."""
        if self.scalar_op.name == "cast":
            return list(in_dtypes), self.dtype
        return self.scalar_op.dtypes(*in_dtypes)

    def make_node_inputs(self, *args) -> tuple:
        """Inputs of fewer dimensions are padded on the left with broadcastable ones
        (Theano's Elemwise.make_node; a graph rebuilt around a replacement of another ndim,
        ``givens`` with ``rebuild_strict=False``)."""
        args = super().make_node_inputs(*args)
        ndim = max((v.ndim for v in args), default=0)
        if any(v.ndim != ndim for v in args):
            from aotsym.graph.ops.math import pad_ndim
            args = tuple(pad_ndim(v, ndim) for v in args)
        return args

    def output_types(self, inputs):
        # remembered per input types (a function of them alone): tracing a graph asks for
        # the same few again and again (W7's chain: 10,000 nodes, 3 answers)
        key = tuple(v.type for v in inputs)
        memo = self.__dict__.get("_types")
        if memo is None:
            memo = self.__dict__["_types"] = {}
        found = memo.get(key)
        if found is None:
            if len(inputs) != self.scalar_op.nin:
                raise TypeError(f"{self.scalar_op.name} takes {self.scalar_op.nin} inputs, "
                                f"got {len(inputs)}")
            _, out_dtype = self.dtypes([v.dtype for v in inputs])
            found = memo[key] = TensorType(out_dtype,
                                           broadcast_pattern(inputs, self.scalar_op.name))
        return [found]

    def perform(self, node, inputs):
        compute, out_dtype = self.dtypes([v.dtype for v in node.inputs])
        check_broadcast_shapes([x.shape for x in inputs],
                               [v.broadcastable for v in node.inputs], str(self))
        args = [np.asarray(x, dtype=c) for x, c in zip(inputs, compute)]
        result = self.scalar_op.numpy(*args)
        if self.scalar_op.name == "cast":
            with np.errstate(all="ignore"):
                result = _cast(args[0], out_dtype)
        return [np.asarray(result, dtype=out_dtype)]

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        (gz,) = output_grads
        (z,) = node.outputs
        if self.scalar_op.grad is None:
            raise NotImplementedError(f"no gradient for {self.scalar_op.name}")
        from aotsym.frontend.grad import NullGradient
        grads = self.scalar_op.grad(m, list(inputs), z, gz)
        # (a NullGradient, grad_not_implemented's, is raised by grad if x is on the path)
        return [None if g is None or dtype_kind(x.dtype) not in "fc" or _is_constant(x)
                else g if isinstance(g, NullGradient)
                else reduce_to_input(m.as_var(g), x) for g, x in zip(grads, inputs)]

    def infer_shape(self, node, input_shapes):
        out = []
        for d, b in enumerate(node.outputs[0].broadcastable):
            if b:
                out.append(1)
                continue
            for v, shape in zip(node.inputs, input_shapes):
                if not v.broadcastable[d]:
                    out.append(shape[d])
                    break
        return [tuple(out)]


def _cast(x, dtype):
    if dtype == "bool":
        return x != 0
    if np.dtype(dtype).kind in "iu" and x.dtype.kind in "fc":
        from aotsym.graph.scalar import float_to_int
        return float_to_int(np.real(x) if x.dtype.kind == "c" else x, dtype)
    elif np.dtype(dtype).kind == "f" and x.dtype.kind == "c":
        x = np.real(x)
    return x.astype(dtype)


def _is_constant(x: Variable) -> bool:
    """A constant, or a constant padded by DimShuffle: it needs no gradient."""
    from aotsym.graph.basic import Constant
    while x.owner is not None and isinstance(x.owner.op, DimShuffle):
        x = x.owner.inputs[0]
    return isinstance(x, Constant)


def reduce_to_input(g: Variable, x: Variable) -> Variable:
    """Sum a gradient over the dimensions ``x`` broadcast along; keep x's dtype and pattern."""
    if g.type == x.type:
        return g
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.reduce import sum as tsum
    if g.ndim > x.ndim:  # an operand padded with leading dimensions
        g = tsum(g, axis=list(range(g.ndim - x.ndim)))
    axes = [d for d in range(x.ndim) if x.broadcastable[d] and not g.broadcastable[d]]
    if axes:
        g = tsum(g, axis=axes, keepdims=True)
    if any(gb and not xb for gb, xb in zip(g.broadcastable, x.broadcastable)):
        g = m.second(x, g)  # g is constant along dimensions where x is not: spread it out
    if g.dtype != x.dtype:
        g = m.cast(g, x.dtype)
    return g


class DimShuffle(Op):
    """Reorder, add (``'x'``) and drop (broadcastable) dimensions: a view.

    ``DimShuffle((False, False), (1, 0))`` is a transpose; ``(('x', 0))`` makes a row.
    """

    __props__ = ("input_broadcastable", "new_order")
    view_map = {0: [0]}

    def __init__(self, input_broadcastable, new_order):
        self.input_broadcastable = tuple(input_broadcastable)
        self.new_order = tuple(new_order)
        kept = [d for d in self.new_order if d != "x"]
        if len(set(kept)) != len(kept) or any(
                not isinstance(d, int) or not 0 <= d < len(self.input_broadcastable) for d in kept):
            raise ValueError(f"dimshuffle: invalid new order {self.new_order} for an input of "
                             f"ndim {len(self.input_broadcastable)}")
        for d, b in enumerate(self.input_broadcastable):
            if d not in kept and not b:
                raise ValueError(f"dimshuffle: cannot drop dimension {d}: it is not broadcastable")
        self.drop = tuple(d for d in range(len(self.input_broadcastable)) if d not in kept)
        self.shuffle = tuple(kept)
        self.augment = tuple(i for i, d in enumerate(self.new_order) if d == "x")

    def __str__(self):
        order = ",".join(str(d) for d in self.new_order)
        return f"DimShuffle{{{order}}}"

    def is_transpose(self) -> bool:
        return not self.augment and not self.drop and self.shuffle != tuple(sorted(self.shuffle))

    def output_types(self, inputs):
        (x,) = inputs
        if x.broadcastable != self.input_broadcastable:
            raise TypeError(f"dimshuffle made for pattern {self.input_broadcastable}, "
                            f"applied to {x.broadcastable}")
        bc = tuple(True if d == "x" else self.input_broadcastable[d] for d in self.new_order)
        return [TensorType(x.dtype, bc)]

    def perform(self, node, inputs):
        (x,) = inputs
        for d in self.drop:
            if x.shape[d] != 1:
                raise ValueError(f"{self}: dimension {d} has length {x.shape[d]}, expected 1")
        res = np.transpose(x, self.shuffle + self.drop)
        shape = [res.shape[i] for i in range(len(self.shuffle))]
        for a in self.augment:
            shape.insert(a, 1)
        return [res.reshape(shape)]

    def grad(self, node, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        # Drop the added axes, then put the kept dimensions back in input order and re-add
        # the dropped (broadcastable) ones.
        kept_positions = [i for i, d in enumerate(self.new_order) if d != "x"]
        g = gz
        if self.augment:
            g = DimShuffle(gz.broadcastable, kept_positions)(gz) if all(
                gz.broadcastable[a] for a in self.augment) else _sum_axes(gz, self.augment,
                                                                           kept_positions)
        order = []
        for d in range(x.ndim):
            order.append(self.shuffle.index(d) if d in self.shuffle else "x")
        g = DimShuffle(g.broadcastable, order)(g)
        return [reduce_to_input(g, x) if dtype_kind(x.dtype) in "fc" else None]

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        return [tuple(1 if d == "x" else shape[d] for d in self.new_order)]


def _sum_axes(g, axes, kept_positions):
    from aotsym.graph.ops.reduce import sum as tsum
    return tsum(g, axis=list(axes))


def dimshuffle(x: Variable, *order) -> Variable:
    if len(order) == 1 and isinstance(order[0], (list, tuple)):
        order = tuple(order[0])
    if tuple(order) == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.broadcastable, order)(x)
