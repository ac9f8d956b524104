"""The seed's graphs after FAST_RUN: what the tutorial's debugprint and profile show."""

import numpy as np

import aotsym
from aotsym import tensor as T
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.composite import Composite, FusedReduce
from aotsym.graph.ops.gemm import Gemv
from aotsym.optimizer import optimize
from aotsym.optimizer.testing import assert_same_values


def logistic_regression(rng):
    x = T.matrix("x")
    y = T.vector("y")
    w = aotsym.shared(rng.randn(784), name="w")
    b = aotsym.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = aotsym.grad(cost, [w, b])
    return x, y, w, b, prediction, xent, w - 0.1 * gw, b - 0.1 * gb


def test_predict_is_a_sigmoid_composite_fed_by_a_gemv():
    x, y, w, b, prediction, *_ = logistic_regression(np.random.RandomState(0))
    fg = optimize(FunctionGraph([x, w, b], [prediction]))
    (out,) = fg.outputs
    assert isinstance(out.owner.op, Composite) and "sigmoid" in str(out.owner.op)
    assert any(isinstance(i.owner.op, Gemv) for i in out.owner.inputs if i.owner)
    assert len(fg) <= 6


def test_train_fuses_into_a_handful_of_kernels():
    rng = np.random.RandomState(0)
    x, y, w, b, prediction, xent, new_w, new_b = logistic_regression(rng)
    fg = FunctionGraph([x, y, w, b], [prediction, xent, new_w, new_b], n_updates=2,
                       meta={"updates": {2: 2, 3: 3}})
    opt = optimize(fg)
    kernels = [n for n in opt.toposort() if isinstance(n.op, (Composite, FusedReduce, Gemv))
               or type(n.op).__name__ in ("Elemwise", "Reduce", "Dot")]
    assert len(kernels) <= 8, [str(n.op) for n in kernels]
    updates = [n for n in opt.toposort() if isinstance(n.op, Gemv) and n.inputs[0] is w]
    assert len(updates) == 1 and updates[0].op.inplace
    vals = {x: rng.randn(20, 784), y: rng.randint(0, 2, 20).astype(float),
            w: w.get_value(), b: b.get_value()}
    assert_same_values(list(fg.outputs), list(opt.outputs), vals)


def test_train_is_finite_for_huge_logits():
    rng = np.random.RandomState(1)
    x, y, w, b, prediction, xent, new_w, new_b = logistic_regression(rng)
    fg = FunctionGraph([x, y, w, b], [xent, new_w, new_b])
    opt = optimize(fg)
    from aotsym.graph.evaluate import evaluate
    vals = {x: rng.randn(10, 784) * 100, y: rng.randint(0, 2, 10).astype(float),
            w: w.get_value(), b: np.asarray(0.0)}
    naive = evaluate(list(fg.outputs), vals)
    assert not all(np.isfinite(v).all() for v in naive)
    for v in evaluate(list(opt.outputs), vals):
        assert np.isfinite(v).all()


def test_seed_power_example_values():
    a = T.vector("a")
    f = aotsym.function([a], a + a ** 10, mode="FAST_COMPILE")
    np.testing.assert_array_equal(f([0, 1, 2]), [0, 2, 1026])
    opt = optimize(FunctionGraph([a], [a + a ** 10]))
    assert "pow" not in str(opt.outputs[0].owner.op)
