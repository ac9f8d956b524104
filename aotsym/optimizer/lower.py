"""Lowering: the optimized graph to the lowered program, every decision made once.

The optimizer's last stage (frontend -> graph -> **optimizer** -> emit_c / emit_cuda -> build).
:func:`lower_program` walks the graph's schedule (``FunctionGraph.toposort``: the state
writes last) and decides, for the :class:`~aotsym.optimizer.program.Program` it returns:

* **aliasing** — one analysis, by slot: a view (``view_map``) and a granted in-place result
  (``destroy_map``) live in their input's buffer (``slot.root``); the last step reading any
  value of a buffer is that buffer's last use;
* **in-place validity** — an output declared in ``destroy_map`` is written over its input
  when that input's buffer is an intermediate (no argument's, no constant's) that no later
  step reads: every value living in it is dead after this step.  The optimizer's inplace pass
  (:mod:`.inplace`) only declares what it proved safe on the graph; this is the check on the
  schedule, where the arguments and the order are known.  Otherwise the output is a fresh
  buffer (the same result);
* **liveness** — each step releases the values whose last reader it is (never within the
  schedule's tail of state writes: their prepare and commit halves keep every buffer to the
  end of the call);
* **state writes** — the tail of the schedule: a node of :data:`STATE_WRITE_OPS` in place
  over an argument, whose one output is that argument's update and is read by no node,
  becomes a PREPARE step where it stands and a COMMIT step after the outputs are handed over;
* **outputs** — moved to the caller when a fresh buffer holds them, else copied (an
  argument, a constant, or a buffer an earlier output already took);
* **structured steps** — a node whose op holds inner graphs (:mod:`aotsym.graph.inner`)
  becomes a structured step of the op's ``structured_kind`` (BLOCK by default; BRANCH,
  LOOP) whose ``body`` holds one nested program per inner graph, lowered by the same rules
  into the same frame, and whose ``params`` are the op's ``structured_params(node)``.  A
  body's inputs are its own slots, borrowing values the step binds (never written over: a
  body writes in place only over its own intermediates); its outputs are handed over to the
  step's outputs, moved when fresh;
* **step ids** — numbered in schedule order, depth first: a step's ``number`` is its place
  in that walk, its ``path`` its position in each enclosing program (for a function without
  structured steps, ``number`` is the position in the schedule); a state write's two halves
  share one id.

Before and after, for ``f(x, w) = (exp(x) * 2, w - 0.1 * dot(A, x))`` with ``w`` updated::

    Composite{exp(i0)*2}[(0, 0)](x)        0 apply   Composite(v0) -> v3=alloc  (x: argument)
    Gemv{inplace}(w, -0.1, A, x, 1)        1 prepare Gemv(v1, .., v0) -> v5=inplace of v1
                                             [over argument 1]
                                           output 0: move v3; output 1: move v5 (argument 1)
                                           1 commit  Gemv ...
"""

from __future__ import annotations

from aotsym.graph.basic import Constant
from aotsym.graph.inner import inner_graphs_of
from aotsym.optimizer.inplace import STATE_WRITE_OPS
from aotsym.optimizer.program import (ALLOC, APPLY, BLOCK, COMMIT, CONSTANT, INPLACE, INPUT,
                                      NODE, PREPARE, STRUCTURED, VIEW, Handover, OutputPlan,
                                      Program, Slot, Step, StepId)


class LoweringError(ValueError):
    """A graph that cannot be lowered (a variable used before it is computed)."""


class _Frame:
    """What the programs of one function share: the slots (one frame at run time) and the
    step numbering (one counter table)."""

    def __init__(self):
        self.slots: list[Slot] = []
        self.step_nodes: list = []

    def declare(self, var, role, slot_of) -> int:
        index = len(self.slots)
        self.slots.append(Slot(index, var, role, index))
        slot_of[id(var)] = index
        return index

    def new_step_id(self, path, node) -> StepId:
        self.step_nodes.append(node)
        return StepId(path, len(self.step_nodes) - 1)


