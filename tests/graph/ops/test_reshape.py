"""Reshape, flatten, transpose against NumPy; static broadcastable patterns; gradients;
errors."""

import numpy as np
import pytest

from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.reshape import Reshape
from aotsym.gradient import verify_grad


def ev(out, givens):
    return evaluate([out], givens)[0]


X = np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("shape", [(24,), (6, 4), (4, -1), (-1,), (2, 3, 2, 2), (1, 24),
                                   (2, 1, 12), (-1, 1)])
def test_reshape_constant_shapes(shape):
    x = T.tensor3()
    out = x.reshape(shape)
    got = ev(out, {x: X})
    np.testing.assert_array_equal(got, X.reshape(shape))
    assert out.broadcastable == tuple(s == 1 for s in shape)
    assert isinstance(out.owner.op, Reshape)


def test_reshape_spellings():
    x, n = T.tensor3(), T.lscalar()
    np.testing.assert_array_equal(ev(x.reshape(6, 4), {x: X}), X.reshape(6, 4))
    np.testing.assert_array_equal(ev(T.reshape(x, (n, -1)), {x: X, n: 3}), X.reshape(3, -1))
    np.testing.assert_array_equal(ev(x.reshape(n), {x: X, n: 24}), X.ravel())
    i32 = T.iscalar()
    np.testing.assert_array_equal(ev(x.reshape((i32, 12)), {x: X, i32: 2}), X.reshape(2, 12))
    # y.shape entries and a whole y.shape
    y = T.matrix()
    Y = np.zeros((4, 6))
    out = x.reshape((y.shape[1], y.shape[0]))
    np.testing.assert_array_equal(ev(out, {x: X, y: Y}), X.reshape(6, 4))
    out = x.reshape(y.shape)
    assert out.ndim == 2
    np.testing.assert_array_equal(ev(out, {x: X, y: Y}), X.reshape(4, 6))
    r = T.row()
    assert x.reshape(r.shape).broadcastable == (True, False)
    assert T.reshape(x, (n, 1)).broadcastable == (False, True)
    assert x.reshape((1, n)).broadcastable == (True, False)
    # a symbolic vector needs ndim
    v = T.lvector()
    np.testing.assert_array_equal(ev(T.reshape(x, v, ndim=2), {x: X, v: [12, 2]}),
                                  X.reshape(12, 2))
    with pytest.raises(ValueError, match="pass ndim"):
        T.reshape(x, v)
    np.testing.assert_array_equal(ev(x.reshape(np.array([4, 6])), {x: X}), X.reshape(4, 6))


def test_reshape_errors():
    x = T.tensor3()
    with pytest.raises(ValueError, match="at most one -1"):
        x.reshape((-1, -1))
    with pytest.raises(ValueError, match="negative length -2"):
        x.reshape((-2, 12))
    with pytest.raises(TypeError, match="integer"):
        x.reshape((2.5, 4))
    with pytest.raises(ValueError, match=r"Reshape\{2\}: cannot reshape an array of shape "
                                         r"\(2, 3, 4\) \(24 elements\) into shape \(5, 5\)"):
        ev(x.reshape((5, 5)), {x: X})
    with pytest.raises(ValueError, match="cannot reshape"):
        ev(x.reshape((5, -1)), {x: X})
    n = T.lscalar()
    with pytest.raises(ValueError, match="at most one -1"):
        ev(x.reshape((n, n)), {x: X, n: -1})
    v = T.lvector()
    with pytest.raises(ValueError, match="3 entries, expected 2"):
        ev(T.reshape(x, v, ndim=2), {x: X, v: [2, 3, 4]})
    with pytest.raises(TypeError, match="integer vector"):
        T.reshape(x, T.vector(), ndim=1)


def test_reshape_of_non_contiguous_input():
    x = T.matrix()
    M = np.arange(12.0).reshape(3, 4)
    out = x.T.reshape((12,))
    np.testing.assert_array_equal(ev(out, {x: M}), M.T.reshape(12))


def test_reshape_gradient():
    rng = np.random.default_rng(0)
    verify_grad(lambda x: x.reshape((4, 6)) * np.arange(24.0).reshape(4, 6), [X + 0.5],
                rng=rng)
    verify_grad(lambda x: T.flatten(x.T, 2) ** 2, [rng.normal(size=(2, 3, 4))], rng=rng)


def test_flatten():
    x = T.tensor3()
    for ndim in (1, 2, 3):
        out = T.flatten(x, ndim)
        want = X.reshape(X.shape[:ndim - 1] + (-1,))
        np.testing.assert_array_equal(ev(out, {x: X}), want)
        assert out.ndim == ndim
    np.testing.assert_array_equal(ev(x.flatten(), {x: X}), X.ravel())
    # empty arrays flatten too (no -1 that NumPy could not resolve)
    np.testing.assert_array_equal(ev(T.flatten(x, 2), {x: np.zeros((0, 3, 4))}).shape, (0, 12))
    assert T.flatten(T.tensor("float64", (False, True, True)), 2).broadcastable == (False, True)
    s = T.scalar()
    np.testing.assert_array_equal(ev(T.flatten(s), {s: 3.0}), [3.0])
    with pytest.raises(ValueError, match="flatten: ndim must be between 1 and 3"):
        T.flatten(x, 4)
    with pytest.raises(ValueError, match="flatten"):
        T.flatten(x, 0)


def test_transpose():
    x = T.tensor3()
    for axes in (None, (1, 0, 2), (2, 0, 1), (-1, 0, 1)):
        np.testing.assert_array_equal(ev(T.transpose(x, axes), {x: X}),
                                      np.transpose(X, axes))
    np.testing.assert_array_equal(ev(x.T, {x: X}), X.T)
    np.testing.assert_array_equal(ev(x.transpose(2, 1, 0), {x: X}), X.transpose(2, 1, 0))
    with pytest.raises(ValueError, match="not a permutation"):
        T.transpose(x, (0, 0, 1))
    with pytest.raises(ValueError, match="do not match"):
        T.transpose(x, (0, 1))
    with pytest.raises(ValueError, match="out of range"):
        T.transpose(x, (0, 1, 3))
    verify_grad(lambda a: T.transpose(a, (2, 0, 1)) * np.arange(24.0).reshape(4, 2, 3),
                [X], n_tests=1)
