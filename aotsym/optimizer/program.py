"""The lowered program: what the optimizer hands to the emitters, as plain data.

Part of the optimizer (frontend -> graph -> **optimizer** -> emit_c / emit_cuda -> build).
:func:`aotsym.optimizer.lower.lower_program` makes it from an optimized FunctionGraph; the C
renderer (:mod:`aotsym.emit_c`) and, later, the CUDA renderer spell it.  Every decision is
here, made once; a renderer decides none of them:

* **slots** — every value the function holds is one :class:`Slot`: the arguments, the
  constants, every node output.  ``slot.root`` is the slot whose buffer it lives in (itself
  for an argument, a constant or a fresh buffer; the viewed or overwritten input's root for
  a view or an in-place result): the one alias analysis of a compiled function.
* **storage per output** — :class:`OutputPlan`: ``alloc`` (a fresh buffer), ``view`` (the
  op's ``view_map``: new shape and strides over input ``source``'s buffer) or ``inplace``
  (the op's ``destroy_map``, granted only where that buffer is an intermediate no later step
  reads; an in-place op whose write is not granted gets a fresh buffer — same result).
* **liveness** — ``step.release``: the slots whose last reader is that step; their reference
  is dropped right after it (a view holds its own reference, so a buffer lives as long as
  any view of it; the runtime's pool hands freed memory to the next allocation of its size).
* **state writes** — a BLAS op writing a shared variable's update over that variable's own
  buffer (the optimizer's state rule, :mod:`aotsym.optimizer.inplace`) is split: its
  ``prepare`` step (every check and allocation, which can fail) runs with the others, and
  its ``commit`` step (the write, which cannot fail) runs in ``program.commits`` after the
  outputs are handed over.  ``program.outputs[j].state_arg`` says which argument's buffer
  output ``j`` may be (the run-time test that the argument may be written is the renderer's
  spelling of this decision).
* **outputs** — :class:`Handover`: ``move`` a fresh buffer to the caller, or ``copy`` (the
  output is an argument, a constant, or shares a buffer with an earlier output).
* **step ids** — :class:`StepId`: a hierarchical ``path`` (``(4,)``; a step nested in a
  structured step's body ``k`` gets ``(4, k, j)``) and a flat ``number``, the one integer
  run-time errors and profile counters use; ``program.step_nodes[number]`` is the node a
  failure is reported against.

Structured steps (``kind`` in :data:`STRUCTURED`) hold nested programs in ``body``, one per
inner graph of their op (:mod:`aotsym.graph.inner`), lowered into the same frame: BLOCK (a
sub-graph emitted inline), BRANCH (one body per branch, only the taken one runs) and LOOP (a
body run per iteration).  The op names its kind (``structured_kind``) and describes what its
bodies need — which inputs are the condition, the sequences, the carried states — as plain
data (``structured_params(node)`` -> ``step.params``); the renderer spells that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Step kinds
APPLY = "apply"        # one node, run in place in the schedule
PREPARE = "prepare"    # a state write's first half: checks and buffers (may fail)
COMMIT = "commit"      # its second half: the write, after the outputs are handed over
# Structured steps hold nested programs (``body``); the op holding the inner graphs says
# which kind it is (``op.structured_kind``, default BLOCK) and what its bodies need
# (``op.structured_params(node)``, plain data kept in ``step.params``):
BLOCK = "block"        # one body run once, inline (OpFromGraph)
BRANCH = "branch"      # one body per branch, only the taken one runs (ifelse)
LOOP = "loop"          # one body run once per iteration (scan)
STRUCTURED = (BLOCK, BRANCH, LOOP)

# Storage of a step's output
ALLOC, VIEW, INPLACE = "alloc", "view", "inplace"

# Roles of a slot
INPUT, CONSTANT, NODE = "input", "const", "node"


@dataclass(frozen=True)
class StepId:
    """``path``: where the step sits (nested steps extend their parent's path);
    ``number``: its flat index, the id of run-time errors and profile counters."""
    path: tuple
    number: int

    def __str__(self):
        return ".".join(map(str, self.path))


@dataclass
class Slot:
    index: int
    var: object            # the graph Variable
    role: str              # INPUT, CONSTANT or NODE
    root: int              # the slot owning the buffer this value lives in

    @property
    def dtype(self) -> str:
        return self.var.dtype

    @property
    def ndim(self) -> int:
        return self.var.ndim


@dataclass(frozen=True)
class OutputPlan:
    slot: int
    storage: str           # ALLOC, VIEW or INPLACE
    source: int | None     # the node input position a VIEW/INPLACE output lives in


@dataclass
class Step:
    id: StepId
    kind: str
    node: object                       # the Apply node (None for none)
    inputs: tuple                      # slot per node input
    outputs: tuple                     # OutputPlan per node output
    release: tuple = ()                # slots dropped after this step
    state_arg: int | None = None       # PREPARE/COMMIT: the argument written over
    body: tuple = ()                   # structured steps: nested Programs
    params: dict = field(default_factory=dict)   # structured steps: the op's layout data

    def inplace(self) -> dict:
        """``{output index: input index}`` of the in-place writes granted to this step."""
        return {j: o.source for j, o in enumerate(self.outputs) if o.storage == INPLACE}

    def writes_inplace(self, output_index: int = 0) -> bool:
        return self.outputs[output_index].storage == INPLACE


@dataclass(frozen=True)
class Handover:
    slot: int
    how: str               # "move" (a fresh buffer the caller takes) or "copy"
    state_arg: int         # the argument whose buffer a state write may have made it, or -1


@dataclass
class Program:
    """One function's lowered program (see the module docstring)."""
    fgraph: object
    slots: list
    inputs: list                     # slot per argument
    steps: list                      # in order; PREPARE steps last
    outputs: list                    # Handover per graph output
    commits: list                    # COMMIT steps, run after the outputs are handed over
    step_nodes: list                 # per step number, the node it runs
    slot_of: dict = field(repr=False, default_factory=dict)   # id(var) -> slot index

    def slot(self, var) -> Slot:
        return self.slots[self.slot_of[id(var)]]

    @property
    def n_step_ids(self) -> int:
        return len(self.step_nodes)

    def walk(self):
        """Every step, nested ones included, depth first (commits last)."""
        stack = list(reversed(self.steps + self.commits))
        while stack:
            step = stack.pop()
            yield step
            for body in reversed(step.body):
                stack.extend(reversed(body.steps + body.commits))

    def describe(self) -> str:
        """A readable listing: one line per step with its id, op, storage and releases."""
        lines = [f"Program: {len(self.slots)} slots, {len(self.steps)} steps"
                 + (f", {len(self.commits)} commits" if self.commits else "")]
        _describe_steps(self, "  ", lines)
        return "\n".join(lines)


def _describe_steps(program, indent, lines):
    for step in program.steps + program.commits:
        lines.append(indent + _describe_step(program, step))
        for k, body in enumerate(step.body):
            args = ", ".join(f"v{s}" for s in body.inputs)
            lines.append(f"{indent}    body {k} ({args}):")
            _describe_steps(body, indent + "      ", lines)
    for j, h in enumerate(program.outputs):
        state = f" (may be argument {h.state_arg})" if h.state_arg >= 0 else ""
        lines.append(f"{indent}output {j}: {h.how} v{h.slot}{state}")


def _describe_step(program, step) -> str:
    outs = []
    for o in step.outputs:
        how = o.storage if o.storage == ALLOC else \
            f"{o.storage} of v{step.inputs[o.source]}"
        outs.append(f"v{o.slot}={how}")
    ins = ", ".join(f"v{s}" for s in step.inputs)
    text = f"{step.id} {step.kind:7s} {step.node.op}({ins}) -> {', '.join(outs)}"
    if step.state_arg is not None:
        text += f" [over argument {step.state_arg}]"
    if step.release:
        text += f"; release {', '.join(f'v{s}' for s in step.release)}"
    return text
