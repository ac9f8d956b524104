"""Reductions: ``Reduce``, ``FusedReduce`` (an elementwise program reduced in the same loop)
and ``ArgReduce``.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  A reduction runs the
runtime's loop over the full input shape with the accumulator as operand 0, seen with stride
0 along the reduced dimensions (so the loop follows the input's memory order whatever the
axes): a row along a reduced dimension accumulates into one register (vectorized with
``#pragma omp simd`` where reassociation is allowed), a row along a kept dimension
accumulates elementwise.  Threads split only kept dimensions.

float32 (complex64) sums and products accumulate in float64 (complex128) and are rounded
once at the end, as the reference evaluator's docstring promises.  ``max``/``min`` propagate
NaN like NumPy and raise on an empty axis, like the reference.
"""

from __future__ import annotations

import numpy as np

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.elementwise import elementwise_kernel, work_estimate
from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.scalar_code import C_SPELLING, convert, elemwise_code
from aotsym.emit_c.templates import c_comment, c_string, render
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.graph.types import TensorType

_WIDER = {"float32": "float64", "complex64": "complex128"}


def accumulator_dtype(kind: str, out_dtype: str) -> str:
    return _WIDER.get(out_dtype, out_dtype) if kind in ("sum", "prod") else out_dtype


def identity(kind: str, dtype: str):
    k = D.kind(dtype)
    if kind in ("sum", "any"):
        return 0
    if kind in ("prod", "all"):
        return 1
    if k == "f":
        return -np.inf if kind == "max" else np.inf
    if k == "b":
        return 0 if kind == "max" else 1
    if k == "c":  # below (above) every complex number in NumPy's lexicographic order
        return complex(-np.inf, -np.inf) if kind == "max" else complex(np.inf, np.inf)
    info = np.iinfo(dtype)
    return info.min if kind == "max" else info.max


def combine(kind: str, dtype: str, where, spelling=C_SPELLING) -> str:
    """The accumulation ``a = combine(a, v)`` of a ``kind`` reduction in ``dtype`` (the
    C backend's, or ``spelling``'s: float max/min are its table's NaN-propagating
    ``maximum`` / ``minimum``)."""
    k = D.kind(dtype)
    if kind == "sum":
        return "a + v"
    if kind == "prod":
        return "a * v"
    if kind == "all":
        return "(a && v)"
    if kind == "any":
        return "(a || v)"
    if kind not in ("max", "min"):
        raise spelling.error(f"the {spelling.backend} backend has no {kind} reduction", where)
    if k == "c":  # NumPy's order: a NaN (in either part) wins, else (real, imag) compared
        if spelling is not C_SPELLING:
            raise spelling.error(f"the {spelling.backend} backend has no complex {kind} "
                                 "reduction", where)
        return (f"(a != a ? a : v != v ? v : {complex_better('v', 'a', kind == 'max')} "
                "? v : a)")
    if k == "f":
        return spelling.spell("maximum" if kind == "max" else "minimum", k).format("a", "v")
    return f"(v {'>' if kind == 'max' else '<'} a ? v : a)"


def complex_better(v: str, best: str, greater: bool) -> str:
    """C test that complex ``v`` is after (``greater``) or before ``best`` in NumPy's
    lexicographic order of complex numbers (neither holding a NaN)."""
    op = ">" if greater else "<"
    return (f"(__real__ {v} {op} __real__ {best} || (__real__ {v} == __real__ {best} && "
            f"__imag__ {v} {op} __imag__ {best}))")


def simd_pragma(kind: str, dtype: str) -> list:
    if kind in ("sum", "prod") and D.kind(dtype) in "iuf":
        return [f"#pragma omp simd reduction({'+' if kind == 'sum' else '*'}:a)"]
    return []


