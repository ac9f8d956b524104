"""The ifelse rewrites: laziness decided from the graph, and the rules of the conditional.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Stage ``ifelse``
(:func:`optimize_ifelse`), run after ``canonicalize`` in FAST_RUN, PROFILE_MODE and
DEBUG_MODE and after ``fold`` in FAST_COMPILE — and so after ``grad``, which runs before any
optimization.  Like every stage it also runs inside inner graphs (a nested ``ifelse`` in a
branch is made lazy there).  :func:`aotsym.ifelse` builds an ``IfElse`` whose branches are
identities over the outer values (:mod:`aotsym.graph.ops.ifelse`); this stage, in order:

1. rules to a fixed point (with constant folding): ``fold_constant_condition``,
   ``fold_known_condition``, ``lift_common_work``, ``bypass_identical_branches``,
   ``drop_untaken_gradient_terms`` (a sum of branch gradients becomes an ``IfElse`` adding
   only the taken branch's terms);
2. ``merge_same_condition`` and ``merge_chained_same_condition``
   (:mod:`.ifelse_chain`: an ``IfElse`` reading one on the same condition joins it, the
   work between them built into both branches; after ``grad`` a branch's backward work
   joins its forward work's branch), then the rules again when something merged;
3. ``sink_into_branches``, to a fixed point: **every node whose only readers are inside one
   branch moves into that branch**, whole sub-trees at a time, so only the taken branch's
   work runs;
4. after ``grad``, a branch's forward work is read again by the same branch of the
   gradient's ``IfElse``: ``blank_unread_sides`` (an output only one side of ifelses on the
   same condition reads gives a placeholder zero on the other side) and
   ``share_branch_work`` (such a value is passed out of the first ifelse and read from
   there), each followed by sinking, until nothing changes.

A nested ifelse is lazy after ``grad`` through steps 1-2 (``drop_untaken_gradient_terms``
sees a nested gradient's zero through the outer gradient's ifelse and splits on the
outermost condition; the chain merge joins the outer forward and backward) and the stage
run again inside the branch.  In a scan step the stage runs on the step graphs like on any
graph (:mod:`.inner`); the backward loop's step recomputes the forward values it reads, only
in the branch taken (tests/optimizer/test_ifelse_grad_laziness_nested.py).

Invariant: no rewrite here makes a branch's work run when that branch is not taken.  What
is left outside is what the condition needs, what the rest of the graph reads, and what both
branches read (computed once, whichever branch runs); a node moves into a branch only when
nothing outside it and nothing in the other branch reads it.
"""

from __future__ import annotations

import heapq
import time

import numpy as np

