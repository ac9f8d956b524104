"""Inplace: an op writes its output over an input buffer that nothing reads afterwards.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  The last global
pass.  Ops that can: ``Elemwise`` and ``Composite`` (an output over an input of the same
type), ``Gemm``/``Gemv``/``Ger`` (over their accumulated input), ``IncSubtensor`` and its
advanced variants (over the tensor they update)::

    before: Gemv{no_inplace}(w, -0.1, x.T, d, 0.998)      (w's update)
    after:  Gemv{inplace}(w, -0.1, x.T, d, 0.998)

A buffer ``v`` may be destroyed by node ``N`` when, with ``aliases(v)`` the variables sharing
its memory (``v``, the views of it, views of those ...):

* ``v``'s memory is not a constant's, and not a graph input's — except a shared variable
  whose update is exactly ``N``'s output (``fgraph.meta["updates"]``, ``{output index: input
  index}``, says which input each update output belongs to; without it no input is touched),
  under the state rule below;
* no alias is a graph output (the caller gets its value), and ``N`` reads no alias through
  another input;
* every other reader of every alias is an ancestor of ``N``: it has run before ``N`` in any
  order the schedule takes, so the write cannot be seen.  (Checking only ancestors keeps the
  schedule free; a reader that is not an ancestor could be scheduled after ``N``.)

Decisions are made in topological order and a destroyed buffer's new value is one more alias
of its memory, so a chain of in-place ops reuses one buffer and two ops never both write over
a value a third still reads.  View ops declare ``view_map``; the pass follows
them to find aliases.  DEBUG_MODE then checks the declarations against what ``perform``
actually does.

The state rule.  Updates are all or nothing: when a call fails, no shared variable has
changed.  A write into a shared variable's own buffer is therefore allowed only where no
error can come after it, which the pass arranges and the lowering (:mod:`.lower`)
completes:

* only ``Gemm`` / ``Gemv`` / ``Ger`` (:data:`STATE_WRITE_OPS`) write over a shared variable
  (their checks — shapes, buffers for operands BLAS cannot read — can all be made before the
  write, and the BLAS call itself cannot fail); an elementwise update stays out of place;
* ``N``'s output is read by nothing but the update: it is no user output (outputs are fresh
  arrays the caller owns, never the state) and no node's input, so ``N`` can run after every
  other node;
* such nodes are listed in ``fgraph.meta["schedule_last"]``, and the graph's schedule
  (``FunctionGraph.toposort``) puts them last.  The lowering splits each into a prepare step
  (every check and allocation) and a commit step run after the outputs are handed over; the
  renderer spells the run-time test that sends a write it cannot prove safe (a read-only or
  overlapping argument) to a fresh buffer instead.

This pass declares what is safe on the graph; the lowering (:mod:`.lower`) grants each
declared write on the schedule, where the arguments and the order are known — the one place a
write in place is decided for the emitters.
"""

from __future__ import annotations

from aotsym.graph.basic import Constant, rebuild
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.composite import Composite
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.ops.gemm import Gemm, Gemv, Ger

MAX_ANCESTOR_SEARCH = 10000  # nodes visited to prove a reader runs first; else: no inplace

# The ops that may write over a shared variable (the state rule): every check they make can
# come before the write.  The lowering (:mod:`.lower`) splits them into prepare and commit.
STATE_WRITE_OPS = (Gemm, Gemv, Ger)


class Aliasing:
    """The graph's memory roots: each variable's ``root`` (the variable whose memory it is:
    itself, or, following ``view_map`` and ``destroy_map``, the input it views or was written
    over) and each root's ``aliases``.  The graph-level alias analysis, shared by this pass and
    the reference runner (which inputs an op may write); the schedule-level one, with the
    writes actually granted, is the lowering's (:mod:`.lower`)."""

    def __init__(self, fgraph):
        self.root: dict = {}
        self.aliases: dict = {}
        for v in fgraph.inputs:
            self._set(v, v)
        for node in fgraph.toposort():
            for v in node.inputs:
                if v not in self.root:
                    self._set(v, v)
            vm, dm = node.op.view_map, node.op.destroy_map
            for k, o in enumerate(node.outputs):
                src = vm.get(k) or dm.get(k)
                self._set(o, self.root[node.inputs[src[0]]] if src else o)

    def written_roots(self, fgraph) -> set:
        """The roots some op's ``destroy_map`` writes over."""
        return {self.root[node.inputs[i]] for node in fgraph.toposort()
                for ins in node.op.destroy_map.values() for i in ins}

    def _set(self, v, root):
        self.root[v] = root
        self.aliases.setdefault(root, []).append(v)

    def destroyed(self, out, v):
        """``out`` was written over ``v``'s memory: it is one more alias of it."""
        self._set(out, self.root[v])


