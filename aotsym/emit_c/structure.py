"""Structural ops: reshape, indexing (basic and integer-array, reads and writes, and the
gradient of a value a write broadcast at run time: ``SumToShape``), join, alloc, arange, eye,
specify_shape.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  The layout work (slice
arithmetic, bounds checks, gathers) is dtype-independent and lives in runtime/aotsym_ops.c;
this module writes the per-node glue and, where values are combined (``inc_subtensor``, a
join of mixed dtypes), an elementwise kernel.  Views (``Subtensor``, ``SpecifyShape``, a
``Reshape`` of a contiguous input) share their input's block; writes (``IncSubtensor`` and
friends) copy their input unless the op is in place and the buffer is an intermediate nobody
reads afterwards.
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.elementwise import cast_kernel, converted, elementwise_kernel
from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.templates import c_string, render
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.graph.types import TensorType

SYMBOLIC = "?"
ARRAY = "a"


def _guarded(lines, temps=()):
    return render("guarded_step.c.j2", lines=lines, temps=list(temps))


def _bytes(flags) -> str:
    return ", ".join(str(int(b)) for b in flags) or "0"


def _int_value(fe, var) -> str:
    """A C int64 expression reading the integer scalar ``var``."""
    signed = int(D.kind(var.dtype) != "u")
    return f"aot_read_int(&{fe.ref(var)}, {signed})"


# ------------------------------------------------------------------------------ reshape


@lowers("Reshape")
def lower_reshape(fe, node, pos):
    x, shp = node.inputs
    (out,) = node.outputs
    lines, temps = converted(fe, node, shp, "int64", "shp")
    lines += [
        f"static const unsigned char bc[{max(1, out.ndim)}] = {{{_bytes(out.broadcastable)}}};",
        f"if (!rc) rc = aot_reshape(ctx, {pos}, {c_string(str(node.op))}, &{fe.ref(out)}, "
        f"&{fe.ref(x)}, &shp, bc);",
    ]
    return _guarded(lines, temps)


@lowers("SpecifyShape")
def lower_specify_shape(fe, node, pos):
    x, dims = node.inputs[0], node.inputs[1:]
    (out,) = node.outputs
    xr, outr = fe.ref(x), fe.ref(out)
    lines = [f"int64_t want[{max(1, len(dims))}] = {{"
             + (", ".join(_int_value(fe, d) for d in dims) or "0") + "};"]
    cond = " || ".join(f"{xr}.shape[{d}] != want[{d}]" for d in range(len(dims))) or "0"
    lines += [
        f"if ({cond}) {{",
        "    char s1[256], s2[256];",
        f"    aot_format_shape(s1, sizeof s1, {xr}.shape, {x.ndim});",
        f"    aot_format_shape(s2, sizeof s2, want, {x.ndim});",
        f"    rc = aot_fail(ctx, {pos}, AOT_ERR_VALUE, \"%s: a tensor has shape %s, expected "
        f"%s\", {c_string(node.op.context)}, s1, s2);",
        "}",
        "if (!rc) {",
        f"    aot_copy_shape(&{outr}, &{xr});",
        f"    aot_share(&{outr}, &{xr});",
        "}",
    ]
    return _guarded(lines)


# ------------------------------------------------------------------------------ basic indexing


def _slice_lines(fe, entry, it, src, d, data, dst, out_dim, pos, what):
    """C lines applying the slice ``entry`` (start, stop, step: None, an int or symbolic)
    to dimension ``d`` of ``src``: ``data`` advances to the first element, ``dst``'s dimension
    ``out_dim`` gets the count and the stride."""
    parts = []
    for p in entry:
        if p == SYMBOLIC:
            parts.append(("1", _int_value(fe, next(it))))
        elif p is None:
            parts.append(("0", "0"))
        else:
            parts.append(("1", str(int(p))))
    (hs, start), (he, stop), (has_step, step) = parts
    step = step if has_step == "1" else "1"
    return [
        "if (!rc) {",
        f"    int64_t first, count, step = {step};",
        f"    if (step == 0) rc = aot_fail(ctx, {pos}, AOT_ERR_VALUE, "
        f"\"%s: slice step cannot be zero\", {what});",
        f"    aot_slice({src}.shape[{d}], {hs}, {start}, {he}, {stop}, step, &first, &count);",
        f"    {data} += first * {src}.strides[{d}];",
        f"    {dst}.shape[{out_dim}] = count;",
        f"    {dst}.strides[{out_dim}] = {src}.strides[{d}] * step;",
        "}",
    ]


def _slicing_lines(fe, node, idx_list, extras, src, dst, what, pos):
    """C lines making aot_array ``dst`` the view ``src[idx_list]`` (no reference taken)."""
    it = iter(extras)
    lines = ["char *sl_data = " + src + ".data;"]
    out_dim = 0
    ndim = node.inputs[0].ndim
    for d, entry in enumerate(idx_list):
        if isinstance(entry, tuple):
            lines += _slice_lines(fe, entry, it, src, d, "sl_data", dst, out_dim, pos, what)
            out_dim += 1
        else:
            value = _int_value(fe, next(it)) if entry == SYMBOLIC else str(int(entry))
            lines.append(f"if (!rc) rc = aot_index_dim(ctx, {pos}, {what}, {src}.shape[{d}], "
                         f"{value}, {d}, {src}.strides[{d}], &sl_data);")
    for d in range(len(idx_list), ndim):
        lines += [f"{dst}.shape[{out_dim}] = {src}.shape[{d}];",
                  f"{dst}.strides[{out_dim}] = {src}.strides[{d}];"]
        out_dim += 1
    lines.append(f"{dst}.data = sl_data;")
    return lines


@lowers("Subtensor")
def lower_subtensor(fe, node, pos):
    x, extras = node.inputs[0], node.inputs[1:]
    (out,) = node.outputs
    outr = fe.ref(out)
    lines = _slicing_lines(fe, node, node.op.idx_list, extras, fe.ref(x), outr,
                           c_string(str(node.op)), pos)
    lines.append(f"if (!rc) {{ {outr}.block = {fe.ref(x)}.block; "
                 f"aot_block_incref({outr}.block); }}")
    return _guarded(lines)


def _region_decl(name, ndim):
    return [f"int64_t {name}_dims[{max(1, 2 * ndim)}];",
            f"aot_array {name};",
            f"{name}.shape = {name}_dims;",
            f"{name}.strides = {name}_dims + {ndim};",
            f"{name}.ndim = {ndim};",
            f"{name}.block = NULL;"]


def _target_lines(fe, node, pos):
    """The output buffer of a write op: the input's buffer (in place) or a fresh copy."""
    x = node.inputs[0]
    out = node.outputs[0]
    xr, outr = fe.ref(x), fe.ref(out)
    if fe.step.writes_inplace(0):
        return [f"aot_copy_shape(&{outr}, &{xr});", f"aot_share(&{outr}, &{xr});"]
    return [f"aot_copy_shape(&{outr}, &{xr});",
            f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});",
            f"if (!rc) aot_copy(&{outr}, &{xr});"]