from aotsym.graph.basic import Constant, clone_replace, rebuild, toposort
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.inner import InnerGraph
from aotsym.graph.ops import math as m
from aotsym.graph.ops.blas import Dot
from aotsym.graph.ops.elemwise import DimShuffle, Elemwise
from aotsym.graph.ops.ifelse import IfElse, identity_branches, make_ifelse, read_inputs
from aotsym.graph.ops.reduce import Reduce
from aotsym.graph.types import TensorType
from aotsym.optimizer.cleanup import FOLD_RULES
from aotsym.optimizer.engine import rewrite_graph
from aotsym.optimizer.ifelse_chain import merge_chained_same_condition
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
    placeholder by index, a constant, or another node's key), to find shared work; not of
    nodes on constants alone (a gradient's ``fill(p, dimshuffle(0))`` zeros in both branches
    are not common work: lifted, the zero would no longer be seen inside the branch)."""
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
        if not all(ref[0] == "c" for ref in ins):
            found.add(key)  # (work on constants alone is folding's, not work to share)
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


@rule("drop_untaken_gradient_terms", root=("add", "sub"))
def drop_untaken_gradient_terms(node):
    """A sum whose terms vanish when one side of an ``IfElse`` is taken (a branch's gradient:
    ``IfElse.grad`` gives the untaken side a zero, and the backward pass multiplies it on)
    is an ``IfElse`` on the same condition adding, in each branch, only the terms that do
    not vanish there, so a branch's backward work runs only when it is taken
    (``sink_into_branches`` then moves it in, ``share_branch_work`` the forward work it
    reads).  A difference is a sum of two terms, the second negated (canonicalize may have
    factored ``gT*x - gE*x`` into ``(gT - gE)*x``).

    before: gx = add(gT * f'(x), gE * g'(x))     gT, gE = IfElse{then: (g, 0), else: (0, g)}(c, ..)
    after:  gx = IfElse{then: p0, else: p1}(c, gT * f'(x), gE * g'(x))

    A term "vanishes" when it is a product (elementwise, ``dot``, a sum over axes, a
    dimshuffle, a fill, ...) of such a zero, or of an ``IfElse`` output that passes one on
    (a nested ifelse's gradient: zero when its own condition, or the outer one, says so): it
    is 0 whenever the untaken side's other factors are finite, and then dropping it changes
    nothing.  Where the untaken side's work is NaN or infinite, the eager sum was NaN
    (0 * inf) and the lazy one is the taken branch's gradient — what finite differences
    give; DEBUG_MODE checks this rule like a stabilizing one (finite values must agree).
    Only when each branch keeps a term of the sum's own type (no zeros of another shape to
    make).  Of several conditions, the one whose split drops the most terms (the outermost,
    for nested ifelses) is taken, on a tie the condition of an ``IfElse`` giving a term (a
    part of the sum split before); the branches' own sums are split again inside.
    """
    out = node.outputs[0]
    signs = [1, -1] if node.op.scalar_op.name == "sub" else [1] * len(node.inputs)
    memo: dict = {}
    zeros = [_vanishes_when(t, memo) for t in node.inputs]
    conds: dict = {}
    for z in zeros:
        for key, (cond, sides) in z.items():
            conds.setdefault(key, [cond, 0])[1] += len(sides)
    own = {id(t.owner.inputs[0]) for t in node.inputs
           if t.owner is not None and isinstance(t.owner.op, IfElse)}
    for key, (cond, _) in sorted(conds.items(), key=lambda kv: (-kv[1][1], kv[0] not in own)):
        kept = [[k for k, z in enumerate(zeros) if side not in z.get(key, (None, ()))[1]]
                for side in (0, 1)]
        if all(len(k) == len(node.inputs) for k in kept) or not all(kept):
            continue
        values, index = [], {}
        for t in node.inputs:
            if id(t) not in index and not isinstance(t, Constant):
                index[id(t)] = len(values)
                values.append(t)
        placeholders = [v.type(v.name) for v in values]
        inner = {id(v): p for v, p in zip(values, placeholders)}
        graphs = []
        for terms in kept:
            acc = None
            for k in terms:
                t = inner.get(id(node.inputs[k]), node.inputs[k])
                if acc is None:
                    acc = t if signs[k] > 0 else m.neg(t)
                else:
                    acc = m.add(acc, t) if signs[k] > 0 else m.sub(acc, t)
            if acc.type != out.type:
                break
            graphs.append(InnerGraph(placeholders, [acc]))
        else:
            return make_ifelse(cond, values, *graphs, trace=out.tag.trace).outputs
    return None


# how a value vanishes with its inputs: "any" (a product: one zero factor is enough), "all"
# (a sum: every term must vanish), or an index list of the inputs that carry the value
_VANISHING_ELEMWISE = {"mul": "any", "neg": "all", "add": "all", "sub": "all",
                       "identity": "all", "cast": "all", "true_div": [0], "second": [1]}


def _vanishing_inputs(node):
    """``(mode, inputs)``: how ``node``'s output is 0 when some inputs are (see above)."""
    op = node.op
    if type(op) is Elemwise and not op.inplace:
        how = _VANISHING_ELEMWISE.get(op.scalar_op.name)
        if isinstance(how, list):
            return "all", [node.inputs[i] for i in how]
        return (how, list(node.inputs)) if how else None
    if isinstance(op, DimShuffle):
        return "all", [node.inputs[0]]
    if isinstance(op, Reduce) and op.kind == "sum":
        return "all", [node.inputs[0]]
    if isinstance(op, Dot):
        return "any", list(node.inputs)
    if type(op).__name__ in ("Reshape", "Alloc"):
        return "all", [node.inputs[0]]
    return None


