"""Views: ops whose output shares its input's memory (``DimShuffle`` ...).

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  A view is new shape and
stride values over the same data: no copy, one more reference to the block.
"""

from __future__ import annotations

from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.templates import c_string, render


@lowers("DimShuffle")
def lower_dimshuffle(fe, node, pos):
    op = node.op
    (x,) = node.inputs
    (out,) = node.outputs
    src, dst = fe.ref(x), fe.ref(out)
    dims = []
    for j, d in enumerate(op.new_order):
        if d == "x":
            dims.append((j, "1", "0"))
        else:
            dims.append((j, f"{src}.shape[{d}]", f"{src}.strides[{d}]"))
    checks = [{"dim": d, "message": c_string(f"{op}: dimension {d} has length %lld, expected 1")}
              for d in op.drop]
    return render("dimshuffle_step.c.j2", pos=pos, src=src, dst=dst, dims=dims, checks=checks)
