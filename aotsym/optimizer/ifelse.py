"""The ifelse rewrites: laziness decided from the graph, and the rules of the conditional.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Stage ``ifelse``
(:func:`optimize_ifelse`), run after ``canonicalize`` in FAST_RUN, PROFILE_MODE and
DEBUG_MODE and after ``fold`` in FAST_COMPILE — and so after ``grad``, which runs before any
optimization.  Like every stage it also runs inside inner graphs (a nested ``ifelse`` in a
branch is made lazy there).  :func:`aotsym.ifelse` builds an ``IfElse`` whose branches are
identities over the outer values (:mod:`aotsym.graph.ops.ifelse`); this stage, in order:

1. rules to a fixed point (with constant folding): ``fold_constant_condition``,
   ``fold_known_condition``, ``lift_common_work``, ``bypass_identical_branches``;
2. ``merge_same_condition`` (then the rules again, when it merged something);
3. ``sink_into_branches``, to a fixed point: **every node whose only readers are inside one
   branch moves into that branch**, whole sub-trees at a time, so only the taken branch's
   work runs.

Invariant: no rewrite here makes a branch's work run when that branch is not taken.  What
is left outside is what the condition needs, what the rest of the graph reads, and what both
branches read (computed once, whichever branch runs); a node moves into a branch only when
nothing outside it and nothing in the other branch reads it.
"""

from __future__ import annotations

import heapq
import time

from aotsym.graph.basic import Constant, clone_replace, rebuild, toposort
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.inner import InnerGraph
from aotsym.graph.ops.ifelse import IfElse, identity_branches, make_ifelse, read_inputs
from aotsym.optimizer.cleanup import FOLD_RULES
from aotsym.optimizer.engine import rewrite_graph
from aotsym.optimizer.inner import rebuild_graph
from aotsym.optimizer.pattern import RuleSet, rule

# ---------------------------------------------------------------------------- local rules


@rule("fold_constant_condition", root=IfElse)
def fold_constant_condition(node):
    """A constant condition picks its branch; the other is dropped, never evaluated.

    before: IfElse{then: p0 * 2, else: exp(p1)}(1, x, y)       after: x * 2
    """
    cond = node.inputs[0]
    if not isinstance(cond, Constant) or not _exact_values(node):
        return None
    branch = node.op.then_graph if cond.data.item() else node.op.else_graph
    return branch.apply_to(node.inputs[1:])


def _exact_values(node) -> bool:
    """The values have exactly the branches' input types (so a branch inlined on them gives
    exactly the node's output types)."""
    return all(v.type == t for v, t in zip(node.inputs[1:], node.op.then_graph.input_types))


@rule("fold_known_condition", root=IfElse)
def fold_known_condition(node):
    """Inside a branch, an ``IfElse`` on the same condition takes the same side (the outer
    condition reaches the branch as a value when a nested ifelse was moved in).

    before: IfElse{then: IfElse{then: q0, else: q1}(p0, p1, p2), else: p3}(c, c, x, y, z)
    after:  IfElse{then: p1, else: p3}(c, c, x, y, z)            (pruned: IfElse(c, x, z))
    """
    cond, values = node.inputs[0], node.inputs[1:]
    known = {k for k, v in enumerate(values) if v is cond}
    if not known:
        return None
    graphs = []
    for taken, graph in enumerate(node.op.inner_graphs):
        placeholders = {id(graph.inputs[k]) for k in known}
        replace = {}
        for inner in graph.nodes():
            if isinstance(inner.op, IfElse) and id(inner.inputs[0]) in placeholders:
                side = inner.op.inner_graphs[taken]
                for old, new in zip(inner.outputs, side.apply_to(inner.inputs[1:])):
                    replace[old] = new
        graphs.append(graph.with_outputs(clone_replace(graph.outputs, replace))
                      if replace else graph)
    if all(a is b for a, b in zip(graphs, node.op.inner_graphs)):
        return None
    return make_ifelse(cond, values, *graphs, node.op.name).outputs


@rule("lift_common_work", root=IfElse)
def lift_common_work(node):
    """Work both branches do is done once, outside (it runs whichever branch is taken): the
    branches become identities over the values again, and ``sink_into_branches`` moves back
    into each branch what only that branch reads.

    before: IfElse{then: exp(p0) + 1, else: exp(p0) * 2}(x)
    after:  IfElse{then: q0 + 1, else: q0 * 2}(exp(x))
    """
    cond, values = node.inputs[0], node.inputs[1:]
    graphs = node.op.inner_graphs
    common = _top_keys(graphs[0]) & _top_keys(graphs[1])
    if not common:
        return None
    outs = [g.apply_to(values) for g in graphs]
    return _identity_ifelse(cond, outs[0], outs[1], node.op.name)