def _structural_zero(v) -> bool:
    """An inner graph's output that is all zeros by construction (a constant, a fill or an
    alloc of one, a dimshuffle of one)."""
    while v.owner is not None:
        op = v.owner.op
        if type(op) is Elemwise and op.scalar_op.name == "second":
            v = v.owner.inputs[1]
        elif type(op).__name__ == "Alloc" or isinstance(op, DimShuffle):
            v = v.owner.inputs[0]
        else:
            return False
    return isinstance(v, Constant) and not np.any(v.data)


def _vanishes_when(var, memo) -> dict:
    """``{id(cond): (cond, sides)}``: ``var`` is 0 whenever ``cond``'s side in ``sides`` (0
    then, 1 else) is taken — for any one of the entries — it being a product of such an
    ``IfElse`` output (iterative).  An ``IfElse`` output zero on side ``b`` whose other side
    passes a value ``v`` on vanishes when ``cond`` is ``b`` or when ``v`` vanishes:
    ``(c == b) or (c != b and v == 0)`` is ``(c == b) or v == 0``."""
    stack = [var]
    while stack:
        v = stack[-1]
        if id(v) in memo:
            stack.pop()
            continue
        node = v.owner
        found: dict = {}
        if node is not None and isinstance(node.op, IfElse):
            j = node.outputs.index(v)
            passed = []     # per side: "zero", the outer value it passes on, or None
            for g in node.op.inner_graphs:
                o = g.outputs[j]
                if _structural_zero(o):
                    passed.append("zero")
                else:
                    k = next((k for k, p in enumerate(g.inputs) if p is o), None)
                    outer = None if k is None else node.inputs[1 + k]
                    passed.append("zero" if outer is not None and _structural_zero(outer)
                                  else outer)
            missing = [p for p in passed if p not in (None, "zero") and id(p) not in memo]
            if missing:
                stack.extend(missing)
                continue
            found = _ifelse_vanishing(node.inputs[0], passed, memo)
        elif node is not None:
            how = _vanishing_inputs(node)
            if how is not None:
                mode, ins = how
                missing = [i for i in ins if id(i) not in memo]
                if missing:
                    stack.extend(missing)
                    continue
                found = _combine(mode, [memo[id(i)] for i in ins])
        memo[id(v)] = found
        stack.pop()
    return memo[id(var)]


def _ifelse_vanishing(cond, passed, memo) -> dict:
    """When an ``IfElse`` output is 0, from what each side gives (:func:`_vanishes_when`)."""
    zero = [b for b, p in enumerate(passed) if p == "zero"]
    if len(zero) == 2:
        return {id(cond): (cond, frozenset((0, 1)))}
    if zero:
        other = passed[1 - zero[0]]
        rest = memo[id(other)] if other is not None else {}
        return _combine("any", [{id(cond): (cond, frozenset(zero))}, rest])
    if all(p is not None for p in passed):
        return _combine("all", [memo[id(p)] for p in passed])
    return {}


def _combine(mode, parts) -> dict:
    if mode == "any":
        out: dict = {}
        for part in parts:
            for key, (cond, sides) in part.items():
                out[key] = (cond, out.get(key, (cond, frozenset()))[1] | sides)
        return out
    common = set(parts[0]) if parts else set()
    for part in parts[1:]:
        common &= set(part)
    result = {}
    for key in common:
        sides = frozenset.intersection(*(part[key][1] for part in parts))
        if sides:
            result[key] = (parts[0][key][0], sides)
    return result


IFELSE_RULES = RuleSet("ifelse", [fold_constant_condition, fold_known_condition,
                                  lift_common_work, bypass_identical_branches,
                                  drop_untaken_gradient_terms])

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
        outs = graph.apply_to([inside.get(id(values[k]), values[k]) if k in read else p
                               for k, p in enumerate(graph.inputs)])
        graphs.append(InnerGraph(placeholders, outs))
    cond = memo.get(id(holder.inputs[0]), holder.inputs[0])
    return make_ifelse(cond, [memo.get(id(v), v) for v in frontier], *graphs,
                       holder.op.name, trace=holder.outputs[0].tag.trace)


