"""``Nonzero``: the indices of an array's nonzero elements, an output whose length is known
only when the step runs.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  The step checks a boolean
mask's lengths against the indexed tensor's (``Nonzero{mask at axis a}``: an IndexError with
NumPy's words, :func:`aotsym.graph.ops.nonzero._mask_mismatch`), counts the nonzero elements
(``nonzero_kernel.c.j2``), allocates the ``(ndim, count)`` int64 output and fills it in C
order.  Any strides (negative too) are walked as they are, without a copy.
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.structure import _int_value
from aotsym.emit_c.templates import c_comment, c_string, render


@lowers("Nonzero")
def lower_nonzero(fe, node, pos):
    a, lengths = node.inputs[0], node.inputs[1:]
    (out,) = node.outputs
    kernel = fe.module.kernel("nonzero_kernel.c.j2", comment=c_comment(str(node.op)),
                              ctype=D.STORAGE[a.dtype])
    ar, outr = fe.ref(a), fe.ref(out)
    what = c_string(str(node.op))
    lines = []
    for d, length in enumerate(lengths):
        axis = node.op.mask_axis + d
        lines += [
            f"if (!rc && {ar}.shape[{d}] != {_int_value(fe, length)})",
            f"    rc = aot_fail(ctx, {pos}, AOT_ERR_INDEX, \"%s: boolean index did not match "
            f"indexed array along axis {axis}; size of axis is %lld but size of corresponding "
            f"boolean axis is %lld\", {what}, (long long)({_int_value(fe, length)}), "
            f"(long long){ar}.shape[{d}]);",
        ]
    lines += [
        "int64_t count = 0;",
        f"if (!rc) count = {kernel}_count(&{ar});",
        f"{outr}.shape[0] = {a.ndim};",
        f"{outr}.shape[1] = count;",
        f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});",
        f"if (!rc) {kernel}(&{ar}, (int64_t *){outr}.data, count);",
    ]
    return render("guarded_step.c.j2", lines=lines, temps=[])
