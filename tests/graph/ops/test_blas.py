"""Dot and the products built on it (dot, matmul, batched_dot, tensordot, outer) against
NumPy, their gradients, and their error messages."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.blas import Dot
from aotsym.gradient import verify_grad


def ev(out, givens):
    return evaluate([out], givens)[0]


def sym(shape, dtype="float64"):
    return T.tensor(dtype, (False,) * len(shape))


COMBOS = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4))]


@pytest.mark.parametrize("sa,sb", COMBOS)
def test_dot_every_vector_matrix_combination(sa, sb):
    rng = np.random.default_rng(0)
    a, b = sym(sa), sym(sb)
    A, B = rng.normal(size=sa), rng.normal(size=sb)
    out = T.dot(a, b)
    assert isinstance(out.owner.op, Dot)
    assert out.ndim == np.dot(A, B).ndim
    np.testing.assert_allclose(ev(out, {a: A, b: B}), np.dot(A, B), rtol=1e-12)
    np.testing.assert_allclose(ev(a @ b, {a: A, b: B}), A @ B, rtol=1e-12)
    np.testing.assert_allclose(ev(a.dot(b), {a: A, b: B}), A.dot(B), rtol=1e-12)
    verify_grad(T.dot, [A, B], rng=rng)


@pytest.mark.parametrize("da,db,want", [("float32", "float32", "float32"),
                                        ("float32", "float64", "float64"),
                                        ("int32", "int32", "int32"),
                                        ("int8", "float32", "float32"),
                                        ("int64", "float64", "float64"),
                                        ("complex64", "float32", "complex64")])
def test_dot_dtypes_upcast(da, db, want):
    a, b = T.tensor(da, (False, False)), T.tensor(db, (False,))
    A = (np.arange(6).reshape(2, 3) - 2).astype(da)
    B = np.arange(3).astype(db)
    out = T.dot(a, b)
    assert out.dtype == want
    got = ev(out, {a: A, b: B})
    assert got.dtype == np.dtype(want)
    np.testing.assert_allclose(got, np.dot(A, B), rtol=1e-6)


def test_dot_broadcastable_pattern():
    assert T.dot(T.row(), T.matrix()).broadcastable == (True, False)
    assert T.dot(T.matrix(), T.col()).broadcastable == (False, True)
    assert T.dot(T.vector(), T.vector()).broadcastable == ()
    assert T.outer(T.vector(), T.vector()).broadcastable == (False, False)


def test_dot_shape_mismatch_names_dot_and_the_shapes():
    a, b = T.matrix(), T.matrix()
    with pytest.raises(ValueError, match=r"Dot: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        ev(T.dot(a, b), {a: np.ones((2, 3)), b: np.ones((4, 5))})
    v = T.vector()
    with pytest.raises(ValueError, match=r"Dot: shapes \(3,\) and \(2,\)"):
        ev(T.dot(v, v[:2]), {v: np.ones(3)})
    with pytest.raises(TypeError, match="Dot: takes vectors and matrices"):
        Dot()(T.tensor3(), T.matrix())


def test_dot_with_scalars_and_higher_ranks_follows_np_dot():
    rng = np.random.default_rng(1)
    s, m3, m = T.scalar(), T.tensor3(), T.matrix()
    S, M3, M = 2.5, rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5))
    np.testing.assert_allclose(ev(T.dot(s, m), {s: S, m: M}), S * M)
    np.testing.assert_allclose(ev(T.dot(m3, m), {m3: M3, m: M}), np.dot(M3, M), rtol=1e-12)
    t4 = T.tensor4()
    T4 = rng.normal(size=(3, 2, 4, 6))
    np.testing.assert_allclose(ev(T.dot(m3, t4), {m3: M3, t4: T4}), np.dot(M3, T4),
                               rtol=1e-12)
    verify_grad(T.dot, [M3, M], rng=rng, n_tests=1)
    np.testing.assert_allclose(ev(T.dot(2, m), {m: M}), 2 * M)


def test_tensordot():
    rng = np.random.default_rng(2)
    a, b = T.tensor3(), T.tensor3()
    A, B = rng.normal(size=(2, 3, 4)), rng.normal(size=(3, 4, 5))
    for axes in (2, [[1, 2], [0, 1]], [[2], [1]], 0, ([-1], [1])):
        want = np.tensordot(A, B, axes)
        got = ev(T.tensordot(a, b, axes), {a: A, b: B})
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=str(axes))
    verify_grad(lambda x, y: T.tensordot(x, y, 2), [A, B], rng=rng, n_tests=1)
    # two summed axes whose lengths multiply to the same number but differ one by one
    with pytest.raises(ValueError, match="tensordot"):
        ev(T.tensordot(a, b, [[1, 2], [1, 0]]), {a: A, b: B})
    with pytest.raises(ValueError, match="tensordot: axis 3 is out of range"):
        T.tensordot(a, b, [[3], [0]])
    with pytest.raises(ValueError, match="tensordot: 2 axes of the first operand but 1"):
        T.tensordot(a, b, [[1, 2], [0]])
    with pytest.raises(ValueError, match="out of range"):
        T.tensordot(a, b, 4)
    # broadcastable free dimensions stay broadcastable
    assert T.tensordot(T.row(), T.matrix(), [[1], [0]]).broadcastable == (True, False)


def test_outer():
    rng = np.random.default_rng(3)
    x, y = T.vector(), T.vector()
    X, Y = rng.normal(size=3), rng.normal(size=4)
    np.testing.assert_allclose(ev(T.outer(x, y), {x: X, y: Y}), np.outer(X, Y))
    verify_grad(T.outer, [X, Y], rng=rng)


def test_batched_dot():
    rng = np.random.default_rng(4)
    cases = [((5, 2, 3), (5, 3, 4)), ((5, 3), (5, 3)), ((5, 2, 3), (5, 3)),
             ((5, 3), (5, 3, 4))]
    for sa, sb in cases:
        a, b = sym(sa), sym(sb)
        A, B = rng.normal(size=sa), rng.normal(size=sb)
        want = np.stack([np.dot(A[i], B[i]) for i in range(5)])
        np.testing.assert_allclose(ev(T.batched_dot(a, b), {a: A, b: B}), want, rtol=1e-12)
    verify_grad(T.batched_dot, [rng.normal(size=(3, 2, 3)), rng.normal(size=(3, 3, 2))],
                rng=rng, n_tests=1)
    with pytest.raises(TypeError, match="batched_dot"):
        T.batched_dot(T.scalar(), T.matrix())   # (a vector scales each entry: Theano 1.0's)


def test_matmul_including_batches_and_vectors():
    rng = np.random.default_rng(5)
    cases = [((2, 3), (3, 4)), ((3,), (3, 4)), ((6, 2, 3), (6, 3, 4)), ((6, 2, 3), (3, 4)),
             ((3,), (6, 3, 4)), ((6, 2, 3), (3,)), ((2, 3), (6, 3, 4))]
    for sa, sb in cases:
        a, b = sym(sa), sym(sb)
        A, B = rng.normal(size=sa), rng.normal(size=sb)
        got = ev(T.matmul(a, b), {a: A, b: B})
        want = np.matmul(A, B)
        assert got.shape == want.shape, (sa, sb)
        np.testing.assert_allclose(got, want, rtol=1e-12)
    # broadcasting over declared-broadcastable batch dimensions
    a, b = T.tensor("float64", (True, False, False)), T.tensor3()
    A, B = rng.normal(size=(1, 2, 3)), rng.normal(size=(4, 3, 5))
    np.testing.assert_allclose(ev(T.matmul(a, b), {a: A, b: B}), np.matmul(A, B), rtol=1e-12)
    i, j = T.itensor3(), T.itensor3()
    Ii = np.arange(12, dtype="int32").reshape(2, 2, 3)
    got = ev(T.matmul(i, j), {i: Ii, j: Ii.transpose(0, 2, 1).copy()})
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.matmul(Ii, Ii.transpose(0, 2, 1)))
    verify_grad(T.matmul, [rng.normal(size=(2, 2, 3)), rng.normal(size=(2, 3, 2))],
                rng=rng, n_tests=1)
    with pytest.raises(ValueError, match="matmul: scalar"):
        T.matmul(T.scalar(), T.matrix())


def test_logistic_regression_gradient_matches_numpy():
    """The tutorial's gradients through dot, sigmoid and mean, against hand-written NumPy."""
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(20, 5)), (rng.random(20) < 0.5).astype(float)
    Wv, bv = rng.normal(size=5), 0.3
    x, y, w, b = T.matrix(), T.vector(), T.vector(), T.scalar()
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = aotsym.grad(cost, [w, b])
    got_w, got_b = evaluate([gw, gb], {x: X, y: Y, w: Wv, b: bv})
    p = 1 / (1 + np.exp(-X.dot(Wv) - bv))
    np.testing.assert_allclose(got_w, X.T.dot(p - Y) / 20 + 0.02 * Wv, rtol=1e-10)
    np.testing.assert_allclose(got_b, np.mean(p - Y), rtol=1e-10)
