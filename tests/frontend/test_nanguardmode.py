"""Theano's NanGuardMode (aotsym/compile/nanguardmode.py): the first node whose output holds a
nan, an infinity or a value above 1e10 is named, with the user's line, in an AssertionError;
values are otherwise those of FAST_RUN."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.compile.nanguardmode import NanGuardMode


def test_the_node_that_makes_the_nan_is_named_with_its_line():
    x = T.matrix("x")
    w = aotsym.shared(np.ones(3), name="w")
    h = T.log(x)              # the line reported
    y = T.dot(h, w)
    f = aotsym.function([x], y, updates=[(w, w + 1)], mode=NanGuardMode(True, True, True))
    good = np.full((2, 3), 2.0)
    np.testing.assert_allclose(f(good), np.log(good) @ np.ones(3))
    np.testing.assert_array_equal(w.get_value(), [2.0, 2.0, 2.0])
    with pytest.raises(AssertionError) as info:
        f(np.array([[1.0, -1.0, 2.0], [1.0, 1.0, 1.0]]))
    text = str(info.value)
    assert "NaN detected" in text and "Elemwise{log}" in text and "h = T.log(x)" in text
    np.testing.assert_array_equal(w.get_value(), [2.0, 2.0, 2.0])   # no update stored
    with pytest.raises(AssertionError, match="Inf detected"):
        f(np.zeros((2, 3)))                                         # log(0)


def test_inputs_big_values_and_the_switches():
    x = T.vector("x")
    e = T.exp(x)
    f = aotsym.function([x], e * 2, mode="NanGuardMode")    # Theano's mode name
    with pytest.raises(AssertionError, match=r"NaN detected in input 0 \(x\)"):
        f(np.array([np.nan, 1.0]))
    with pytest.raises(AssertionError, match="Big value detected"):
        f(np.array([30.0]))                                  # e**30 = 1.07e13 > 1e10
    lax = aotsym.function([x], e * 2, mode=NanGuardMode(False, False, False))
    with np.errstate(over="ignore"):
        got = lax(np.array([np.nan, 1000.0, 30.0]))
    assert np.isnan(got[0]) and np.isinf(got[1]) and got[2] == 2 * np.exp(30.0)
    i = T.lvector("i")
    ints = aotsym.function([i], i * 2 ** 40, mode=NanGuardMode(True, True, True))
    assert ints(np.array([1]))[0] == 2 ** 40                    # only floats are checked