def _write_kernel(fe, node, x_dtype, y_type, region_ndim, is_set):
    """Kernel of ``region = y`` (operands: region, y) or ``region += y`` (region, region, y)."""
    pad = region_ndim - y_type.ndim
    y_padded = TensorType(y_type.dtype, (True,) * pad + tuple(y_type.broadcastable))
    region = TensorType(x_dtype, (False,) * region_ndim)
    if is_set:
        program = [("cast", x_dtype, [("in", 0)])]
        steps = [(SCALAR_OPS["cast"], (y_type.dtype,), x_dtype)]
        kernel, _ = elementwise_kernel(fe.module, f"set {x_dtype} from {y_type.dtype}",
                                       program, steps, [("step", 0)], [y_padded], [x_dtype],
                                       node, restrict=False)
        return kernel
    program = [("cast", x_dtype, [("in", 1)]), ("add", None, [("in", 0), ("step", 0)])]
    add_compute, add_out = SCALAR_OPS["add"].dtypes(x_dtype, x_dtype)
    steps = [(SCALAR_OPS["cast"], (y_type.dtype,), x_dtype),
             (SCALAR_OPS["add"], tuple(add_compute), add_out)]
    kernel, _ = elementwise_kernel(fe.module, f"increment {x_dtype} by {y_type.dtype}", program,
                                   steps, [("step", 1)], [region, y_padded], [x_dtype], node,
                                   restrict=False)
    return kernel


