"""Structured steps in CUDA host code: ``ifelse`` (BRANCH) and ``OpFromGraph`` (BLOCK).

Part of the CUDA renderer (graph -> optimizer -> **emit_cuda** -> build).  The lowering
(:mod:`aotsym.optimizer.lower`) made the op a structured step holding nested programs in the
function's frame, as for the C backend (:mod:`aotsym.emit_c.control` spells the same steps in
C); the renderer spells them and decides nothing::

    int64_t cond;                                  /* BRANCH: the condition, read once */
    if (aot_cu_host_int(err, step, &v[c], 0, &cond)) goto fail;
    if (cond != 0) {
        aot_cu_set_input(&v[p0], &v[a]); ...       /* the body's inputs borrow the values */
        ... body 0's steps (kernel launches) ...
        aot_cu_output_move(&v[out], &v[r]);        /* or _copy: handed over to the outputs */
        aot_cu_release(&v[...]); ...               /* what body 0 still holds */
    } else {
        ... body 1, the same way ...
    }

The condition is a 0-d bool on the device (the op casts any condition to bool): one
synchronizing copy of one byte, unless the host knows it already (a shape's length).  Only
the taken body launches anything.  A body's inputs are borrowed (no reference, never written
over: the lowering grants a body in-place writes only over its own intermediates), so
neither branch can clobber the values outside it.  A BLOCK is one body, run once, inline.
"""

from __future__ import annotations

from aotsym.emit_cuda.renderer import STRUCTURED_RENDERERS, CudaEmitError
from aotsym.emit_cuda.shapes import host_int
from aotsym.optimizer.program import BLOCK, BRANCH


def _run_body(fe, step, body, bound) -> list:
    """Bind ``body``'s inputs to the step inputs at positions ``bound``, run its steps, hand
    its outputs over to the step's outputs, release what it still holds."""
    lines = [f"aot_cu_set_input(&v[{b}], &v[{step.inputs[i]}]);"
             for b, i in zip(body.inputs, bound)]
    lines += fe.render_body(body)
    for h, plan in zip(body.outputs, step.outputs):
        if h.how == "move":
            lines.append(f"aot_cu_output_move(&v[{plan.slot}], &v[{h.slot}]);")
        else:
            nd = max(1, fe.top.slots[h.slot].ndim)
            lines.append(f"if (aot_cu_output_copy<{nd}>(err, step, &v[{plan.slot}], "
                         f"&v[{h.slot}])) goto fail;")
    lines += [f"aot_cu_release(&v[{s}]);" for s in fe.body_held(body)]
    return lines


def _indent(lines) -> list:
    return ["\n".join("    " + part if part.strip() else part for part in line.split("\n"))
            for line in lines]


def render_branch(fe, step) -> list:
    """``if (condition) { body 0 } else { body 1 }`` (module docstring)."""
    if len(step.body) != 2:
        raise CudaEmitError(f"the CUDA backend cannot render {step.node.op}: a branch with "
                            f"{len(step.body)} bodies", step.node)
    cond = step.node.inputs[step.params["condition"]]
    lines = ["int64_t cond = 0;"] + host_int(fe, cond, "cond") + ["if (cond != 0) {"]
    for b, bound in enumerate(step.params["body_inputs"]):
        if b:
            lines.append("} else {")
        lines += _indent(_run_body(fe, step, step.body[b], bound))
    return lines + ["}"]


def render_block(fe, step) -> list:
    """One body run once, inline (an ``OpFromGraph``)."""
    if len(step.body) != 1:
        raise CudaEmitError(f"the CUDA backend cannot render {step.node.op}: a block with "
                            f"{len(step.body)} bodies", step.node)
    return _run_body(fe, step, step.body[0], range(len(step.inputs)))


STRUCTURED_RENDERERS[BRANCH] = render_branch
STRUCTURED_RENDERERS[BLOCK] = render_block
