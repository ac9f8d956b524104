"""Idioms of popular stand-alone Theano scripts, ported by changing only the imports.

The scripts: Alec Radford's Theano-Tutorials (0_multiply ... 5_convolutional_net), Denny
Britz's rnn-tutorial-rnnlm (rnn_theano.py) and rnn-tutorial-gru-lstm (gru_theano.py), Graham
Taylor's theano-rnn (rnn.py, rnn_minibatch.py, hf_example.py with theano-hf) and Colin
Raffel's theano-tutorial notebooks.  Each test reproduces, without the scripts, a call they
make that aotsym got wrong or refused, checked against NumPy, finite differences or the
reference evaluator (FAST_COMPILE); the end-to-end tests train a trimmed copy of each
script's model a few steps compiled and by the reference evaluator, from the same weights.
"""

import importlib
import warnings

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T

MODES = ("FAST_RUN", "FAST_COMPILE")


def _floatX(x):
    return np.asarray(x, dtype=aotsym.config.floatX)


# ---------------------------------------------------------------------------- module paths


def test_old_conv_and_downsample_module_paths_import():
    # 5_convolutional_net.py: Theano 0.7's module paths
    from aotsym.tensor.nnet.conv import conv2d
    from aotsym.tensor.signal.downsample import max_pool_2d
    assert conv2d is T.nnet.conv2d
    assert callable(max_pool_2d)
    assert importlib.import_module("aotsym.tensor.nnet.abstract_conv").conv2d is conv2d
    assert importlib.import_module("aotsym.tensor.nnet.bn") is T.nnet.bn
    assert importlib.import_module("aotsym.tensor.nnet.nnet").softmax is T.nnet.softmax


def test_nnet_submodules_import_under_a_renamed_package():
    # `import aotsym as theano` done by a meta-path alias (as a porting shim does): the
    # parent `theano.tensor.nnet` is the T.nnet module, which must look like a package
    import importlib.abc
    import importlib.machinery
    import sys

    class Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, fullname, path=None, target=None):
            if not fullname.startswith("theano_alias_t."):
                return None
            spec = importlib.machinery.ModuleSpec(fullname, self)
            spec.real = importlib.import_module("aotsym" + fullname[len("theano_alias_t"):])
            return spec

        def create_module(self, spec):
            return spec.real

        def exec_module(self, module):
            pass

    finder = Alias()
    sys.meta_path.insert(0, finder)
    saved = {k: v for k, v in sys.modules.items() if k.startswith("theano_alias_t")}
    try:
        sys.modules["theano_alias_t"] = aotsym
        conv = importlib.import_module("theano_alias_t.tensor.nnet.conv")
        assert conv.conv2d is T.nnet.conv2d
    finally:
        sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if k.startswith("theano_alias_t")]:
            del sys.modules[k]
        sys.modules.update(saved)


def test_conv2d_ignores_old_convop_options_with_a_warning():
    # Theano 1.0's conv2d accepts the old ConvOp's tuning knobs and ignores them
    x, w = T.tensor4("x"), T.tensor4("w")
    with pytest.warns(UserWarning, match="unroll_batch"):
        y = T.nnet.conv.conv2d(x, w, unroll_batch=4, unroll_kern=2)
    xv, wv = np.random.RandomState(0).randn(2, 1, 5, 5), np.ones((2, 1, 3, 3))
    ref = aotsym.function([x, w], T.nnet.conv2d(x, w), mode="FAST_COMPILE")(xv, wv)
    np.testing.assert_allclose(aotsym.function([x, w], y)(xv, wv), ref, rtol=1e-12)
    with pytest.raises(ValueError, match="imshp_logical"):
        T.nnet.conv.conv2d(x, w, imshp_logical=(5, 5))


@pytest.mark.parametrize("mode", MODES)
def test_downsample_max_pool_2d_keeps_partial_windows_by_default(mode):
    # 5_convolutional_net.py sizes w4 as 128 * 3 * 3: its 5x5 maps pool to 3x3, not 2x2
    from aotsym.tensor.signal.downsample import max_pool_2d
    x = T.tensor4("x")
    with pytest.warns(UserWarning, match="ignore_border"):
        y = max_pool_2d(x, (2, 2))
    xv = np.random.RandomState(1).randn(2, 3, 5, 5)
    got = aotsym.function([x], y, mode=mode)(xv)
    want = np.full((2, 3, 3, 3), -np.inf)
    for i in range(3):
        for j in range(3):
            want[:, :, i, j] = xv[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2].max(axis=(2, 3))
    np.testing.assert_array_equal(got, want)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = max_pool_2d(x, (2, 2), ignore_border=True, st=(1, 1), mode="average_inc_pad")
    got = aotsym.function([x], z, mode=mode)(xv)
    want = (xv[:, :, :-1, :-1] + xv[:, :, 1:, :-1] + xv[:, :, :-1, 1:] + xv[:, :, 1:, 1:]) / 4
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ---------------------------------------------------------------------------- T.nnet


def _np_hard_sigmoid(x):
    return np.clip(x * 0.2 + 0.5, 0, 1)


