"""Loops: the C of a structured LOOP step (``scan``), its step graph emitted inline.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  The lowered program gives
the loop as a LOOP step whose one body is the step graph's program and whose ``params`` are
the op's layout (:meth:`aotsym.graph.ops.scan.Scan.structured_params`); this module spells it
as one C ``for`` loop in the function's frame — no Python and no call per step:

* before the loop: ``n_steps`` is read and checked, every sequence is checked to have at
  least ``n_steps`` rows and every state's initial value ``depth`` rows (the reference's
  messages); each state gets its row buffer (runtime/aotsym_loops.c), its initial rows
  copied in first;
* step ``t``: the body's inputs are bound as views without copies — row ``t`` of each
  sequence, row ``t + depth + tap`` of each state's buffer (the non-sequences, the same every
  step, once before the loop) — the body's steps run, its new states and mapped rows are
  stored at rows ``t + depth`` and ``t`` (a step returning another shape is an error naming
  the step), what the body still holds is released, and a true ``until`` condition ends the
  loop after this step's writes.  A state whose new value is an elementwise function of a
  ``Gemv`` (an RNN's ``tanh(W·h + x_t)``) is computed straight into its row, no pool block
  and no copy per step (:mod:`.loop_gemv`);
* after the loop: each output is handed over — the buffer itself when it keeps every row
  (no copy), the last ``keep`` rows in order when the optimizer found that only those are read.
  Such a state (and a ``hidden`` one, no outer node reads) lives in a ring of
  ``max(depth, keep)`` values, each owning its buffer: a step's new value takes over the buffer
  it was computed in (a rotation, no copy per step); the memory does not grow with the number
  of steps.  A kept mapped output keeps a ring of ``keep`` rows.

Mapped outputs get their buffer after step 0 (their row shape is the first row's); with no
step at all they are empty, their row shape 1 where the type is broadcastable, else 0, as the
reference evaluator makes them.
"""

from __future__ import annotations

from dataclasses import replace

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import EmitError, renders_structured
from aotsym.emit_c.loop_gemv import find_row_gemvs, render_row_gemv
from aotsym.emit_c.templates import c_string
from aotsym.optimizer.program import LOOP


def _label(op, kind, k) -> str:
    label = getattr(op, "_label", None)
    return label(kind, k) if label is not None else f"{kind} {k}"


def _truth(fe, var, slot) -> str:
    """A C expression: the scalar in ``v[slot]`` is true (nonzero)."""
    kind = D.kind(var.dtype)
    if kind == "c":
        raise EmitError(f"the loop's until condition is complex ({var.dtype}); use a real "
                        "or boolean scalar")
    return f"(*(const {D.STORAGE[var.dtype]} *)v[{slot}].data != 0)"


