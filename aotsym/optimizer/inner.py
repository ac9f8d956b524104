"""The optimizer and ops that hold inner graphs: entering them, pruning them, inlining them.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Ops that hold
sub-graphs (:class:`~aotsym.graph.inner.HasInnerGraphs`: ``OpFromGraph`` now, ``scan`` and
``ifelse`` later) are one node to every outer stage.  Three things here see inside:

* **entering** (:func:`optimize_inner_graphs`, called by
  :func:`~aotsym.optimizer.engine.run_stages` after the outer stages, never a stage itself):
  each inner graph of every node of the optimized outer graph is optimized with the *same*
  stage list — and so, recursively, the inner graphs nested in it — then the op is rebuilt
  with ``with_inner_graphs`` and the outer graph rebuilt around the new node (``rebuild``;
  ``meta["schedule_last"]`` follows).  Equal inner graphs are optimized once.  Rules that
  fire inside count in the same :class:`~aotsym.optimizer.engine.OptimizerStats` (the
  ``rules`` table is shared); the whole step is one stage line, ``inner_graphs``.  In
  DEBUG_MODE each inner graph gets its own checker on random values of its placeholders::

      before: OpFromGraph{body: log(1 + x)}(a)     after: OpFromGraph{body: log1p(x)}(a)

* **pruning** (stage ``prune_outputs``, :func:`prune_unused_outputs`): a node some of
  whose outputs nobody reads (no node, no graph output) is replaced by its op's
  ``prune_outputs(node, used)`` (contract: :class:`~aotsym.graph.inner.HasInnerGraphs`)::

      before: o = OpFromGraph{x*2, x+1}(a); o.0 read, o.1 not   after: OpFromGraph{x*2}(a).0

* **inlining** (stage ``inline``, :func:`inline_graphs`; rule ``inline_op_from_graph``): the
  backends do not know ``OpFromGraph``; its body is substituted for it (see the rule).
"""

from __future__ import annotations

import time

from aotsym.graph.basic import rebuild
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.inner import inner_graphs_of
from aotsym.graph.ops.opfromgraph import OpFromGraph
from aotsym.optimizer.engine import (OptimizerStats, PassContext, RewriteError, StageStat,
                                     rewrite_graph, run_stages)
from aotsym.optimizer.pattern import RuleSet, rule

# ---------------------------------------------------------------------------- rebuilding


def rebuild_graph(fgraph: FunctionGraph, change) -> tuple[FunctionGraph, int]:
    """``fgraph`` rebuilt in topological order, each node on its rebuilt inputs, then
    offered to ``change(old_node, rebuilt_node)``, which returns None (keep it) or one
    replacement variable per output (None for an output nobody reads).  Returns the new
    graph and how many nodes ``change`` replaced; ``meta["schedule_last"]`` follows."""
    memo: dict[int, object] = {}
    node_map: dict = {}
    changed = 0
    for node in fgraph.toposort():
        new_inputs = [memo.get(id(v), v) for v in node.inputs]
        new = node if all(a is b for a, b in zip(new_inputs, node.inputs)) else \
            rebuild(node, new_inputs)
        outs = change(node, new)
        if outs is None:
            outs = new.outputs
        else:
            changed += 1
        owner = next((o.owner for o in outs if o is not None), None)
        if owner is not None and owner is not node:
            node_map[node] = owner
        for o, n in zip(node.outputs, outs):
            if n is not None and n is not o:
                memo[id(o)] = n
    if not memo:
        return fgraph, changed
    meta = {}
    last = fgraph.meta.get("schedule_last")
    if last:
        meta["schedule_last"] = [node_map.get(n, n) for n in last]
    return fgraph.with_outputs([memo.get(id(v), v) for v in fgraph.outputs], **meta), changed


# ---------------------------------------------------------------------------- pruning


