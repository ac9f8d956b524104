"""Control flow in C: the structured BRANCH step (``ifelse``) as a C ``if``.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  The lowering
(:mod:`aotsym.optimizer.lower`) made an ``IfElse`` node a BRANCH step holding one nested
program per branch, in the same frame, and the op's layout in ``step.params``
(:meth:`aotsym.graph.ops.ifelse.IfElse.structured_params`): ``condition``, the step input
read as the condition, and ``body_inputs``, per body the step input each body input is bound
to.  The renderer spells it and decides nothing::

    if (aot_read_int(&v[c], signed) != 0) {      /* the condition, read once */
        aot_set_input(&v[p0], &v[a]); ...        /* body 0's inputs borrow the values */
        ... body 0's steps ...
        aot_output_move/copy(ctx, &v[out], &v[r]) /* handed over to the step's outputs */
        aot_release(&v[...]); ...                /* what body 0 still holds */
    } else {
        ... the same with body 1 ...
    }

Only the taken body runs: the other's steps, allocations and failures never happen.  A body's
inputs are borrowed (no reference, never written over: the lowering grants a body in-place
writes only over its own intermediates), so neither branch can clobber the outer values.
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import renders_structured
from aotsym.emit_c.errors import EmitError
from aotsym.optimizer.program import BRANCH


def _run_body(fe, step, k, bound) -> list:
    """Bind body ``k``'s inputs to the step inputs at ``bound``, run it (counted in a profile
    build: how often each branch ran), hand its outputs over to the step's outputs and
    release what it holds."""
    body = step.body[k]
    lines = [f"aot_set_input(&v[{b}], &v[{step.inputs[i]}]);"
             for b, i in zip(body.inputs, bound)]
    lines += [line.strip() for line in fe.profile_body_lines(step, k, body)]
    lines += fe.render_body(body)
    lines += [f"if (aot_output_{h.how}(ctx, &v[{plan.slot}], &v[{h.slot}])) goto fail;"
              for h, plan in zip(body.outputs, step.outputs)]
    lines += [f"aot_release(&v[{s}]);" for s in fe.body_held(body)]
    return lines


def _indent(lines, prefix="    ") -> list:
    return ["\n".join(prefix + part if part.strip() else part for part in line.split("\n"))
            for line in lines]


@renders_structured(BRANCH)
def render_branch(fe, step) -> str:
    """A BRANCH step (module docstring): ``if (condition) { body 0 } else { body 1 }``."""
    if len(step.body) != 2:
        raise EmitError(f"the C backend cannot render {step.node.op}: a branch with "
                        f"{len(step.body)} bodies", step.node)
    cond_at = step.params["condition"]
    cond = step.node.inputs[cond_at]
    signed = int(D.kind(cond.dtype) != "u")
    lines = [f"    if (aot_read_int(&v[{step.inputs[cond_at]}], {signed}) != 0) {{"]
    for b, bound in enumerate(step.params["body_inputs"]):
        if b:
            lines.append("    } else {")
        lines += _indent(_indent(_run_body(fe, step, b, bound)))
    lines.append("    }")
    return "\n".join(lines)
