"""Theano as Keras 2.0's Theano backend (keras/backend/theano_backend.py) writes it: each
program here is the backend's own Theano code for one Keras function (``batch_dot``,
``pool3d``, ``normalize_batch_in_training`` / ``batch_normalization``, ...), rebuilt with
aotsym calls and checked against NumPy, compiled (FAST_RUN) and where cheap by the reference
evaluator (FAST_COMPILE).  Keras itself is not needed."""

import itertools

import numpy as np
import pytest

import aotsym as theano
import aotsym.tensor as T
from aotsym.gradient import verify_grad
from aotsym.tensor.nnet import bn
from aotsym.tensor.signal import pool


# ---- K.batch_dot: T.batched_tensordot (and T.batched_dot) -------------------------------
def _keras_batch_dot(x, y, axes):
    """keras.backend.theano_backend.batch_dot, as written there."""
    if isinstance(axes, int):
        axes = (axes, axes)
    if axes is None:
        axes = [x.ndim - 1, y.ndim - 2]
    out = T.batched_tensordot(x, y, axes=axes)
    if out.ndim == 1:
        out = T.shape_padright(out)   # (expand_dims)
    return out


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_batched_tensordot_as_keras_batch_dot(mode):
    x3, y3, y3b = T.tensor3("x3"), T.tensor3("y3"), T.tensor3("y3b")
    x2, y2 = T.matrix("x2"), T.matrix("y2")
    x4 = T.tensor4("x4")
    outs = [_keras_batch_dot(x3, y3, (2, 2)),            # (4, 2, 3) . (4, 5, 3) -> (4, 2, 5)
            _keras_batch_dot(x2, y2, 1),                 # (4, 3) . (4, 3) -> (4, 1)
            _keras_batch_dot(x3, y3b, None),             # batch matmul
            T.batched_tensordot(x3, y3b, axes=[[1, 2], [2, 1]]),
            T.batched_tensordot(x3, y3b, 1),             # int axes: last 1 of x, axis 1 of y
            T.batched_dot(x4, y3b),                      # ndim > 3: Theano 1.0's tensordot
            T.batched_dot(x2[:, 0], y3b)]                # a vector scales each entry
    f = theano.function([x3, y3, y3b, x2, y2, x4], outs, mode=mode)
    rng = np.random.RandomState(0)
    X3, Y3, Y3b = rng.randn(4, 2, 3), rng.randn(4, 5, 3), rng.randn(4, 3, 2)
    X2, Y2, X4 = rng.randn(4, 3), rng.randn(4, 3), rng.randn(4, 2, 6, 3)
    want = [np.einsum("nij,nkj->nik", X3, Y3), (X2 * Y2).sum(1)[:, None],
            np.einsum("nij,njk->nik", X3, Y3b), np.einsum("nij,nji->n", X3, Y3b),
            np.einsum("nij,njk->nik", X3, Y3b), np.einsum("nabi,nic->nabc", X4, Y3b),
            X2[:, 0, None, None] * Y3b]
    for got, ref in zip(f(X3, Y3, Y3b, X2, Y2, X4), want):
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="batched_tensordot"):
        T.batched_tensordot(x3, y3, axes=[[0], [1]])     # the batch axis is not summed


def test_batched_tensordot_gradient():
    rng = np.random.RandomState(1)
    verify_grad(lambda a, b: T.batched_tensordot(a, b, axes=[[2], [2]]),
                [rng.randn(3, 2, 4), rng.randn(3, 5, 4)], rng=rng, n_tests=1)


