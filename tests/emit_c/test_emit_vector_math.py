"""Vector math: at the default flags (-O3, vectorized loops) the elementwise kernels call
glibc's libmvec for pow, exp, log, sin, cos, tanh ... (runtime/aotsym_scalar.h, AOT_LIBMVEC;
aotsym/build/compiler.py vector_math).  Its results must be NumPy's within a few ulp, and
NaN, infinities and signed zeros exactly NumPy's, for contiguous (vectorized) and strided
(scalar) operands alike — the two paths agree within the same few ulps, not bit for bit,
as NumPy's own SIMD and scalar loops do."""

import re

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.build import compiler

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-300, -1e-300, 5e-324, 1e300, -1e300, 709.0,
           710.0, -745.0, 0.5, -0.5, 1.0, -1.0, 3.0, 1e-8, -1e-8]
UNARY = ["exp", "log", "sin", "cos", "tanh", "tan", "expm1", "log1p", "log2", "log10",
         "exp2", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
         "arctanh", "erf", "erfc"]


def _values(dtype):
    rng = np.random.default_rng(0)
    base = np.concatenate([SPECIAL, rng.standard_normal(300) * 3, rng.uniform(-1, 1, 300)])
    with np.errstate(over="ignore"):
        return base.astype(dtype)


def _reference(name, v):
    import scipy.special
    fn = {"erf": scipy.special.erf, "erfc": scipy.special.erfc}.get(name, getattr(np, name, None))
    with np.errstate(all="ignore"):
        return fn(v)


def _same(got, want, ulps, dtype):
    eps = np.finfo(dtype).eps
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    zero = want == 0
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]))
    np.testing.assert_allclose(got[finite], want[finite], rtol=ulps * eps,
                               atol=np.finfo(dtype).tiny)


