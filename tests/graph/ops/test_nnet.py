"""Softmax, log-softmax, logsumexp, relu and the cross-entropies against NumPy/SciPy:
stability on large inputs, gradients, Theano's label semantics."""

import numpy as np
import pytest
import scipy.special

import aotsym
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.nnet import LogSoftmax, Softmax
from aotsym.gradient import verify_grad


def ev(out, givens):
    return evaluate([out], givens)[0]


def test_softmax_and_log_softmax_match_scipy_on_every_axis():
    rng = np.random.default_rng(0)
    x = T.tensor3()
    X = rng.normal(size=(2, 3, 4)) * 3
    for axis in (-1, 0, 1, 2, None):
        np.testing.assert_allclose(ev(T.softmax(x, axis=axis), {x: X}),
                                   scipy.special.softmax(X, axis=axis), rtol=1e-12)
        np.testing.assert_allclose(ev(T.log_softmax(x, axis=axis), {x: X}),
                                   scipy.special.log_softmax(X, axis=axis), rtol=1e-12)
    assert isinstance(T.nnet.softmax(x).owner.op, Softmax)
    assert isinstance(T.nnet.log_softmax(x).owner.op, LogSoftmax)


def test_softmax_is_stable_on_large_inputs():
    x = T.matrix()
    X = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1000.0, -np.inf]])
    got = ev(T.softmax(x), {x: X})
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, scipy.special.softmax(X, axis=-1))
    np.testing.assert_allclose(ev(T.log_softmax(x), {x: X}),
                               scipy.special.log_softmax(X, axis=-1))
    f = T.fmatrix()
    got = ev(T.softmax(f), {f: X.astype("float32")})
    assert got.dtype == np.float32 and np.all(np.isfinite(got))


def test_softmax_dtypes_and_errors():
    assert T.softmax(T.fmatrix()).dtype == "float32"
    assert T.softmax(T.imatrix()).dtype == "float64"
    assert T.softmax(T.bmatrix()).dtype == "float32"
    with pytest.raises(ValueError, match="softmax: axis 2 is out of range"):
        T.softmax(T.matrix(), axis=2)
    with pytest.raises(TypeError, match="complex"):
        T.softmax(T.zmatrix())
    x = T.matrix()
    assert ev(T.softmax(x), {x: np.zeros((0, 3))}).shape == (0, 3)


def test_softmax_gradients():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, 4))
    for axis in (-1, 0, None):
        verify_grad(lambda a: T.softmax(a, axis=axis), [X], rng=rng)
        verify_grad(lambda a: T.log_softmax(a, axis=axis), [X], rng=rng)


def test_logsumexp():
    rng = np.random.default_rng(2)
    x = T.tensor3()
    X = rng.normal(size=(2, 3, 4))
    for axis in (None, 0, -1, (0, 2)):
        for keepdims in (False, True):
            got = ev(T.logsumexp(x, axis=axis, keepdims=keepdims), {x: X})
            want = scipy.special.logsumexp(X, axis=axis, keepdims=keepdims)
            np.testing.assert_allclose(got, want, rtol=1e-12)
            verify_grad(lambda a: T.logsumexp(a, axis=axis, keepdims=keepdims), [X], rng=rng,
                        n_tests=1)
    v = T.vector()
    big = np.array([1000.0, 1000.0])
    np.testing.assert_allclose(ev(T.logsumexp(v), {v: big}), 1000 + np.log(2))
    assert ev(T.logsumexp(v), {v: np.array([-np.inf, -np.inf])}) == -np.inf


def test_relu():
    x = T.vector()
    X = np.array([-2.0, -0.5, 0.5, 3.0])
    np.testing.assert_array_equal(ev(T.relu(x), {x: X}), np.maximum(X, 0))
    np.testing.assert_array_equal(ev(T.nnet.relu(x, 0.1), {x: X}), np.where(X > 0, X, 0.1 * X))
    assert T.relu(T.fvector()).dtype == "float32"
    verify_grad(T.relu, [X])
    verify_grad(lambda a: T.relu(a, 0.2), [X])


def test_binary_crossentropy():
    rng = np.random.default_rng(3)
    o, t = T.vector(), T.vector()
    O, Tt = rng.uniform(0.1, 0.9, 5), (rng.random(5) < 0.5).astype(float)
    want = -(Tt * np.log(O) + (1 - Tt) * np.log(1 - O))
    np.testing.assert_allclose(ev(T.nnet.binary_crossentropy(o, t), {o: O, t: Tt}), want)
    verify_grad(lambda a: T.nnet.binary_crossentropy(a, Tt), [O], rng=rng)


def test_categorical_crossentropy_with_one_hot_and_with_labels():
    rng = np.random.default_rng(4)
    p = T.matrix()
    P = scipy.special.softmax(rng.normal(size=(5, 3)), axis=1)
    labels = np.array([0, 2, 1, 1, 0])
    one_hot = np.eye(3)[labels]
    want = -np.log(P[np.arange(5), labels])
    oh = T.matrix()
    np.testing.assert_allclose(ev(T.nnet.categorical_crossentropy(p, oh), {p: P, oh: one_hot}),
                               want, rtol=1e-12)
    y = T.ivector()
    out = T.nnet.categorical_crossentropy(p, y)
    np.testing.assert_allclose(ev(out, {p: P, y: labels.astype("int32")}), want, rtol=1e-12)
    verify_grad(lambda a: T.nnet.categorical_crossentropy(T.softmax(a), labels),
                [rng.normal(size=(5, 3))], rng=rng)
    verify_grad(lambda a: T.nnet.categorical_crossentropy(T.softmax(a), one_hot),
                [rng.normal(size=(5, 3))], rng=rng)
    v = T.vector()
    k = T.lscalar()
    np.testing.assert_allclose(ev(T.nnet.categorical_crossentropy(v, k), {v: P[0], k: 2}),
                               -np.log(P[0, 2]))
    with pytest.raises(TypeError, match="integer labels"):
        T.nnet.categorical_crossentropy(p, T.vector())
    with pytest.raises(TypeError, match="coding_dist must be a matrix"):
        T.nnet.categorical_crossentropy(T.tensor3(), y)


def test_softmax_regression_gradient_matches_numpy():
    """Multiclass logistic regression: grad of mean NLL wrt W is X^T (softmax - onehot) / n."""
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    x, y, w = T.matrix(), T.lvector(), T.matrix()
    cost = T.nnet.categorical_crossentropy(T.softmax(T.dot(x, w)), y).mean()
    g = aotsym.grad(cost, w)
    W = rng.normal(size=(4, 3))
    P = scipy.special.softmax(X @ W, axis=1)
    np.testing.assert_allclose(ev(g, {x: X, y: Y, w: W}), X.T @ (P - np.eye(3)[Y]) / 8,
                               rtol=1e-10)
