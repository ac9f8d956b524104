"""The optimizer builds for its target: a graph for the CUDA backend gets no C-only stage
(FusedGemvPair, when asked for) and no shared variable written in place (the CUDA renderer does not split
state writes), so the seed's training step, with its updates, renders for CUDA; for the C
backend the same graph gets both."""

import numpy as np

from aotsym.build.driver import _spec
from aotsym.emit_cuda import renderer as R
from aotsym.frontend.assemble import assemble
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.gemv_pair import FusedGemvPair
from aotsym.optimizer import optimize
from aotsym.optimizer.pipeline import FAST_RUN_WITH_GEMV_PAIRS
from aotsym.optimizer.program import COMMIT, PREPARE
from seed_logreg import logreg_step


def seed_train():
    step = logreg_step(np.random.default_rng(0).standard_normal(30))
    return assemble(step.inputs, step.outputs, dict(step.updates), name="train",
                    arg_names=["x", "y"])


def test_the_cuda_target_gets_no_c_only_stage_and_no_state_write():
    fn = seed_train()
    graphs = {t: optimize(fn.fgraph, "FAST_RUN", stages=FAST_RUN_WITH_GEMV_PAIRS, target=t)
              for t in ("c", "cuda")}
    ops = {t: {type(n.op) for n in g.toposort()} for t, g in graphs.items()}
    assert FusedGemvPair in ops["c"] and FusedGemvPair not in ops["cuda"]
    programs = {t: _spec("train", g).program for t, g in graphs.items()}
    kinds = {t: {s.kind for s in p.steps + p.commits} for t, p in programs.items()}
    assert {PREPARE, COMMIT} <= kinds["c"] and not kinds["cuda"] & {PREPARE, COMMIT}
    rng = np.random.default_rng(1)
    values = [rng.standard_normal((40, 30)), rng.integers(0, 2, 40).astype(float),
              rng.standard_normal(30), np.asarray(0.25)]
    ref = evaluate(list(fn.fgraph.outputs), dict(zip(fn.fgraph.inputs, values)))
    for g in graphs.values():                 # the same answers either way
        got = evaluate(list(g.outputs), dict(zip(g.inputs, [v.copy() for v in values])))
        for a, r in zip(got, ref):
            np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-14)
    source = R.emit_cuda_module([_spec("train", graphs["cuda"])]).source   # renders: no
    assert "__global__" in source                                          # refusal
