"""Join / concatenate / stack / join against NumPy, gradients, errors."""

import numpy as np
import pytest

from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.join import Join
from aotsym.gradient import verify_grad


def ev(out, givens):
    return evaluate([out], givens)[0]


def test_concatenate_every_axis_including_negative():
    rng = np.random.default_rng(0)
    a, b = T.tensor3(), T.tensor3()
    for axis, sa, sb in [(0, (2, 3, 4), (1, 3, 4)), (1, (2, 3, 4), (2, 5, 4)),
                         (-1, (2, 3, 4), (2, 3, 2)), (2, (2, 3, 4), (2, 3, 1)),
                         (-3, (2, 3, 4), (3, 3, 4))]:
        A, B = rng.normal(size=sa), rng.normal(size=sb)
        out = T.concatenate([a, b], axis=axis)
        assert isinstance(out.owner.op, Join) and out.owner.op.axis == axis % 3
        np.testing.assert_array_equal(ev(out, {a: A, b: B}), np.concatenate([A, B], axis))
        verify_grad(lambda x, y: T.concatenate([x, y * 2, x], axis=axis), [A, B], rng=rng,
                    n_tests=1)
    np.testing.assert_array_equal(ev(T.join(1, a, b), {a: A, b: A}),
                                  np.concatenate([A, A], 1))
    np.testing.assert_array_equal(ev(T.concatenate([a, b], axis=None), {a: A, b: B}),
                                  np.concatenate([A, B], axis=None))


def test_concatenate_dtypes_and_python_values():
    i, f = T.ivector(), T.fvector()
    out = T.concatenate([i, f])
    assert out.dtype == "float64"  # int32 with float32, as NumPy
    got = ev(out, {i: np.array([1, 2], "int32"), f: np.array([0.5], "float32")})
    np.testing.assert_array_equal(got, [1, 2, 0.5])
    assert T.concatenate([T.fvector(), np.array([1.0], "float32")]).dtype == "float32"
    # an int tensor joined with a float one: no gradient to the int input, a gradient to x
    x, iv = T.vector(), T.lvector()
    import aotsym
    g = aotsym.grad((T.concatenate([x, T.cast(iv, "float64")]) ** 2).sum(), x)
    np.testing.assert_array_equal(ev(g, {x: np.ones(2), iv: [3, 4]}), [2.0, 2.0])


def test_concatenate_errors():
    a, b = T.matrix(), T.matrix()
    with pytest.raises(ValueError, match=r"Join\{axis=1\}: input 0 has shape \(2, 3\) but "
                                         r"input 1 has shape \(3, 3\)"):
        ev(T.concatenate([a, b], axis=1), {a: np.ones((2, 3)), b: np.ones((3, 3))})
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        T.concatenate([a, b], axis=2)
    with pytest.raises(ValueError, match="axis -3 is out of range"):
        T.concatenate([a, b], axis=-3)
    with pytest.raises(ValueError, match="same ndim"):
        T.concatenate([a, T.vector()])
    with pytest.raises(ValueError, match="zero-dimensional"):
        T.concatenate([T.scalar(), T.scalar()])
    with pytest.raises(ValueError, match="at least one"):
        T.concatenate([])
    with pytest.raises(TypeError, match="list or tuple"):
        T.concatenate(a)


def test_join_broadcastable_pattern():
    assert T.concatenate([T.row(), T.row()]).broadcastable == (False, False)
    assert T.concatenate([T.row(), T.matrix()], axis=1).broadcastable == (True, False)
    assert T.stack([T.scalar(), T.scalar()]).broadcastable == (False,)
    assert T.stack([T.vector()]).broadcastable == (True, False)


def test_stack():
    rng = np.random.default_rng(1)
    a, b = T.matrix(), T.matrix()
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    for axis in (0, 1, 2, -1, -3):
        np.testing.assert_array_equal(ev(T.stack([a, b], axis=axis), {a: A, b: B}),
                                      np.stack([A, B], axis))
        verify_grad(lambda x, y: T.stack([x, y], axis=axis), [A, B], rng=rng, n_tests=1)
    # Theano's spelling: tensors as separate arguments; scalars into a vector
    s, t = T.scalar(), T.scalar()
    np.testing.assert_array_equal(ev(T.stack(s, t, s), {s: 1.0, t: 2.0}), [1.0, 2.0, 1.0])
    # a list of variables and Python numbers is a vector (weak scalars keep the dtype)
    f = T.fscalar()
    v = T.as_tensor_variable([f, 2, 3.5])
    assert v.dtype == "float32" and v.ndim == 1
    np.testing.assert_array_equal(ev(v, {f: np.float32(1)}), [1, 2, 3.5])
    with pytest.raises(ValueError, match="stack: axis 3 is out of range"):
        T.stack([a, b], axis=3)
    with pytest.raises(ValueError, match="same ndim"):
        T.stack([a, T.vector()])
    with pytest.raises(ValueError, match="Join"):
        ev(T.stack([a, b]), {a: A, b: np.ones((3, 3))})