def _np_ultra_fast_sigmoid(x):
    t = 0.5 * np.asarray(x, dtype=float)
    a = np.abs(t)
    z = np.where(a < 1.7, 1.5 * a / (1 + a),
                 np.where(a < 3, 0.935409070603099 + 0.0458812946797165 * (a - 1.7),
                          0.99505475368673))
    z = np.where(t >= 0, z, -z)
    return 0.5 * z + 0.5


SIGMOID_POINTS = np.array([-10, -5, -3.7, -2.3, -1, -0.3, 0, 0.2, 1, 2.3, 3.7, 5, 7.5,
                           np.inf, -np.inf])


@pytest.mark.parametrize("mode", MODES)
def test_hard_sigmoid_is_theanos_clipped_line(mode):
    # gru_theano.py's gates: T.nnet.hard_sigmoid was the exact sigmoid
    x = T.dvector("x")
    y = T.nnet.hard_sigmoid(x)
    g = aotsym.grad((y * np.arange(1.0, 16.0)).sum(), x)
    f = aotsym.function([x], [y, g], mode=mode)
    got, grad = f(SIGMOID_POINTS)
    np.testing.assert_allclose(got, _np_hard_sigmoid(SIGMOID_POINTS), rtol=1e-15)
    inside = np.abs(SIGMOID_POINTS) < 2.5
    np.testing.assert_array_equal(grad, np.where(inside, 0.2, 0) * np.arange(1.0, 16.0))
    assert np.isnan(f(np.full(15, np.nan))[0]).all()
    xf = T.fvector("xf")
    assert T.nnet.hard_sigmoid(xf).dtype == "float32"
    assert T.nnet.hard_sigmoid(T.ivector()).dtype == "float64"


@pytest.mark.parametrize("mode", MODES)
def test_ultra_fast_sigmoid_is_theanos_approximation(mode):
    x = T.dvector("x")
    y = T.nnet.ultra_fast_sigmoid(x)
    g = aotsym.grad(y.sum(), x)
    f = aotsym.function([x], [y, g], mode=mode)
    pts = np.append(SIGMOID_POINTS, np.nan)
    got, grad = f(pts)
    want = _np_ultra_fast_sigmoid(pts)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    assert abs(got[-1] - 0.00247262315663) < 1e-10   # Theano's C code: NaN -> the bottom
    np.testing.assert_allclose(grad, want * (1 - want), rtol=1e-14)   # Theano's gradient
    assert np.max(np.abs(got[:-1] - 1 / (1 + np.exp(-pts[:-1])))) < 0.05


def test_multiply_add_rounds_like_numpy():
    """Modules are compiled with -ffp-contract=off: hard_sigmoid's kink at x = -2.5, where
    x * 0.2 + 0.5 is 0.0 in NumPy and -2.8e-17 as one FMA (GCC's default under -march=native
    on a CPU with FMA)."""
    x = T.dvector("x")
    y = T.nnet.hard_sigmoid(x)
    f = aotsym.function([x], [x * 0.2 + 0.5, aotsym.grad(y.sum(), x)])
    pts = np.array([-2.5, -1.0])
    lin, grad = f(pts)
    np.testing.assert_array_equal(lin, pts * 0.2 + 0.5)
    np.testing.assert_array_equal(grad, [0.2, 0.2])   # Theano: x >= lo is inclusive


# ---------------------------------------------------------------------------- function inputs


@pytest.mark.parametrize("mode", MODES)
def test_param_default_is_theanos_old_keyword(mode):
    # gru_theano.py: theano.Param(decay, default=0.9); Theano's Param takes the default second
    x, decay = T.dscalar("x"), T.dscalar("decay")
    f = aotsym.function([x, aotsym.Param(decay, default=0.9)], x * decay, mode=mode)
    assert f(2.0) == pytest.approx(1.8, rel=1e-15)
    assert f(2.0, 0.5) == 1.0
    g = aotsym.function([x, aotsym.Param(decay, 0.25, name="d")], x * decay, mode=mode)
    assert g(2.0) == 0.5 and g(2.0, d=2.0) == 4.0


# ---------------------------------------------------------------------------- T.round


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_modes_are_theanos(mode, dtype):
    # theano-rnn's T.round(p_y_given_x); Theano 1.0's round(a, mode=None)
    import ctypes
    libm_round = ctypes.CDLL(None).round
    libm_round.restype, libm_round.argtypes = ctypes.c_double, [ctypes.c_double]
    pts = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999997, -0.49999997, 2.4, -3.7, np.nan,
                    np.inf, -np.inf, -0.0, 0.0, -0.3, 8388609.0, 4503599627370497.0],
                   dtype=dtype)
    if dtype == "float64":
        pts = np.append(pts, [0.49999999999999994, -0.49999999999999994])
    x = T.vector(dtype=dtype)
    f = aotsym.function([x], [T.round(x), T.round(x, mode="half_to_even"),
                              T.round(x, mode="half_away_from_zero")], mode=mode)
    even, even2, away = f(pts)
    want = np.array([libm_round(float(v)) for v in pts], dtype=dtype)
    np.testing.assert_array_equal(even, np.round(pts))
    np.testing.assert_array_equal(even2, np.round(pts))
    np.testing.assert_array_equal(away, want)
    np.testing.assert_array_equal(np.signbit(away), np.signbit(want))
    assert away.dtype == dtype
    with pytest.raises(ValueError, match="half_away_from_zero"):
        T.round(x, mode="up")
