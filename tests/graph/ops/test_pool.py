"""The pooling ops (aotsym.graph.ops.pool): the reference against a plain loop written from
Theano 1.0's ``Pool.perform`` (padded coordinates) for every mode, window, stride, padding
and ignore_border; output lengths; NaN/inf; gradients against finite differences; the
module paths and errors.  The compiled kernels: tests/emit_c/test_emit_conv.py."""

import inspect
import itertools

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.gradient import verify_grad
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.pool import AveragePoolGrad, MaxPoolGrad, Pool

MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]


def loop_pool(x, ws, ignore_border, stride, pad, mode):
    """Theano 1.0's Pool.perform, element by element, on an explicitly padded copy."""
    stride = ws if stride is None else stride
    h, w = x.shape[-2:]
    hp, wp = h + 2 * pad[0], w + 2 * pad[1]
    xp = np.zeros(x.shape[:-2] + (hp, wp), dtype=x.dtype)
    xp[..., pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x

    def out_len(v, ds, st):
        if ignore_border:
            return max(0, (v - ds) // st + 1)
        if v == 0:
            return 0
        return (v - 1) // st + 1 if st >= ds else max(0, (v - 1 - ds + st) // st) + 1
    oh = out_len(hp, ws[0], stride[0]) if ignore_border else out_len(h, ws[0], stride[0])
    ow = out_len(wp, ws[1], stride[1]) if ignore_border else out_len(w, ws[1], stride[1])
    out = np.zeros(x.shape[:-2] + (oh, ow), dtype=x.dtype)
    for idx in np.ndindex(*x.shape[:-2]):
        for i in range(oh):
            for j in range(ow):
                bounds = []
                for k, (axis_i, img, p) in enumerate(((i, hp, pad[0]), (j, wp, pad[1]))):
                    start = axis_i * stride[k]
                    end = min(start + ws[k], img)
                    if mode != "average_inc_pad":
                        start, end = max(start, p), min(end, img - p)
                    bounds.append((start, end))
                (r0, r1), (c0, c1) = bounds
                region = xp[idx + (slice(r0, r1), slice(c0, c1))]
                if mode == "max":
                    out[idx + (i, j)] = region.max()
                elif mode == "sum":
                    out[idx + (i, j)] = region.sum().astype(x.dtype)
                else:
                    out[idx + (i, j)] = region.mean()
    return out


def _pool(x, **kw):
    xs = T.tensor(x.dtype, (False,) * x.ndim, name="x")
    return evaluate([T.signal.pool.pool_2d(xs, **kw)], {xs: x})[0]


GEOMETRIES = [  # ws, ignore_border, stride, pad
    ((2, 2), True, None, (0, 0)), ((2, 2), False, None, (0, 0)),
    ((3, 2), False, (1, 1), (0, 0)), ((3, 2), True, (1, 1), (0, 0)),
    ((2, 3), False, (3, 4), (0, 0)), ((2, 3), True, (3, 4), (0, 0)),
    ((3, 3), True, (2, 2), (1, 1)), ((3, 2), True, (1, 2), (2, 1)),
    ((4, 4), True, None, (1, 3)), ((5, 1), False, (2, 1), (0, 0)),
]


@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_reference_matches_loop(geometry, mode, dtype):
    ws, ib, st, pad = geometry
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 9)).astype(dtype)
    got = _pool(x, ws=ws, ignore_border=ib, stride=st, pad=pad, mode=mode)
    want = loop_pool(x, ws, ib, st, pad, mode)
    assert got.dtype == dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-12)


def test_n_d_inputs_pool_the_last_two_axes():
    rng = np.random.default_rng(1)
    for shape in [(5, 6), (2, 5, 6), (2, 1, 3, 5, 6)]:
        x = rng.standard_normal(shape)
        got = _pool(x, ws=(2, 2), ignore_border=False)
        np.testing.assert_array_equal(got, loop_pool(x, (2, 2), False, None, (0, 0), "max"))


def test_integer_max_and_sum():
    x = np.arange(2 * 5 * 5, dtype="int16").reshape(2, 5, 5) * 1000
    for mode in ("max", "sum"):
        got = _pool(x, ws=(2, 2), ignore_border=True, mode=mode)
        assert got.dtype == "int16"
        np.testing.assert_array_equal(got, loop_pool(x, (2, 2), True, None, (0, 0), mode))
    with pytest.raises(TypeError, match="float"):
        T.signal.pool.pool_2d(T.imatrix(), (2, 2), ignore_border=True, mode="average_inc_pad")


