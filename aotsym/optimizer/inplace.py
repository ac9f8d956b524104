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

* only ``Gemm`` / ``Gemv`` / ``Ger`` and ``Elemwise`` / ``Composite`` (:data:`STATE_WRITE_OPS`)
  write over a shared variable: their checks — shapes, buffers for operands BLAS cannot
  read — can all be made before the write, and the BLAS call or the loop cannot fail.  An
  elementwise op qualifies only when no step of it can raise (an integer power can: a
  negative exponent), and only over the variable itself (not a view of it); its inputs are
  reordered so that the variable is input 0, the one the lowering splits::

      before: Composite{(i1 - (i0 * 0.01))}(Reduce{sum}(g), b)          (b's update)
      after:  Composite{(i0 - (i1 * 0.01))}[(0, 0)](b, Reduce{sum}(g))

* no new value is checked after the call: when one can be (its type is not its variable's,
  or the variable has broadcastable dimensions, which the caller checks on storing), no
  shared variable of the function is written in place;
* ``N``'s output is read by nothing but the update: it is no user output (outputs are fresh
  arrays the caller owns, never the state) and no node's input, so ``N`` can run after every
  other node.  So a reader of the variable that is not ``N``'s ancestor still runs before
  ``N`` when it can never be a state write itself (no output of it is an update): the
  variable read by the backward pass and updated by a gemm, ``W2`` in ``dot(d, W2.T)`` and
  ``W2 - lr * dot(h.T, d)``, is written in place;
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

import numpy as np

from aotsym.graph.basic import Constant, rebuild
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.composite import Composite
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.ops.gemm import Gemm, Gemv, Ger

MAX_ANCESTOR_SEARCH = 10000  # nodes visited to prove a reader runs first; else: no inplace

# The ops that may write over a shared variable (the state rule): every check they make can
# come before the write.  The lowering (:mod:`.lower`) splits them into prepare and commit.
STATE_WRITE_OPS = (Gemm, Gemv, Ger, Elemwise, Composite)
BLAS_STATE_OPS = (Gemm, Gemv, Ger)


def elementwise_cannot_fail(node) -> bool:
    """Whether no step of an ``Elemwise`` / ``Composite`` node can raise: every step but an
    integer power (a negative exponent raises, as NumPy does) computes a value for any
    input."""
    dtypes = [v.dtype for v in node.inputs]
    if isinstance(node.op, Composite):
        steps = node.op.steps(dtypes)
    else:
        compute, out = node.op.dtypes(dtypes)
        steps = [(node.op.scalar_op, tuple(compute), out)]
    return not any(row.name == "pow" and np.dtype(compute[0]).kind in "iu"
                   for row, compute, _ in steps)


def _state_input_first(op, k):
    """``op`` (Elemwise or Composite, one output) with input ``k`` moved to position 0: a
    Composite whose program reads the inputs in the new order (an Elemwise becomes a
    one-step Composite), and the new order of the node's inputs."""
    if isinstance(op, Composite):
        program, n_in, outputs = op.program, op.n_inputs, op.outputs
    else:
        n_in = op.scalar_op.nin
        program = ((op.scalar_op.name, op.dtype, tuple(("in", i) for i in range(n_in))),)
        outputs = (("step", 0),)
    order = [k] + [i for i in range(n_in) if i != k]
    new_pos = {old: new for new, old in enumerate(order)}
    program = tuple((name, cast, tuple(("in", new_pos[a[1]]) if a[0] == "in" else a
                                       for a in args)) for name, cast, args in program)
    return Composite(program, n_in, outputs, ((0, 0),)), order


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
    # The caller checks a new value against its variable after the call when the value's
    # type is not the variable's, or the variable has broadcastable dimensions (their length
    # must be 1): a check that can fail after the call, so no state is written in place.
    store_may_fail = any(out.type != var.type or any(var.type.broadcastable)
                         for out, var in update_target.items())
    ancestors_cache: dict = {}
    decisions: dict = {}   # node -> new op
    state_writers: set = set()   # nodes writing over a shared variable (run last)

    def state_write_ok(node, out_index, in_index, root):
        """The state rule (module docstring): ``node`` may write over the shared variable
        ``root`` only as its own update, read by nothing else, and only an op of
        :data:`STATE_WRITE_OPS` (an elementwise one over ``root`` itself, unable to fail)."""
        out = node.outputs[out_index]
        if update_target.get(out) is not root or not isinstance(node.op, STATE_WRITE_OPS):
            return False
        if ctx is not None and ctx.target != "c":   # only the C backend splits state writes
            return False
        if store_may_fail:
            return False
        if len(node.outputs) != 1:
            return False
        if not isinstance(node.op, BLAS_STATE_OPS) and (
                node.inputs[in_index] is not root or not elementwise_cannot_fail(node)):
            return False
        for reader, k in clients.get(id(out), []):
            if reader != "output" or updates.get(k) != input_pos[root]:
                return False
        return True

    def runs_before_state_writes(reader):
        """A node none of whose outputs is an update can never be a state write: the
        schedule puts it before every one (module docstring)."""
        return not any(o in update_target for o in reader.outputs)

    def destroyable(node, out_index, in_index):
        v = node.inputs[in_index]
        root = alias.root[v]
        if isinstance(root, Constant):
            return False
        state = root in input_pos
        if state and not state_write_ok(node, out_index, in_index, root):
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
                if state and runs_before_state_writes(reader):
                    continue
                if position[reader] > position[node]:
                    return False
                if not _is_ancestor(reader, node, ancestors_cache):
                    return False
        return True

    def state_pairs_first(node, pairs):
        """An update's own variable first among the pairs: written over, the new value
        needs no buffer of its own."""
        target = update_target.get(node.outputs[0]) if len(node.outputs) == 1 else None
        if target is None:
            return pairs
        return sorted(pairs, key=lambda p: node.inputs[p[1]] is not target)

    orders: dict = {}   # node -> new order of its inputs (an elementwise state write)
    for node in fgraph.toposort():
        pairs, make = _candidates(node)
        if not pairs:
            continue
        chosen, used_out, used_in = [], set(), set()
        for k, i in state_pairs_first(node, pairs):  # each output over one input, and vice versa
            if k in used_out or i in used_in or not destroyable(node, k, i):
                continue
            chosen.append((k, i))
            used_out.add(k)
            used_in.add(i)
            alias.destroyed(node.outputs[k], node.inputs[i])
            if alias.root[node.inputs[i]] in input_pos:
                state_writers.add(node)
        if not chosen:
            continue
        if node in state_writers and not isinstance(node.op, BLAS_STATE_OPS):
            # the lowering splits a state write over input 0: move the variable there
            decisions[node], orders[node] = _state_input_first(node.op, chosen[0][1])
        else:
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
        if node in orders:
            new_inputs = [new_inputs[i] for i in orders[node]]
        new = rebuild(node, new_inputs, op)
        memo.update(zip(node.outputs, new.outputs))
        if node in state_writers:
            last.append(new)
    if ctx is not None:
        ctx.count("insert_inplace", "inplace", len(decisions))
    extra = {"schedule_last": tuple(last)} if last else {}
    return fgraph.with_outputs([memo.get(v, v) for v in fgraph.outputs], **extra)
