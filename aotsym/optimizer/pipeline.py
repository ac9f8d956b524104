"""The optimizer's pipeline: one explicit, ordered list of named stages per mode.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).

==================  =====================================================================
stage               what it does
==================  =====================================================================
inline              OpFromGraph -> its body, inlined (:mod:`.inner`; backends lack the op)
merge               re-intern nodes: equal subexpressions become one (:mod:`.cleanup`)
prune_outputs       ops holding inner graphs drop the outputs nobody reads (:mod:`.inner`)
fold                constant folding alone (FAST_COMPILE)
canonicalize        one spelling per expression (:mod:`.canonicalize`) + constant folding
ifelse              lazy branches: work only one branch reads moves into it (:mod:`.ifelse`)
scan                loop-invariant work out of scan steps, unread inputs dropped, only the
                    last rows kept where only they are read (:mod:`.scan`; after grad)
stabilize           numerically safe forms (:mod:`.stabilize`), canonical rules kept on
specialize          cheaper forms: powers, division by constants (:mod:`.specialize`)
blas                dot -> gemm / gemv / ger with scaling absorbed (:mod:`.blas`)
fuse_elementwise    elementwise trees -> one Composite (:mod:`.fusion`)
fuse_reductions     elementwise producer + reduction -> one FusedReduce (:mod:`.fusion`)
fuse_gemv_pairs     X @ v, a row-wise chain, X.T @ d -> one FusedGemvPair reading X once
                    (:mod:`.gemv_pair`)
inplace             outputs written over dead input buffers (:mod:`.inplace`)
==================  =====================================================================

Modes: ``FAST_COMPILE`` = inline, merge, prune_outputs, fold, ifelse, fuse_elementwise;
``FAST_RUN`` (and ``PROFILE_MODE``) = all of them in the order above except fold;
``DEBUG_MODE`` = FAST_RUN with every rewrite checked by :mod:`.debug`.

After the stages of the list, :func:`~aotsym.optimizer.engine.run_stages` runs the same list
inside every inner graph of the result (:mod:`.inner`), recursively.
"""

from __future__ import annotations

import gc

from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer.blas import BLAS_RULES
from aotsym.optimizer.canonicalize import CANONICALIZE_RULES, SIMPLIFY_RULES
from aotsym.optimizer.cleanup import FOLD_RULES, merge_graph
from aotsym.optimizer.engine import OptimizerStats, PassContext, Stage, run_stages
from aotsym.optimizer.fusion import fuse_elementwise, fuse_reductions
from aotsym.optimizer.gemv_pair import fuse_gemv_pairs
from aotsym.optimizer.inner import inline_graphs, prune_unused_outputs
from aotsym.optimizer.inplace import insert_inplace
from aotsym.optimizer.specialize import SPECIALIZE_RULES


def _holds(fgraph, op_class_name) -> bool:
    return any(type(n.op).__name__ == op_class_name for n in fgraph.toposort())


def optimize_ifelse(fgraph, ctx):
    """Stage ``ifelse`` (:mod:`.ifelse`), imported only for a graph holding an ifelse."""
    if not _holds(fgraph, "IfElse"):
        return fgraph
    from aotsym.optimizer.ifelse import optimize_ifelse as run
    return run(fgraph, ctx)


def optimize_scans(fgraph, ctx):
    """Stage ``scan`` (:mod:`.scan`), imported only for a graph holding a scan."""
    if not _holds(fgraph, "Scan"):
        return fgraph
    from aotsym.optimizer.scan import optimize_scans as run
    return run(fgraph, ctx)
from aotsym.optimizer.stabilize import STABILIZE_RULES

