"""Stabilization: rewritten graphs stay finite where the naive ones overflow."""

import numpy as np

from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops import math as m
from aotsym.optimizer.testing import assert_graph, assert_same_values, rewrite

STAGES = ["canonicalize", "stabilize"]


def stab(v):
    return rewrite(v, STAGES)


def test_log1p_and_expm1():
    x = T.vector("x")
    assert_graph(stab(T.log(1 + x)), m.log1p(x))
    assert_graph(stab(T.log(1 - x)), m.log1p(-x))
    assert_graph(stab(T.exp(x) - 1), m.expm1(x))
    tiny = {x: np.array([1e-20, 1e-18, 1e-17])}
    (naive,) = evaluate([T.log(1 + x)], tiny)
    (good,) = evaluate([stab(T.log(1 + x))], tiny)
    assert np.all(naive == 0) and np.allclose(good, tiny[x], rtol=1e-12)


def test_sigmoid_from_exp():
    x = T.vector("x")
    assert_graph(stab(1 / (1 + T.exp(-x))), m.sigmoid(x))
    assert_graph(stab(1 / (1 + T.exp(x))), m.sigmoid(-x))


def test_log_sigmoid_and_log_one_minus_sigmoid():
    x = T.vector("x")
    assert_graph(stab(T.log(T.sigmoid(x))), -m.softplus(-x))
    assert_graph(stab(T.log(1 - T.sigmoid(x))), -m.softplus(x))
    big = {x: np.array([800.0, -800.0, 0.0])}
    (got,) = evaluate([stab(T.log(1 - T.sigmoid(x)))], big)
    assert np.isfinite(got).all() and got[0] == -800.0
    (naive,) = evaluate([T.log(1 - T.sigmoid(x))], big)
    assert not np.isfinite(naive[0])


def test_naive_logistic_pieces_are_finite():
    x = T.vector("x")
    p = 1 / (1 + T.exp(-x))
    big = {x: np.array([800.0, -800.0, 3.0])}
    (got,) = evaluate([stab(T.log(1 - p))], big)
    assert got[0] == -800.0 and np.isfinite(got).all()
    assert_same_values(T.log(1 - p), stab(T.log(1 - p)), {x: np.array([-2.0, 0.5, 3.0])})


def test_softplus():
    x = T.vector("x")
    assert_graph(stab(T.log(1 + T.exp(x))), m.softplus(x))
    (got,) = evaluate([stab(T.log(1 + T.exp(x)))], {x: np.array([1000.0])})
    assert got[0] == 1000.0


def test_logsumexp_is_finite():
    x = T.matrix("x")
    before = T.log(T.sum(T.exp(x), axis=1))
    after = stab(before)
    vals = {x: np.array([[1000.0, 1000.0], [-1000.0, -1000.0], [0.0, np.log(3.0)]])}
    (got,) = evaluate([after], vals)
    np.testing.assert_allclose(got, [1000 + np.log(2), -1000 + np.log(2), np.log(4)])
    assert_same_values(before, after, {x: np.random.rand(3, 4)})
    assert stab(after) is after  # the stable form is not rewritten again


def test_gradient_of_naive_cross_entropy_is_finite():
    """The seed's logistic-regression cost and its gradient, at logits of +-800."""
    import aotsym
    z = T.vector("z")
    y = T.vector("y")
    p = 1 / (1 + T.exp(-z))
    xent = (-y * T.log(p) - (1 - y) * T.log(1 - p)).mean()
    g = aotsym.grad(xent, z)
    vals = {z: np.array([800.0, -800.0, 800.0, -800.0, 0.5]),
            y: np.array([1.0, 0.0, 0.0, 1.0, 1.0])}
    naive = evaluate([xent, g], vals)
    assert not np.isfinite(naive[0]) or not np.isfinite(naive[1]).all()
    cost, grad = evaluate(rewrite([xent, g], ["canonicalize", "stabilize"]), vals)
    assert np.isfinite(cost) and np.isfinite(grad).all()
    expected_cost = np.mean([0.0, 0.0, 800.0, 800.0, np.log1p(np.exp(-0.5))])
    np.testing.assert_allclose(cost, expected_cost)
    sig = 1 / (1 + np.exp(-vals[z].clip(-50, 50)))
    np.testing.assert_allclose(grad, (sig - vals[y]) / 5, atol=1e-12)


def test_naive_softmax_becomes_the_op():
    from aotsym.graph.ops.nnet import LogSoftmax, Softmax
    x = T.matrix("x")
    e = T.exp(x)
    before = e / T.sum(e, axis=1, keepdims=True)
    assert_graph(stab(before), Softmax(1)(x))
    e2 = T.exp(x - T.max(x, axis=1, keepdims=True))
    assert_graph(stab(e2 / T.sum(e2, axis=1, keepdims=True)), Softmax(1)(x))
    assert_graph(stab(T.log(before)), LogSoftmax(1)(x))
    big = {x: np.array([[1000.0, 0.0], [-1000.0, 5.0]])}
    (got,) = evaluate([stab(T.log(before))], big)
    assert np.isfinite(got).all()
    assert_same_values(before, stab(before))


def test_naive_softmax_cross_entropy_gradient_is_finite():
    import aotsym
    x = T.matrix("x")
    y = T.matrix("y")
    e = T.exp(x)
    sm = e / T.sum(e, axis=1, keepdims=True)
    cost = -T.sum(y * T.log(sm))
    g = aotsym.grad(cost, x)
    vals = {x: np.array([[800.0, 0.0, -5.0], [1.0, 2.0, 3.0]]),
            y: np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])}
    cost_v, g_v = evaluate(rewrite([cost, g], ["canonicalize", "stabilize"]), vals)
    assert np.isfinite(cost_v) and np.isfinite(g_v).all()
    xs = vals[x] - vals[x].max(axis=1, keepdims=True)
    ref_sm = np.exp(xs) / np.exp(xs).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(g_v, ref_sm * vals[y].sum(axis=1, keepdims=True) - vals[y],
                               atol=1e-12)