def _candidates(node):
    """``(pairs, make)``: the ``(output, input)`` pairs the op could write in place, in order
    of preference, and ``make(chosen pairs) -> in-place op``; ``(None, None)`` if none."""
    op = node.op
    if type(op) is Elemwise and not op.inplace:
        out = node.outputs[0]
        pairs = [(0, i) for i, v in enumerate(node.inputs) if v.type == out.type]
        return pairs, lambda chosen: Elemwise(op.scalar_op, op.dtype, inplace=chosen)
    if isinstance(op, Composite) and not op.inplace:
        pairs = [(k, i) for k, out in enumerate(node.outputs)
                 for i, v in enumerate(node.inputs) if v.type == out.type]
        return pairs, op.with_inplace
    if isinstance(op, (Gemm, Gemv, Ger)) and not op.inplace:
        return [(0, 0)], lambda chosen: op.with_inplace(True)
    if type(op).__name__ in _INC_SUBTENSOR_OPS and op.inplace is False:
        return [(0, 0)], lambda chosen: _inc_inplace(op)
    return None, None


# The subtensor family (aotsym.graph.ops.subtensor): ops whose ``inplace`` prop makes
# ``destroy_map = {0: [0]}``; named, not imported, so this pass does not need the module.
_INC_SUBTENSOR_OPS = ("IncSubtensor", "AdvancedIncSubtensor1", "AdvancedIncSubtensor")


def _inc_inplace(op):
    props = {p: getattr(op, p) for p in op.__props__}
    props["inplace"] = True
    return type(op)(**props)


def _is_ancestor(target, node, ancestors_cache, limit=MAX_ANCESTOR_SEARCH):
    """Whether ``target`` (an Apply) is an ancestor of ``node``."""
    seen = ancestors_cache.get(node)
    if seen is None:
        seen = set()
        stack = [node]
        while stack:
            n = stack.pop()
            for v in n.inputs:
                o = v.owner
                if o is not None and o not in seen:
                    seen.add(o)
                    if len(seen) > limit:
                        return False
                    stack.append(o)
        ancestors_cache[node] = seen
    return target in seen


def insert_inplace(fgraph: FunctionGraph, ctx=None) -> FunctionGraph:
    """See the module docstring."""
    alias = Aliasing(fgraph)
    clients = fgraph.clients()
    position = {node: k for k, node in enumerate(fgraph.toposort())}
    outputs = set(fgraph.outputs)
    input_pos = {v: k for k, v in enumerate(fgraph.inputs)}
    n_out = len(fgraph.outputs)
    updates = fgraph.meta.get("updates", {})   # {output index: input index}
    update_target = {fgraph.outputs[o]: fgraph.inputs[i] for o, i in updates.items()
                     if 0 <= o < n_out and 0 <= i < len(fgraph.inputs)}
    ancestors_cache: dict = {}
    decisions: dict = {}   # node -> new op
    state_writers: set = set()   # nodes writing over a shared variable (run last)

    def state_write_ok(node, out_index, root):
        """The state rule (module docstring): ``node`` may write over the shared variable
        ``root`` only as its own update, read by nothing else, and only a BLAS op."""
        out = node.outputs[out_index]
        if update_target.get(out) is not root or not isinstance(node.op, STATE_WRITE_OPS):
            return False
        if len(node.outputs) != 1:
            return False
        for reader, k in clients.get(id(out), []):
            if reader != "output" or updates.get(k) != input_pos[root]:
                return False
        return True

    def destroyable(node, out_index, in_index):
        v = node.inputs[in_index]
        root = alias.root[v]
        if isinstance(root, Constant):
            return False
        if root in input_pos:
            if not state_write_ok(node, out_index, root):
                return False
        members = alias.aliases[root]
        for a in members:
            if a in outputs:
                return False
            for j, u in enumerate(node.inputs):
                if u is a and j != in_index:
                    return False
            for reader, _ in clients.get(id(a), []):
                if reader == "output" or reader is node:
                    continue
                if position[reader] > position[node]:
                    return False
                if not _is_ancestor(reader, node, ancestors_cache):
                    return False
        return True

    for node in fgraph.toposort():
        pairs, make = _candidates(node)
        if not pairs:
            continue
        chosen, used_out, used_in = [], set(), set()
        for k, i in pairs:                       # each output over one input, and vice versa
            if k in used_out or i in used_in or not destroyable(node, k, i):
                continue
            chosen.append((k, i))
            used_out.add(k)
            used_in.add(i)
            alias.destroyed(node.outputs[k], node.inputs[i])
            if alias.root[node.inputs[i]] in input_pos:
                state_writers.add(node)
        if chosen:
            decisions[node] = make(tuple(chosen))
    if not decisions:
        return fgraph
    memo: dict = {}
    last: list = []
    for node in fgraph.toposort():
        new_inputs = [memo.get(v, v) for v in node.inputs]
        op = decisions.get(node, node.op)
        if op is node.op and all(a is b for a, b in zip(new_inputs, node.inputs)):
            continue
        new = rebuild(node, new_inputs, op)
        memo.update(zip(node.outputs, new.outputs))
        if node in state_writers:
            last.append(new)
    if ctx is not None:
        ctx.count("insert_inplace", "inplace", len(decisions))
    extra = {"schedule_last": tuple(last)} if last else {}
    return fgraph.with_outputs([memo.get(v, v) for v in fgraph.outputs], **extra)