# ---------------------------------------------------------------------------- sharing


def share_branch_work(fgraph: FunctionGraph) -> tuple[FunctionGraph, int]:
    """A value that only one side of several ``IfElse`` nodes on the same condition reads
    (the forward work of a branch, read again by that branch's gradient) is passed out of
    the first of them as one more output — the other side gives a zero placeholder, never
    read — and the later ones read that output: ``sink_into_branches`` can then move its
    work into the first one's branch.  Returns the new graph and the number of values
    passed out.

    before: h = exp(x);  y = IfElse{then: p0 * 2, else: p1}(c, h, z)
            g = IfElse{then: p0 * p1, else: p2}(c, h, f(y), w)
    after:  y, h' = IfElse{then: (p0 * 2, p0), else: (p1, 0)}(c, h, z)
            g = IfElse{then: p0 * p1, else: p2}(c, h', f(y), w)

    Exact: a later node reads ``h'`` only in the side it shares with the first, and both
    take the same side (the same condition variable), where ``h'`` is ``h``.  The first
    node is the earliest in topological order, so no later one is its ancestor.
    """
    order = fgraph.toposort()
    position = {node: pos for pos, node in enumerate(order)}
    clients = fgraph.clients()
    reads_cache: dict = {}

    def side_of(holder, i):
        """The one branch of ``holder`` reading its input ``i`` (None: the condition, both
        branches or none)."""
        if i == 0:
            return None
        reads = reads_cache.get(holder)
        if reads is None:
            reads = reads_cache[holder] = [read_inputs(g) for g in holder.op.inner_graphs]
        sides = [b for b in (0, 1) if i - 1 in reads[b]]
        return sides[0] if len(sides) == 1 else None

    passes: dict = {}    # first holder -> [(value, side)]
    rereads: dict = {}   # later holder -> {input index: (first holder, value)}
    for node in order:
        if node.op.destroy_map:
            continue
        for o in node.outputs:
            readers = clients.get(id(o), [])
            if len(readers) < 2 or any(r == "output" or not isinstance(r.op, IfElse)
                                       for r, _ in readers):
                continue
            sides = {side_of(r, i) for r, i in readers}
            conds = {id(r.inputs[0]) for r, _ in readers}
            holders = sorted({r for r, _ in readers}, key=position.__getitem__)
            if len(sides) != 1 or None in sides or len(conds) != 1 or len(holders) < 2:
                continue
            first = holders[0]
            if any(h in passes or h in rereads and first in rereads for h in holders[1:]):
                continue  # one change per holder per round
            passes.setdefault(first, []).append((o, sides.pop()))
            for r, i in readers:
                if r is not first:
                    rereads.setdefault(r, {})[i] = (first, o)
    passes = {h: v for h, v in passes.items() if h not in rereads}
    rereads = {r: {i: fo for i, fo in ins.items() if fo[0] in passes}
               for r, ins in rereads.items()}
    if not passes:
        return fgraph, 0
    extra: dict = {}     # (first holder, id(value)) -> its new output
    memo: dict = {}

    def change(old, new):
        if old in passes:
            n = len(old.inputs) - 1
            shared = passes[old]
            values = list(new.inputs[1:]) + [memo.get(id(v), v) for v, _ in shared]
            placeholders = [v.type(v.name) for v in values]
            graphs = []
            for b, g in enumerate(old.op.inner_graphs):
                outs = g.apply_to(placeholders[:n])
                for k, (v, side) in enumerate(shared):
                    outs.append(placeholders[n + k] if side == b else _placeholder_zero(v))
                graphs.append(InnerGraph(placeholders, outs))
            node = make_ifelse(new.inputs[0], values, *graphs, old.op.name,
                               trace=old.outputs[0].tag.trace)
            for k, (v, _) in enumerate(shared):
                extra[(old, id(v))] = node.outputs[len(old.outputs) + k]
            outs = node.outputs[:len(old.outputs)]
        elif old in rereads:
            inputs = list(new.inputs)
            for i, (first, v) in rereads[old].items():
                inputs[i] = extra[(first, id(v))]
            outs = rebuild(old, inputs).outputs
        else:
            outs = new.outputs
        for o, n in zip(old.outputs, outs):
            memo[id(o)] = n
        return None if outs is new.outputs else list(outs)

    result, _ = rebuild_graph(fgraph, change)
    return result, sum(len(v) for v in passes.values())


