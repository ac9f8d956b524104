"""T.fft (Theano's theano.tensor.fft): rfft / irfft over all axes but the batch, every norm,
even and odd lengths, against NumPy; their gradients (Theano's formulas) against finite
differences; Theano's documentation example."""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.gradient import verify_grad
from aotsym.tensor import fft

NUMPY_NORM = {None: None, "ortho": "ortho", "no_norm": None}


def complex_of(out):
    return out[..., 0] + 1j * out[..., 1]


def test_the_documentation_example():
    """library/tensor/fft.txt: the spectrum of a box, norm='ortho'."""
    x = T.matrix("x", dtype="float64")
    f_rfft = aotsym.function([x], fft.rfft(x, norm="ortho"))
    n = 1024
    box = np.zeros((1, n), dtype="float64")
    box[:, n // 2 - 10: n // 2 + 10] = 1
    out = f_rfft(box)
    assert out.shape == (1, n // 2 + 1, 2)
    np.testing.assert_allclose(abs(complex_of(out[0])), abs(np.fft.rfft(box[0], norm="ortho")),
                               atol=1e-12)


@pytest.mark.parametrize("norm", [None, "ortho", "no_norm"])
@pytest.mark.parametrize("shape", [(3, 8), (3, 9), (2, 4, 6), (2, 3, 5)])
def test_rfft_and_irfft_match_numpy(norm, shape):
    rng = np.random.default_rng(0)
    data = rng.standard_normal(shape)
    ndim = len(shape)
    x = T.tensor(dtype="float64", broadcastable=(False,) * ndim, name="x")
    spectrum = aotsym.function([x], fft.rfft(x, norm=norm))(data)
    axes = tuple(range(1, ndim))
    want = np.fft.rfftn(data, axes=axes, norm=NUMPY_NORM[norm])
    np.testing.assert_allclose(complex_of(spectrum), want, atol=1e-12)
    z = T.tensor(dtype="float64", broadcastable=(False,) * (ndim + 1), name="z")
    back = aotsym.function([z], fft.irfft(z, norm=norm, is_odd=shape[-1] % 2 == 1))(spectrum)
    scale = {None: 1.0, "ortho": 1.0, "no_norm": float(np.prod(shape[1:]))}[norm]
    np.testing.assert_allclose(back, data * scale, atol=1e-10)


def test_float32_stays_float32_and_bad_inputs_are_refused():
    x = T.fmatrix("x")
    f = aotsym.function([x], fft.rfft(x))
    out = f(np.ones((2, 4), dtype="float32"))
    assert out.dtype == np.float32
    np.testing.assert_allclose(complex_of(out)[:, 0], [4.0, 4.0])
    with pytest.raises(TypeError, match="float tensor of 2 or more"):
        fft.rfft(T.lmatrix("i"))
    with pytest.raises(TypeError, match="float tensor of 2 or more"):
        fft.rfft(T.vector("v"))
    with pytest.raises(ValueError, match="norm must be"):
        fft.rfft(x, norm="unitary")
    with pytest.raises(ValueError, match="is_odd"):
        fft.irfft(T.tensor3("z"), is_odd="yes")


def test_gradients_against_finite_differences():
    rng = np.random.RandomState(0)
    verify_grad(lambda a: (fft.rfft(a) ** 2).sum() + fft.rfft(a, norm="ortho")[:, 3, 1],
                [rng.rand(2, 8)], rng=rng)
    verify_grad(lambda a: (fft.rfft(a) * np.arange(4 * 2).reshape(4, 2)).sum(),
                [rng.rand(3, 7)], rng=rng)
    verify_grad(lambda a: (fft.irfft(a) * np.arange(8)).sum(), [rng.rand(2, 5, 2)], rng=rng)
    verify_grad(lambda a: (fft.irfft(a, norm="ortho", is_odd=True) ** 2).sum(),
                [rng.rand(2, 5, 2)], rng=rng)
    verify_grad(lambda a: (fft.rfft(a) ** 2).sum(), [rng.rand(2, 3, 4)], rng=rng)


def test_theanos_import_path():
    from aotsym.tensor import fft as by_name
    from aotsym.tensor.fft import irfft, rfft   # noqa: F401
    assert by_name is T.fft