@lowers("IncSubtensor")
def lower_inc_subtensor(fe, node, pos):
    op = node.op
    x, y, extras = node.inputs[0], node.inputs[1], node.inputs[2:]
    out = node.outputs[0]
    what = c_string(str(op))
    region_ndim = sum(isinstance(e, tuple) for e in op.idx_list) + x.ndim - len(op.idx_list)
    kernel = _write_kernel(fe, node, x.dtype, y.type, region_ndim, op.set_instead_of_inc)
    lines = _target_lines(fe, node, pos) + _region_decl("region", region_ndim)
    lines.append(f"region.itemsize = {D.itemsize(x.dtype)};")
    lines += _slicing_lines(fe, node, op.idx_list, extras, fe.ref(out), "region", what, pos)
    lines += [
        f"static const unsigned char ybc[{max(1, y.ndim)}] = {{{_bytes(y.broadcastable)}}};",
        f"if (!rc) rc = aot_check_fits(ctx, {pos}, {what}, &region, &{fe.ref(y)}, ybc);",
        f"if (!rc) aot_write_region(&region, &{fe.ref(y)}, {kernel}, "
        f"{int(op.set_instead_of_inc)});",
    ]
    return _guarded(lines)


@lowers("SumToShape")
def lower_sum_to_shape(fe, node, pos):
    g, shp = node.inputs
    (out,) = node.outputs
    kernel = _write_kernel(fe, node, out.dtype, g.type, g.ndim, False)
    lines, temps = converted(fe, node, shp, "int64", "shp")
    lines.append(f"if (!rc) rc = aot_sum_to_shape(ctx, {pos}, {c_string(str(node.op))}, "
                 f"&{fe.ref(out)}, &{fe.ref(g)}, &shp, {kernel});")
    return _guarded(lines, temps)


# ------------------------------------------------------------------------------ integer arrays


@lowers("AdvancedSubtensor1")
def lower_advanced_subtensor1(fe, node, pos):
    x, ilist = node.inputs
    (out,) = node.outputs
    outr, xr = fe.ref(out), fe.ref(x)
    lines, temps = converted(fe, node, ilist, "int64", "idx")
    lines += [f"{outr}.shape[0] = idx.shape[0];"]
    lines += [f"{outr}.shape[{d}] = {xr}.shape[{d}];" for d in range(1, x.ndim)]
    lines += [f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});",
              f"if (!rc) rc = aot_take_rows(ctx, {pos}, {c_string(str(node.op))}, &{outr}, "
              f"&{xr}, &idx);"]
    return _guarded(lines, temps)


@lowers("AdvancedIncSubtensor1")
def lower_advanced_inc_subtensor1(fe, node, pos):
    op = node.op
    x, y, ilist = node.inputs
    out = node.outputs[0]
    row_y = TensorType(y.dtype, y.broadcastable[1:] if y.ndim == x.ndim else y.broadcastable)
    kernel = _write_kernel(fe, node, x.dtype, row_y, x.ndim - 1, op.set_instead_of_inc)
    lines, temps = converted(fe, node, ilist, "int64", "idx")
    lines += _target_lines(fe, node, pos)
    lines += [
        f"static const unsigned char ybc[{max(1, y.ndim)}] = {{{_bytes(y.broadcastable)}}};",
        f"if (!rc) rc = aot_inc_rows(ctx, {pos}, {c_string(str(op))}, &{fe.ref(out)}, "
        f"&{fe.ref(y)}, ybc, &idx, {kernel}, {int(op.set_instead_of_inc)});",
    ]
    return _guarded(lines, temps)


