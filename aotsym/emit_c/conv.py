"""Convolution and pooling: ``AbstractConv2d`` (and its ``gradInputs`` / ``gradWeights``),
``Pool``, ``MaxPoolGrad`` and ``AveragePoolGrad``.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  The kernels
(conv_kernel.c.j2, pool_kernel.c.j2) are rendered once per op parameters and dtype; the steps
make the operands C-contiguous (a view when they already are), and call them.

Convolution runs as im2col + the BLAS gemm (``aot_gemm_s`` / ``aot_gemm_d``, one product per
image and group: ``w_g @ col``, ``gz_g @ col^T``, ``col2im(w_g^T @ gz_g)``).  A direct loop
(per output map, each filter tap adding ``w * shifted input row``, vectorizable, no column
buffer) was written and measured against it, float32, OPENBLAS_NUM_THREADS=1, on the 2-core
development machine: it lost at every size tried, 1.2x to 20x slower — 648 multiply-adds
(1x1x8x8 input, 2 3x3 filters: 3.6 us vs 2.0 us per call), 7056 (3.5x), 31752 (6x), 10^6
(5x), 1.8*10^7 (256x256 image, 6 7x7 filters: 1.2x), 3.1*10^6 with 16 channels (20x) — so
it was removed and every size takes the gemm path.  float32/float64 only: the builder
``conv2d`` computes integer operands in float, and any other float dtype (float16) is a
build-time EmitError naming the op and the user's line.  Pooling is a direct loop for every
real dtype; max propagates NaN.
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.errors import EmitError
from aotsym.emit_c.templates import c_comment, render

_PREFIX = {"float64": "d", "float32": "s"}


# ---------------------------------------------------------------------------- convolution

def _pad_expr(op, axis):
    k = ("g->kh", "g->kw")[axis]
    d = op.filter_dilation[axis]
    if op.border_mode == "full":
        return f"{d} * ({k} - 1)"
    if op.border_mode == "half":
        return f"{d} * ({k} / 2)"
    if op.border_mode == "valid":
        return "0"
    return str(op.border_mode[axis])


def _conv_kernel(fe, node):
    op, dtype = node.op, node.outputs[0].dtype
    if dtype not in _PREFIX:
        raise EmitError(f"{type(op).__name__} runs on float32 or float64 operands in the C "
                        f"backend, got {dtype} (cast the operands)", node)
    fe.module.uses_blas = True
    return fe.module.kernel(
        "conv_kernel.c.j2", comment=c_comment(f"conv2d {dtype} {op.border_mode} "
                                              f"s={op.subsample} d={op.filter_dilation} "
                                              f"flip={op.filter_flip} g={op.num_groups}"),
        ctype=D.STORAGE[dtype], p=_PREFIX[dtype], groups=op.num_groups,
        pad_h=_pad_expr(op, 0), pad_w=_pad_expr(op, 1), dh=op.filter_dilation[0],
        dw=op.filter_dilation[1], sh=op.subsample[0], sw=op.subsample[1],
        flip=int(op.filter_flip), what_fwd="AbstractConv2d",
        what_gi="AbstractConv2d_gradInputs", what_gw="AbstractConv2d_gradWeights")


def _contiguous(pos, refs, nd=4):
    """C lines making each (name, ref) of ``nd`` dims a C-contiguous view or copy, ``name``."""
    lines = []
    for name, ref in refs:
        lines += [f"int64_t {name}_dims[{2 * nd}];",
                  f"aot_array {name};",
                  f"{name}.shape = {name}_dims;",
                  f"{name}.strides = {name}_dims + {nd};",
                  f"{name}.block = NULL;",
                  f"if (!rc) rc = aot_contiguous(ctx, {pos}, &{name}, &{ref});"]
    return lines


def _int(fe, var):
    return f"*(const int64_t *){fe.ref(var)}.data"


@lowers("AbstractConv2d")
def lower_conv(fe, node, pos):
    kernel = _conv_kernel(fe, node)
    x, w = node.inputs
    lines = _contiguous(pos, [("xc", fe.ref(x)), ("wc", fe.ref(w))])
    lines.append(f"if (!rc) rc = {kernel}_fwd(ctx, {pos}, &{fe.ref(node.outputs[0])}, "
                 "&xc, &wc);")
    return render("guarded_step.c.j2", lines=lines, temps=["xc", "wc"])


@lowers("AbstractConv2d_gradInputs")
def lower_conv_grad_inputs(fe, node, pos):
    kernel = _conv_kernel(fe, node)
    w, gz, rows, cols = node.inputs
    lines = _contiguous(pos, [("wc", fe.ref(w)), ("gc", fe.ref(gz))])
    lines.append(f"if (!rc) rc = {kernel}_gi(ctx, {pos}, &{fe.ref(node.outputs[0])}, &wc, "
                 f"&gc, {_int(fe, rows)}, {_int(fe, cols)});")
    return render("guarded_step.c.j2", lines=lines, temps=["wc", "gc"])


@lowers("AbstractConv2d_gradWeights")
def lower_conv_grad_weights(fe, node, pos):
    kernel = _conv_kernel(fe, node)
    x, gz, rows, cols = node.inputs
    lines = _contiguous(pos, [("xc", fe.ref(x)), ("gc", fe.ref(gz))])
    lines.append(f"if (!rc) rc = {kernel}_gw(ctx, {pos}, &{fe.ref(node.outputs[0])}, &xc, "
                 f"&gc, {_int(fe, rows)}, {_int(fe, cols)});")
    return render("guarded_step.c.j2", lines=lines, temps=["xc", "gc"])


# ---------------------------------------------------------------------------- pooling

def _out_len(op, axis):
    """C expression of the number of windows along ``axis`` for an input length ``n``."""
    ws, st, p = op.ws[axis], op.stride[axis], op.pad[axis]
    if op.ignore_border:
        return f"n + {2 * p - ws} >= 0 ? (n + {2 * p - ws}) / {st} + 1 : 0"
    if st >= ws:
        return f"n == 0 ? 0 : (n - 1) / {st} + 1"
    return f"n == 0 ? 0 : (n - {1 + ws - st} > 0 ? (n - {1 + ws - st}) / {st} : 0) + 1"


def _pool_kernel(fe, node):
    op, dtype = node.op, node.inputs[0].dtype
    ct = D.STORAGE.get(dtype)
    if ct is None or D.kind(dtype) not in "iuf":
        raise EmitError(f"{type(op).__name__}: no C translation for dtype {dtype}", node)
    is_float = D.kind(dtype) == "f"
    acc = "double" if is_float else "int64_t"
    vmax = ""
    if op.mode == "max":
        nan = " || v != v" if is_float else ""
        init, update, result = (f"{ct} m = 0; int first = 1;",
                                f"if (first || v > m{nan}) {{ m = v; first = 0; }}", "m")
        vmax = f"(v > m{nan}) ? v : m"   # the same choice, branch-free (pool_kernel.c.j2)
    else:
        count = "full" if op.mode == "average_inc_pad" else "in"
        init, update = f"{acc} s = 0;", "s += v;"
        result = f"({ct})s" if op.mode == "sum" else f"({ct})(s / (double){count})"
    if op.mode == "average_inc_pad":
        scale, scale_doc = f" / ({ct})full", " / its count (padding included)"
    elif op.mode == "average_exc_pad":
        scale, scale_doc = f" / ({ct})in", " / its count (padding excluded)"
    else:
        scale, scale_doc = "", ""
    return fe.module.kernel(
        "pool_kernel.c.j2", comment=c_comment(f"{op} {dtype}"), ctype=ct,
        wh=op.ws[0], ww=op.ws[1], sh=op.stride[0], sw=op.stride[1], ph=op.pad[0],
        pw=op.pad[1], out_rows=_out_len(op, 0), out_cols=_out_len(op, 1), init=init,
        update=update, result=result, scale=scale, scale_doc=scale_doc, vmax=vmax)


def _pool_lines(fe, node, pos, refs, out_like):
    """Contiguous operands, the output shaped as ``out_like`` with the last two dims
    (oh, ow), and the C names of the geometry: outer, h, w, oh, ow."""
    kernel = _pool_kernel(fe, node)
    x = node.inputs[0]
    nd = x.ndim
    lines = _contiguous(pos, refs, nd)
    out = fe.ref(node.outputs[0])
    lines += ["int64_t outer = 1;",
              f"for (int d = 0; d < {nd - 2}; d++) outer *= {fe.ref(x)}.shape[d];",
              f"const int64_t h = {fe.ref(x)}.shape[{nd - 2}], w = {fe.ref(x)}.shape[{nd - 1}];",
              f"const int64_t oh = {kernel}_rows(h), ow = {kernel}_cols(w);",
              f"for (int d = 0; d < {nd - 2}; d++) {out}.shape[d] = {fe.ref(x)}.shape[d];"]
    if out_like == "pooled":
        lines += [f"{out}.shape[{nd - 2}] = oh;", f"{out}.shape[{nd - 1}] = ow;"]
    else:
        lines += [f"{out}.shape[{nd - 2}] = h;", f"{out}.shape[{nd - 1}] = w;"]
    lines.append(f"if (!rc) rc = aot_alloc(ctx, {pos}, &{out});")
    return kernel, lines, out


def _check_pooled(fe, node, pos, names_vars):
    """C lines failing when a pooled operand's shape is not the input's pooled shape."""
    nd = node.inputs[0].ndim
    x = fe.ref(node.inputs[0])
    lines = []
    for what, var in names_vars:
        r = fe.ref(var)
        dims = " || ".join([f"{r}.shape[{d}] != {x}.shape[{d}]" for d in range(nd - 2)]
                           + [f"{r}.shape[{nd - 2}] != oh", f"{r}.shape[{nd - 1}] != ow"])
        lines += [f"if (!rc && ({dims})) {{",
                  "    char s1[256], s2[256];",
                  f"    aot_format_shape(s1, sizeof s1, {r}.shape, {nd});",
                  f"    aot_format_shape(s2, sizeof s2, {x}.shape, {nd});",
                  f"    rc = aot_fail(ctx, {pos}, AOT_ERR_VALUE, \"{type(node.op).__name__}: "
                  f"{what} has shape %s, which is not the pooled shape of the input %s\", "
                  "s1, s2);",
                  "}"]
    return lines


@lowers("Pool")
def lower_pool(fe, node, pos):
    (x,) = node.inputs
    kernel, lines, out = _pool_lines(fe, node, pos, [("xc", fe.ref(x))], "pooled")
    ct = D.STORAGE[x.dtype]
    lines.append(f"if (!rc) {kernel}_fwd((const {ct} *)xc.data, ({ct} *){out}.data, outer, h, "
                 "w, oh, ow);")
    return render("guarded_step.c.j2", lines=lines, temps=["xc"])


@lowers("MaxPoolGrad")
def lower_max_pool_grad(fe, node, pos):
    x, z, gz = node.inputs
    kernel, lines, out = _pool_lines(
        fe, node, pos, [("xc", fe.ref(x)), ("zc", fe.ref(z)), ("gc", fe.ref(gz))], "input")
    lines = lines[:-1] + _check_pooled(fe, node, pos, [("the pooled value", z),
                                                       ("the output gradient", gz)]) \
        + lines[-1:]
    ct = D.STORAGE[x.dtype]
    lines.append(f"if (!rc) {kernel}_gmax((const {ct} *)xc.data, (const {ct} *)zc.data, "
                 f"(const {ct} *)gc.data, ({ct} *){out}.data, outer, h, w, oh, ow);")
    return render("guarded_step.c.j2", lines=lines, temps=["xc", "zc", "gc"])


@lowers("AveragePoolGrad")
def lower_average_pool_grad(fe, node, pos):
    x, gz = node.inputs
    kernel, lines, out = _pool_lines(fe, node, pos, [("gc", fe.ref(gz))], "input")
    lines = lines[:-1] + _check_pooled(fe, node, pos, [("the output gradient", gz)]) \
        + lines[-1:]
    ct = D.STORAGE[x.dtype]
    lines.append(f"if (!rc) {kernel}_gavg((const {ct} *)gc.data, ({ct} *){out}.data, outer, h, "
                 "w, oh, ow);")
    return render("guarded_step.c.j2", lines=lines, temps=["gc"])