def _top_keys(graph) -> set:
    """The structural keys of the branch's nodes (op, and where each input comes from: a
    placeholder by index, a constant, or another node's key), to find shared work."""
    keys: dict = {id(v): ("p", k) for k, v in enumerate(graph.inputs)}
    found = set()
    for inner in graph.nodes():
        ins = []
        for v in inner.inputs:
            ref = keys.get(id(v))
            if ref is None:
                ref = ("c", v._key) if isinstance(v, Constant) else ("?", id(v))
            ins.append(ref)
        key = (inner.op, tuple(ins))
        for j, o in enumerate(inner.outputs):
            keys[id(o)] = ("n", key, j)
        found.add(key)
    return found


def _identity_ifelse(cond, thens, elses, name=None) -> list:
    """The outputs of ``IfElse(cond, ...)`` choosing ``thens[j]`` or ``elses[j]`` (outer
    variables), with identity branches: what :func:`aotsym.ifelse` builds."""
    values, then_graph, else_graph = identity_branches(thens, elses, list(thens) + list(elses))
    return make_ifelse(cond, values, then_graph, else_graph, name).outputs


@rule("bypass_identical_branches", root=IfElse)
def bypass_identical_branches(node):
    """An output both branches give the same way (the same value, or the same constant) is
    that value; the ``IfElse`` keeps the other outputs (or goes).

    before: o0, o1 = IfElse{then: (p0, p1), else: (p0, p2)}(c, x, y, z)
    after:  o0 = x;  o1 = IfElse{then: q0, else: q1}(c, y, z)
    """
    then_graph, else_graph = node.op.inner_graphs
    same = {}
    for j, (t, e) in enumerate(zip(then_graph.outputs, else_graph.outputs)):
        if isinstance(t, Constant) and t is e:
            same[j] = t
            continue
        for k, (p, q) in enumerate(zip(then_graph.inputs, else_graph.inputs)):
            if t is p and e is q and node.inputs[1 + k].type == node.outputs[j].type:
                same[j] = node.inputs[1 + k]
                break
    if not same:
        return None
    kept = [j for j in range(len(node.outputs)) if j not in same]
    pruned = node.op.prune_outputs(node, set(kept)).outputs if kept else []
    result = []
    for j in range(len(node.outputs)):
        result.append(same[j] if j in same else pruned[kept.index(j)])
    return result


IFELSE_RULES = RuleSet("ifelse", [fold_constant_condition, fold_known_condition,
                                  lift_common_work, bypass_identical_branches])

# ---------------------------------------------------------------------------- merging


def merge_same_condition(fgraph: FunctionGraph) -> tuple[FunctionGraph, int]:
    """``IfElse`` nodes on the same condition, neither reading the other, are one node:
    one test, and each branch sees the work of both (``lift_common_work`` may then share
    it).  Returns the new graph and the number of nodes merged away.

    before: o = IfElse{then: p0 * 2, else: p1}(c, x, y);  r = IfElse{then: p0, else: -p0}(c, z)
    after:  o, r = IfElse{then: (p0 * 2, p2), else: (p1, -p2)}(c, x, y, z)
    """
    merged = 0
    while True:
        pair = _independent_pair(fgraph)
        if pair is None:
            return fgraph, merged
        a, b = pair
        n = len(a.inputs) - 1
        placeholders = [v.type(v.name) for v in a.inputs[1:] + b.inputs[1:]]
        graphs = []
        for ga, gb in zip(a.op.inner_graphs, b.op.inner_graphs):
            graphs.append(InnerGraph(placeholders, ga.apply_to(placeholders[:n])
                                     + gb.apply_to(placeholders[n:])))
        name = a.op.name if a.op.name == b.op.name else None
        both = make_ifelse(a.inputs[0], a.inputs[1:] + b.inputs[1:], *graphs, name,
                           trace=a.outputs[0].tag.trace)
        replace = dict(zip(a.outputs + b.outputs, both.outputs))
        fgraph = fgraph.with_outputs(clone_replace(fgraph.outputs, replace))
        merged += 1


def _independent_pair(fgraph):
    """Two ``IfElse`` nodes on the same condition variable, neither an ancestor of the
    other; None when there are none."""
    groups: dict = {}
    for node in fgraph.toposort():
        if isinstance(node.op, IfElse):
            groups.setdefault(id(node.inputs[0]), []).append(node)
    for nodes in groups.values():
        for i, later in enumerate(nodes[1:], 1):
            before = set(toposort(later.inputs))
            for earlier in nodes[:i]:
                if earlier not in before:
                    return earlier, later
    return None


# ---------------------------------------------------------------------------- sinking


def sink_into_branches(fgraph: FunctionGraph) -> tuple[FunctionGraph, int]:
    """Move into a branch every node whose only readers are in that branch (module
    docstring), to a fixed point; returns the new graph and how many nodes moved.

    before: z = IfElse{then: p2, else: p3}(lt(a, b), mean(x), mean(y))
    after:  z = IfElse{then: mean(q0), else: mean(q1)}(lt(a, b), x, y)

    A node stays outside when the condition reads it, when a graph output is one of its
    values, when a node outside any branch reads it, or when both branches do.  Whole
    sub-trees move at once; a nested ``IfElse`` moves like any node (and is made lazy
    inside, when the stage runs in the branch).
    """
    moved_total = 0
    while True:
        fgraph, moved = _sink_round(fgraph)
        if not moved:
            return fgraph, moved_total
        moved_total += moved