def test_theano_doc_shapes():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    assert _pool(x, ws=(2, 2), ignore_border=True).shape == (1, 1, 2, 2)
    assert _pool(x, ws=(2, 2), ignore_border=False).shape == (1, 1, 3, 3)
    np.testing.assert_array_equal(_pool(x, ws=(2, 2), ignore_border=False)[0, 0],
                                  [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    assert _pool(x, ws=(2, 2), ignore_border=True, pad=(1, 1)).shape == (1, 1, 3, 3)
    assert _pool(np.zeros((1, 0, 4)), ws=(2, 2), ignore_border=False).shape == (1, 0, 2)
    assert _pool(np.zeros((0, 4, 4)), ws=(2, 2), ignore_border=True).shape == (0, 2, 2)
    x = T.tensor4("x")
    y = T.signal.pool.pool_2d(x, (3, 2), ignore_border=False, stride=(2, 1))
    f = aotsym.function([x], y.shape, mode="FAST_COMPILE")
    for h in (0, 1, 2, 3, 4, 7):
        want = _pool(np.zeros((1, 1, h, 3)), ws=(3, 2), ignore_border=False,
                     stride=(2, 1)).shape
        assert tuple(f(np.zeros((1, 1, h, 3)))) == want


def test_nan_and_inf_propagate_as_numpy():
    x = np.array([[[[np.nan, 1.0, -np.inf, -np.inf],
                    [5.0, 2.0, -np.inf, -np.inf],
                    [np.inf, 0.0, 3.0, np.nan]]]])
    got = _pool(x, ws=(2, 2), ignore_border=False)
    assert np.isnan(got[0, 0, 0, 0]) and got[0, 0, 0, 1] == -np.inf
    assert got[0, 0, 1, 0] == np.inf and np.isnan(got[0, 0, 1, 1])
    s = _pool(x, ws=(2, 2), ignore_border=False, mode="sum")
    assert np.isnan(s[0, 0, 0, 0]) and s[0, 0, 0, 1] == -np.inf


def test_module_paths_and_old_names():
    from aotsym.tensor.signal import pool
    from aotsym.tensor.signal.pool import pool_2d
    assert pool.pool_2d is pool_2d is T.signal.pool.pool_2d
    params = list(inspect.signature(pool_2d).parameters)
    assert params[:6] == ["input", "ws", "ignore_border", "stride", "pad", "mode"]
    x = T.tensor4("x")
    y = pool_2d(x, ds=(2, 2), ignore_border=True)          # Theano's old name of ws
    assert y.owner.op == Pool((2, 2), True)
    with pytest.warns(UserWarning, match="ignore_border"):
        y = pool_2d(x, (2, 2))
    assert y.owner.op == Pool((2, 2), False)


def test_invalid_parameters():
    x = T.tensor4("x")
    with pytest.raises(NotImplementedError, match="ignore_border=True"):
        T.signal.pool.pool_2d(x, (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(NotImplementedError, match="smaller"):
        T.signal.pool.pool_2d(x, (2, 2), ignore_border=True, pad=(2, 0))
    with pytest.raises(ValueError, match="mode"):
        T.signal.pool.pool_2d(x, (2, 2), ignore_border=True, mode="min")
    with pytest.raises(TypeError, match="2 dimensions"):
        T.signal.pool.pool_2d(T.vector(), (2, 2), ignore_border=True)


# ---------------------------------------------------------------------------- gradients

@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
@pytest.mark.parametrize("mode", MODES)
def test_gradients_vs_finite_differences(geometry, mode):
    ws, ib, st, pad = geometry
    rng = np.random.default_rng(2)
    # distinct values far apart: no ties, no max switching under the finite difference
    x = rng.permutation(2 * 7 * 6).reshape(2, 7, 6) * 0.1
    verify_grad(lambda a: T.signal.pool.pool_2d(a, ws, ib, st, pad, mode), [x], rng=rng,
                mode="FAST_COMPILE")


def test_max_gradient_goes_to_every_tie():
    x = T.matrix("x")
    g = aotsym.grad(T.signal.pool.pool_2d(x, (2, 2), True).sum(), x)
    assert isinstance(g.owner.op, MaxPoolGrad)
    got = evaluate([g], {x: np.array([[1.0, 1.0], [0.0, 1.0]])})[0]
    np.testing.assert_array_equal(got, [[1, 1], [0, 1]])
    # a nan window: nothing equals its max, no gradient (Theano's rule)
    got = evaluate([g], {x: np.array([[np.nan, 1.0], [0.0, 1.0]])})[0]
    np.testing.assert_array_equal(got, np.zeros((2, 2)))


@pytest.mark.parametrize("mode", MODES[1:])
def test_average_gradient_is_linear_and_has_a_gradient(mode):
    x = T.tensor3("x")
    g = aotsym.grad((T.signal.pool.pool_2d(x, (3, 2), True, (2, 1), (1, 1), mode) ** 2).sum(),
                    x)
    assert isinstance(g.owner.op, AveragePoolGrad) or any(
        isinstance(v.owner.op, AveragePoolGrad) for v in g.owner.inputs if v.owner)
    rng = np.random.default_rng(3)
    verify_grad(lambda a: aotsym.grad(
        (T.signal.pool.pool_2d(a, (3, 2), True, (2, 1), (1, 1), mode) ** 2).sum(), a),
        [rng.standard_normal((2, 5, 6))], rng=rng, mode="FAST_COMPILE")


def test_bad_gradient_shape_names_the_op():
    x, gz = T.matrix("x"), T.matrix("gz")
    g = AveragePoolGrad((2, 2), True, mode="sum")(x, gz)
    with pytest.raises(ValueError, match="output gradient has shape"):
        evaluate([g], {x: np.zeros((4, 4)), gz: np.zeros((3, 3))})
