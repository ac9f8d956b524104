"""Scalar programs as C statements: the body of every fused elementwise loop.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  An ``Elemwise`` is a
one-step program and a ``Composite`` is its own program (see
:mod:`aotsym.graph.ops.composite`); both become a list of C declarations

    const double t0 = (x0 * x1);
    const double t1 = exp(t0);

where ``x{i}`` are the loaded inputs (storage type) and each step converts its arguments to
their compute dtype, then fills the row's template from the C backend's spelling table
(:mod:`aotsym.emit_c.scalar_table`: ``{0}`` ``{1}`` ``{2}``, ``{f}``, ``{T}``).  An op without
a C spelling for the dtype at hand raises :class:`~aotsym.emit_c.errors.EmitError`.

The walk is the one every backend uses: a :class:`Spelling` says how a backend writes what
the walk asks for (its table, compute types, ``{f}`` suffixes, conversions, error class).
:data:`C_SPELLING` is the C backend's; :mod:`aotsym.emit_cuda.renderer` passes CUDA's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.errors import EmitError
from aotsym.emit_c.scalar_table import c_spelling

@dataclass
class ScalarCode:
    lines: list          # C declarations, in order
    outputs: list        # per output: (C expression, dtype)
    uses_ipow: bool      # a signed integer power: check the negative-exponent flag
    # Where a float power's base is loop-invariant (``invariant``): the same declarations with
    # those powers spelled exp(y log x) from a logarithm taken once, and per such power
    # (C expression of its base as double, names of the two parts of its logarithm): the
    # kernel runs these lines where every base passes aot_pow_log (runtime/aotsym_scalar.h)
    fast_lines: list | None = None
    pow_bases: list = field(default_factory=list)


def convert(expr: str, src: str, dst: str) -> str:
    """``expr`` (of dtype ``src``) as ``dst``, with NumPy's conversion rules."""
    if src == dst:
        return expr
    if dst == "bool":
        return f"(({expr}) != 0)"
    if D.kind(dst) in "iu" and D.kind(src) in "fc":
        real = f"creal{D.LIBM_SUFFIX.get(src, '')}({expr})" if D.kind(src) == "c" else expr
        return f"aot_f2i_{D.F2I[dst]}((double)({real}))"
    if src == "int64" and dst == "float64":
        return f"aot_i64_to_f64({expr})"      # (vectorizes: see runtime/aotsym_scalar.h)
    if D.kind(dst) == "f" and D.kind(src) == "c":
        return f"(({D.COMPUTE[dst]})creal{D.LIBM_SUFFIX.get(src, '')}({expr}))"
    return f"(({D.COMPUTE[dst]})({expr}))"


@dataclass(frozen=True)
class Spelling:
    """How one backend writes scalar code: its name in messages, ``spell(row, kind)`` (its
    table's template or None), the compute type and ``{f}`` suffix of each dtype,
    ``convert(expr, src, dst)`` and the error it raises for a gap."""
    backend: str
    spell: Callable
    compute: dict
    libm_suffix: dict
    convert: Callable
    error: type


C_SPELLING = Spelling("C", c_spelling, D.COMPUTE, D.LIBM_SUFFIX, convert, EmitError)


def expression(op_name, compute, out_dtype, args, where, spelling=C_SPELLING) -> str:
    """The expression of one scalar op on argument expressions already in ``compute``."""
    if op_name == "cast":
        return spelling.convert(args[0], compute[0], out_dtype)
    template = spelling.spell(op_name, D.kind(compute[-1]))
    if template is None:
        raise spelling.error(f"the {spelling.backend} backend has no implementation of "
                             f"{op_name} for {', '.join(compute)} operands", where)
    return template.format(*args, f=spelling.libm_suffix.get(compute[0], ""),
                           T=spelling.compute[out_dtype])


def elemwise_code(steps, program, input_exprs, input_dtypes, output_refs, where,
                  spelling=C_SPELLING, invariant=()) -> ScalarCode:
    """Declarations of a scalar program, in ``spelling`` (C unless given).

    ``steps``: per step ``(scalar_op, compute dtypes, out dtype)``; ``program``: per step
    ``(name, cast dtype, args)`` with refs ``('in', i)``, ``('step', j)``, ``('const', v, dt)``.
    ``invariant``: the inputs that hold one value for the whole loop (C only: a float power
    of such a base, or of a constant, gets the ``fast_lines`` spelling, :class:`ScalarCode`).
    """
    lines, fast, bases, step_dtypes = [], [], [], []
    uses_ipow = False
    for j, ((row, compute, out), (name, _cast, args)) in enumerate(zip(steps, program)):
        c_args = []
        for ref, want in zip(args, compute):
            if ref[0] == "in":
                expr, have = input_exprs[ref[1]], input_dtypes[ref[1]]
            elif ref[0] == "step":
                expr, have = f"t{ref[1]}", step_dtypes[ref[1]]
            else:
                expr, have = D.literal(ref[1], ref[2]), ref[2]
            c_args.append(spelling.convert(expr, have, want))
        expr = expression(name, compute, out, c_args, where, spelling)
        if name == "pow" and D.kind(compute[0]) == "i":
            uses_ipow = True
        lines.append(f"const {spelling.compute[out]} t{j} = {expr};")
        if (name == "pow" and (args[0][0] == "const" or (args[0][0] == "in"
                                                          and args[0][1] in invariant))
                and compute[0] in ("float32", "float64") and compute[1] == compute[0]):
            lh, ll = f"p{j}h", f"p{j}l"
            bases.append((f"(double)({c_args[0]})", lh, ll))
            expr = f"aot_pow_from_log((double)({c_args[1]}), {lh}, {ll})"
            if compute[0] == "float32":
                expr = f"(float){expr}"
        fast.append(f"const {spelling.compute[out]} t{j} = {expr};")
        step_dtypes.append(out)
    outputs = [(f"t{ref[1]}", step_dtypes[ref[1]]) for ref in output_refs]
    return ScalarCode(lines, outputs, uses_ipow, fast if bases else None, bases)
