"""Specialization: cheaper forms with the same values."""

import numpy as np

from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops import math as m
from aotsym.graph.ops.blas import Dot
from aotsym.optimizer.testing import assert_graph, assert_same_values, count_ops, rewrite
from aotsym.optimizer.utils import const_like

STAGES = ["canonicalize", "specialize"]


def spec(v):
    return rewrite(v, STAGES)


def test_square_and_square_root():
    x = T.vector("x")
    assert_graph(spec(x ** 2), m.sqr(x))
    assert_graph(spec(x ** 0.5), m.sqrt(x))
    assert_graph(spec(x ** -1), const_like(1.0, x) / x)
    minus_inf = const_like(-np.inf, x)
    assert_graph(spec(x ** -0.5), m.switch(m.eq(x, minus_inf), const_like(0.0, x),
                                           const_like(1.0, x) / m.sqrt(x + const_like(0.0, x))))


SPECIAL = [-np.inf, -0.0, 0.0, np.inf, np.nan, -4.0, 4.0, -2.5, 0.5, 1e-300, 1e300, 3.0]


def test_specialized_powers_keep_numpys_values_at_the_edges():
    """Before and after, evaluated by the reference (np.power before): NaN where NaN, the
    same infinities and the same signed zeros (x ** -0.5 gave -inf at -0 and nan at -inf
    as 1 / sqrt(x); NumPy's pow gives +inf and +0)."""
    for dtype in ("float64", "float32"):
        x = T.vector("x", dtype=dtype)
        v = np.array(SPECIAL, dtype=dtype) if dtype == "float64" else \
            np.array([s for s in SPECIAL if abs(s) not in (1e-300, 1e300)], dtype=dtype)
        for e in (2, 3, 10, -1, -2, -3, -10, 0.5, -0.5):
            before = x ** np.asarray(e, dtype=dtype)
            after = spec(before)
            assert count_ops(after, "pow") == 0, e
            with np.errstate(all="ignore"):
                (b,) = evaluate([before], {x: v})
                (a,) = evaluate([after], {x: v})
            assert b.dtype == a.dtype == dtype
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=f"{dtype} ** {e}")
            np.testing.assert_array_equal(np.signbit(a), np.signbit(b), err_msg=f"{dtype} ** {e}")
            np.testing.assert_allclose(a, b, rtol=4 * np.finfo(dtype).eps, err_msg=f"** {e}")


def test_seed_power_by_squaring():
    a = T.vector("a")
    before = a + a ** 10
    after = spec(before)
    assert count_ops(after, "pow") == 0
    assert count_ops(after, "sqr") == 3 and count_ops(after, "mul") == 1
    (got,) = evaluate([after], {a: np.array([0.0, 1.0, 2.0])})
    np.testing.assert_array_equal(got, [0.0, 2.0, 1026.0])
    assert_same_values(before, after)


def test_integer_powers_stay_integer_and_exact():
    i = T.vector("i", dtype="int64")
    before = i ** 7
    after = spec(before)
    assert count_ops(after, "pow") == 0 and after.dtype == "int64"
    (got,) = evaluate([after], {i: np.array([2, 3, -5])})
    np.testing.assert_array_equal(got, np.array([2, 3, -5]) ** 7)
    assert count_ops(spec(i ** -1), "pow") == 1  # an error at run time, as in NumPy


def test_int_base_float_exponent_is_cast_first():
    i = T.vector("i", dtype="int32")
    before = i ** 2.0
    after = spec(before)
    assert after.dtype == before.dtype
    assert_same_values(before, after)


def test_division_by_constant():
    x = T.vector("x")
    assert_graph(spec(x / 4), x * const_like(0.25, x))
    i = T.vector("i", dtype="int32")
    before = i / 4.0            # int input, float output: cast, then multiply
    assert_same_values(before, spec(before))
    assert count_ops(spec(before), "true_div") == 0


def test_sum_of_product_is_dot():
    x, y = T.vector("x"), T.vector("y")
    before = T.sum(x * y)
    assert_graph(spec(before), Dot()(x, y))
    assert_same_values(before, spec(before))
    mx = T.matrix("m")
    assert count_ops(spec(T.sum(mx * mx)), Dot) == 0  # only vectors