# ---- K.pool3d: pool.pool_3d ---------------------------------------------------------------
def _pool3_reference(x, ws, st, pad, ignore_border, mode):
    """Brute force over 3-D windows, each axis's windows by Theano's rule."""
    wins = []
    for n, w, s, p in zip(x.shape[-3:], ws, st, pad):
        if ignore_border:
            no = max(0, (n + 2 * p - w) // s + 1)
        elif s >= w:
            no = (n - 1) // s + 1
        else:
            no = max(0, (n - 1 - w + s) // s) + 1
        axis = []
        for j in range(no):
            a, e = j * s - p, min(j * s - p + w, n + p)
            if mode != "average_inc_pad":
                a, e = max(a, 0), min(e, n)
            axis.append((max(a, 0), min(e, n), e - a))
        wins.append(axis)
    out = np.zeros(x.shape[:-3] + tuple(len(a) for a in wins))
    for (i, A), (j, B), (k, C) in itertools.product(*(enumerate(a) for a in wins)):
        block = x[..., A[0]:A[1], B[0]:B[1], C[0]:C[1]]
        if mode == "max":
            v = block.max(axis=(-3, -2, -1))
        else:
            v = block.sum(axis=(-3, -2, -1))
            if mode != "sum":
                v = v / (A[2] * B[2] * C[2])
        out[..., i, j, k] = v
    return out


POOL3_CASES = [((2, 2, 2), (1, 1, 1), (0, 0, 0), True),
               ((2, 3, 2), (2, 1, 3), (1, 1, 0), True),
               ((3, 2, 2), (2, 2, 2), (0, 0, 0), False)]


POOL_MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]


def test_pool_3d_against_numpy():
    x = T.tensor5("x")
    outs = []
    for mode in POOL_MODES:
        outs += [pool.pool_3d(x, ws=ws, stride=st, pad=pad, ignore_border=ib, mode=mode)
                 for ws, st, pad, ib in POOL3_CASES]
        # Keras's pool3d, channels_last: dimshuffle, pool, dimshuffle back
        outs.append(pool.pool_3d(x.dimshuffle(0, 4, 1, 2, 3), ws=(2, 2, 2),
                                 stride=(1, 1, 1), ignore_border=True, pad=(0, 0, 0),
                                 mode=mode).dimshuffle(0, 2, 3, 4, 1))
    f = theano.function([x], outs)
    rng = np.random.RandomState(2)
    X = rng.randn(2, 3, 5, 6, 4)
    X[0, 0, 1, 1, 1] = np.nan
    X[1, 2, 0, 0, 0] = -np.inf
    got = iter(f(X))
    for mode in POOL_MODES:
        for ws, st, pad, ib in POOL3_CASES:
            g, ref = next(got), _pool3_reference(X, ws, st, pad, ib, mode)
            assert g.shape == ref.shape, (mode, ws)
            np.testing.assert_allclose(g, ref, rtol=1e-12)
        ref = _pool3_reference(X.transpose(0, 4, 1, 2, 3), (2, 2, 2), (1, 1, 1), (0, 0, 0),
                               True, mode).transpose(0, 2, 3, 4, 1)
        np.testing.assert_allclose(next(got), ref, rtol=1e-12)


def test_pool_3d_gradient_and_argument_errors():
    rng = np.random.RandomState(3)
    for mode in ("max", "average_exc_pad"):
        verify_grad(lambda v: pool.pool_3d(v, ws=(2, 2, 2), stride=(1, 2, 1),
                                           ignore_border=True, mode=mode),
                    [rng.randn(1, 3, 4, 3)], rng=rng, n_tests=1)
    with pytest.raises(ValueError, match="triple"):
        pool.pool_3d(T.tensor5(), ws=(2, 2), ignore_border=True)
    with pytest.raises(TypeError, match="3 dimensions"):
        pool.pool_3d(T.matrix(), ws=(2, 2, 2), ignore_border=True)


# ---- BatchNormalization: T.nnet.bn with 1-d gamma/beta along a non-last axis --------------
@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_batch_normalization_params_along_the_non_normalized_axes(mode):
    """Keras's normalize_batch_in_training / batch_normalization on channels_first data:
    gamma, beta and the statistics are (C,) vectors that Theano puts along axis 1, and the
    batch statistics come back as (C,) (what Keras's moving-average updates need)."""
    x = T.tensor4("x")
    g, b, rm, rv = T.vectors("g", "b", "rm", "rv")
    out, mean, invstd = bn.batch_normalization_train(x, g, b, [0, 2, 3], 1e-3)
    out2, _, _, new_m, new_v = bn.batch_normalization_train(x, g, b, "spatial", 1e-3, 0.1,
                                                            rm, rv)
    test = bn.batch_normalization_test(x, g, b, rm, rv, [0, 2, 3], 1e-3)
    # Keras's 2-d case (Dense): axes [0], parameters along the last axis
    m2 = T.matrix("m2")
    out3, mean3, _ = bn.batch_normalization_train(m2, g[:2], b[:2], [0], 1e-3)
    f = theano.function([x, g, b, rm, rv, m2],
                        [out, mean, invstd, out2, new_m, new_v, test, out3, mean3], mode=mode)
    rng = np.random.RandomState(4)
    X, M2 = rng.randn(2, 3, 4, 5), rng.randn(6, 2)
    G, B, RM, RV = rng.rand(3), rng.rand(3), rng.rand(3), rng.rand(3) + 0.5
    res = f(X, G, B, RM, RV, M2)
    c = lambda v: v[None, :, None, None]   # noqa: E731
    mu, var = X.mean((0, 2, 3)), X.var((0, 2, 3))
    normed = (X - c(mu)) * c(G / np.sqrt(var + 1e-3)) + c(B)
    want = [normed, mu, 1 / np.sqrt(var + 1e-3), normed, RM * 0.9 + mu * 0.1,
            RV * 0.9 + var * (40 / 39) * 0.1,
            (X - c(RM)) * c(G) / np.sqrt(c(RV) + 1e-3) + c(B),
            (M2 - M2.mean(0)) * (G[:2] / np.sqrt(M2.var(0) + 1e-3)) + B[:2], M2.mean(0)]
    for got, ref in zip(res, want):
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=1e-10)
    with pytest.raises(ValueError, match="epsilon"):
        bn.batch_normalization_train(x, g, b, "spatial", 1e-6)
    with pytest.raises(ValueError, match="dimensions"):
        bn.batch_normalization_test(x, g, b, rm, T.tensor4(), "spatial")


