"""Alloc, zeros/ones, *_like, arange, eye against NumPy, dtypes, gradients, errors."""

import numpy as np
import pytest

from aotsym import config
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.alloc import Alloc
from aotsym.gradient import verify_grad


def ev(out, givens=None):
    return evaluate([out], givens or {})[0]


def test_alloc_broadcasts_a_value_to_a_symbolic_shape():
    n, v, r = T.lscalar(), T.vector(), T.row()
    out = T.alloc(v, n, 3)
    assert isinstance(out.owner.op, Alloc)
    np.testing.assert_array_equal(ev(out, {n: 2, v: [1.0, 2.0, 3.0]}),
                                  np.broadcast_to([1.0, 2.0, 3.0], (2, 3)))
    np.testing.assert_array_equal(ev(T.alloc(r, 4, n, 3), {n: 2, r: [[1.0, 2.0, 3.0]]}),
                                  np.broadcast_to([[1.0, 2.0, 3.0]], (4, 2, 3)))
    np.testing.assert_array_equal(ev(T.alloc(0.5, 2, 3)), np.full((2, 3), 0.5))
    assert T.alloc(0.5, 1, n).broadcastable == (True, False)
    assert T.alloc(np.float32(1), 2).dtype == "float32"
    verify_grad(lambda a: T.alloc(a, 4, 3), [np.array([1.0, 2.0, 3.0])])
    verify_grad(lambda a: T.alloc(a.reshape((1, 3)), 2, 2, 3) * np.arange(12.0).reshape(2, 2, 3),
                [np.array([1.0, 2.0, 3.0])])


def test_alloc_errors():
    n, v = T.lscalar(), T.vector()
    with pytest.raises(ValueError, match="does not fit the requested shape"):
        ev(T.alloc(v, 2, 3), {v: np.ones(4)})
    with pytest.raises(ValueError, match="does not fit"):  # length 1 but not broadcastable
        ev(T.alloc(v, 2, 3), {v: np.ones(1)})
    with pytest.raises(ValueError, match="negative length -1"):
        ev(T.alloc(1.0, n), {n: -1})
    with pytest.raises(ValueError, match="more than the 1 dimensions"):
        T.alloc(T.matrix(), 3)
    with pytest.raises(TypeError, match="must be an integer"):
        T.alloc(1.0, 2.5)


def test_zeros_ones_and_like():
    n = T.lscalar()
    for fn, npfn in ((T.zeros, np.zeros), (T.ones, np.ones)):
        np.testing.assert_array_equal(ev(fn((2, 3))), npfn((2, 3)))
        assert fn((2, 3)).dtype == "float64"
        assert fn(3, dtype="int32").dtype == "int32"
        np.testing.assert_array_equal(ev(fn((n, 2), "int8"), {n: 3}), npfn((3, 2), "int8"))
    with config.change_flags(floatX="float32"):
        assert T.zeros((2,)).dtype == "float32"
    x = T.imatrix()
    X = np.arange(6, dtype="int32").reshape(2, 3)
    for fn, npfn in ((T.zeros_like, np.zeros_like), (T.ones_like, np.ones_like)):
        got = ev(fn(x), {x: X})
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, npfn(X))
        got = ev(fn(x, dtype="float32"), {x: X})
        assert got.dtype == np.float32
    m = T.matrix()
    np.testing.assert_array_equal(ev(T.zeros(m.shape), {m: np.ones((2, 5))}), np.zeros((2, 5)))
    assert T.ones_like(T.row()).broadcastable == (True, False)
    with pytest.raises(ValueError, match="negative length"):
        T.zeros((2, -1))


@pytest.mark.parametrize("args,kwargs", [((5,), {}), ((2, 9), {}), ((2, 9, 3), {}),
                                         ((9, 2, -2), {}), ((0.5, 3.0), {}),
                                         ((0.0, 1.0, 0.1), {}), ((1, 2.5, 0.5), {}),
                                         ((3, 1), {}), ((5,), {"dtype": "float32"}),
                                         ((-1.5, 2), {"dtype": "int32"}), ((0,), {})])
def test_arange_matches_numpy(args, kwargs):
    out = T.arange(*args, **kwargs)
    got = ev(out)
    want = np.arange(*args, **kwargs)
    np.testing.assert_allclose(got, want)
    assert got.dtype == want.dtype  # with floatX=float64 the rule is NumPy's
    assert got.shape == want.shape


def test_arange_dtype_rule():
    k, i8 = T.iscalar(), T.bscalar()
    assert T.arange(k).dtype == "int64"          # Theano's rule: integer ranges are int64
    assert T.arange(i8, 10).dtype == "int64"
    assert T.arange(T.scalar(dtype="uint8")).dtype == "uint64"
    assert T.arange(T.lscalar()).dtype == "int64"
    assert T.arange(T.fscalar()).dtype == "float32"
    with config.change_flags(floatX="float32"):
        assert T.arange(0.0, 1.0, 0.1).dtype == "float32"
        assert T.arange(10).dtype == "int64"
    np.testing.assert_array_equal(ev(T.arange(k), {k: 4}), np.arange(4))
    np.testing.assert_array_equal(ev(T.arange(k, 0, -1), {k: 4}), [4, 3, 2, 1])
    assert T.arange(1).broadcastable == (True,)
    assert T.arange(k).broadcastable == (False,)


def test_arange_errors():
    with pytest.raises(ValueError, match="step must not be zero"):
        T.arange(0, 5, 0)
    s = T.lscalar()
    with pytest.raises(ValueError, match="ARange: step must not be zero"):
        ev(T.arange(0, 5, s), {s: 0})
    with pytest.raises(TypeError, match="real scalar"):
        T.arange(T.vector())


def test_arange_gradient():
    # out[i] = start + i * step: d/dstart = sum(g), d/dstep = sum(i * g)
    verify_grad(lambda a, s: T.arange(a, 5.0, s) ** 2, [np.array(0.3), np.array(0.7)])


def test_eye():
    n, m = T.lscalar(), T.lscalar()
    for args in [(3,), (3, 4), (4, 3, 1), (3, 3, -2), (2, 5, 7)]:
        np.testing.assert_array_equal(ev(T.eye(*args)), np.eye(*args))
    np.testing.assert_array_equal(ev(T.eye(n, m, 1), {n: 2, m: 3}), np.eye(2, 3, 1))
    assert T.eye(3).dtype == "float64"
    assert T.eye(3, dtype="int32").dtype == "int32"
    with pytest.raises(ValueError, match="negative length"):
        ev(T.eye(n), {n: -2})
    x = T.matrix()
    np.testing.assert_array_equal(ev(T.identity_like(x), {x: np.ones((2, 3))}), np.eye(2, 3))
