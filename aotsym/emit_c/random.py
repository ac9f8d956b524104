"""Random draws (:mod:`aotsym.graph.ops.random`): one call of ``runtime/aotsym_random.h``.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  Each draw step sets the
sample's shape from the size scalars, allocates the sample and the new state (4 words), makes
array parameters C-contiguous (0-d ones apply to every element) and calls the runtime, which
reads the state, fills the sample and writes the advanced state — bit for bit the NumPy
reference (:mod:`aotsym.graph.philox`).
"""

from __future__ import annotations

from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.templates import c_string, render


def _int(fe, var) -> str:
    from aotsym.emit_c import dtypes as D
    return f"aot_read_int(&{fe.ref(var)}, {int(D.kind(var.dtype) != 'u')})"


def _contiguous(fe, var, name, pos, lines, temps) -> str:
    """A C expression (pointer to aot_array) of ``var`` made C-contiguous (0-d as is)."""
    if var.ndim == 0:
        return f"&{fe.ref(var)}"
    lines += [f"int64_t {name}_dims[{2 * var.ndim}];",
              f"aot_array {name};",
              f"{name}.shape = {name}_dims;",
              f"{name}.strides = {name}_dims + {var.ndim};",
              f"{name}.block = NULL;",
              f"if (!rc) rc = aot_contiguous(ctx, {pos}, &{name}, &{fe.ref(var)});"]
    temps.append(name)
    return f"&{name}"


def _prologue(fe, node, pos, extra=()):
    """Lines allocating the new state and the sample (shape: the size, then ``extra`` C
    expressions), and the names of the three arrays."""
    state, size, _ = node.op.split(node.inputs)
    new_state, out = node.outputs
    sr, nsr, outr = fe.ref(state), fe.ref(new_state), fe.ref(out)
    lines = [f"{outr}.shape[{d}] = {_int(fe, v)};" for d, v in enumerate(size)]
    lines += [f"{outr}.shape[{len(size) + k}] = {e};" for k, e in enumerate(extra)]
    lines += [f"{nsr}.shape[0] = 4;",
              f"rc = aot_alloc(ctx, {pos}, &{nsr});",
              f"if (!rc) rc = aot_alloc(ctx, {pos}, &{outr});"]
    return lines, sr, nsr, outr


def _continuous(fe, node, pos, kind):
    op = node.op
    _, _, (a, b) = op.split(node.inputs)
    lines, sr, nsr, outr = _prologue(fe, node, pos)
    temps: list = []
    pa = _contiguous(fe, a, "pa", pos, lines, temps)
    pb = _contiguous(fe, b, "pb", pos, lines, temps)
    dtype = "'d'" if op.dtype == "float64" else "'f'"
    lines.append(f"if (!rc) rc = aot_rng_continuous(ctx, {pos}, {c_string(str(op))}, "
                 f"'{kind}', {dtype}, &{sr}, &{nsr}, &{outr}, {pa}, {pb});")
    return render("guarded_step.c.j2", lines=lines, temps=temps)


@lowers("UniformDraw")
def lower_uniform(fe, node, pos):
    return _continuous(fe, node, pos, "u")


@lowers("NormalDraw")
def lower_normal(fe, node, pos):
    return _continuous(fe, node, pos, "n")


@lowers("BinomialDraw")
def lower_binomial(fe, node, pos):
    op = node.op
    _, _, (n, p) = op.split(node.inputs)
    lines, sr, nsr, outr = _prologue(fe, node, pos)
    temps: list = []
    pn = _contiguous(fe, n, "pn", pos, lines, temps)
    pp = _contiguous(fe, p, "pp", pos, lines, temps)
    lines.append(f"if (!rc) rc = aot_rng_binomial(ctx, {pos}, {c_string(str(op))}, &{sr}, "
                 f"&{nsr}, &{outr}, {pn}, {pp});")
    return render("guarded_step.c.j2", lines=lines, temps=temps)


@lowers("ChoiceDraw")
def lower_choice(fe, node, pos):
    op = node.op
    _, _, params = op.split(node.inputs)
    lines, sr, nsr, outr = _prologue(fe, node, pos)
    temps: list = []
    pp = _contiguous(fe, params[1], "pp", pos, lines, temps) if op.weighted else "NULL"
    lines.append(f"if (!rc) rc = aot_rng_choice(ctx, {pos}, {c_string(str(op))}, &{sr}, "
                 f"&{nsr}, &{outr}, {_int(fe, params[0])}, {int(op.replace)}, {pp});")
    return render("guarded_step.c.j2", lines=lines, temps=temps)


@lowers("PermutationDraw")
def lower_permutation(fe, node, pos):
    op = node.op
    _, _, (n,) = op.split(node.inputs)
    lines, sr, nsr, outr = _prologue(fe, node, pos, extra=[_int(fe, n)])
    lines.append(f"if (!rc) rc = aot_rng_permutation(ctx, {pos}, {c_string(str(op))}, "
                 f"&{sr}, &{nsr}, &{outr}, {_int(fe, n)});")
    return render("guarded_step.c.j2", lines=lines, temps=[])


@lowers("MultinomialDraw")
def lower_multinomial(fe, node, pos):
    op = node.op
    _, _, (n, pvals) = op.split(node.inputs)
    k = f"{fe.ref(pvals)}.shape[{pvals.ndim - 1}]"
    lines, sr, nsr, outr = _prologue(fe, node, pos, extra=[k])
    temps: list = []
    pn = _contiguous(fe, n, "pn", pos, lines, temps)
    pp = _contiguous(fe, pvals, "pp", pos, lines, temps)
    lines.append(f"if (!rc) rc = aot_rng_multinomial(ctx, {pos}, {c_string(str(op))}, &{sr}, "
                 f"&{nsr}, &{outr}, {pn}, {pp});")
    return render("guarded_step.c.j2", lines=lines, temps=temps)