STAGES = {s.name: s for s in [
    Stage("inline", run=inline_graphs),
    Stage("merge", run=merge_graph),
    Stage("prune_outputs", run=prune_unused_outputs),
    Stage("fold", rules=FOLD_RULES),
    Stage("canonicalize", rules=FOLD_RULES + CANONICALIZE_RULES),
    Stage("ifelse", run=optimize_ifelse),
    Stage("scan", run=optimize_scans),
    Stage("stabilize", rules=FOLD_RULES + STABILIZE_RULES + CANONICALIZE_RULES),
    Stage("specialize", rules=FOLD_RULES + SPECIALIZE_RULES + SIMPLIFY_RULES),
    Stage("blas", rules=FOLD_RULES + BLAS_RULES + SIMPLIFY_RULES),
    Stage("fuse_elementwise", run=fuse_elementwise),
    Stage("fuse_reductions", run=fuse_reductions),
    Stage("fuse_gemv_pairs", run=fuse_gemv_pairs),
    Stage("inplace", run=insert_inplace),
]}

FAST_RUN = ["inline", "merge", "prune_outputs", "canonicalize", "ifelse", "scan",
            "stabilize", "specialize", "blas", "fuse_elementwise", "fuse_reductions",
            "fuse_gemv_pairs", "inplace"]
# fuse_gemv_pairs pays on the seed's step (X 400 x 784 float64, in L3), measured with the
# other core busy, alternating processes, min of 400 batches of 10 calls: 110 -> 93 us with
# the threads unset (the two-gemv graph runs ~14 us slower unset than with one thread there,
# the fused one does not), 96 -> 93.5 us with one thread; 656k -> 592k instructions a call;
# its profile build as fast as the plain one.  (Off in 5b13afe, when a quiet machine showed
# no gain and a profile build 40% slower, not reproduced since.)  The name below stays for
# callers that ask for it.
FAST_RUN_WITH_GEMV_PAIRS = FAST_RUN
MODES = {
    "FAST_COMPILE": ["inline", "merge", "prune_outputs", "fold", "ifelse", "fuse_elementwise"],
    "FAST_RUN": FAST_RUN,
    "PROFILE_MODE": FAST_RUN,
    "DEBUG_MODE": FAST_RUN,
}

# Stages whose ops only the C backend translates: left out for another target.
C_ONLY_STAGES = ("fuse_gemv_pairs",)


def optimize(fgraph: FunctionGraph, mode: str = "FAST_RUN", stages=None,
             fast_math: bool = False, target: str = "c") -> FunctionGraph:
    """The optimized graph for ``mode`` (see the module docstring); ``stages`` overrides the
    mode's list of stage names; ``fast_math`` lets the cancellation rules assume every value
    finite (and every divisor nonzero): ``x - x -> 0``, ``x / x -> 1`` for any ``x``;
    ``target``: the backend the graph is for ("c", or "cuda": no :data:`C_ONLY_STAGES`, no
    shared variable written in place).  The stats go to ``result.meta["optimizer_stats"]``
    and travel with the graph to the artifact (no global keeps them)."""
    if mode not in MODES:
        raise ValueError(f"optimize: unknown mode {mode!r}; use one of {', '.join(MODES)}")
    names = MODES[mode] if stages is None else list(stages)
    if target != "c":
        names = [n for n in names if n not in C_ONLY_STAGES]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise ValueError(f"optimize: unknown stage(s) {unknown}; stages: {', '.join(STAGES)}")
    stats = OptimizerStats(mode=mode)
    checker = None
    if mode == "DEBUG_MODE":
        from aotsym.optimizer.debug import RewriteChecker
        checker = RewriteChecker(fgraph)
    ctx = PassContext(stats=stats, checker=checker, mode=mode, fast_math=fast_math,
                      target=target)
    # Rewriting makes and drops many small objects; Python's cyclic collector rescanning the
    # growing heap made the optimizer superlinear (100,000 nodes: 25 s -> 9 s without it).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        result = run_stages(fgraph, [STAGES[n] for n in names], ctx)
    finally:
        if gc_was_enabled:
            gc.enable()
    if checker is not None:
        checker.check_final(result)
    return result.with_outputs(result.outputs, optimizer_stats=stats)
