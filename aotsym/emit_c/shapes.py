"""Shape ops: ``Shape`` (an int64 vector of the lengths) and ``Shape_i`` (one length).

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).
"""

from __future__ import annotations

from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.templates import render


@lowers("Shape")
def lower_shape(fe, node, pos):
    (x,) = node.inputs
    out = fe.ref(node.outputs[0])
    return render("shape_step.c.j2", pos=pos, out=out, src=fe.ref(x), length=x.ndim,
                  items=[f"{fe.ref(x)}.shape[{d}]" for d in range(x.ndim)])


@lowers("Shape_i")
def lower_shape_i(fe, node, pos):
    (x,) = node.inputs
    out = fe.ref(node.outputs[0])
    return render("shape_step.c.j2", pos=pos, out=out, src=fe.ref(x), length=None,
                  items=[f"{fe.ref(x)}.shape[{node.op.i}]"])