def test_the_build_asks_for_libmvec_where_glibc_has_it():
    flags, link = compiler.vector_math(portable=False)
    portable, _ = compiler.vector_math(portable=True)
    if not flags:
        pytest.skip("no libmvec here (not glibc on x86-64, or glibc < 2.22)")
    assert link == ["-lmvec"] and flags[0].startswith("-DAOT_LIBMVEC=")
    assert portable == ["-DAOT_LIBMVEC=1"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_vectorized_transcendentals_are_numpys(dtype):
    x = T.vector("x", dtype=dtype)
    names = UNARY
    f = aotsym.function([x], [getattr(T, n)(x) for n in names])   # default flags: -O3
    v = _values(dtype)
    outs = f(v)
    strided = f(np.repeat(v, 2)[::2])
    for name, got, again in zip(names, outs, strided):
        want = _reference(name, v).astype(dtype)
        # (erfc's far tail, below 1e-16: glibc's and SciPy's erfc differ by up to ~24 ulp,
        # libm's scalar erfc as much as libmvec's)
        ulps = 32 if name == "erfc" else 8 if dtype == "float64" else 4
        _same(got, want, ulps, dtype)
        # the strided loop calls libm, the vectorized one libmvec: equal within their ulps
        # (NumPy's own SIMD and scalar loops differ the same way)
        _same(again, got, 8 if dtype == "float64" else 4, dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_vectorized_pow_and_atan2_are_numpys(dtype):
    a, b = T.vector("a", dtype=dtype), T.vector("b", dtype=dtype)
    f = aotsym.function([a, b], [a ** b, T.arctan2(a, b)])
    v = _values(dtype)
    w = np.roll(v, 7)
    got_pow, got_atan2 = f(v, w)
    with np.errstate(all="ignore"):
        _same(got_pow, np.power(v, w), 8, dtype)
        _same(got_atan2, np.arctan2(v, w), 8, dtype)


def _tanh_points(dtype):
    """Points where a tanh goes wrong first: around the 0.625 switch between its two formulas,
    around the clamp (22; float32: 20) and where it rounds to 1, tiny and subnormal values,
    and a spread over [-25, 25]."""
    rng = np.random.default_rng(1)
    parts = [rng.uniform(-25, 25, 100_000), rng.uniform(-1, 1, 100_000),
             0.625 + rng.uniform(-1e-3, 1e-3, 20_000), 0.625 * (1 + np.arange(-50, 50) * 1e-16),
             rng.uniform(17, 23, 20_000), 2.0 ** rng.uniform(-1074, -1, 20_000)]
    v = np.concatenate(parts + [-p for p in parts])
    with np.errstate(under="ignore"):
        return v.astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tanh_is_within_two_ulp_of_the_exact_value(dtype):
    """The runtime's own tanh (AOT_TANH, inline so that loops vectorize without a call) is
    checked against a wider type's tanh: long double (64-bit mantissa) for float64, float64
    for float32, on contiguous (vectorized) and strided operands."""
    if dtype == "float64" and np.finfo(np.longdouble).eps > 1e-18:
        pytest.skip("no extended-precision long double to measure float64 ulps against")
    wide = np.longdouble if dtype == "float64" else np.float64
    x = T.vector("x", dtype=dtype)
    f = aotsym.function([x], T.tanh(x))
    v = _tanh_points(dtype)
    exact = np.tanh(v.astype(wide))
    nearest = exact.astype(dtype)
    ulp = np.spacing(np.abs(nearest)).astype(wide)
    for got in (f(v), f(np.repeat(v, 2)[::2])):
        err = np.abs(got.astype(wide) - exact) / ulp
        assert err.max() <= 2.0, (v[np.argmax(err)], float(err.max()))
        np.testing.assert_array_equal(np.signbit(got), np.signbit(v))
    assert np.all(np.abs(f(v)) <= 1)


def _undefined_symbols(f):
    import glob
    import subprocess
    (so,) = glob.glob(f._run.module.path + "/*.so")
    out = subprocess.run(["nm", "-D", "--undefined-only", so], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("no nm here")
    return out.stdout


@pytest.mark.parametrize("name", ["maximum", "minimum", "clip", "sgn", "switch"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_select_beside_a_call_keeps_the_loop_vectorized(name, dtype):
    """np.maximum, np.minimum, clip, sign and switch are branch-free (runtime/aotsym_scalar.h):
    a ?: in a fused body that also calls exp made GCC leave the whole loop scalar, one libm
    call per element (T.switch(x > 0, x, exp(x) - 1), ELU, ran 4.7x slower).  The module calls
    libmvec's vector exp, and the values are NumPy's, NaN, infinities and signed zeros too."""
    if not compiler.vector_math(portable=False)[0]:
        pytest.skip("no libmvec here")
    x = T.vector("x", dtype=dtype)
    e = T.exp(x)
    y = {"maximum": T.maximum(e, x), "minimum": T.minimum(x, e), "clip": T.clip(e, 0.5, 2.0),
         "sgn": T.sgn(x) * e, "switch": T.switch(x > 0, x, e * 0.5)}[name]
    f = aotsym.function([x], y)
    symbol = r"_ZGV\w+_expf?@" if dtype == "float32" else r"_ZGV\w+_exp@"
    assert re.search(symbol, _undefined_symbols(f)), "the loop calls only scalar exp"
    v = _values(dtype)
    with np.errstate(all="ignore"):
        ev = np.exp(v)
        want = {"maximum": np.maximum(ev, v), "minimum": np.minimum(v, ev),
                "clip": np.clip(ev, 0.5, 2.0), "sgn": np.sign(v) * ev,
                "switch": np.where(v > 0, v, ev * 0.5)}[name].astype(dtype)
    for arg, ref in ((v, want), (v[::-3], want[::-3])):
        _same(f(arg), ref, 4, dtype)


def _has_avx512():
    try:
        with open("/proc/cpuinfo") as fh:
            return " avx512f" in fh.read()
    except OSError:
        return False


def test_vector_math_loops_take_the_widest_vectors():
    """AOT_WIDE (runtime/aotsym_scalar.h): where the CPU has AVX-512 (and the flags are
    -march=native), a loop that calls vector math is compiled for 512-bit vectors -- it
    calls libmvec's 8-lane exp, not the 4-lane one GCC's default width picks; a loop that
    only moves memory is not marked."""
    if not compiler.vector_math(portable=False)[0]:
        pytest.skip("no libmvec here")
    x = T.vector("x")
    f = aotsym.function([x], T.exp(x) * 2)
    cheap = aotsym.function([x], x * 2 + 1)
    with open(f"{f._run.module.path}/module.c") as fh:
        assert "AOT_WIDE static inline void" in fh.read()
    with open(f"{cheap._run.module.path}/module.c") as fh:
        assert "AOT_WIDE static inline void" not in fh.read()
    v = _values("float64")
    with np.errstate(all="ignore"):
        _same(f(v), np.exp(v) * 2, 8, "float64")
    if not _has_avx512():
        pytest.skip("no AVX-512 on this CPU: nothing wider to take")
    assert re.search(r"_ZGVeN8v_exp@", _undefined_symbols(f)), "the loop calls 4-lane exp"