def prune_unused_outputs(fgraph: FunctionGraph, ctx=None) -> FunctionGraph:
    """Stage ``prune_outputs``: see the module docstring."""
    clients = fgraph.clients()

    def change(old, new):
        hook = getattr(new.op, "prune_outputs", None)
        if hook is None or len(old.outputs) < 2:
            return None
        used = {i for i, o in enumerate(old.outputs) if clients.get(id(o))}
        if len(used) == len(old.outputs):
            return None
        pruned = hook(new, set(used))
        if pruned is None:
            return None
        kept = sorted(used)
        if len(pruned.outputs) != len(kept) or any(
                pruned.outputs[j].type != old.outputs[i].type for j, i in enumerate(kept)):
            raise RewriteError(
                f"{old.op}.prune_outputs returned {len(pruned.outputs)} outputs for the "
                f"{len(kept)} used ones {kept} (one per used output, in index order, each of "
                "its type)")
        outs: list = [None] * len(old.outputs)
        for j, i in enumerate(kept):
            outs[i] = pruned.outputs[j]
        return outs

    t0 = time.perf_counter()
    if not any(getattr(node.op, "prune_outputs", None) is not None and len(node.outputs) > 1
               for node in fgraph.toposort()):
        return fgraph  # the common case, cheaply
    result, n = rebuild_graph(fgraph, change)
    if ctx is not None:
        ctx.count("prune_outputs", "prune_outputs", n, time.perf_counter() - t0)
    return result


# ---------------------------------------------------------------------------- entering


def optimize_inner_graphs(fgraph: FunctionGraph, stages, ctx: PassContext) -> FunctionGraph:
    """Optimize every inner graph of ``fgraph``'s nodes with ``stages`` (see the module
    docstring); ``fgraph`` itself when no node holds one."""
    holders = [n for n in fgraph.toposort() if inner_graphs_of(n.op)]
    if not holders:
        return fgraph
    t0 = time.perf_counter()
    inner_stats = OptimizerStats(mode=ctx.stats.mode, rules=ctx.stats.rules)
    done: dict = {}
    sizes = [0, 0]

    def optimized(graph):
        got = done.get(graph)
        if got is None:
            fg = graph.fgraph()
            checker = None if ctx.checker is None else type(ctx.checker)(fg)
            inner_ctx = PassContext(stats=inner_stats, checker=checker, mode=ctx.mode,
                                    fast_math=ctx.fast_math)
            new = run_stages(fg, stages, inner_ctx)
            if checker is not None:
                checker.check_final(new)
            got = done[graph] = graph.rebuilt(new.outputs)
            sizes[0] += len(fg)
            sizes[1] += len(new)
        return got

    def change(old, new):
        graphs = inner_graphs_of(new.op)
        if not graphs:
            return None
        new_graphs = tuple(optimized(g) for g in graphs)
        if all(a is b for a, b in zip(new_graphs, graphs)):
            return None
        return rebuild(new, new.inputs, op=new.op.with_inner_graphs(new_graphs)).outputs

    result, n = rebuild_graph(fgraph, change)
    seconds = time.perf_counter() - t0
    ctx.count("optimize_inner_graphs", "inner_graphs", n, seconds)
    ctx.stats.stages.append(StageStat("inner_graphs", seconds, sizes[0], sizes[1]))
    if ctx.checker is not None:
        ctx.checker.check_pass("inner_graphs", fgraph, result)
    return result


# ---------------------------------------------------------------------------- inlining


@rule("inline_op_from_graph", root=OpFromGraph)
def inline_op_from_graph(node):
    """The body of an ``OpFromGraph`` substituted for it (its placeholders replaced by the
    node's inputs, ``clone_replace``), so backends that do not know the op can run it.

    before: OpFromGraph{body: (x * y) + 1}(a, b)       after: (a * b) + 1
    """
    return node.op.inner.apply_to(node.inputs)


INLINE_RULES = RuleSet("inline", [inline_op_from_graph])


def inline_graphs(fgraph: FunctionGraph, ctx) -> FunctionGraph:
    """Stage ``inline``: :data:`INLINE_RULES` to a fixed point (bodies nested in an inlined
    body are inlined too); a graph without ``OpFromGraph`` is returned without a rebuild."""
    if not any(isinstance(node.op, OpFromGraph) for node in fgraph.toposort()):
        return fgraph
    return rewrite_graph(fgraph, INLINE_RULES, ctx.stats, "inline", ctx.checker)
