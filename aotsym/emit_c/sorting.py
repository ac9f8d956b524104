"""``Sort`` / ``ArgSort``: one kernel call per row along the op's axis.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  The rows are laid out as
softmax's are (:mod:`aotsym.emit_c.nnet`: the kept dimensions are the loop, the axis is the
kernel's ``aot_axis2``); the kernel (``sort_kernel.c.j2``) is a stable merge sort of each
row's indices with NaN last, as the reference's ``kind="stable"``.
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.nnet import axis_rows_lines
from aotsym.emit_c.templates import c_comment, render


@lowers("Sort", "ArgSort")
def lower_sort(fe, node, pos):
    (x,) = node.inputs
    (out,) = node.outputs
    kernel = fe.module.kernel("sort_kernel.c.j2", comment=c_comment(str(node.op)),
                              ctype=D.STORAGE[x.dtype], otype=D.STORAGE[out.dtype],
                              floating=D.kind(x.dtype) == "f",
                              argsort=type(node.op).__name__ == "ArgSort")
    xr, outr = fe.ref(x), fe.ref(out)
    lines = [f"aot_copy_shape(&{outr}, &{xr});",
             f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});"]
    lines += axis_rows_lines(xr, outr, x.ndim, node.op.axis, kernel, skip_empty=True)
    return render("guarded_step.c.j2", lines=lines, temps=[])


@lowers("TopKOp", "SortAnyAxis")
def lower_topk(fe, node, pos):
    """No C kernel yet: the op's ``perform`` is called back from the compiled function
    (:mod:`aotsym.emit_c.python_op`; a standalone module refuses it at build time)."""
    from aotsym.emit_c.python_op import lower_python_op
    return lower_python_op(fe, node, pos)
