"""Ops implemented in Python only (a user's ``Op`` subclass, ``as_op``) in compiled code.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  Theano runs an op without
a C implementation through its ``perform``; so does a function built in-process here: the
op's step calls :func:`callback`'s function for it from C (``py_op_kernel.c.j2``: the GIL
taken, the inputs passed as read-only arrays over the function's buffers, the outputs copied
into its pool), and the rest of the graph stays compiled.  A standalone module (``aotsym
build``) cannot call a Python op where it runs without aotsym: the build says so.

The module's C names each Python op by the identity of its op object (``id``), so two ops
with the same code but different state are two modules, never one module whose callbacks
one of them overwrote (the build cache reuses such a module only within the process).
"""

from __future__ import annotations

import threading

import numpy as np

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.errors import EmitError
from aotsym.emit_c.templates import c_comment, render


def is_python_op(op) -> bool:
    """An op whose only implementation is its ``perform`` (defined outside aotsym, or made by
    ``as_op``)."""
    from aotsym.compile.ops import FromFunctionOp
    return isinstance(op, FromFunctionOp) or not type(op).__module__.startswith("aotsym.")


def lower_python_op(fe, node, pos) -> str:
    """The step of ``node``: its inputs to Python, its outputs back (module docstring)."""
    ops = fe.module.python_ops
    if ops is None:
        raise EmitError(f"{node.op} is implemented in Python only (its perform): a "
                        "standalone module cannot call it where it runs without aotsym; "
                        "give the op a C implementation, or use aotsym.function", node)
    for var in node.inputs + node.outputs:
        if var.dtype not in D.TYPENUM:
            raise EmitError(f"{node.op}: a Python op's {var.dtype} value cannot be passed "
                            "to it from C", node)
    k = len(ops)
    ops.append(node)
    kernel = fe.module.kernel("py_op_kernel.c.j2")
    nin, nout = len(node.inputs), len(node.outputs)
    lines = [f"/* {c_comment(f'python op {k}: {node.op} (object {id(node.op):#x})')} */",
             f"static const int in_types[{max(1, nin)}] = "
             f"{{{', '.join(D.TYPENUM[v.dtype] for v in node.inputs) or '0'}}};",
             f"aot_array *ins[{max(1, nin)}] = "
             f"{{{', '.join('&' + fe.ref(v) for v in node.inputs) or 'NULL'}}};",
             f"aot_array *outs[{nout}] = {{{', '.join('&' + fe.ref(v) for v in node.outputs)}}};",
             f"if (!rc) rc = {kernel}(ctx, {pos}, {k}, {nin}, ins, in_types, {nout}, outs);"]
    return render("guarded_step.c.j2", lines=lines, temps=[])


class _Last(threading.local):
    error = None


_LAST = _Last()


def last_error():
    """The exception the last failing callback of this thread raised (then forgotten): the
    build stage raises a node's error in its class (a LinAlgError stays one)."""
    error, _LAST.error = _LAST.error, None
    return error


def callback(node):
    """The callable the C step of ``node`` calls: ``(inputs tuple) -> [outputs]``, each the
    op's ``perform`` result checked against the node's output types and made C-contiguous
    in the declared dtype (the C side copies it as bytes)."""
    op = node.op

    def call(inputs):
        try:
            outs = op.perform(node, list(inputs))
        except Exception as exc:   # its class comes back with the node's error (last_error)
            _LAST.error = exc
            raise
        if len(outs) != len(node.outputs):
            raise ValueError(f"{op}.perform returned {len(outs)} outputs, not "
                             f"{len(node.outputs)}")
        checked = []
        for k, (var, value) in enumerate(zip(node.outputs, outs)):
            value = np.asarray(value)
            if value.ndim != var.type.ndim or any(
                    b and n != 1 for b, n in zip(var.type.broadcastable, value.shape)):
                raise TypeError(f"{op}.perform returned output {k} of shape {value.shape}; "
                                f"the node declared {var.type.describe()}")
            checked.append(np.asarray(value, dtype=var.dtype, order="C"))   # (0-d stays 0-d)
        return checked
    return call
