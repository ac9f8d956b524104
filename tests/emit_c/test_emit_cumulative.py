"""Running sums and products compiled (aotsym/emit_c/cumulative.py): NumPy's results bit
for bit (sequential accumulation in the output's dtype) on every real dtype, along every
axis, with NaN, inf, -0.0, empty, strided and negative-stride inputs."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.emit_c.errors import EmitError

DTYPES = ["bool", "int8", "int32", "uint8", "int64", "float32", "float64"]


def _values(dtype, shape, rng):
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith(("int", "uint")):
        return rng.integers(0, 120, shape).astype(dtype)   # int8 sums wrap, as NumPy's
    v = rng.standard_normal(shape).astype(dtype)
    flat = v.reshape(-1)
    flat[::7] = np.nan
    flat[3::11] = np.inf
    flat[5::13] = -np.inf
    flat[1::5] = -0.0
    return v


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["cumsum", "cumprod"])
def test_running_sum_and_product_match_numpy_bit_for_bit(dtype, mode):
    rng = np.random.default_rng(5)
    x = T.tensor(dtype, (False, False, False), name="x")
    outs = [getattr(T, mode)(x, axis=a) for a in (0, 1, 2, -1, None)]
    f = aotsym.function([x], outs)
    v = _values(dtype, (3, 5, 4), rng)
    for args in (v, v[:, ::-2, :], v[::-1, :, 1::2], np.zeros((3, 0, 4), dtype)):
        got = f(args)
        with np.errstate(all="ignore"):
            want = [getattr(np, mode)(args, axis=a) for a in (0, 1, 2, -1, None)]
        for g, w in zip(got, want):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)
            if g.dtype.kind == "f":   # -0.0 and NaN payload positions too
                assert np.array_equal(np.signbit(g), np.signbit(w))


def test_gradients_of_running_sums_compile():
    x = T.dmatrix("x")
    f = aotsym.function([x], [aotsym.grad((T.cumsum(x, axis=1) ** 2).sum(), x),
                              aotsym.grad(T.cumprod(x, axis=0).sum(), x)])
    v = np.random.default_rng(1).uniform(0.5, 1.5, (3, 4))
    ref = aotsym.function([x], [aotsym.grad((T.cumsum(x, axis=1) ** 2).sum(), x),
                                aotsym.grad(T.cumprod(x, axis=0).sum(), x)],
                          mode="FAST_COMPILE")
    for g, w in zip(f(v), ref(v)):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_complex_running_products_say_there_is_no_c_translation():
    z = T.tensor("complex128", (False,), name="z")
    with pytest.raises(EmitError, match="CumProd"):
        aotsym.function([z], T.cumprod(z))