def _advanced_lines(fe, node, idx_list, extras, src, pos, what):
    """Lines building ``xs`` (src with the slice entries applied) and ``adv`` (the integer
    entries as int64 index arrays).  Returns (lines, temps)."""
    it = iter(extras)
    x = node.inputs[0]
    lines = _region_decl("xs", x.ndim)
    lines += [f"xs.itemsize = {D.itemsize(x.dtype)};", f"char *xs_data = {src}.data;"]
    temps, arrays, axes = [], [], []
    for d, entry in enumerate(idx_list):
        if isinstance(entry, tuple):
            lines += _slice_lines(fe, entry, it, src, d, "xs_data", "xs", d, pos, what)
            continue
        axes.append(d)
        lines += [f"xs.shape[{d}] = {src}.shape[{d}];", f"xs.strides[{d}] = {src}.strides[{d}];"]
        name = f"ix{len(arrays)}"
        if entry == ARRAY:
            more, made = converted(fe, node, next(it), "int64", name)
            lines += more
            temps += made
        else:
            value = _int_value(fe, next(it)) if entry == SYMBOLIC else str(int(entry))
            lines += [f"int64_t {name}_value = {value};",
                      f"aot_array {name};",
                      f"{name}.data = (char *)&{name}_value;",
                      f"{name}.block = NULL;", f"{name}.ndim = 0;", f"{name}.itemsize = 8;",
                      f"{name}.shape = {name}.strides = NULL;"]
        arrays.append(name)
    for d in range(len(idx_list), x.ndim):
        lines += [f"xs.shape[{d}] = {src}.shape[{d}];", f"xs.strides[{d}] = {src}.strides[{d}];"]
    adjacent = axes == list(range(axes[0], axes[-1] + 1))
    lines += [
        "xs.data = xs_data;",
        f"static const int adv_axes[{len(axes)}] = {{{', '.join(map(str, axes))}}};",
        f"aot_array *adv_index[{len(arrays)}] = {{{', '.join('&' + a for a in arrays)}}};",
        f"aot_advanced adv = {{{len(axes)}, adv_axes, adv_index, {int(adjacent)}}};",
    ]
    return lines, temps


@lowers("AdvancedSubtensor")
def lower_advanced_subtensor(fe, node, pos):
    x, extras = node.inputs[0], node.inputs[1:]
    (out,) = node.outputs
    what = c_string(str(node.op))
    lines, temps = _advanced_lines(fe, node, node.op.idx_list, extras, fe.ref(x), pos, what)
    outr = fe.ref(out)
    lines += [
        "int64_t bshape[64];",
        "int nb;",
        f"if (!rc) rc = aot_advanced_shape(ctx, {pos}, {what}, &xs, &adv, bshape, &nb, "
        f"{outr}.shape);",
        f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});",
        f"if (!rc) rc = aot_advanced_apply(ctx, {pos}, {what}, &xs, &adv, &{outr}, NULL, NULL, "
        "NULL, 0, 0);",
    ]
    return _guarded(lines, temps)


@lowers("AdvancedIncSubtensor")
def lower_advanced_inc_subtensor(fe, node, pos):
    op = node.op
    x, y, extras = node.inputs[0], node.inputs[1], node.inputs[2:]
    out = node.outputs[0]
    what = c_string(str(op))
    kernel = _write_kernel(fe, node, x.dtype, TensorType(y.dtype, (False,)), 1,
                           op.set_instead_of_inc)
    lines = _target_lines(fe, node, pos)
    more, temps = _advanced_lines(fe, node, op.idx_list, extras, fe.ref(out), pos, what)
    lines += more
    lines += [
        f"static const unsigned char ybc[{max(1, y.ndim)}] = {{{_bytes(y.broadcastable)}}};",
        f"if (!rc) rc = aot_advanced_apply(ctx, {pos}, {what}, &xs, &adv, NULL, &{fe.ref(y)}, "
        f"ybc, {kernel}, {int(op.set_instead_of_inc)}, 1);",
    ]
    return _guarded(lines, temps)


# ------------------------------------------------------------------------------ constructors


