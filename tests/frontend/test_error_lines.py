"""A run-time error of a compiled function names the user's file and line of the expression
that failed, after optimization, in every mode: compiled C (FAST_RUN), the reference evaluator
(FAST_COMPILE), and DEBUG_MODE.  (A module built by ``aotsym build``: tests/build.)"""

import inspect
import os

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T

THIS_FILE = os.path.basename(__file__)
MODES = ["FAST_RUN", "FAST_COMPILE", "DEBUG_MODE"]


def here() -> int:
    """The caller's line number."""
    return inspect.currentframe().f_back.f_lineno


def names_line(exc, line) -> bool:
    text = str(exc)
    return f'{THIS_FILE}", line {line},' in text


def logistic_regression(mode, feats=784):
    """The seed's model; returns the training function and the line of its ``T.dot``."""
    rng = np.random.default_rng(0)
    x, y = T.matrix("x"), T.vector("y")
    w = aotsym.shared(rng.standard_normal(feats), name="w")
    b = aotsym.shared(0.0, name="b")
    dot_line = here() + 1
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = aotsym.grad(cost, [w, b])
    train = aotsym.function(inputs=[x, y], outputs=[prediction, xent],
                            updates={w: w - 0.1 * gw, b: b - 0.1 * gb}, name="train",
                            mode=mode)
    return train, dot_line


@pytest.mark.filterwarnings("ignore:DEBUG_MODE")
@pytest.mark.parametrize("mode", MODES)
def test_dot_shape_mismatch_names_the_dot_line(mode):
    train, dot_line = logistic_regression(mode)
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError) as info:
        train(rng.standard_normal((400, 10)), rng.integers(0, 2, 400).astype(float))
    assert names_line(info.value, dot_line), str(info.value)
    assert "T.dot(x, w)" in str(info.value)


@pytest.mark.filterwarnings("ignore:DEBUG_MODE")
@pytest.mark.parametrize("mode", MODES)
def test_subtensor_index_error_names_the_indexing_line(mode):
    v, i = T.vector("v"), T.iscalar("i")
    line = here() + 1
    picked = (T.exp(v) * 2)[i]
    doubled = picked + 1
    f = aotsym.function([v, i], doubled, mode=mode)
    np.testing.assert_allclose(f(np.zeros(3), 2), 3.0)
    with pytest.raises(IndexError) as info:
        f(np.zeros(3), 5)
    assert names_line(info.value, line) and "out of bounds" in str(info.value), info.value


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_fused_broadcast_error_lists_the_fused_lines(mode):
    a, b = T.vector("a"), T.vector("b")
    first = here() + 1
    s = a + b
    t = T.exp(s) * 2
    f = aotsym.function([a, b], t, mode=mode)
    with pytest.raises(ValueError) as info:
        f(np.ones(3), np.ones(4))
    assert names_line(info.value, first + 1), info.value
    assert f"fusing the expressions at {THIS_FILE} lines {first}, {first + 1}" in \
        str(info.value)
