"""Products: ``Dot`` and the optimizer's ``Gemm`` / ``Gemv`` / ``Ger``, through CBLAS.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  float32/float64 products
call the runtime's ``aot_gemm_*`` / ``aot_gemv_*`` / ``aot_ger_*`` / ``aot_dotv_*``
(runtime/aotsym_blas.h: CBLAS when the module links one, plain loops otherwise); operands of
another dtype than the result are converted first (NumPy's upcast).  A Gemm / Gemv / Ger whose
``alpha`` is 0 at run time runs a plain loop instead of BLAS (which would not read the
operands: the op's ``0 * dot(a, b)`` is NaN where the product is NaN or infinite).  Integer, bool and
complex products run a plain C loop over the table's ``mul`` and ``add`` expressions.

``Gemm`` / ``Gemv`` / ``Ger`` writing a shared variable's update into its own buffer (a state
write, :mod:`.emitter`) are translated in two halves: :func:`state_write` makes every check,
the output buffer and BLAS-readable operands (the *prepare*, which may fail), and leaves the
BLAS call (the *commit*) for after every other step.
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.elementwise import converted
from aotsym.emit_c.emitter import lowers, lowers_state_write
from aotsym.emit_c.errors import EmitError
from aotsym.emit_c.scalar_code import expression
from aotsym.emit_c.templates import c_comment, c_string, render

_PREFIX = {"float64": "d", "float32": "s"}
_KINDS = {(1, 1): "vector·vector", (2, 1): "matrix·vector", (1, 2): "vector·matrix",
          (2, 2): "matrix·matrix"}


def _naive_kernel(fe, node, dtype):
    k = D.kind(dtype)
    mul = expression("mul", (dtype, dtype), dtype, ["x", "y"], node)
    add = expression("add", (dtype, dtype), dtype, ["acc", "p"], node)
    return fe.module.kernel("dot_naive_kernel.c.j2", comment=c_comment(f"dot {dtype}"),
                            ctype=D.STORAGE[dtype], compute=D.COMPUTE[dtype], mul=mul,
                            add=add, zero="0" if k != "c" else "0")


@lowers("Dot")
def lower_dot(fe, node, pos):
    a, b = node.inputs
    (out,) = node.outputs
    dtype = out.dtype
    kind = _KINDS[(a.ndim, b.ndim)]
    a_inner = a.ndim - 1
    message = c_string(f"Dot: shapes %s and %s are not aligned for a {kind} product: %lld "
                       f"(dimension {a_inner} of the first) != %lld (dimension 0 of the "
                       "second)")
    prepare, temps = [], []
    for var, name in ((a, "da"), (b, "db")):
        lines, made = converted(fe, node, var, dtype, name)
        prepare += lines
        temps += made
    out_ref = fe.ref(out)
    out_dims = ([(0, "da.shape[0]")] if a.ndim == 2 else []) + \
        ([(out.ndim - 1, "db.shape[1]")] if b.ndim == 2 else [])
    if dtype in _PREFIX:
        fe.module.uses_blas = True
        p = _PREFIX[dtype]
        call = {
            (2, 2): [f"rc = aot_gemm_{p}(ctx, {pos}, &{out_ref}, &da, &db, 1, 0);"],
            (2, 1): [f"rc = aot_gemv_{p}(ctx, {pos}, &{out_ref}, &da, &db, 1, 0);"],
            (1, 2): ["int64_t bt_dims[4] = {db.shape[1], db.shape[0], db.strides[1], "
                     "db.strides[0]};",
                     "aot_array bt = db;", "bt.shape = bt_dims;", "bt.strides = bt_dims + 2;",
                     f"rc = aot_gemv_{p}(ctx, {pos}, &{out_ref}, &bt, &da, 1, 0);"],
            (1, 1): [f"rc = aot_dotv_{p}(ctx, {pos}, ({D.STORAGE[dtype]} *){out_ref}.data, "
                     "&da, &db);"],
        }[(a.ndim, b.ndim)]
    else:
        kernel = _naive_kernel(fe, node, dtype)
        # everything seen as matrices: a (M, K), b (K, N), out (M, N)
        call = [
            "int64_t mv[12];",
            "aot_array am = da, bm = db, om = " + out_ref + ";",
            "am.shape = mv; am.strides = mv + 2; bm.shape = mv + 4; bm.strides = mv + 6;",
            "om.shape = mv + 8; om.strides = mv + 10;",
        ]
        call += ["am.shape[0] = da.shape[0]; am.strides[0] = da.strides[0];",
                 "am.shape[1] = da.shape[1]; am.strides[1] = da.strides[1];"] \
            if a.ndim == 2 else ["am.shape[0] = 1; am.strides[0] = 0;",
                                 "am.shape[1] = da.shape[0]; am.strides[1] = da.strides[0];"]
        call += ["bm.shape[0] = db.shape[0]; bm.strides[0] = db.strides[0];",
                 "bm.shape[1] = db.shape[1]; bm.strides[1] = db.strides[1];"] \
            if b.ndim == 2 else ["bm.shape[0] = db.shape[0]; bm.strides[0] = db.strides[0];",
                                 "bm.shape[1] = 1; bm.strides[1] = 0;"]
        call += ["om.shape[0] = am.shape[0]; om.shape[1] = bm.shape[1];",
                 f"om.strides[1] = {D.itemsize(dtype)};",
                 f"om.strides[0] = om.shape[1] * {D.itemsize(dtype)};",
                 f"{kernel}(&om, &am, &bm);"]
    return render("dot_step.c.j2", pos=pos, a=fe.ref(a), b=fe.ref(b), a_ndim=a.ndim,
                  check=_differ(fe, [(a, a_inner, b, 0)]),
                  b_ndim=b.ndim, a_inner=a_inner, message=message, prepare=prepare,
                  out=out_ref, out_dims=out_dims, call=call, temps=temps)


def _scalar(fe, var, ctype):
    return f"*(const {ctype} *){fe.ref(var)}.data"


def _blas_dtype(node):
    dtype = node.outputs[0].dtype
    if dtype not in _PREFIX:
        raise EmitError(f"{node.op} needs float32 or float64 operands, got {dtype}", node)
    return dtype


def _accumulated(fe, node, pos, beta_expr):
    """C lines giving the output its buffer: the accumulated input's (in place) or a fresh
    copy of it.  Returns (lines, target ref)."""
    z = node.inputs[0]
    out = node.outputs[0]
    zr, outr = fe.ref(z), fe.ref(out)
    if fe.step.writes_inplace(0):
        return ["aot_copy_shape(&" + outr + ", &" + zr + ");",
                f"if (aot_blas_writable(&{zr})) {{",
                f"    aot_share(&{outr}, &{zr});",
                "} else {",
                f"    if (aot_alloc(ctx, {pos}, &{outr})) goto fail;",
                f"    aot_copy(&{outr}, &{zr});",
                "}"]
    return [f"aot_copy_shape(&{outr}, &{zr});",
            f"if (aot_alloc(ctx, {pos}, &{outr})) goto fail;",
            f"if ({beta_expr} != 0) aot_copy(&{outr}, &{zr});"]


def _shape_check(node, fe, pos) -> str:
    """C of the op's shape check (the reference ``perform``'s, with its message)."""
    kind = type(node.op).__name__
    if kind == "Gemm":
        z, _, x, y, _ = node.inputs
        cond = _differ(fe, [(x, 1, y, 0), (z, 0, x, 0), (z, 1, y, 1)])
        message, refs = f"{node.op}: shapes Z%s, X%s, Y%s do not match", (z, x, y)
    elif kind == "Gemv":
        yv, _, a, x, _ = node.inputs
        cond = _differ(fe, [(a, 1, x, 0), (yv, 0, a, 0)])
        message, refs = f"{node.op}: shapes y%s, A%s, x%s do not match", (yv, a, x)
    else:
        a, _, x, y = node.inputs
        cond = _differ(fe, [(a, 0, x, 0), (a, 1, y, 0)])
        message, refs = f"{node.op}: shapes A%s, x%s, y%s do not match", (a, x, y)
    return render("blas_check.c.j2", pos=pos, conditions=[
        (cond, c_string(message), [fe.ref(v) for v in refs])] if cond else [])


def _differ(fe, pairs) -> str:
    """C that is true when a pair's two lengths differ: ``(x, i, y, j)`` compares
    ``x.shape[i]`` with ``y.shape[j]``; a length compared with itself (``dot(x, x)``) is
    left out, as GCC warns of it."""
    return " || ".join(f"{fe.ref(x)}.shape[{i}] != {fe.ref(y)}.shape[{j}]"
                       for x, i, y, j in pairs if (x, i) != (y, j))


def _guarded(fe, node, call, out, a, b, alpha, beta) -> list:
    """C lines of ``call`` (the BLAS call, a statement that jumps to ``fail`` when it fails)
    behind a test of ``alpha``: when it is 0, BLAS reads neither operand (the runtime skips
    the product too), but the op means NumPy's ``alpha * dot(a, b) + beta * z``, NaN wherever
    the product is NaN or infinite; that case runs the plain loop of
    ``blas_exact_kernel.c.j2`` instead (it allocates nothing and cannot fail, so a state
    write's commit stays unable to fail).  ``out``, ``a``, ``b``: C names of the output and
    the two operands (``aot_array``s of the op's shapes)."""
    dtype = node.outputs[0].dtype
    kind = type(node.op).__name__
    kernel = fe.module.kernel("blas_exact_kernel.c.j2", ctype=D.STORAGE[dtype],
                              comment=c_comment(f"alpha 0 product {dtype}"))
    # each operand seen as a matrix: (name, source, ((shape, stride) of its 2 axes))
    as_matrix = {
        "Gemm": [("eo", out, None), ("ea", a, None), ("eb", b, None)],
        "Gemv": [("eo", out, ((f"{out}.shape[0]", f"{out}.strides[0]"), ("1", "0"))),
                 ("ea", a, None),
                 ("eb", b, ((f"{b}.shape[0]", f"{b}.strides[0]"), ("1", "0")))],
        "Ger": [("eo", out, None),
                ("ea", a, ((f"{a}.shape[0]", f"{a}.strides[0]"), ("1", "0"))),
                ("eb", b, (("1", "0"), (f"{b}.shape[0]", f"{b}.strides[0]")))],
    }[kind]
    lines = [f"if ({alpha} == 0) {{  /* BLAS would not read the operands */"]
    if kind != "Gemm":
        lines.append("    int64_t ev[12];")
    for k, (name, source, axes) in enumerate(as_matrix):
        lines.append(f"    aot_array {name} = {source};")
        if axes is None:
            continue
        lines.append(f"    {name}.shape = ev + {4 * k}; {name}.strides = ev + {4 * k + 2};")
        for d, (length, stride) in enumerate(axes):
            lines.append(f"    {name}.shape[{d}] = {length}; {name}.strides[{d}] = {stride};")
    lines += [f"    {kernel}(&eo, &ea, &eb, {alpha}, {beta});",
              "} else {",
              f"    {call}",
              "}"]
    return lines


@lowers("Gemm", "Gemv")
def lower_gemm_gemv(fe, node, pos):
    """``out = alpha * dot(a, b) + beta * z``: ``aot_gemm_*`` or ``aot_gemv_*`` by op (a
    plain loop when alpha is 0, :func:`_guarded`)."""
    z, alpha, a, b, beta = node.inputs
    dtype = _blas_dtype(node)
    fe.module.uses_blas = True
    ct = D.STORAGE[dtype]
    beta_c, alpha_c = _scalar(fe, beta, ct), _scalar(fe, alpha, ct)
    out, ar, br = fe.ref(node.outputs[0]), fe.ref(a), fe.ref(b)
    lines = _accumulated(fe, node, pos, beta_c)
    check = _shape_check(node, fe, pos)
    call = (f"if (aot_{type(node.op).__name__.lower()}_{_PREFIX[dtype]}(ctx, {pos}, "
            f"&{out}, &{ar}, &{br}, {alpha_c}, {beta_c})) goto fail;")
    guarded = _guarded(fe, node, call, out, ar, br, alpha_c, beta_c)
    return check + render("lines_step.c.j2", lines=lines + guarded)


@lowers("Ger")
def lower_ger(fe, node, pos):
    a, alpha, x, y = node.inputs
    dtype = _blas_dtype(node)
    fe.module.uses_blas = True
    ct = D.STORAGE[dtype]
    alpha_c = _scalar(fe, alpha, ct)
    out, xr, yr = fe.ref(node.outputs[0]), fe.ref(x), fe.ref(y)
    lines = _accumulated(fe, node, pos, "1")
    check = _shape_check(node, fe, pos)
    call = f"if (aot_ger_{_PREFIX[dtype]}(ctx, {pos}, &{out}, &{xr}, &{yr}, {alpha_c})) goto fail;"
    guarded = _guarded(fe, node, call, out, xr, yr, alpha_c, "1")
    return check + render("lines_step.c.j2", lines=lines + guarded)


# op -> (C name of the call, indices of the inputs the product reads, beta input or None)
_STATE_CALLS = {"Gemm": ("gemm", (2, 3), 4), "Gemv": ("gemv", (2, 3), 4),
                "Ger": ("ger", (2, 3), None)}


@lowers_state_write("Gemm", "Gemv", "Ger")
def state_write(fe, node, pos, k):
    """(prepare, commit) of ``node`` writing over argument ``k`` (its input 0).

    Prepare: the op's shape check; the output is argument ``k``'s buffer when the entry says
    the argument is writeable (``ctx->writable``), BLAS can write it, and it overlaps no other
    argument — else a fresh buffer holding the old value; the product's operands are made
    BLAS-readable (``aot_blas_ready``: shared, or copied).  Commit: the BLAS call (or, alpha 0,
    the plain loop of :func:`_guarded`), which with ready operands allocates nothing and
    cannot fail.
    """
    dtype = _blas_dtype(node)
    fe.module.uses_blas = True
    ct = D.STORAGE[dtype]
    name, operand_index, beta_index = _STATE_CALLS[type(node.op).__name__]
    z, out = node.inputs[0], node.outputs[0]
    zr, outr = fe.ref(z), fe.ref(out)
    nin = len(fe.fgraph.inputs)
    beta = "1" if beta_index is None else _scalar(fe, node.inputs[beta_index], ct)
    ready = []
    for i in operand_index:
        var = node.inputs[i]
        ready.append((fe.ref(var), fe.scratch(var.ndim, var.dtype)))
    lines = [f"aot_copy_shape(&{outr}, &{zr});",
             f"if (ctx->writable && ctx->writable[{k}] && aot_blas_writable(&{zr}) &&",
             f"        !aot_overlaps_others(in, {nin}, {k})) {{",
             f"    aot_share(&{outr}, &{zr});          /* written in place at the commit */",
             "} else {",
             f"    if (aot_alloc(ctx, {pos}, &{outr})) goto fail;",
             f"    if ({beta} != 0) aot_copy(&{outr}, &{zr});",
             "}"]
    lines += [f"if (aot_blas_ready(ctx, {pos}, &{t}, &{r})) goto fail;" for r, t in ready]
    prepare = _shape_check(node, fe, pos) + render("lines_step.c.j2", lines=lines)
    (ar, at), (br, bt) = ready
    alpha = _scalar(fe, node.inputs[1], ct)
    scalars = f"{alpha}" if beta_index is None else f"{alpha}, {beta}"
    call = (f"if (aot_{name}_{_PREFIX[dtype]}(ctx, {pos}, &{outr}, &{at}, &{bt}, {scalars})) "
            "goto fail;")
    guarded = _guarded(fe, node, call, outr, at, bt, alpha, beta)
    return prepare, render("lines_step.c.j2", lines=guarded)