@lowers("Join")
def lower_join(fe, node, pos):
    op = node.op
    (out,) = node.outputs
    outr = fe.ref(out)
    refs = ", ".join(f"&{fe.ref(v)}" for v in node.inputs)
    lines = [
        f"aot_array *ins[{len(node.inputs)}] = {{{refs}}};",
        f"if (!rc) rc = aot_join_shape(ctx, {pos}, {c_string(str(op))}, {op.axis}, "
        f"{len(node.inputs)}, ins, {outr}.shape);",
        f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});",
        "int64_t start = 0;",
    ] + _region_decl("part", out.ndim) + [f"part.itemsize = {D.itemsize(out.dtype)};"]
    for k, v in enumerate(node.inputs):
        lines.append(f"if (!rc) aot_join_part(&part, &{outr}, {op.axis}, start, "
                     f"{fe.ref(v)}.shape[{op.axis}]);")
        if v.dtype == out.dtype:
            lines.append(f"if (!rc) aot_copy(&part, &{fe.ref(v)});")
        else:
            kernel = cast_kernel(fe.module, v.dtype, out.dtype, out.ndim, node)
            lines += ["if (!rc) {",
                      f"    aot_array *ops[2] = {{&part, &{fe.ref(v)}}};",
                      f"    aot_loop_arrays({out.ndim}, part.shape, 2, ops, {kernel}, NULL, 1, "
                      "0, 0);",
                      "}"]
        lines.append(f"start += {fe.ref(v)}.shape[{op.axis}];")
    return _guarded(lines)


@lowers("Alloc")
def lower_alloc(fe, node, pos):
    value, dims = node.inputs[0], node.inputs[1:]
    (out,) = node.outputs
    outr = fe.ref(out)
    lines = [f"{outr}.shape[{d}] = {_int_value(fe, v)};" for d, v in enumerate(dims)]
    lines += [
        f"static const unsigned char vbc[{max(1, value.ndim)}] = "
        f"{{{_bytes(value.broadcastable)}}};",
        f"rc = aot_alloc_check(ctx, {pos}, &{outr}, &{fe.ref(value)}, vbc);",
        f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});",
    ] + _region_decl("vv", out.ndim) + [
        "if (!rc) {",
        f"    aot_pad_view(&vv, &{fe.ref(value)}, {out.ndim});",
        f"    aot_copy(&{outr}, &vv);",
        "}",
    ]
    return _guarded(lines)


def _real_value(fe, var) -> str:
    return f"(double)*(const {D.STORAGE[var.dtype]} *){fe.ref(var)}.data"


@lowers("ARange")
def lower_arange(fe, node, pos):
    start, stop, step = node.inputs
    (out,) = node.outputs
    ct = D.STORAGE[out.dtype]
    convert = f"aot_f2i_{D.F2I[out.dtype]}" if out.dtype in D.F2I else f"({D.COMPUTE[out.dtype]})"
    kernel = fe.module.kernel("arange_kernel.c.j2", ctype=ct, convert=convert,
                              what=c_string("ARange"))
    return _guarded([
        f"rc = {kernel}(ctx, {pos}, &{fe.ref(out)}, {_real_value(fe, start)}, "
        f"{_real_value(fe, stop)}, {_real_value(fe, step)});"])


@lowers("Eye")
def lower_eye(fe, node, pos):
    n, m, k = node.inputs
    (out,) = node.outputs
    outr = fe.ref(out)
    ct = D.STORAGE[out.dtype]
    return _guarded([
        f"int64_t n = {_int_value(fe, n)}, m = {_int_value(fe, m)}, k = {_int_value(fe, k)};",
        f"if (n < 0 || m < 0) rc = aot_fail(ctx, {pos}, AOT_ERR_VALUE, \"Eye{{{out.dtype}}}: "
        "negative length %lld requested for dimension %d\", (long long)(n < 0 ? n : m), "
        "n < 0 ? 0 : 1);",
        f"{outr}.shape[0] = n;",
        f"{outr}.shape[1] = m;",
        f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});",
        "if (!rc) {",
        f"    memset({outr}.data, 0, (size_t)(n * m) * sizeof({ct}));",
        "    for (int64_t i = 0; i < n; i++)",
        "        if (i + k >= 0 && i + k < m)",
        f"            *({ct} *)({outr}.data + i * {outr}.strides[0] + (i + k) * "
        f"{outr}.strides[1]) = 1;",
        "}",
    ])
