"""A power whose base is the same for the whole loop (``x ** v``, x a scalar; the seed's
polynomial ``x ** arange(n)``) is computed as exp(v log x) with the logarithm taken once
(runtime/aotsym_scalar.h, aot_pow_log / aot_pow_from_log; aotsym/emit_c/elemwise_kernel.c.j2,
the ``_loop_fast`` variant): its values must be NumPy's within about one ulp, and NaN,
infinities, zeros and the overflow and underflow edges exactly NumPy's -- for bases the
fast form takes (positive, finite, not 1) and for those it leaves to pow (0, 1, negative,
infinite, NaN)."""

import os

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.build.cli import PORTABLE_CFLAGS

FAST_BASES = [0.5, 2.0, 0.999, 3.0, 1e-300, 1e300, 5e-324, 1.7976931348623157e308,
              1.0000000000000002, 0.9999999999999999]
OTHER_BASES = [1.0, 0.0, -0.0, -2.0, -0.5, np.inf, -np.inf, np.nan]
SPECIAL_EXPONENTS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, -0.5, 2.0, 3.0,
                     1e308, -1e308, 1e-300, 1024.0, 1023.5, -1074.0, -1075.0, 1075.0,
                     709.0, 710.0, -745.0]


def _exponents(dtype):
    rng = np.random.default_rng(3)
    parts = [SPECIAL_EXPONENTS, rng.standard_normal(400) * 20, rng.uniform(-1100, 1100, 400),
             np.arange(0, 10000, 37)]
    with np.errstate(over="ignore"):
        return np.concatenate(parts).astype(dtype)


def _function(dtype, cflags=None):
    x = T.scalar("x", dtype=dtype)
    v = T.vector("v", dtype=dtype)
    if cflags is None:
        return aotsym.function([x, v], x ** v)
    with aotsym.config.change_flags(cflags=cflags):
        return aotsym.function([x, v], x ** v)


def _module_source(f):
    with open(os.path.join(f._run.module.path, "module.c")) as fh:
        return fh.read()


def _same(got, want, dtype, ulps):
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    exact = ~np.isfinite(want) & ~np.isnan(want)
    np.testing.assert_array_equal(got[exact], want[exact])
    zero = want == 0
    np.testing.assert_array_equal(got[zero], want[zero])
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]))
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=ulps * np.finfo(dtype).eps,
                               atol=np.finfo(dtype).smallest_subnormal)


def test_a_scalar_base_gets_the_loop_that_takes_its_logarithm_once():
    f = _function("float64")
    source = _module_source(f)
    assert "_loop_fast(" in source and "aot_pow_from_log((double)(" in source
    # a base that varies per element keeps pow
    a, b = T.vector("a"), T.vector("b")
    assert "_loop_fast(" not in _module_source(aotsym.function([a, b], a ** b))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("base", FAST_BASES + OTHER_BASES)
def test_a_constant_base_inside_a_fused_loop_gets_it_too(base, dtype):
    """``0.9 ** (v * 2)`` is one fused loop whose base is a literal, not an operand."""
    with np.errstate(all="ignore"):
        b = np.asarray(base).astype(dtype)
    v = T.vector("v", dtype=dtype)
    f = aotsym.function([v], T.constant(b) ** (v * 2))
    if np.isfinite(b) and b > 0 and b != 1:
        assert "_loop_fast(" in _module_source(f)
    x = _exponents(dtype)
    with np.errstate(all="ignore"):
        want = np.power(b, x * np.asarray(2, dtype=dtype))
    _same(f(x), want, dtype, 2 if dtype == "float64" else 1)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("base", FAST_BASES + OTHER_BASES)
def test_values_are_numpys_for_every_base(base, dtype):
    f = _function(dtype)
    v = _exponents(dtype)
    with np.errstate(all="ignore"):
        base = np.asarray(base).astype(dtype)
        want = np.power(base, v)
    ulps = 2 if dtype == "float64" else 1
    _same(f(base, v), want, dtype, ulps)
    _same(f(base, np.repeat(v, 3)[::-3][::-1]), want, dtype, ulps)    # strided: gathered


@pytest.mark.parametrize("cflags", [None, PORTABLE_CFLAGS])
def test_within_about_one_ulp_of_the_exact_power(cflags):
    """Against long double's powl (64-bit mantissa): bases over the whole range, exponents
    up to where the result overflows or underflows; at the default flags and at the
    portable ones of ``aotsym build`` (x86-64: no fma, the exact product is Dekker's)."""
    if np.finfo(np.longdouble).eps > 1e-18:
        pytest.skip("no extended-precision long double to measure float64 ulps against")
    f = _function("float64", cflags)
    assert "_loop_fast(" in _module_source(f)
    rng = np.random.default_rng(7)
    worst = 0.0
    for base in np.concatenate([2.0 ** rng.uniform(-1000, 1000, 40), rng.uniform(0, 2, 40),
                                1 + rng.uniform(-1e-6, 1e-6, 20)]):
        span = 740 / abs(np.log(base))
        v = np.concatenate([rng.uniform(-span, span, 2000), np.arange(2000.0)])
        got = f(base, v)
        with np.errstate(over="ignore", under="ignore"):
            exact = np.power(np.longdouble(base), v.astype(np.longdouble))
            nearest = exact.astype(np.float64)
        ok = np.isfinite(nearest) & (np.abs(nearest) >= np.finfo(np.float64).tiny)
        ulp = np.spacing(np.abs(nearest[ok])).astype(np.longdouble)
        worst = max(worst, float((np.abs(got[ok].astype(np.longdouble) - exact[ok]) / ulp).max()))
    assert worst <= 1.25, worst


def test_the_seed_polynomial_by_scan_matches_numpy():
    coefficients = T.vector("coefficients")
    x = T.scalar("x")
    max_coefficients_supported = 10000
    full_range = T.arange(max_coefficients_supported)
    components, _ = aotsym.scan(fn=lambda coeff, power, free_var: coeff * (free_var ** power),
                                outputs_info=None, sequences=[coefficients, full_range],
                                non_sequences=x)
    f = aotsym.function([coefficients, x], components.sum())
    assert "_loop_fast(" in _module_source(f)
    assert f(np.asarray([1, 0, 2], dtype=np.float64), 3.0) == 19.0
    c = np.random.default_rng(0).random(10000)
    for base in (0.999, 1.0001, -0.999, 0.0, 1.0, np.nan):
        want = (c * np.float64(base) ** np.arange(10000)).sum()
        np.testing.assert_allclose(f(c, base), want, rtol=1e-13)
