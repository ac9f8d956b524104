"""Reductions against NumPy (axis None / int / negative / tuple, keepdims, dtypes) and their
gradients against finite differences."""

import numpy as np
import pytest

from aotsym.optimizer.testing import merged
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.gradient import verify_grad

AXES = [None, 0, 1, -1, 2, -3, (0, 2), (1, -1), (0, 1, 2), ()]
FLOAT_KINDS = ["sum", "prod", "mean", "var", "std", "max", "min"]


def ev(out, givens):
    return evaluate([out], givens)[0]


@pytest.mark.parametrize("kind", FLOAT_KINDS + ["all", "any"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_matches_numpy(kind, keepdims):
    rng = np.random.default_rng(0)
    x = T.tensor3()
    X = rng.normal(size=(2, 3, 4))
    for axis in AXES:
        out = getattr(T, kind)(x, axis=axis, keepdims=keepdims)
        want = getattr(np, kind)(X, axis=axis, keepdims=keepdims)
        got = ev(out, {x: X})
        assert got.shape == np.shape(want), (kind, axis)
        assert got.dtype == np.asarray(want).dtype, (kind, axis)
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{kind} axis={axis}")
        # the method spelling gives the same node
        if kind not in ("all", "any") and axis != ():
            assert merged(getattr(x, kind)(axis=axis, keepdims=keepdims)) is merged(out)


@pytest.mark.parametrize("dtype", ["bool", "int8", "int32", "uint16", "float32", "complex64"])
def test_reduction_dtypes_follow_numpy(dtype):
    rng = np.random.default_rng(1)
    x = T.tensor(dtype, (False, False))
    X = (rng.integers(0, 3, (3, 4)) if dtype != "complex64"
         else rng.normal(size=(3, 4)) + 1j).astype(dtype)
    for kind in ("sum", "prod", "max", "min", "all", "any", "mean"):
        if kind in ("max", "min") and dtype == "complex64":
            continue
        for axis in (None, 1):
            got = ev(getattr(T, kind)(x, axis=axis), {x: X})
            want = np.asarray(getattr(np, kind)(X, axis=axis))
            assert got.dtype == want.dtype, (kind, dtype, axis)
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_var_std_ddof_and_integer_input():
    x = T.matrix()
    X = np.random.default_rng(2).normal(size=(4, 5))
    np.testing.assert_allclose(ev(T.var(x, axis=0, ddof=1), {x: X}), np.var(X, 0, ddof=1))
    # Theano's corrected=True: the corrected two-pass algorithm, not ddof=1
    np.testing.assert_allclose(ev(T.std(x, corrected=True), {x: X}), np.std(X))
    i = T.lmatrix()
    Xi = np.arange(12).reshape(3, 4)
    assert T.var(i).dtype == "float64"
    np.testing.assert_allclose(ev(T.var(i, axis=1), {i: Xi}), np.var(Xi, axis=1))


@pytest.mark.parametrize("kind", ["argmax", "argmin"])
def test_argmax_argmin(kind):
    rng = np.random.default_rng(3)
    x = T.tensor3()
    X = rng.normal(size=(2, 3, 4))
    for axis in (None, 0, 1, -1):
        for keepdims in (False, True):
            got = ev(getattr(T, kind)(x, axis=axis, keepdims=keepdims), {x: X})
            want = getattr(np, kind)(X, axis=axis, keepdims=keepdims)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, want)
    # several axes (Theano's): the index into those axes flattened in their order
    got = ev(getattr(T, kind)(x, axis=(2, 0)), {x: X})
    want = getattr(np, kind)(X.transpose(1, 0, 2).reshape(3, 8), axis=-1)
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="out of range"):
        getattr(T, kind)(x, axis=3)
    with pytest.raises(ValueError, match="empty"):
        ev(getattr(T, kind)(x), {x: np.zeros((0, 2, 2))})


def test_reduction_errors_and_empty_inputs():
    x = T.matrix()
    with pytest.raises(ValueError, match="out of range"):
        T.sum(x, axis=2)
    with pytest.raises(ValueError, match="repeated"):
        T.sum(x, axis=(0, -2))
    with pytest.raises(ValueError, match="no identity"):
        ev(T.max(x, axis=0), {x: np.zeros((0, 3))})
    np.testing.assert_array_equal(ev(T.sum(x, axis=0), {x: np.zeros((0, 3))}), np.zeros(3))
    np.testing.assert_array_equal(ev(T.prod(x), {x: np.zeros((0, 3))}), 1.0)
    assert ev(T.all(x), {x: np.zeros((0, 3))}) == np.True_


def test_nan_propagates_through_reductions():
    x = T.vector()
    X = np.array([1.0, np.nan, 3.0])
    for kind in ("sum", "prod", "mean", "max", "min", "var"):
        assert np.isnan(ev(getattr(T, kind)(x), {x: X})), kind


@pytest.mark.parametrize("kind", FLOAT_KINDS)
def test_reduction_gradients(kind):
    rng = np.random.default_rng(4)
    X = rng.uniform(0.5, 2.0, (2, 3, 4))  # positive: prod's rule divides by x
    for axis in (None, 1, (0, 2), -1):
        for keepdims in (False, True):
            verify_grad(lambda x: getattr(T, kind)(x, axis=axis, keepdims=keepdims), [X],
                        rng=rng, n_tests=1)


def test_max_gradient_goes_to_the_maximum():
    import aotsym
    x = T.vector()
    g = aotsym.grad(T.max(x), x)
    np.testing.assert_array_equal(ev(g, {x: np.array([1.0, 5.0, 2.0])}), [0, 1, 0])


def test_integer_reductions_have_no_gradient_and_mean_of_ints_is_differentiable_wrt_nothing():
    import aotsym
    x = T.vector()
    cost = T.sum(T.cast(x, "int32")) * 1.0 + T.sum(x)
    g = aotsym.grad(cost, x)
    np.testing.assert_array_equal(ev(g, {x: np.array([1.5, 2.5])}), [1.0, 1.0])
