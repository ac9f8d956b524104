"""Golden files: the C emitted for a few small graphs, kept in tests/emit_c/golden/, so any
change in the generated code shows up in review.

The graphs: the seed's ``predict`` (logistic regression: a Gemv feeding a fused sigmoid and
comparison), the seed's first example ``a + a**10`` with a reduction beside it, and the seed's
``train`` step (an in-place state write split into prepare and commit).  Each is optimized in
FAST_RUN, lowered and rendered without the runtime (which is pasted in unchanged).

After an intended change of the emitter, regenerate with
``AOTSYM_UPDATE_GOLDEN=1 python -m pytest tests/emit_c/test_emit_golden.py`` and review the diff.
"""

import os
import pathlib

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.emit_c.emitter import FunctionSpec, emit_module
from aotsym.optimizer.lower import lower_program

GOLDEN = pathlib.Path(__file__).parent / "golden"


def _logreg():
    rng = np.random.RandomState(0)
    x, y = T.matrix("x"), T.vector("y")
    w = aotsym.shared(rng.randn(4), name="w")
    b = aotsym.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = aotsym.grad(cost, [w, b])
    train = aotsym.function([x, y], [prediction, xent],
                            updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], name="train")
    predict = aotsym.function([x], prediction, name="predict")
    return train, predict


def _graphs():
    train, predict = _logreg()
    a = T.vector("a")
    simple = aotsym.function([a], [a + a ** 10, T.sum(a * 2)], name="simple")
    return {"predict": predict, "simple": simple, "train": train}


def _source(fn) -> str:
    spec = FunctionSpec(fn.name, lower_program(fn.maker.fgraph))
    return emit_module([spec], runtime_source="").source


@pytest.mark.parametrize("name", ["predict", "simple", "train"])
def test_emitted_c_matches_the_golden_file(name):
    source = _source(_graphs()[name])
    path = GOLDEN / f"{name}.c"
    if os.environ.get("AOTSYM_UPDATE_GOLDEN"):
        path.write_text(source)
    assert path.exists(), f"no golden file {path}; run with AOTSYM_UPDATE_GOLDEN=1"
    want = path.read_text()
    if source != want:
        import difflib
        diff = "".join(difflib.unified_diff(want.splitlines(True), source.splitlines(True),
                                            f"golden/{name}.c", "emitted", n=2))
        pytest.fail(f"the emitted C of {name} changed:\n{diff[:6000]}")


def test_golden_files_hold_what_they_claim():
    """The files are real emitted programs: the predict step calls the BLAS gemv, the train
    step commits its state write after the handover."""
    predict = (GOLDEN / "predict.c").read_text()
    train = (GOLDEN / "train.c").read_text()
    assert "aot_gemv_d(" in predict and "aot_f0_run" in predict
    assert "prepare" in train and "commit" in train
    assert train.index("prepare */") < train.index("ctx->before_commit(ctx)") < \
        train.index(", commit */")
