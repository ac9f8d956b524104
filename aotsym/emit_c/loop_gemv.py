"""Loops: a carried state whose step ends in ``f(Gemv(...))``, computed straight into its row.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build), a helper of the LOOP
renderer (:mod:`.loops`).  The step of an RNN, ``h_t = tanh(W·h_{t-1} + x_t)``, lowers to a
body of two steps whose result the loop then copies into the state's row::

    2.0.0  Gemv(x_t, 1, W, h, 1) -> v10=alloc           (a pool block per step, x_t copied in)
    2.0.1  Elemwise{tanh}(v10)   -> v11=inplace of v10   (the row through aot_loop_arrays)
           aot_rows_store(state 0, row t + 1, v11)       (a check and a copy per step)

When the state keeps every row (its row ``t + depth`` is a fresh buffer no value of the body
lives in, and no step of this iteration reads it), both steps write that row instead::

    if (the plain case: alpha != 0; y, A, x agree and make a row of the state's length; f's
        other operands have that length too, or are broadcastable by their type) {
        row <- x_t; row <- W @ h + row          (aot_gemv_into: the same BLAS call)
        row <- tanh(row)                        (the same elementwise kernel, in place)
    } else {
        the two steps as they are, then aot_rows_store   (every error message unchanged)
    }

Same values, bit for bit: the same product into a buffer of the same shape, then the same
kernel over the same operands (only the buffer they live in changes).  The case is decided
from the lowered program (:func:`find_row_gemvs`): the Gemv's output is read by the
elementwise step alone; the steps between the two (a row view, a broadcast) write over none
of the Gemv's inputs, so it runs just before the elementwise step; the elementwise step's
one output is the state's new value, which no step reads and no other body output is;
vectors of float32 or float64, one dtype.  Anything else -- a ring state (``keep``), a
mapped output, a profile build (whose counters time each node) -- keeps the steps as they
are.  ``alpha`` 0 takes the generic steps too (the Gemv step's own spelling of that case).

The Gemv's call (``aot_gemv_into``, runtime/aotsym_loops.c) is a function of the runtime,
not inlined into the generated function: inlined there, the small-gemv kernel's eight
accumulators were spilled to the stack on every iteration (W4's RNN: 9,460 instructions a
step in the generated function against 6,750 in the runtime's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.blas import _PREFIX, _scalar
from aotsym.emit_c.elementwise import elementwise_kernel, elemwise_program
from aotsym.emit_c.templates import c_comment
from aotsym.optimizer.program import APPLY, INPLACE

_EPILOGUE_OPS = ("Elemwise", "Composite")


@dataclass(frozen=True)
class RowGemv:
    """State ``state`` (taps ``depth`` rows deep) gets as its new value the output of step
    ``epilogue_at`` (``epilogue``, elementwise) of the output of step ``at`` (``gemv``); the
    steps between read neither and write over none of the Gemv's inputs, so the Gemv runs
    just before the elementwise step."""
    state: int
    depth: int
    at: int
    epilogue_at: int
    gemv: object
    epilogue: object


def _readers(body) -> dict:
    """slot -> how many times a step of ``body`` reads it (nested bodies included)."""
    count: dict = {}
    for step in body.walk():
        for s in step.inputs:
            count[s] = count.get(s, 0) + 1
    return count


def find_row_gemvs(body, params) -> dict:
    """``{state index: RowGemv}``: the states of a LOOP step (``params``, its layout) whose
    new value ``body`` computes as an elementwise function of a Gemv (module docstring)."""
    if body.commits:
        return {}
    readers = _readers(body)
    handed = [h.slot for h in body.outputs]
    at_of = {step.outputs[0].slot: i for i, step in enumerate(body.steps)
             if step.kind == APPLY and len(step.outputs) == 1}
    found = {}
    for j, st in enumerate(params["states"]):
        if st["keep"] is not None or st["output"] is None:
            continue          # a ring of values (loops.py rotates them, no copy)
        value = body.outputs[st["inner_output"]].slot
        e = at_of.get(value)
        if e is None or e == 0 or handed.count(value) != 1 or readers.get(value):
            continue
        epilogue = body.steps[e]
        if type(epilogue.node.op).__name__ not in _EPILOGUE_OPS:
            continue
        at = _gemv_read_by(body, epilogue, e, readers, handed)
        if at is None:
            continue
        gemv = body.steps[at]
        out, prod = epilogue.node.outputs[0], gemv.node.outputs[0]
        if out.ndim != 1 or prod.ndim != 1 or out.dtype != prod.dtype or \
                out.dtype not in _PREFIX or any(v.ndim > 1 for v in epilogue.node.inputs):
            continue
        found[j] = RowGemv(j, st["depth"], at, e, gemv, epilogue)
    return found


def _gemv_read_by(body, epilogue, e, readers, handed):
    """The position of the Gemv step whose output ``epilogue`` (step ``e``) alone reads, if
    it can run right before ``epilogue``: the steps between are plain steps that write over
    none of its inputs' buffers (an in-place write granted after the Gemv's last read)."""
    for at in range(e - 1, -1, -1):
        step = body.steps[at]
        if step.kind != APPLY:
            return None
        if type(step.node.op).__name__ != "Gemv" or step.outputs[0].slot not in epilogue.inputs:
            continue
        g = step.outputs[0].slot
        reads = sum(1 for s in epilogue.inputs if s == g)
        if readers.get(g) != reads or g in handed:
            return None       # the product is read by the elementwise step alone
        roots = {body.slots[s].root for s in step.inputs}
        for between in body.steps[at + 1:e]:
            for plan in between.outputs:
                if plan.storage == INPLACE and \
                        body.slots[between.inputs[plan.source]].root in roots:
                    return None
        return at
    return None


def _program(node):
    """(program, steps, output refs) of an Elemwise or a Composite (as elementwise.py)."""
    dtypes = [v.dtype for v in node.inputs]
    if type(node.op).__name__ == "Elemwise":
        return elemwise_program(node.op, dtypes)
    return node.op.program, node.op.steps(dtypes), node.op.outputs


def render_row_gemv(fe, body, plan: RowGemv, rows: str, row_index: str, flag: str) -> list:
    """C lines computing ``plan``'s state into row ``row_index`` of the rows ``rows``
    (an ``aot_rows``) when the shapes are the plain case, else running the two steps as
    they are; ``flag`` (declared here) tells the store whether the row is written."""
    gemv, epilogue = plan.gemv, plan.epilogue
    outer, fe.current = fe.current, body     # (fe.ref reads the body's slots)
    try:
        z, _, a, x, _ = (fe.ref(v) for v in gemv.node.inputs)
        node = epilogue.node
        out = node.outputs[0]
        ct = D.STORAGE[out.dtype]
        alpha, beta = (_scalar(fe, gemv.node.inputs[i], ct) for i in (1, 4))
        size = D.itemsize(out.dtype)
        program, steps, refs = _program(node)
        kernel, code = elementwise_kernel(
            fe.module, str(node.op), program, steps, refs, [v.type for v in node.inputs],
            [out.dtype], node, restrict=False)     # (its output is its input's row)
        g = gemv.outputs[0].slot
        length = f"{rows}.buf->shape[1]"
        plain = [f"{alpha} != 0", f"{a}.shape[0] == {length}", f"{a}.shape[1] == {x}.shape[0]",
                 f"{z}.shape[0] == {length}"]
        ptrs, strides = ["row.data"], [f"{length} == 1 ? 0 : {size}"]
        for s, v in zip(epilogue.inputs, node.inputs):
            if s == g:
                ptrs.append("row.data")
                strides.append(f"{length} == 1 ? 0 : {size}")
                continue
            r = fe.ref(v)
            ptrs.append(f"{r}.data")
            if all(v.broadcastable):      # (a 0-d value, or one of length 1 by its type)
                strides.append("0")
                continue
            plain.append(f"{r}.shape[0] == {length}")   # (else the step's broadcast error)
            strides.append(f"{length} == 1 ? 0 : {r}.strides[0]")
        generic = fe.render_body(replace(body, steps=[gemv, epilogue]))
    finally:
        fe.current = outer
    gpos, epos = gemv.id.number, epilogue.id.number
    nops = len(ptrs)
    fast = [
        "int64_t row_dims[2];",
        f"aot_array row = *{rows}.buf;",
        "row.shape = row_dims;",
        "row.strides = row_dims + 1;",
        "row.ndim = 1;",
        f"aot_row_view(&row, {rows}.buf, aot_rows_at(&{rows}, {row_index}));",
        f"if (aot_gemv_into(ctx, {gpos}, &row, &{z}, &{a}, &{x}, {alpha}, {beta})) goto fail;",
        f"char *p_[{nops}] = {{{', '.join(ptrs)}}};",
        f"const int64_t s_[{nops}] = {{{', '.join(strides)}}};",
        f"{kernel}(p_, s_, {length}, NULL);",
    ]
    if code.uses_ipow:
        fast.append(f"if (aot_check_scalar_flags(ctx, {epos})) goto fail;")
    fast += [f"aot_release(&v[{s}]);" for s in dict.fromkeys(gemv.release + epilogue.release)
             if s not in (g, epilogue.outputs[0].slot)]
    what = c_comment(f"{gemv.id}-{epilogue.id.path[-1]}: {gemv.node.op} then {node.op}, "
                     f"into the row of state {plan.state}")
    lines = [f"    /* {what} */",
             f"    int {flag} = {' && '.join(plain)};",
             f"    if ({flag}) {{"]
    lines += [f"        {line}" for line in fast]
    lines += ["    } else {"]
    lines += ["    " + line.replace("\n", "\n    ") for line in generic]
    lines += ["    }"]
    return lines