# ---- K.ctc_batch_cost's scans: a step reading two outer values, one computed from the other
def test_scan_step_reading_an_outer_value_and_one_computed_from_it():
    """The step reads ``c`` and ``d = f(c, y)``: both become loop inputs, and ``d`` must not
    be recomputed in the step from ``c``'s placeholder and the outer ``y`` (Keras's CTC
    loss: the step reads ``skip_idxs = arange(..) * 2 + 1`` and ``+ 2``, one constant
    broadcast node shared by both; it raised a ClosednessError)."""
    x, y = T.vectors("x", "y")
    c = x * 2
    d = (c + y).sum()
    out, _ = theano.scan(lambda s, acc: acc + (s * c).sum() + d, sequences=[x],
                         outputs_info=[T.zeros_like(d)])
    f = theano.function([x, y], out)
    X, Y = np.array([1.0, -2.0, 0.5]), np.array([3.0, 5.0, -1.0])
    np.testing.assert_allclose(f(X, Y), np.cumsum([(s * X * 2).sum() + (X * 2 + Y).sum()
                                                   for s in X]))


# ---- K.conv3d: T.nnet.conv3d --------------------------------------------------------------
def _conv3d_reference(x, w, pads, stride, dil, flip, groups=1):
    if flip:
        w = w[:, :, ::-1, ::-1, ::-1]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pads])
    ks, cg, fg = w.shape[2:], w.shape[1], w.shape[0] // groups
    outs = [(xp.shape[2 + i] - dil[i] * (ks[i] - 1) - 1) // stride[i] + 1 for i in range(3)]
    out = np.zeros((x.shape[0], w.shape[0]) + tuple(outs))
    for o in range(w.shape[0]):
        g = o // fg
        for a, b, c in itertools.product(*(range(k) for k in ks)):
            sl = xp[:, g * cg:(g + 1) * cg,
                    a * dil[0]:a * dil[0] + (outs[0] - 1) * stride[0] + 1:stride[0],
                    b * dil[1]:b * dil[1] + (outs[1] - 1) * stride[1] + 1:stride[1],
                    c * dil[2]:c * dil[2] + (outs[2] - 1) * stride[2] + 1:stride[2]]
            out[:, o] += np.einsum("ncdhw,c->ndhw", sl, w[o, :, a, b, c])
    return out


def test_conv3d_against_numpy():
    x, w, w2 = T.tensor5("x"), T.tensor5("w"), T.tensor5("w2")
    conv3d = T.nnet.conv3d
    cases = [  # (border_mode, subsample, dilation, flip, groups), numpy padding
        (("valid", (1, 1, 1), (1, 1, 1), True, 1), (0, 0, 0)),
        (("full", (2, 1, 2), (1, 1, 1), False, 2), (2, 1, 2)),
        (("half", (1, 2, 1), (2, 1, 1), True, 1), (2, 1, 1)),
        (((1, 0, 2), (1, 1, 1), (1, 1, 1), True, 2), (1, 0, 2))]
    outs = [conv3d(x, w2 if g == 2 else w, border_mode=bm, subsample=st, filter_dilation=dl,
                   filter_flip=fl, num_groups=g) for (bm, st, dl, fl, g), _ in cases]
    # Keras's channels_last conv3d: dimshuffle in, kernel (kd, kh, kw, C, F) -> (F, C, ...)
    xl, wl = T.tensor5("xl"), T.tensor5("wl")
    outs.append(conv3d(xl.dimshuffle(0, 4, 1, 2, 3), wl.dimshuffle(4, 3, 0, 1, 2),
                       border_mode="half", filter_flip=False).dimshuffle(0, 2, 3, 4, 1))
    f = theano.function([x, w, w2, xl, wl], outs)
    rng = np.random.RandomState(5)
    X, W, W2 = rng.randn(2, 4, 5, 6, 7), rng.randn(3, 4, 3, 2, 3), rng.randn(4, 2, 3, 2, 3)
    XL, WL = rng.randn(1, 4, 5, 3, 2), rng.randn(3, 3, 1, 2, 2)
    got = f(X, W, W2, XL, WL)
    for g, ((bm, st, dl, fl, groups), pads) in zip(got, cases):
        ref = _conv3d_reference(X, W2 if groups == 2 else W, pads, st, dl, fl, groups)
        assert g.shape == ref.shape, bm
        np.testing.assert_allclose(g, ref, rtol=1e-10, atol=1e-12)
    ref = _conv3d_reference(XL.transpose(0, 4, 1, 2, 3), WL.transpose(4, 3, 0, 1, 2),
                            (1, 1, 0), (1, 1, 1), (1, 1, 1), False)
    np.testing.assert_allclose(got[-1], ref.transpose(0, 2, 3, 4, 1), rtol=1e-10, atol=1e-12)
    with pytest.raises(TypeError, match="5-d"):
        conv3d(T.tensor4(), w)


def test_conv3d_gradient():
    rng = np.random.RandomState(6)
    verify_grad(lambda a, b: T.nnet.conv3d(a, b, border_mode="half", subsample=(2, 1, 1)),
                [rng.randn(1, 2, 4, 3, 3), rng.randn(2, 2, 3, 2, 1)], rng=rng, n_tests=1)


# ---- K.categorical_crossentropy on sequence outputs (batch, time, classes) ----------------
@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_categorical_crossentropy_of_3d_distributions(mode):
    """Keras's backend: normalize, clip, then T.nnet.categorical_crossentropy(output,
    target) with both (batch, time, classes): Theano sums along the last axis."""
    out, target = T.tensor3("out"), T.tensor3("target")
    p = out / out.sum(axis=-1, keepdims=True)
    p = T.clip(p, 1e-7, 1.0 - 1e-7)
    cost = T.nnet.categorical_crossentropy(p, target)
    f = theano.function([out, target], [cost, theano.grad(cost.mean(), out)], mode=mode)
    rng = np.random.RandomState(7)
    O = rng.rand(2, 3, 4) + 0.1
    O[0, 0] = [1.0, 0.0, 0.0, 0.0]            # a clipped zero probability: finite cost
    Tg = np.eye(4)[rng.randint(0, 4, size=(2, 3))]
    Tg[0, 0] = [0.0, 1.0, 0.0, 0.0]
    P = np.clip(O / O.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
    got, grad = f(O, Tg)
    np.testing.assert_allclose(got, -(Tg * np.log(P)).sum(-1), rtol=1e-12)
    assert got.shape == (2, 3) and np.isfinite(grad).all()
    with pytest.raises(TypeError, match="integer labels"):
        T.nnet.categorical_crossentropy(out, T.ivector())