def _sink_round(fgraph):
    order = fgraph.toposort()
    holders = [n for n in order if isinstance(n.op, IfElse)]
    if not holders:
        return fgraph, 0
    position = {node: pos for pos, node in enumerate(order)}
    clients = fgraph.clients()
    plans: dict = {}
    claimed: set = set()
    for holder in reversed(holders):
        if holder in claimed:
            continue
        plan = _sink_plan(holder, clients, position, claimed)
        if plan:
            plans[holder] = plan
            claimed.update(plan)
    if not plans:
        return fgraph, 0
    memo: dict = {}

    def change(old, new):
        plan = plans.get(old)
        if plan is None:
            for o, n in zip(old.outputs, new.outputs):
                memo[id(o)] = n
            return None
        outs = _sunk(old, plan, memo, position).outputs
        for o, n in zip(old.outputs, outs):
            memo[id(o)] = n
        return list(outs)

    result, _ = rebuild_graph(fgraph, change)
    return result, sum(len(p) for p in plans.values())


def _sink_plan(holder, clients, position, claimed) -> dict:
    """``{node: branch}``: the nodes that can move into ``holder``'s branches."""
    then_read, else_read = (read_inputs(g) for g in holder.op.inner_graphs)
    # which branches read the value at input position i (0, the condition: "outside")
    reads = {0: {"out"}}
    for k in range(len(holder.inputs) - 1):
        reads[k + 1] = ({0} if k in then_read else set()) | ({1} if k in else_read else set())
    plan: dict = {}
    heap = []
    seen = set()

    def push(v):
        owner = v.owner
        if owner is not None and owner not in seen and owner is not holder:
            seen.add(owner)
            heapq.heappush(heap, (-position[owner], id(owner), owner))

    for v in holder.inputs[1:]:
        push(v)
    while heap:
        _, _, node = heapq.heappop(heap)
        if node in claimed or node.op.destroy_map:
            continue
        branches: set = set()
        for o in node.outputs:
            for reader, i in clients.get(id(o), []):
                if reader is holder:
                    branches |= reads[i]
                elif reader in plan:
                    branches.add(plan[reader])
                else:
                    branches.add("out")
        if len(branches) != 1 or "out" in branches:
            continue
        (plan[node],) = branches
        for v in node.inputs:
            push(v)
    return plan


def _sunk(holder, plan, memo, position):
    """The new ``IfElse`` node: ``holder`` with ``plan``'s nodes computed in its branches,
    on the values left outside (old variables, mapped through ``memo``)."""
    values = holder.inputs[1:]
    frontier, index = [], {}

    def outside(v):
        if not isinstance(v, Constant) and id(v) not in index:
            index[id(v)] = len(frontier)
            frontier.append(v)

    for v in values:
        if v.owner is None or v.owner not in plan:
            outside(v)
    for node in sorted(plan, key=position.__getitem__):
        for v in node.inputs:
            if v.owner is None or v.owner not in plan:
                outside(v)
    placeholders = [v.type(v.name) for v in frontier]
    inside = {id(v): placeholders[index[id(v)]] for v in frontier}
    for node in sorted(plan, key=position.__getitem__):       # the moved nodes, rebuilt
        new = rebuild(node, [inside.get(id(v), v) for v in node.inputs])
        inside.update((id(o), n) for o, n in zip(node.outputs, new.outputs))
    graphs = []
    for graph in holder.op.inner_graphs:
        read = read_inputs(graph)
        outs = graph.apply_to([inside[id(values[k])] if k in read else p
                               for k, p in enumerate(graph.inputs)])
        graphs.append(InnerGraph(placeholders, outs))
    cond = memo.get(id(holder.inputs[0]), holder.inputs[0])
    return make_ifelse(cond, [memo.get(id(v), v) for v in frontier], *graphs,
                       holder.op.name, trace=holder.outputs[0].tag.trace)


# ---------------------------------------------------------------------------- the stage


def optimize_ifelse(fgraph: FunctionGraph, ctx) -> FunctionGraph:
    """Stage ``ifelse``: see the module docstring; a graph without ``IfElse`` is returned
    as it is."""
    if not any(isinstance(n.op, IfElse) for n in fgraph.toposort()):
        return fgraph
    rules = FOLD_RULES + IFELSE_RULES
    fgraph = rewrite_graph(fgraph, rules, ctx.stats, "ifelse", ctx.checker)
    t0 = time.perf_counter()
    fgraph, merged = merge_same_condition(fgraph)
    ctx.count("merge_same_condition", "ifelse", merged, time.perf_counter() - t0)
    if merged:
        fgraph = rewrite_graph(fgraph, rules, ctx.stats, "ifelse", ctx.checker)
    t0 = time.perf_counter()
    fgraph, moved = sink_into_branches(fgraph)
    ctx.count("sink_into_branches", "ifelse", moved, time.perf_counter() - t0)
    return fgraph
