"""Chained ifelses on one condition merged: after ``grad``, a branch's backward work joins
its forward work's branch.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters): one step of the
``ifelse`` stage (:func:`aotsym.optimizer.ifelse.optimize_ifelse`, after
``merge_same_condition``, which merges the ``IfElse`` nodes on one condition that do *not*
read each other).  This makes a nested ifelse lazy after ``grad``: its forward node sinks
into the outer forward branch, its gradient into the outer gradient's branch, and only once
those two are one node can the work both read sink into one branch (the stage, run again
inside that branch, then treats the nested pair like a plain one).
"""

from __future__ import annotations

from aotsym.graph.basic import Constant, clone_replace, rebuild, toposort
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.inner import InnerGraph
from aotsym.graph.ops.ifelse import IfElse, make_ifelse


def merge_chained_same_condition(fgraph: FunctionGraph) -> tuple[FunctionGraph, int]:
    """An ``IfElse`` that reads (through other nodes) one on the same condition is one node
    with it: each branch computes the first's side, the work between them on that side's
    values, then the second's side.  After ``grad`` this puts a branch's backward work in
    the branch of its forward work, so the work both read — a nested ifelse's forward
    values, read by its gradient — sinks into one branch (``sink_into_branches``), where
    the stage, run again inside, makes the nested pair lazy like a plain one.  Returns the
    new graph and the number of nodes merged away.

    before: y = IfElse{then: p0, else: p1}(c, f, g);  u = fill(y, 1)
            gf, gg = IfElse{then: (p0, 0), else: (0, p0)}(c, u)
    after:  y, gf, gg = IfElse{then: (p0, fill(p0, 1), 0), else: (p1, 0, fill(p1, 1))}(c, f, g)

    Exact: both nodes take the same side.  The work between them runs once either way (it
    is built in both branches); a node reads the merged node's outputs for the values
    outside nodes read.  Not done when that work holds an in-place node or more than
    :data:`_CHAIN_LIMIT` nodes (it is built twice).
    """
    merged = 0
    while True:
        found = _chained_pair(fgraph)
        if found is None:
            return fgraph, merged
        fgraph = _merge_chain(fgraph, *found)
        merged += 1


_CHAIN_LIMIT = 400  # nodes between two chained ifelses built into both branches; a bound


def _chained_pair(fgraph):
    """``(a, b, between)``: ``IfElse`` nodes on one condition variable, ``a`` an ancestor
    of ``b`` with no other on that condition between them, and the nodes between them in
    topological order; None when there are none.  Of several pairs, the one whose ``a``
    comes last: a nested ifelse's forward node comes before the outer one that reads it,
    so the outer condition's pair merges first and the nested pair ends up inside it (the
    other way round, the outer ifelse would be built into both of the nested one's
    branches, and its other branch's work read by both)."""
    order = fgraph.toposort()
    position = {node: pos for pos, node in enumerate(order)}
    clients = fgraph.clients()
    last = set(fgraph.meta.get("schedule_last") or ())
    groups: dict = {}
    for node in order:
        if isinstance(node.op, IfElse) and node not in last:
            groups.setdefault(id(node.inputs[0]), []).append(node)
    best = None
    for nodes in groups.values():
        for i, later in enumerate(nodes[1:], 1):
            before = None
            for earlier in reversed(nodes[:i]):
                if best is not None and position[earlier] <= position[best[0]]:
                    break
                if before is None:
                    before = set(toposort(later.inputs))
                if earlier not in before:
                    continue
                between = _between(earlier, later, before, clients)
                if len(between) <= _CHAIN_LIMIT and not any(
                        n.op.destroy_map or n in last or isinstance(n.op, IfElse) and
                        n.inputs[0] is earlier.inputs[0] for n in between):
                    best = (earlier, later, sorted(between, key=position.__getitem__))
                break
    return best


def _between(a, b, ancestors, clients) -> set:
    """The nodes that read ``a``'s outputs, directly or not, and that ``b`` reads."""
    found: set = set()
    stack = list(a.outputs)
    while stack:
        v = stack.pop()
        for reader, _ in clients.get(id(v), []):
            if reader != "output" and reader is not b and reader in ancestors \
                    and reader not in found:
                found.add(reader)
                stack.extend(reader.outputs)
    return found


def _merge_chain(fgraph, a, b, between):
    """The graph with ``a``, ``between`` and ``b`` one ``IfElse`` (see above)."""
    inside = set(between) | {a, b}
    clients = fgraph.clients()
    values, index = [], {}

    def value(v):
        if not isinstance(v, Constant) and id(v) not in index:
            index[id(v)] = len(values)
            values.append(v)

    for v in a.inputs[1:]:
        value(v)
    for node in between + [b]:
        for v in node.inputs[1:] if node is b else node.inputs:
            if v.owner is None or v.owner not in inside:
                value(v)
    exported = [o for node in [a] + between for o in node.outputs
                if any(r == "output" or r not in inside for r, _ in clients.get(id(o), []))]
    placeholders = [v.type(v.name) for v in values]
    graphs = []
    for side in (0, 1):
        local = {id(v): p for v, p in zip(values, placeholders)}

        def get(v):
            return local.get(id(v), v)

        outs = a.op.inner_graphs[side].apply_to([get(v) for v in a.inputs[1:]])
        local.update((id(o), n) for o, n in zip(a.outputs, outs))
        for node in between:
            new = rebuild(node, [get(v) for v in node.inputs])
            local.update((id(o), n) for o, n in zip(node.outputs, new.outputs))
        outs = b.op.inner_graphs[side].apply_to([get(v) for v in b.inputs[1:]])
        local.update((id(o), n) for o, n in zip(b.outputs, outs))
        graphs.append(InnerGraph(placeholders, [get(o) for o in exported + list(b.outputs)]))
    name = a.op.name if a.op.name == b.op.name else None
    both = make_ifelse(a.inputs[0], values, *graphs, name, trace=a.outputs[0].tag.trace)
    replace = dict(zip(exported + list(b.outputs), both.outputs))
    return fgraph.with_outputs(clone_replace(fgraph.outputs, replace))
