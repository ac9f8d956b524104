"""Theano's tensor functions of ``aotsym/tensor/special.py``: gradient stops, ``Print``,
sort / argsort, special functions, nnet extras.

Compiled results (FAST_RUN) are compared with the NumPy reference evaluator and with
NumPy / SciPy; gradients with finite differences.
"""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.gradient import GradientStop, consider_constant, disconnected_grad, zero_grad
from aotsym.graph.evaluate import evaluate
from aotsym.optimizer.testing import assert_graph, count_ops, rewrite

# ---------------------------------------------------------------------------- gradient stops


@pytest.mark.parametrize("stop", [zero_grad, consider_constant, disconnected_grad])
def test_a_gradient_stop_is_the_identity_forward_and_removed_by_the_optimizer(stop):
    x = T.vector("x")
    before = stop(x) * 2
    assert count_ops(before, GradientStop) == 1
    after = rewrite(before, stages=["inline"])
    assert_graph(after, x * 2)
    f = aotsym.function([x], before)
    xv = np.array([1.5, -0.0, np.nan, np.inf])
    np.testing.assert_array_equal(f(xv), xv * 2)
    assert count_ops(rewrite(before), GradientStop) == 0      # every mode inlines it
    assert count_ops(rewrite(before, mode="FAST_COMPILE"), GradientStop) == 0


@pytest.mark.parametrize("stop", [zero_grad, consider_constant])
def test_zero_grad_and_consider_constant_give_zeros_where_only_they_lead(stop):
    x = T.vector("x")
    cost = (stop(x) ** 2).sum() + (3 * x).sum()
    g = aotsym.grad(cost, x)
    f = aotsym.function([x], g)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0, -4.0])), [3.0, 3.0, 3.0])
    g_only = aotsym.grad((stop(x) ** 2).sum(), x)     # connected: zeros, no error
    np.testing.assert_array_equal(evaluate([g_only], {x: np.arange(3.0)})[0], np.zeros(3))


def test_disconnected_grad_disconnects():
    x, w = T.vector("x"), T.vector("w")
    cost = (disconnected_grad(x * w) * w).sum()
    gw = aotsym.grad(cost, w)           # only the direct path to w counts
    xv, wv = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    np.testing.assert_array_equal(aotsym.function([x, w], gw)(xv, wv), xv * wv)
    with pytest.raises(Exception, match="does not depend on x"):
        aotsym.grad(cost, x)
    gx = aotsym.grad(cost, x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(evaluate([gx], {x: xv, w: wv})[0], [0.0, 0.0])


def test_the_tensor_namespace_exports_the_stops():
    assert T.zero_grad is zero_grad and T.consider_constant is consider_constant
    assert aotsym.gradient.disconnected_grad is disconnected_grad
