"""Theano's test values (``config.compute_test_value``): each node the user's code makes is
computed at once on its inputs' test values, so an error shows on the line that makes it
(the seeds' debugging advice, aotsym/graph/test_values.py)."""

import inspect
import warnings

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.test_values import TestValueError


def here() -> int:
    return inspect.currentframe().f_back.f_lineno


@pytest.fixture
def flag():
    """Set compute_test_value for one test (restored after)."""
    def set_(value):
        aotsym.config.compute_test_value = value
    yield set_
    aotsym.config.compute_test_value = "off"


def test_the_debug_faq_example_raises_on_the_line_that_makes_the_shape_error(flag):
    flag("raise")
    W1 = aotsym.shared(np.random.rand(2, 10, 10), "W1")
    x = T.matrix("x")
    x.tag.test_value = np.random.rand(5, 10)
    func_of_W1 = W1.dimshuffle(2, 0, 1).flatten(2).T
    assert func_of_W1.get_test_value().shape == (20, 10)
    line = here() + 2
    with pytest.raises(ValueError) as info:
        T.dot(x, func_of_W1)
    text = str(info.value)
    assert "(5, 10)" in text and "(20, 10)" in text
    assert f"line {line}" in text and "T.dot(x, func_of_W1)" in text


def test_the_seeds_logistic_regression_values_and_gradients(flag):
    flag("raise")
    rng = np.random.default_rng(0)
    D = (rng.standard_normal((40, 7)), rng.integers(0, 2, 40).astype("float64"))
    w0 = 0.1 * rng.standard_normal(7)
    x, y = T.matrix("x"), T.vector("y")
    w = aotsym.shared(w0.copy(), name="w")
    b = aotsym.shared(np.asarray(0.), name="b")
    x.tag.test_value, y.tag.test_value = D
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    p = 1 / (1 + np.exp(-D[0] @ w0))
    np.testing.assert_allclose(p_1.get_test_value(), p, rtol=1e-13)
    want_gw = D[0].T @ (p - D[1]) / 40 + 0.02 * w0
    np.testing.assert_allclose(gw.get_test_value(), want_gw, rtol=1e-10)
    np.testing.assert_allclose(gb.get_test_value(), (p - D[1]).mean(), rtol=1e-10)
    step = w - 0.1 * gw        # a user op on a gradient: computed from it
    np.testing.assert_allclose(step.get_test_value(), w0 - 0.1 * want_gw, rtol=1e-10)
    # the compiled function is the same with the flag on (its passes compute nothing)
    train = aotsym.function([x, y], [xent], updates=[(w, step), (b, b - 0.1 * gb)])
    (got,) = train(*D)
    np.testing.assert_allclose(got, xent.get_test_value(), rtol=1e-12)
    np.testing.assert_allclose(w.get_value(), w0 - 0.1 * want_gw, rtol=1e-10)


def test_scan_traces_its_step_on_the_first_steps_values(flag):
    flag("raise")
    coefficients, x = T.vector("coefficients"), T.scalar("x")
    coefficients.tag.test_value, x.tag.test_value = np.array([1.0, 0.0, 2.0]), 3.0
    components, _ = aotsym.scan(lambda c, p, v: c * (v ** p), outputs_info=None,
                                sequences=[coefficients, T.arange(1000)], non_sequences=x)
    assert components.sum().get_test_value() == 19.0
    A, k = T.vector("A"), T.iscalar("k")
    A.tag.test_value, k.tag.test_value = np.arange(1.0, 4.0), 3
    result, _ = aotsym.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
                            non_sequences=A, n_steps=k)
    np.testing.assert_array_equal(result[-1].get_test_value(), np.arange(1.0, 4.0) ** 3)
    # taps: x[t-2] and x[t-1] reach the step as rows of the initial buffer
    x0 = T.vector("x0")
    x0.tag.test_value = np.array([1.0, 1.0])
    fib, _ = aotsym.scan(lambda a, b: a + b, outputs_info=dict(initial=x0, taps=[-2, -1]),
                         n_steps=6)
    np.testing.assert_array_equal(fib.get_test_value(), [2, 3, 5, 8, 13, 21])
    # a shared variable updated in the step, and a gradient through the loop
    c = aotsym.shared(0.0, name="c")
    seq = T.vector("seq")
    seq.tag.test_value = np.arange(5.0)
    out, updates = aotsym.scan(lambda s: (s * 2, {c: c + s}), sequences=seq)
    np.testing.assert_array_equal(out.get_test_value(), np.arange(5.0) * 2)
    assert updates[c].get_test_value() == 10.0
    W = aotsym.shared(0.5 * np.eye(3), name="W")
    h0, xs = T.vector("h0"), T.matrix("xs")
    h0.tag.test_value, xs.tag.test_value = np.ones(3), np.linspace(0, 1, 12).reshape(4, 3)
    hs, _ = aotsym.scan(lambda s, h: T.tanh(T.dot(W, h) + s), sequences=xs, outputs_info=h0)
    g = T.grad(hs[-1].sum(), W)
    want = aotsym.function([h0, xs], g)(h0.tag.test_value, xs.tag.test_value)
    np.testing.assert_allclose(g.get_test_value(), want, rtol=1e-12)


def test_a_missing_test_value_raises_warns_or_is_ignored(flag):
    x = T.vector("x")
    flag("raise")
    line = here() + 2
    with pytest.raises(TestValueError) as info:
        x * 2
    assert "x (float64[?])" in str(info.value) and f"line {line}" in str(info.value)
    flag("warn")
    with pytest.warns(UserWarning, match="has no test value"):
        y = x * 3
    assert y.tag.test_value is None
    with pytest.raises(TestValueError):
        y.get_test_value()
    flag("ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = x * 4
    assert z.tag.test_value is None
    # a value computed from an input without one names that input
    flag("raise")
    x2 = T.vector("x2")
    x2.tag.test_value = np.ones(2)
    with pytest.raises(TestValueError, match="computed from x, which has no test value"):
        x2 + y


def test_test_values_are_checked_against_the_type(flag):
    flag("raise")
    v = T.vector("v")
    v.tag.test_value = np.ones((2, 2))
    with pytest.raises(TypeError, match="2 dimension"):
        v + 1
    r = T.row("r")
    r.tag.test_value = np.ones((3, 2))
    with pytest.raises(TypeError, match="broadcastable"):
        r + 1
    f = T.vector("f", dtype="float32")
    f.tag.test_value = np.linspace(0, 1, 3)        # float64, as numpy.random.rand gives
    assert (f * 2).get_test_value().dtype == np.float32
    i = T.ivector("i")
    i.tag.test_value = np.ones(3)                  # a float for an integer type: refused
    with pytest.raises(TypeError, match="int32"):
        i + 1


def test_with_the_flag_off_nothing_is_computed():
    assert aotsym.config.compute_test_value == "off"
    x = T.vector("x")
    x.tag.test_value = np.ones(3)
    y = T.exp(x) + 1
    assert y.tag.test_value is None
    # ... though a value can still be asked for: computed from the inputs' test values
    np.testing.assert_allclose(y.get_test_value(), np.e + 1)
    assert T.constant(2.0).get_test_value() == 2.0
    assert aotsym.shared(np.arange(3)).get_test_value().tolist() == [0, 1, 2]
