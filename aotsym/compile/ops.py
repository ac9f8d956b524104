"""``aotsym.compile.ops.as_op``: Theano's decorator that makes an op of a Python function.

Beside the pipeline: an op like a user's own ``Op`` subclass (:mod:`aotsym.graph.op`'s
Theano rules): the reference evaluator calls the function, and a compiled function calls it
back from its C code (:mod:`aotsym.emit_c.python_op`).
"""

from __future__ import annotations

from aotsym.graph.op import Op, _as_type, _checked_itypes, _storage_perform


class FromFunctionOp(Op):
    """The op ``as_op`` makes: ``fn(*inputs)`` returns the output (or a list of them)."""

    __props__ = ("fn", "itypes", "otypes", "infer_shape_fn")

    def __init__(self, fn, itypes, otypes, infer_shape=None):
        self.fn = fn
        self.itypes = tuple(_as_type(t) for t in itypes)
        self.otypes = tuple(_as_type(t) for t in otypes)
        self.infer_shape_fn = infer_shape
        self.__name__ = getattr(fn, "__name__", "as_op")
        self.__doc__ = getattr(fn, "__doc__", None)

    def __str__(self):
        return f"FromFunctionOp{{{self.__name__}}}"

    make_node_inputs = _checked_itypes

    def output_types(self, inputs):
        return list(self.otypes)

    def perform(self, node, inputs, output_storage):
        outs = self.fn(*inputs)
        if len(self.otypes) == 1:
            outs = [outs]
        if len(outs) != len(self.otypes):
            raise ValueError(f"{self}: the function returned {len(outs)} outputs, not "
                             f"{len(self.otypes)}")
        for cell, value in zip(output_storage, outs):
            cell[0] = value

    def infer_shape(self, node, input_shapes):
        if self.infer_shape_fn is None:
            return None
        return self.infer_shape_fn(node, input_shapes)


# (Theano's perform(node, inputs, output_storage): checked and cast like a user's op's)
FromFunctionOp.perform = _storage_perform(FromFunctionOp.perform)


def as_op(itypes, otypes, infer_shape=None):
    """``@as_op(itypes=[T.dmatrix], otypes=[T.dmatrix])`` over ``def fn(x): ...``: the op
    applying ``fn`` (NumPy arrays in, NumPy arrays out).  It has no gradient."""
    itypes, otypes = list(itypes), list(otypes)

    def decorator(fn):
        return FromFunctionOp(fn, itypes, otypes, infer_shape)
    return decorator