@renders_structured(LOOP)
def render_loop(fe, step) -> str:
    node, p = step.node, step.params
    (body,) = step.body
    op = node.op
    k = step.id.number
    n, t, run, rc = f"n_{k}", f"t_{k}", f"n_run_{k}", f"rc_{k}"
    ins = step.inputs
    out_slot = {j: plan.slot for j, plan in enumerate(step.outputs)}
    lines = [f"int {rc} = 0;",
             f"int64_t {n} = aot_read_int(&v[{ins[p['n_steps']]}], 1);",
             f"if ({n} < 0) {rc} = aot_fail(ctx, {k}, AOT_ERR_VALUE, \"scan: n_steps is %lld; "
             f"it must be >= 0\", (long long){n});"]
    for s, seq in enumerate(p["sequences"]):
        x = ins[seq["input"]]
        message = c_string(f"scan: {_label(op, 'sequence', s)} has %lld rows, fewer than the "
                           "%lld steps to run (n_steps); pass a longer sequence or a smaller "
                           "n_steps")
        lines.append(f"if (!{rc} && v[{x}].shape[0] < {n}) {rc} = aot_fail(ctx, {k}, "
                     f"AOT_ERR_VALUE, {message}, (long long)v[{x}].shape[0], (long long){n});")
    states = []
    for j, st in enumerate(p["states"]):
        init = node.inputs[st["input"]]
        what = _label(op, "state", j)
        name = f"st{j}_{k}"
        ring = st["keep"] is not None or st["output"] is None
        depth = st["depth"]
        if ring:   # only the last rows are read: a ring of values, rotated, not copied
            capacity = max(depth, st["keep"] or 0)
            held = [fe.scratch(init.ndim - 1, init.dtype) for _ in range(capacity)]
            base = int(held[0][2:-1])     # "v[i]": the ring's slots are consecutive
            x = ins[st["input"]]
            message = c_string(f"scan: the initial value of {what} has %lld rows; its taps "
                               f"{list(st['taps'])} need {depth}")
            lines += [f"if (!{rc} && v[{x}].shape[0] != {depth}) {rc} = aot_fail(ctx, {k}, "
                      f"AOT_ERR_VALUE, {message}, (long long)v[{x}].shape[0]);"]
            # (every slot gets the row's shape; only the first depth are read before written)
            lines += [f"if (!{rc}) aot_row_view(&{h}, &v[{x}], {min(i, depth - 1)});"
                      for i, h in enumerate(held)]
            states.append((st, None, what, (base, capacity)))
            continue
        buf = fe.scratch(init.ndim, init.dtype)
        capacity = f"{max(depth, st['keep'] or 0)}" if ring else f"{depth} + {n}"
        x = ins[st["input"]]
        message = c_string(f"scan: the initial value of {what} has %lld rows; its taps "
                           f"{list(st['taps'])} need {depth}")
        lines += [
            f"if (!{rc} && v[{x}].shape[0] != {depth}) {rc} = aot_fail(ctx, {k}, "
            f"AOT_ERR_VALUE, {message}, (long long)v[{x}].shape[0]);",
            f"aot_rows {name} = {{&{buf}, 0, 0}};",
            f"if (!{rc}) {rc} = aot_rows_alloc(ctx, {k}, &{name}, {capacity}, "
            f"v[{x}].shape + 1, {int(ring)});",
            f"if (!{rc}) aot_rows_init(&{name}, &v[{x}]);",
        ]
        states.append((st, name, what, None))
    mapped = []
    for j, mp in enumerate(p["mapped"]):
        out = node.outputs[mp["output"]]
        buf = fe.scratch(out.ndim, out.dtype)
        name = f"mp{j}_{k}"
        empty = ", ".join("1" if b else "0" for b in out.broadcastable[1:]) or "0"
        lines += [f"aot_rows {name} = {{&{buf}, 0, 0}};",
                  f"static const int64_t {name}_empty[{max(1, out.ndim - 1)}] = {{{empty}}};",
                  f"if (!{rc} && {n} == 0) {rc} = aot_rows_alloc(ctx, {k}, &{name}, 0, "
                  f"{name}_empty, 0);"]
        mapped.append((mp, name, _label(op, "output", mp["output"])))
    lines += [f"if ({rc}) goto fail;", f"int64_t {run} = {n};"]
    # the non-sequences are the same every step: bound once (borrowed, never written over)
    lines += [f"aot_set_input(&v[{body.inputs[ns['inner_input']]}], &v[{ins[ns['input']]}]);"
              for ns in p["non_sequences"]]
    lines.append(f"for (int64_t {t} = 0; {t} < {n}; {t}++) {{")
    loop = []
    for seq in p["sequences"]:
        loop.append(f"aot_row_view(&v[{body.inputs[seq['inner_input']]}], "
                    f"&v[{ins[seq['input']]}], {t});")
    for st, name, _, held in states:
        for tap, inner in zip(st["taps"], st["inner_inputs"]):
            if held is not None:
                base, cap = held
                loop.append(f"aot_set_input(&v[{body.inputs[inner]}], "
                            f"&v[{base} + ({t} + {st['depth'] + tap}) % {cap}]);")
                continue
            loop.append(f"aot_row_view(&v[{body.inputs[inner]}], {name}.buf, "
                        f"aot_rows_at(&{name}, {t} + {st['depth'] + tap}));")
    loop += [line.strip() for line in fe.profile_body_lines(step, 0, body)]  # iterations
    in_row = {} if fe.module.profile else find_row_gemvs(body, p)
    body_steps = _render_body(fe, body, k, t, in_row, {j: name for j, (_, name, _, _)
                                                       in enumerate(states)})
    stores = []
    for mp, name, _ in mapped:   # a mapped output's rows take the shape of step 0's
        capacity, ring = (str(mp["keep"]), 1) if mp["keep"] is not None else (n, 0)
        value = body.outputs[mp["inner_output"]].slot
        stores.append(f"if ({t} == 0 && aot_rows_alloc(ctx, {k}, &{name}, {capacity}, "
                      f"v[{value}].shape, {ring})) goto fail;")
    for j, (st, name, what, held) in enumerate(states):
        value = body.outputs[st["inner_output"]].slot
        if held is not None:
            base, cap = held
            stores.append(f"if (aot_carry(ctx, {k}, {c_string(what)}, "
                          f"&v[{base} + ({t} + {st['depth']}) % {cap}], &v[{value}], {t})) "
                          "goto fail;")
            continue
        written = f"!in_row{j}_{k} && " if j in in_row else ""   # (computed in its row)
        stores.append(f"if ({written}aot_rows_store(ctx, {k}, {c_string(what)}, &{name}, "
                      f"{t} + {st['depth']}, &v[{value}], {t})) goto fail;")
    for mp, name, what in mapped:
        value = body.outputs[mp["inner_output"]].slot
        stores.append(f"if (aot_rows_store(ctx, {k}, {c_string(what)}, &{name}, {t}, "
                      f"&v[{value}], {t})) goto fail;")
    stop = []
    if p["until"] is not None:
        handover = body.outputs[p["until"]]
        cond = op.inner.outputs[p["until"]]
        stop = [f"int stop_{k} = {_truth(fe, cond, handover.slot)};"]
    releases = [f"aot_release(&v[{s}]);" for s in fe.body_held(body)]
    ending = [f"if (stop_{k}) {{", f"    {run} = {t} + 1;", "    break;", "}"] if stop else []
    inner_text = ["    " + line for line in loop] + body_steps + \
        ["    " + line for line in stores + stop + releases + ending]
    lines = ["    " + line for line in lines] + inner_text + ["    }"]
    after = []
    for st, name, _, held in states:
        if held is not None:
            if st["output"] is not None:
                base, cap = held
                total = f"({st['depth']} + {run})"
                count = f"({total} < {st['keep']} ? {total} : {st['keep']})"
                after.append(f"if (aot_carry_hand_over(ctx, {k}, &v[{base}], {cap}, "
                             f"{total} - {count}, {count}, &v[{out_slot[st['output']]}])) "
                             "goto fail;")
            continue
        if st["output"] is None:
            after.append(f"aot_release({name}.buf);")
            continue
        total = f"({st['depth']} + {run})"
        after += _hand_over(k, name, total, st["keep"], out_slot[st["output"]])
    for mp, name, _ in mapped:
        after += _hand_over(k, name, run, mp["keep"], out_slot[mp["output"]])
    lines += ["    " + line for line in after]
    return "\n".join(lines)


