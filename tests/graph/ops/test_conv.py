"""The conv2d ops (aotsym.graph.ops.conv): the reference against SciPy for every border mode,
stride, dilation, flip and group count; shapes; gradients against finite differences (first
and second order); errors naming the user's line.  The compiled kernels are checked against
these references in tests/emit_c/test_emit_conv.py."""

import inspect
import itertools

import numpy as np
import pytest
from scipy import signal

import aotsym
from aotsym import tensor as T
from aotsym.gradient import verify_grad
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.conv import (AbstractConv2d, AbstractConv2d_gradInputs,
                                   AbstractConv2d_gradWeights)

BORDER_MODES = ["valid", "full", "half", 1, (2, 1), (0, 3)]


def scipy_conv2d(x, w, border_mode="valid", subsample=(1, 1), filter_flip=True,
                 filter_dilation=(1, 1), num_groups=1):
    """Theano's conv2d from scipy.signal: pad, dilate the filters, correlate (or convolve)
    each channel pair, sum, then take every stride-th output."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    dh, dw = filter_dilation
    if border_mode == "valid":
        pads = (0, 0)
    elif border_mode == "full":
        pads = (dh * (kh - 1), dw * (kw - 1))
    elif border_mode == "half":
        pads = (dh * (kh // 2), dw * (kw // 2))
    elif isinstance(border_mode, int):
        pads = (border_mode, border_mode)
    else:
        pads = border_mode
    xp = np.pad(x.astype("float64"), ((0, 0), (0, 0), (pads[0],) * 2, (pads[1],) * 2))
    wdil = np.zeros((o, cg, dh * (kh - 1) + 1, dw * (kw - 1) + 1))
    wdil[:, :, ::dh, ::dw] = w
    og = o // num_groups
    fn = signal.convolve if filter_flip else signal.correlate
    out = None
    for i in range(n):
        for j in range(o):
            g = j // og
            acc = sum(fn(xp[i, g * cg + k], wdil[j, k], mode="valid") for k in range(cg))
            acc = acc[::subsample[0], ::subsample[1]]
            if out is None:
                out = np.zeros((n, o) + acc.shape)
            out[i, j] = acc
    return out.astype(x.dtype)


def _eval(x, w, **kw):
    xs = T.tensor4("x", dtype=x.dtype)
    ws = T.tensor4("w", dtype=w.dtype)
    return evaluate([T.nnet.conv2d(xs, ws, **kw)], {xs: x, ws: w})[0]


CASES = [dict(border_mode=b, subsample=s, filter_dilation=d, filter_flip=f)
         for b, s, d, f in itertools.product(BORDER_MODES, [(1, 1), (2, 3)], [(1, 1), (2, 1)],
                                             [True, False])]


@pytest.mark.parametrize("kw", CASES, ids=lambda k: "-".join(str(v) for v in k.values()))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_reference_matches_scipy(kw, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 2)).astype(dtype)
    got = _eval(x, w, **kw)
    want = scipy_conv2d(x, w, **kw)
    assert got.dtype == dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4 if dtype == "float32" else 1e-12,
                               atol=1e-4 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("groups", [2, 3])
def test_groups_match_scipy(groups):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 7, 7))
    w = rng.standard_normal((groups * 2, 6 // groups, 3, 3))
    for kw in (dict(), dict(border_mode="half", subsample=(2, 2), filter_flip=False)):
        np.testing.assert_allclose(_eval(x, w, num_groups=groups, **kw),
                                   scipy_conv2d(x, w, num_groups=groups, **kw), atol=1e-12)


def test_full_mode_is_scipy_full():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 1, 5, 6)), rng.standard_normal((1, 1, 3, 4))
    got = _eval(x, w, border_mode="full")
    np.testing.assert_allclose(got[0, 0], signal.convolve2d(x[0, 0], w[0, 0], "full"))
    got = _eval(x, w, border_mode="full", filter_flip=False)
    np.testing.assert_allclose(got[0, 0], signal.correlate2d(x[0, 0], w[0, 0], "full"))


def test_output_shapes_and_infer_shape():
    x, w = T.tensor4("x"), T.tensor4("w")
    for kw, want in [(dict(), (2, 4, 7, 7)), (dict(border_mode="full"), (2, 4, 11, 11)),
                     (dict(border_mode="half"), (2, 4, 9, 9)),
                     (dict(subsample=(2, 3)), (2, 4, 4, 3)),
                     (dict(filter_dilation=(2, 2)), (2, 4, 5, 5)),
                     (dict(border_mode=(1, 0), subsample=(2, 2)), (2, 4, 5, 4))]:
        y = T.nnet.conv2d(x, w, **kw)
        f = aotsym.function([x, w], y.shape, mode="FAST_COMPILE")
        got = f(np.zeros((2, 3, 9, 9)), np.zeros((4, 3, 3, 3)))
        assert tuple(got) == want, kw
        assert evaluate([y], {x: np.zeros((2, 3, 9, 9)), w: np.zeros((4, 3, 3, 3))})[
            0].shape == want


def test_theano_names_and_signature():
    assert T.nnet.conv2d is T.nnet.conv.conv2d
    params = list(inspect.signature(T.nnet.conv2d).parameters)
    assert params[:10] == ["input", "filters", "input_shape", "filter_shape", "border_mode",
                           "subsample", "filter_flip", "image_shape", "filter_dilation",
                           "num_groups"]
    x, w = T.tensor4("x"), T.tensor4("w")
    assert isinstance(T.nnet.conv2d(x, w).owner.op, AbstractConv2d)


def test_shape_hints_are_checked():
    x, w = T.tensor4("x"), T.tensor4("w")
    y = T.nnet.conv2d(x, w, input_shape=(None, 1, 5, 5), filter_shape=(2, 1, 3, 3))
    f = aotsym.function([x, w], y, mode="FAST_COMPILE")
    assert f(np.ones((3, 1, 5, 5)), np.ones((2, 1, 3, 3))).shape == (3, 2, 3, 3)
    with pytest.raises(ValueError, match="filter_shape"):
        f(np.ones((3, 1, 5, 5)), np.ones((2, 1, 2, 2)))
    y = T.nnet.conv2d(x, w, image_shape=(3, 1, 5, 5))   # Theano's old name
    assert y.ndim == 4


def test_integer_operands_compute_in_float():
    x, w = T.itensor4("x"), T.tensor4("w", dtype="int8")
    y = T.nnet.conv2d(x, w)
    assert y.dtype == "float64"
    X = np.arange(16, dtype="int32").reshape(1, 1, 4, 4)
    W = np.ones((1, 1, 2, 2), "int8")
    got = evaluate([y], {x: X, w: W})[0]
    np.testing.assert_array_equal(got, scipy_conv2d(X.astype(float), W.astype(float)))


def test_nan_inf_and_empty_batch():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0] = np.nan
    x[0, 0, 3, 3] = np.inf
    w = np.ones((1, 1, 2, 2))
    got = _eval(x, w)
    assert np.isnan(got[0, 0, 0, 0]) and np.isinf(got[0, 0, 2, 2])
    assert np.isfinite(got[0, 0, 1, 1])
    # a padded tap multiplies 0: 0 * inf is nan, as im2col computes it
    got = _eval(np.ones((1, 1, 3, 3)), np.full((1, 1, 3, 3), np.inf), border_mode="half")
    assert np.isnan(got[0, 0, 0, 0]) and np.isinf(got[0, 0, 1, 1])
    empty = _eval(np.zeros((0, 2, 5, 5)), np.ones((3, 2, 2, 2)))
    assert empty.shape == (0, 3, 4, 4)


def test_bad_shapes_name_the_user_line():
    x, w = T.tensor4("x"), T.tensor4("w")
    y = T.nnet.conv2d(x, w)  # the line the errors name
    line = inspect.currentframe().f_lineno - 1
    f = aotsym.function([x, w], y, mode="FAST_COMPILE")
    with pytest.raises(ValueError, match="2 channels") as err:
        f(np.zeros((1, 2, 5, 5)), np.zeros((3, 1, 2, 2)))
    assert f"line {line}" in str(err.value)
    with pytest.raises(ValueError, match="larger than the padded input"):
        f(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)))
    with pytest.raises(TypeError, match="4-d"):
        T.nnet.conv2d(T.matrix(), w)
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv2d(x, w, border_mode="same")
    with pytest.raises(ValueError, match="subsample"):
        T.nnet.conv2d(x, w, subsample=(0, 1))


# ---------------------------------------------------------------------------- gradients

GRAD_CASES = [dict(), dict(border_mode="full", filter_flip=False),
              dict(border_mode="half", subsample=(2, 2), filter_dilation=(1, 2)),
              dict(border_mode=(1, 2), subsample=(3, 1), num_groups=2)]


@pytest.mark.parametrize("kw", GRAD_CASES, ids=str)
def test_gradients_vs_finite_differences(kw):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((4, 4 // kw.get("num_groups", 1), 3, 2))
    verify_grad(lambda a, b: T.nnet.conv2d(a, b, **kw), [x, w], rng=rng,
                mode="FAST_COMPILE")


def test_gradient_ops_are_theanos():
    x, w = T.tensor4("x"), T.tensor4("w")
    gx, gw = aotsym.grad(T.nnet.conv2d(x, w).sum(), [x, w])
    assert isinstance(gx.owner.op, AbstractConv2d_gradInputs)
    assert isinstance(gw.owner.op, AbstractConv2d_gradWeights)


@pytest.mark.parametrize("kw", GRAD_CASES[:3], ids=str)
def test_second_derivatives(kw):
    """The gradient ops' own gradients: d/d(x, w) of a cost of conv's gradients."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 2, 6, 5))
    w = rng.standard_normal((3, 2, 2, 3))

    def through_grads(a, b):
        y = T.nnet.conv2d(a, b, **kw)
        ga, gb = aotsym.grad((T.tanh(y) ** 2).sum(), [a, b])
        return (ga ** 2).sum() + (gb * gb).sum()
    verify_grad(through_grads, [x, w], rng=rng, mode="FAST_COMPILE")


def test_gradient_with_stride_that_skips_input_rows():
    # 8 rows, 3-row filters, stride 2: the last input row is never read; its gradient is 0
    rng = np.random.default_rng(5)
    x, w = T.tensor4("x"), T.tensor4("w")
    gx = aotsym.grad(T.nnet.conv2d(x, w, subsample=(2, 2)).sum(), x)
    got = evaluate([gx], {x: rng.standard_normal((1, 1, 8, 8)),
                          w: rng.standard_normal((1, 1, 3, 3))})[0]
    assert got.shape == (1, 1, 8, 8)
    assert not got[0, 0, 7].any() and not got[0, 0, :, 7].any()