def blank_unread_sides(fgraph: FunctionGraph) -> tuple[FunctionGraph, int]:
    """An ``IfElse`` output that only one side of ``IfElse`` nodes on the same condition
    reads is never read when the other side is taken: that side gives a zero placeholder
    instead (the gradient's zero for the untaken branch, ``fill(forward value, 0)``, would
    make that branch's forward value be computed for its shape).  Returns the new graph and
    the number of outputs blanked.

    before: gT, gE = IfElse{then: (g, fill(p1, 0)), else: (fill(p0, 0), g)}(c, vT, vE, g)
            (gT read only by then-sides of ifelses on c, gE only by else-sides)
    after:  gT, gE = IfElse{then: (g, 0), else: (0, g)}(c, g)
    """
    clients = fgraph.clients()
    plans: dict = {}
    for node in fgraph.toposort():
        if not isinstance(node.op, IfElse):
            continue
        cond = node.inputs[0]
        blank = {}
        for j, o in enumerate(node.outputs):
            readers = clients.get(id(o), [])
            if not readers or any(r == "output" or not isinstance(r.op, IfElse)
                                  or r.inputs[0] is not cond or i == 0 for r, i in readers):
                continue
            sides = set()
            for r, i in readers:
                sides |= {b for b, g in enumerate(r.op.inner_graphs) if i - 1 in read_inputs(g)}
            if len(sides) == 1:
                other = 1 - sides.pop()
                if not isinstance(node.op.inner_graphs[other].outputs[j], Constant):
                    blank[j] = other
        if blank:
            plans[node] = blank
    if not plans:
        return fgraph, 0

    def change(old, new):
        blank = plans.get(old)
        if blank is None:
            return None
        graphs = []
        for b, g in enumerate(old.op.inner_graphs):
            outs = [_placeholder_zero(o) if blank.get(j) == b else o
                    for j, o in enumerate(g.outputs)]
            graphs.append(g.with_outputs(outs))
        return make_ifelse(new.inputs[0], new.inputs[1:], *graphs, old.op.name,
                           trace=old.outputs[0].tag.trace).outputs

    result, _ = rebuild_graph(fgraph, change)
    return result, sum(len(b) for b in plans.values())


def _placeholder_zero(v):
    """A zero of ``v``'s type, every length 1: what a side that never reads the value
    gives (nothing of ``v``'s shape needs computing)."""
    return Constant(TensorType(v.dtype, v.broadcastable), np.zeros((1,) * v.ndim, v.dtype))


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
    t0 = time.perf_counter()
    fgraph, chained = merge_chained_same_condition(fgraph)
    ctx.count("merge_chained_same_condition", "ifelse", chained, time.perf_counter() - t0)
    if merged or chained:
        fgraph = rewrite_graph(fgraph, rules, ctx.stats, "ifelse", ctx.checker)
    t0 = time.perf_counter()
    fgraph, moved = sink_into_branches(fgraph)
    ctx.count("sink_into_branches", "ifelse", moved, time.perf_counter() - t0)
    for _ in range(_SHARE_ROUNDS):
        t0 = time.perf_counter()
        fgraph, blanked = blank_unread_sides(fgraph)
        fgraph, shared = share_branch_work(fgraph)
        shared += blanked
        if shared:
            fgraph, moved = sink_into_branches(fgraph)
        ctx.count("share_branch_work", "ifelse", shared, time.perf_counter() - t0)
        if not shared:
            break
    return fgraph


_SHARE_ROUNDS = 64  # each round passes out a layer of shared work; a bound, not a tuning
