"""``Sort`` / ``ArgSort``: one kernel call per row along the op's axis.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  The rows are laid out as
softmax's are (:mod:`aotsym.emit_c.nnet`: the kept dimensions are the loop, the axis is the
kernel's ``aot_axis2``); the kernel (``sort_kernel.c.j2``) is a stable merge sort of each
row's indices with NaN last, as the reference's ``kind="stable"``.
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import lowers
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
    axis = node.op.axis
    kept = [d for d in range(x.ndim) if d != axis]
    nk = len(kept)
    lines = [f"aot_copy_shape(&{outr}, &{xr});",
             f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});",
             f"int64_t vdims[{max(1, 4 * nk)}];",
             f"aot_array xv = {xr}, ov = {outr};",
             f"xv.shape = vdims; xv.strides = vdims + {nk};",
             f"ov.shape = vdims + {2 * nk}; ov.strides = vdims + {3 * nk};",
             f"xv.ndim = ov.ndim = {nk};"]
    for j, d in enumerate(kept):
        lines += [f"xv.shape[{j}] = ov.shape[{j}] = {xr}.shape[{d}];",
                  f"xv.strides[{j}] = {xr}.strides[{d}];",
                  f"ov.strides[{j}] = {outr}.strides[{d}];"]
    lines += [
        f"if (!rc && aot_size(&{outr}) > 0) {{",
        f"    aot_axis2 ax = {{{xr}.shape[{axis}], {xr}.strides[{axis}], "
        f"{outr}.strides[{axis}]}};",
        "    aot_array *ops[2] = {&ov, &xv};",
        f"    aot_loop_arrays({nk}, ov.shape, 2, ops, {kernel}, &ax, "
        "(int)(ax.len < 100000 ? ax.len : 100000), -1, 0);",
        "}",
    ]
    return render("guarded_step.c.j2", lines=lines, temps=[])