class _Lowering:
    """The lowering of one graph: the function's, or a structured step's body (``path``:
    the id path of the step holding it, ``()`` for the function)."""

    def __init__(self, fgraph, frame: _Frame, path=()):
        self.fgraph = fgraph
        self.frame = frame
        self.path = path
        self.slots = frame.slots
        self.order = list(fgraph.toposort())
        self.slot_of: dict[int, int] = {}
        self.last_use: dict[int, int] = {}      # slot -> position of its last reader
        self.root_last: dict[int, int] = {}     # root slot -> last reader of any value in it
        updates = fgraph.meta.get("updates", {})
        self.arg_index = {id(v): k for k, v in enumerate(fgraph.inputs)}
        self.update_of = dict(updates)
        self.output_index: dict[int, list] = {}
        for j, v in enumerate(fgraph.outputs):
            self.output_index.setdefault(id(v), []).append(j)
        self.read_by_node = set()
        for node in self.order:
            self.read_by_node.update(id(v) for v in node.inputs)

    # ---------------------------------------------------------------- slots
    def declare(self, var, role) -> int:
        return self.frame.declare(var, role, self.slot_of)

    def slot_for(self, var) -> int:
        """The slot of a value a step reads; a constant gets one at its first use."""
        index = self.slot_of.get(id(var))
        if index is None:
            if not isinstance(var, Constant):
                raise LoweringError(f"the variable {var!r} is read before it is computed")
            index = self.declare(var, CONSTANT)
        return index

    def root_last_use(self, root) -> int:
        return self.root_last.get(root, self.last_use.get(root, -1))

    def share(self, out_slot, in_slot):
        """``out_slot`` lives in ``in_slot``'s buffer (a view or an in-place result)."""
        root = self.slots[in_slot].root
        self.slots[out_slot].root = root
        self.root_last[root] = max(self.root_last_use(root), self.last_use.get(out_slot, -1))

    def writable(self, in_slot, pos) -> bool:
        """May the step at ``pos`` overwrite ``in_slot``'s buffer: an intermediate that no
        later step reads (``in_slot``, a view of it, the buffer's other tenants)?"""
        root = self.slots[in_slot].root
        return self.slots[root].role == NODE and self.root_last_use(root) <= pos

    # ---------------------------------------------------------------- state writes
    def state_write(self, node):
        """``(argument index, output index)`` when ``node`` is a state write that can be split
        (module docstring), else None."""
        if not isinstance(node.op, STATE_WRITE_OPS) or 0 not in node.op.destroy_map:
            return None
        k = self.arg_index.get(id(node.inputs[0]))
        if k is None or len(node.outputs) != 1:
            return None
        out = node.outputs[0]
        where = self.output_index.get(id(out), [])
        if len(where) != 1 or self.update_of.get(where[0]) != k:
            return None
        if id(out) in self.read_by_node:
            return None
        return k, where[0]

    def tail_start(self) -> int:
        start = len(self.order)
        while start > 0 and self.state_write(self.order[start - 1]) is not None:
            start -= 1
        return start

    # ---------------------------------------------------------------- the pass
    def run(self) -> Program:
        fg = self.fgraph
        inputs = [self.declare(v, INPUT) for v in fg.inputs]
        n = len(self.order)
        # last readers, by value (a constant has no slot before its first use)
        last_by_var: dict[int, int] = {}
        for pos, node in enumerate(self.order):
            for v in node.inputs:
                last_by_var[id(v)] = pos
        for v in fg.outputs:
            last_by_var[id(v)] = n
        tail = self.tail_start()
        steps, commits = [], []
        state_outputs: dict[int, int] = {}       # output index -> argument
        for pos, node in enumerate(self.order):
            step_id = self.frame.new_step_id(self.path + (pos,), node)
            in_slots = tuple(self.slot_for(v) for v in node.inputs)
            for s, v in zip(in_slots, node.inputs):
                self.last_use[s] = last_by_var[id(v)]
            out_slots = []
            for v in node.outputs:
                s = self.declare(v, NODE)
                self.last_use[s] = last_by_var.get(id(v), -1)
                out_slots.append(s)
            state = self.state_write(node) if pos >= tail else None
            if state is not None and self.root_last_use(self.slots[in_slots[0]].root) <= pos:
                k, j = state
                state_outputs[j] = k
                plan = (OutputPlan(out_slots[0], INPLACE, 0),)
                steps.append(Step(step_id, PREPARE, node, in_slots, plan, state_arg=k))
                commits.append(Step(step_id, COMMIT, node, in_slots, plan, state_arg=k))
                continue
            plans = self.storage(node, pos, in_slots, out_slots)
            release = () if pos >= tail else self.dead_after(in_slots, out_slots, pos)
            graphs = inner_graphs_of(node.op)
            if graphs:
                kind = getattr(node.op, "structured_kind", BLOCK)
                if kind not in STRUCTURED:
                    raise LoweringError(f"{node.op}: unknown structured step kind {kind!r}")
                body = tuple(_Lowering(g.fgraph(), self.frame, step_id.path + (b,)).run()
                             for b, g in enumerate(graphs))
                params_of = getattr(node.op, "structured_params", None)
                params = dict(params_of(node)) if params_of is not None else {}
                steps.append(Step(step_id, kind, node, in_slots, plans, release, body=body,
                                  params=params))
            else:
                steps.append(Step(step_id, APPLY, node, in_slots, plans, release))
        outputs = self.handover([self.slot_for(v) for v in fg.outputs], state_outputs)
        return Program(fg, self.slots, inputs, steps, outputs, commits,
                       self.frame.step_nodes, self.slot_of)

    def storage(self, node, pos, in_slots, out_slots) -> tuple:
        """Each output's OutputPlan: a view, a granted in-place write, or a fresh buffer."""
        op = node.op
        granted = {o: ins[0] for o, ins in op.destroy_map.items()
                   if self.writable(in_slots[ins[0]], pos)}
        plans = []
        for o, s in enumerate(out_slots):
            view = op.view_map.get(o)
            if view:
                self.share(s, in_slots[view[0]])
                plans.append(OutputPlan(s, VIEW, view[0]))
            elif o in granted:
                self.share(s, in_slots[granted[o]])
                plans.append(OutputPlan(s, INPLACE, granted[o]))
            else:
                plans.append(OutputPlan(s, ALLOC, None))
        return tuple(plans)

    def dead_after(self, in_slots, out_slots, pos) -> tuple:
        dead, seen = [], set()
        for s in list(in_slots) + list(out_slots):
            if s in seen:
                continue
            seen.add(s)
            if self.slots[s].role == NODE and self.last_use.get(s, -1) <= pos:
                dead.append(s)
        return tuple(dead)

    def handover(self, out_slots, state_outputs) -> list:
        result, taken = [], set()
        for j, s in enumerate(out_slots):
            root = self.slots[s].root
            fresh = self.slots[root].role == NODE and root not in taken
            taken.add(root)
            result.append(Handover(s, "move" if fresh else "copy", state_outputs.get(j, -1)))
        return result


def lower_program(fgraph) -> Program:
    """The lowered program of an optimized FunctionGraph (see the module docstring)."""
    return _Lowering(fgraph, _Frame()).run()