def _render_body(fe, body, k, t, in_row, rows) -> list:
    """The body's steps, those of each state in ``in_row`` (:func:`find_row_gemvs`) spelled
    by :mod:`.loop_gemv` (the Gemv moved to just before its elementwise step) to write the
    state's row ``t + depth`` themselves."""
    if not in_row:
        return fe.render_body(body)
    moved = {plan.at for plan in in_row.values()}
    fused = {plan.epilogue_at: plan for plan in in_row.values()}
    out, run = [], []
    for i, step in enumerate(body.steps):
        if i in moved:
            continue
        plan = fused.get(i)
        if plan is None:
            run.append(step)
            continue
        if run:
            out += fe.render_body(replace(body, steps=run))
            run = []
        out += render_row_gemv(fe, body, plan, rows[plan.state], f"{t} + {plan.depth}",
                               f"in_row{plan.state}_{k}")
    if run:
        out += fe.render_body(replace(body, steps=run))
    return out


def _hand_over(k, name, total, keep, slot) -> list:
    count = total if keep is None else f"({total} < {keep} ? {total} : {keep})"
    return ["{",
            f"    int64_t count = {count};",
            f"    if (aot_rows_hand_over(ctx, {k}, &{name}, {total} - count, count, "
            f"&v[{slot}])) goto fail;",
            "}"]
