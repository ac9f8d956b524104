"""``Print``: the copy of its input, and the print of it through Python.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  The step copies ``x``
into its output and calls a kernel (``debugprint_kernel.c.j2``) that takes the GIL
(``PyGILState_Ensure``: the entry may have released it), wraps a copy of ``x`` as an
ndarray and calls Python's ``print(message, attr, "=", value)`` for each attribute, as
:meth:`aotsym.graph.ops.debugprint.Print.perform` does.  A Python error there (an unknown
attribute) fails the call with the op's message.
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.templates import c_comment, c_string, render


@lowers("Print")
def lower_print(fe, node, pos):
    (x,) = node.inputs
    (out,) = node.outputs
    kernel = fe.module.kernel("debugprint_kernel.c.j2", comment=c_comment(str(node.op)),
                              typenum=D.TYPENUM[x.dtype], message=c_string(node.op.message),
                              attrs=[c_string(a) for a in node.op.attrs])
    xr, outr = fe.ref(x), fe.ref(out)
    lines = [f"aot_copy_shape(&{outr}, &{xr});",
             f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});",
             f"if (!rc) aot_copy(&{outr}, &{xr});",
             f"if (!rc) rc = {kernel}(ctx, {pos}, &{xr});"]
    return render("guarded_step.c.j2", lines=lines, temps=[])
