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


# ---------------------------------------------------------------------------- Print


def test_print_prints_from_the_compiled_function_and_returns_its_input(capsys):
    from aotsym.printing import Print
    x = T.vector("x")
    y = Print("x is")(x) * 2
    f = aotsym.function([x], y)
    capsys.readouterr()
    xv = np.array([1.5, -0.0, np.nan])
    np.testing.assert_array_equal(f(xv), xv * 2)
    assert capsys.readouterr().out == f"x is __str__ = {xv}\n"
    f(np.array([3.0]))
    assert capsys.readouterr().out == "x is __str__ = [3.]\n"


def test_print_attributes_strided_input_and_gil_released_run(capsys):
    from aotsym.printing import Print
    x = T.matrix("x")
    y = Print("m", attrs=("shape", "sum", "__str__"))(x.T) + 1
    f = aotsym.function([x], y)
    xv = np.arange(12.0).reshape(3, 4)[:, ::-2]          # strided, negative stride
    capsys.readouterr()
    np.testing.assert_array_equal(f(xv), xv.T + 1)
    out = capsys.readouterr().out
    assert out == f"m shape = (2, 3)\nm sum = {xv.sum()}\nm __str__ = {xv.T}\n", out
    big = np.ones((300, 300))                             # the entry releases the GIL
    np.testing.assert_array_equal(f(big), 2 * big)
    assert capsys.readouterr().out.startswith("m shape = (300, 300)\nm sum = 90000.0\n")


def test_print_is_kept_by_the_optimizer_and_in_fast_compile(capsys):
    from aotsym.graph.ops.debugprint import Print as PrintOp
    from aotsym.printing import Print
    x = T.scalar("x")
    y = Print("c")(T.constant(2.0)) + Print("v")(x)
    assert count_ops(rewrite(y), PrintOp) == 2          # not folded, not removed
    f = aotsym.function([x], y, mode="FAST_COMPILE")
    capsys.readouterr()
    assert f(1.0) == 3.0
    assert sorted(capsys.readouterr().out.splitlines()) == ["c __str__ = 2.0",
                                                           "v __str__ = 1.0"]


def test_print_gradient_passes_through_and_an_unknown_attribute_fails_clearly():
    from aotsym.printing import Print
    x = T.vector("x")
    g = aotsym.grad((Print("p")(x) ** 2).sum(), x)
    np.testing.assert_array_equal(evaluate([g], {x: np.array([1.0, 2.0])})[0], [2.0, 4.0])
    f = aotsym.function([x], Print("p", attrs=("no_such_attribute",))(x))
    with pytest.raises(Exception, match="no_such_attribute"):
        f(np.array([1.0]))