def lower_reduction(fe, node, pos, kind, axes, reduce_str, program, steps, in_types,
                    shape_lines, full_ndim):
    """Shared by Reduce (a one-step identity program) and FusedReduce."""
    out = node.outputs[0]
    out_ref = fe.ref(out)
    acc = accumulator_dtype(kind, out.dtype)
    value_dtype = steps[-1][2]
    names = [f"x{i}" for i in range(len(in_types))]
    code = elemwise_code(steps, program, names, [t.dtype for t in in_types],
                         [("step", len(steps) - 1)], node)
    expr, _ = code.outputs[0]
    body = code.lines + [f"const {D.COMPUTE[acc]} v = {convert(expr, value_dtype, acc)};"]
    scalars, arrays = [], []
    for i, t in enumerate(in_types):
        entry = {"name": names[i], "ctype": D.STORAGE[t.dtype], "op": 1 + i, "ptr": f"i{i}"}
        (scalars if all(t.broadcastable) else arrays).append(entry)
    contig = " && ".join(f"s[{x['op']}] == {D.itemsize(in_types[x['op'] - 1].dtype)}"
                         for x in arrays) or "1"
    kernel = fe.module.kernel(
        "reduce_kernel.c.j2", comment=c_comment(reduce_str), scalars=scalars, arrays=arrays,
        acc=D.STORAGE[acc], contig=contig, simd=simd_pragma(kind, acc), body=body,
        combine=combine(kind, acc, node))
    fill_kernel, _ = elementwise_kernel(
        fe.module, f"fill {acc} with {identity(kind, acc)}",
        [("identity", None, [("const", identity(kind, acc), acc)])],
        [(SCALAR_OPS["identity"], (acc,), acc)], [("step", 0)], [], [acc], node)
    cast_kernel = "NULL"
    if acc != out.dtype:
        cast_kernel, _ = elementwise_kernel(
            fe.module, f"cast {acc} to {out.dtype}", [("cast", out.dtype, [("in", 0)])],
            [(SCALAR_OPS["cast"], (acc,), out.dtype)], [("step", 0)],
            [TensorType(acc, (False,) * out.ndim)], [out.dtype], node)
    kept = [d for d in range(full_ndim) if d not in axes]
    view = []
    for d in range(full_ndim):
        if d in axes:
            view.append((d, ("1", "0")))
        else:
            j = kept.index(d)
            view.append((d, (f"acc.shape[{j}]", f"acc.strides[{j}]")))
    refs = ["&accv"] + [f"&{fe.ref(v)}" for v in node.inputs]
    order_op = next((1 + i for i, t in enumerate(in_types) if not all(t.broadcastable)), -1)
    full_task = ""
    if out.ndim == 0 and full_ndim >= 1:   # every dimension reduced: chunks over threads
        full_task = fe.module.kernel(
            "reduce_full_task.c.j2", comment=c_comment(reduce_str), acc=D.STORAGE[acc],
            nin=len(node.inputs), kernel=kernel, order_op=order_op)
    after = [f"if (aot_check_scalar_flags(ctx, {pos})) goto fail;"] if code.uses_ipow else []
    return render(
        "reduce_step.c.j2", pos=pos, full_alloc=max(1, full_ndim), shape_lines=shape_lines,
        axes=list(axes), check_empty=kind in ("max", "min"),
        empty_message=c_string(f"{reduce_str}: zero-size array to a {kind} reduction, "
                               "which has no identity"),
        kept=[(d, j) for j, d in enumerate(kept)], out=out_ref,
        acc_dims=max(1, 2 * out.ndim), separate_acc=acc != out.dtype, out_ndim=out.ndim,
        acc_itemsize=D.itemsize(acc), fill_kernel=fill_kernel, view_dims=max(1, 2 * full_ndim),
        full_ndim=full_ndim, view_dims_src=view, nops=len(refs), op_refs=", ".join(refs),
        kernel=kernel, work=work_estimate(program), order_op=order_op, cast_kernel=cast_kernel,
        after=after, full_task=full_task, acc_ctype=D.STORAGE[acc],
        combine=combine(kind, acc, node))


@lowers("Reduce")
def lower_reduce(fe, node, pos):
    op = node.op
    (x,) = node.inputs
    program = [("identity", None, [("in", 0)])]
    steps = [(SCALAR_OPS["identity"], (x.dtype,), x.dtype)]
    shape_lines = [f"full[{d}] = {fe.ref(x)}.shape[{d}];" for d in range(x.ndim)]
    return lower_reduction(fe, node, pos, op.kind, op.axis, str(op), program, steps,
                           [x.type], shape_lines, x.ndim)


@lowers("FusedReduce")
def lower_fused_reduce(fe, node, pos):
    op = node.op
    comp = op.composite
    steps = comp.steps([v.dtype for v in node.inputs])
    # the program's output step must be the last one: rename by appending an identity step
    program = list(comp.program) + [("identity", None, [comp.outputs[0]])]
    out_dtype = steps[comp.outputs[0][1]][2]
    steps = list(steps) + [(SCALAR_OPS["identity"], (out_dtype,), out_dtype)]
    ndim = node.inputs[0].ndim
    refs = ", ".join(f"&{fe.ref(v)}" for v in node.inputs)
    bcast = ", ".join(str(int(b)) for v in node.inputs for b in v.broadcastable) or "0"
    nbc = max(1, sum(v.ndim for v in node.inputs))
    shape_lines = [
        f"aot_array *ins[{len(node.inputs)}] = {{{refs}}};",
        f"static const unsigned char bc[{nbc}] = {{{bcast}}};",
        f"if (aot_broadcast_shape(ctx, {pos}, {c_string(str(comp))}, {len(node.inputs)}, "
        f"ins, bc, {ndim}, full)) goto fail;",
    ]
    return lower_reduction(fe, node, pos, op.kind, op.axis, str(op.reduce), program, steps,
                           [v.type for v in node.inputs], shape_lines, ndim)


@lowers("ArgReduce")
def lower_argreduce(fe, node, pos):
    op = node.op
    (x,) = node.inputs
    (out,) = node.outputs
    k = D.kind(x.dtype)
    # floats and complex: the first NaN wins (NumPy); a NaN at position 0 ends the scan at
    # once; complex numbers are ordered by (real, imag)
    checks = ["if (v != v) {", "    at = j;", "    break;", "}"] if k in "fc" else []
    cmp = ">" if op.kind == "argmax" else "<"
    kernel = fe.module.kernel(
        "argreduce_kernel.c.j2", comment=c_comment(f"{op.kind} {x.dtype}"),
        ctype=D.STORAGE[x.dtype], checks=checks,
        better=complex_better("v", "best", cmp == ">") if k == "c" else f"v {cmp} best",
        first="(best == best) ? 1 : ax->len" if k in "fc" else "1")
    src = fe.ref(x)
    message = c_string(f"{op.kind} of an empty sequence")
    if op.axis is None:
        return render("argreduce_flat_step.c.j2", pos=pos, src=src, out=fe.ref(out),
                      kernel=kernel, src_dims=max(1, 2 * x.ndim), src_ndim=x.ndim,
                      message=message)
    kept = [d for d in range(x.ndim) if d != op.axis]
    return render(
        "argreduce_axis_step.c.j2", pos=pos, src=src, out=fe.ref(out), kernel=kernel,
        axis=op.axis, out_ndim=out.ndim, view_dims=max(1, 2 * out.ndim),
        out_dims=[(j, f"{src}.shape[{d}]") for j, d in enumerate(kept)],
        in_dims=[(j, f"{src}.shape[{d}]", f"{src}.strides[{d}]") for j, d in enumerate(kept)],
        message=message)
