"""Neural-network ops: ``Softmax`` and ``LogSoftmax`` along an axis (or all elements).

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  One kernel call per row:
the stable forms of the reference evaluator (the row's maximum subtracted first).
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.templates import c_comment, render


def _lower(fe, node, pos, value):
    (x,) = node.inputs
    (out,) = node.outputs
    f = D.LIBM_SUFFIX.get(x.dtype, "")
    kernel = fe.module.kernel("softmax_kernel.c.j2", comment=c_comment(str(node.op)),
                              ctype=D.STORAGE[x.dtype], value=value.format(f=f))
    xr, outr = fe.ref(x), fe.ref(out)
    lines = [f"aot_copy_shape(&{outr}, &{xr});",
             f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});"]
    axis = node.op.axis
    if axis is None:
        lines += [
            f"int64_t flat_dims[{max(1, 2 * x.ndim)}];",
            "aot_array flat;",
            "flat.shape = flat_dims;",
            f"flat.strides = flat_dims + {x.ndim};",
            "flat.block = NULL;",
            f"if (!rc) rc = aot_contiguous(ctx, {pos}, &flat, &{xr});",
            "if (!rc) {",
            f"    aot_axis2 ax = {{aot_size(&flat), flat.itemsize, {D.itemsize(x.dtype)}}};",
            f"    aot_array xv = flat, ov = {outr};",
            "    xv.ndim = ov.ndim = 0;",
            "    aot_array *ops[2] = {&ov, &xv};",
            f"    aot_loop_arrays(0, NULL, 2, ops, {kernel}, &ax, 1, -1, 0);",
            "}",
        ]
        return render("guarded_step.c.j2", lines=lines, temps=["flat"])
    lines += axis_rows_lines(xr, outr, x.ndim, axis, kernel)
    return render("guarded_step.c.j2", lines=lines, temps=[])


def axis_rows_lines(xr, outr, ndim, axis, kernel, skip_empty=False) -> list:
    """The C lines that call ``kernel`` (an ``aot_axis2`` row kernel: input operand 1,
    output operand 0) once per row along ``axis`` of the array ``xr``, writing ``outr`` (of
    the same shape, allocated): the kept dimensions are iterated by ``aot_loop_arrays``,
    split over threads when that measures faster.  ``skip_empty``: no call at all when the
    output is empty (a kernel that allocates per row)."""
    kept = [d for d in range(ndim) if d != axis]
    nk = len(kept)
    lines = [
        f"int64_t vdims[{max(1, 4 * nk)}];",
        f"aot_array xv = {xr}, ov = {outr};",
        f"xv.shape = vdims; xv.strides = vdims + {nk};",
        f"ov.shape = vdims + {2 * nk}; ov.strides = vdims + {3 * nk};",
        f"xv.ndim = ov.ndim = {nk};",
    ]
    for j, d in enumerate(kept):
        lines += [f"xv.shape[{j}] = ov.shape[{j}] = {xr}.shape[{d}];",
                  f"xv.strides[{j}] = {xr}.strides[{d}];",
                  f"ov.strides[{j}] = {outr}.strides[{d}];"]
    lines += [
        f"if (!rc && aot_size(&{outr}) > 0) {{" if skip_empty else "if (!rc) {",
        f"    aot_axis2 ax = {{{xr}.shape[{axis}], {xr}.strides[{axis}], "
        f"{outr}.strides[{axis}]}};",
        "    aot_array *ops[2] = {&ov, &xv};",
        f"    aot_loop_arrays({nk}, ov.shape, 2, ops, {kernel}, &ax, "
        "(int)(ax.len < 100000 ? ax.len : 100000), -1, 0);",
        "}",
    ]
    return lines


@lowers("Softmax")
def lower_softmax(fe, node, pos):
    return _lower(fe, node, pos, "exp{f}(sh - lognorm)")


@lowers("LogSoftmax")
def lower_log_softmax(fe, node, pos):
    return _lower(fe, node, pos, "sh - lognorm")
