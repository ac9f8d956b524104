"""Theano 1.0's special functions ``erfcx``, ``j0``, ``j1``, ``jv``, ``i0``, ``i1``, ``iv``,
``gammainc``, ``gammaincc``, ``gammau``, ``gammal`` and ``chi2sf``, compiled (FAST_RUN, the C
runtime's ``runtime/aotsym_special.h``) and by the reference evaluator (FAST_COMPILE,
``aotsym/graph/special_ref.py``), against SciPy over grids with the edge values (0, -0.0,
tiny, huge, negative, NaN, +-inf, integers; float64 and float32); their dtypes (Theano's
``upgrade_to_float``; ``chi2sf`` is float64); their gradients against finite differences;
and the gradients Theano leaves undefined (order / shape, and ``chi2sf``) raising.  Each
grid is one compiled function with many outputs."""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.gradient import verify_grad

sp = pytest.importorskip("scipy.special")
stats = pytest.importorskip("scipy.stats")

INF, NAN = np.inf, np.nan
# x values for the unary functions (SciPy's j0/j1 lose digits for 1e4 < |x| < 1e300, its
# Hankel phase; aotsym's agree with mpmath there: see test_closed_forms)
X1 = np.array([0.0, -0.0, 1e-300, 1e-10, 0.1, 0.5, 1, 1.5, 2, 2.5, 3, 5, 7.3, 10, 15, 20,
               24.9, 25.1, 26.5, 30, 50, 100, 700, 709.7, 710, 800, 1e300, INF, NAN])
X1 = np.concatenate([X1, -X1, np.linspace(-12.3, 40.1, 23)])
UNARY = {"erfcx": sp.erfcx, "j0": sp.j0, "j1": sp.j1, "i0": sp.i0, "i1": sp.i1}

# (order or shape, x) pairs for the binary ones
ORDERS = [0, 0.5, 1, 2, 2.5, 3, 7.5, 30.3, -0.5, -1, -1.5, -2, -2.7, -4.2, INF, -INF, NAN]
XB = [0.0, -0.0, 1e-10, 0.3, 1, 2, 2.5, 5, 9.9, 19.9, 26, 40, 100, 1e5, -1, -2.5, -7,
      INF, -INF, NAN]
# (1e12 near 1e12: Temme's uniform expansion; 1e4 near 7e3: Stirling's prefactor)
SHAPES = [0, -0.0, 1e-5, 1e-3, 0.5, 1, 2, 3.3, 10, 19.9, 20, 50, 100, 1000, 1e4, 1e5, 1e12,
          -1, INF, NAN]
XG = [0, -0.0, 1e-5, 0.3, 1, 2, 5, 9, 10, 20, 50, 100, 120, 1000, 7e3, 1e5, 1e12 - 2e6,
      1e12, 1e12 + 1e6, 1e300, -1, INF, -INF, NAN]


def _grid(a, b):
    aa, bb = np.meshgrid(np.array(a, "float64"), np.array(b, "float64"))
    return aa.ravel(), bb.ravel()


def _gammau(k, x):
    return sp.gammaincc(k, x) * sp.gamma(k)


def _gammal(k, x):
    return sp.gammainc(k, x) * sp.gamma(k)


BINARY = {"jv": sp.jv, "iv": sp.iv, "gammainc": sp.gammainc, "gammaincc": sp.gammaincc,
          "gammau": _gammau, "gammal": _gammal, "chi2sf": lambda x, k: stats.chi2.sf(x, k)}


def _close(got, want, rtol, atol, what):
    got, want = np.asarray(got, "float64"), np.asarray(want, "float64")
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    with np.errstate(invalid="ignore"):                  # (inf - inf where both are inf)
        ok = same | (np.abs(got - want) <= atol + rtol * np.abs(want))
    assert ok.all(), (what, [(i, got[i], want[i]) for i in np.flatnonzero(~ok)[:6]])


def _binary_points(name):
    if name.startswith("gamma"):
        return _grid(SHAPES, XG)
    if name == "chi2sf":
        k, x = _grid(SHAPES, XG)
        return x, k
    v, x = _grid(ORDERS, XB)
    # SciPy's iv underflows to 0 for x < ~1e-200 (aotsym gives the series' value; see
    # test_closed_forms): the grid stays above
    return v, x


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_float64_against_scipy(mode):
    x = T.dvector("x")
    a, b = T.dvector("a"), T.dvector("b")
    names = list(UNARY) + list(BINARY)
    outs = [getattr(T, n)(x) for n in UNARY] + [getattr(T, n)(a, b) for n in BINARY]
    f = aotsym.function([x, a, b], outs, mode=mode, on_unused_input="ignore")
    results = {}
    for n in BINARY:
        results[n] = f(X1, *_binary_points(n))[names.index(n)]
    got1 = f(X1, np.zeros(1), np.zeros(1))
    with np.errstate(all="ignore"):
        for n, fn in UNARY.items():
            got = got1[names.index(n)]
            assert got.dtype == np.float64
            # the Bessel functions: absolute accuracy near their zeros, as SciPy's
            _close(got, fn(X1), 2e-13, 1e-15 if n.startswith("j") else 0, n)
        for n, fn in BINARY.items():
            p, q = _binary_points(n)
            atol = 1e-14 if n == "jv" else 1e-300
            _close(results[n], fn(p, q), 3e-13, atol, n)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_float32_and_integer_inputs_keep_theanos_dtypes(mode):
    xf = T.fvector("xf")
    af, bf = T.fvector("af"), T.fvector("bf")
    i8, i32 = T.bvector("i8"), T.ivector("i32")
    u16, i16 = T.vector("u16", dtype="uint16"), T.vector("i16", dtype="int16")
    outs = ([T.erfcx(xf), T.j0(xf), T.i1(xf), T.jv(af, bf), T.gammainc(af, bf),
             T.chi2sf(bf, af),                                   # float64 always
             T.j1(i8), T.i0(i32), T.iv(i8, i16), T.gammaincc(u16, i16),
             T.jv(i32, i8), T.erfcx(u16)])
    want_dtypes = ["float32"] * 5 + ["float64", "float32", "float64", "float32", "float32",
                                     "float64", "float32"]
    assert [o.dtype for o in outs] == want_dtypes
    f = aotsym.function([xf, af, bf, i8, i32, u16, i16], outs, mode=mode)
    vx = np.array([0, -0.0, 1e-30, 0.5, 3, -3, 10, 50, 90, 100, INF, -INF, NAN], "float32")
    va = np.array([0.5, 1, 2, 2.5, 0, 3, -1, 10, 1, 2, 0.5, 1, 2], "float32")
    vb = np.array([1, 2, 0.3, 5, 3, 1e-3, 1, 8, INF, 30, 7, 0, 4], "float32")
    vi8 = np.array([-128, -5, 0, 1, 3, 127, 2, -1, 0, 5, 9, -9, 4], "int8")
    vi32 = np.array([0, 1, -1, 5, -700, 700, 710, 2 ** 31 - 1, 3, 2, -3, 8, 9], "int32")
    vu16 = np.array([0, 1, 2, 3, 65535, 7, 10, 20, 30, 1, 2, 3, 4], "uint16")
    vi16 = np.array([0, 1, -2, 3, 4, 7, 10, 20, -30, 1, 2, 3, 32767], "int16")
    got = f(vx, va, vb, vi8, vi32, vu16, vi16)
    d = np.float64
    with np.errstate(all="ignore"):
        want = [sp.erfcx(vx), sp.j0(vx), sp.i1(vx), sp.jv(va, vb), sp.gammainc(va, vb),
                stats.chi2.sf(vb.astype(d), va.astype(d)),
                sp.j1(vi8.astype(d)), sp.i0(vi32.astype(d)),
                sp.iv(vi8.astype(d), vi16.astype(d)),
                sp.gammaincc(vu16.astype(d), vi16.astype(d)),
                sp.jv(vi32.astype(d), vi8.astype(d)), sp.erfcx(vu16.astype(d))]
    for k, (g, w, dt) in enumerate(zip(got, want, want_dtypes)):
        assert g.dtype == np.dtype(dt), k
        w = np.asarray(w).astype(dt)       # SciPy's float32 loops: computed in double
        rtol = 2e-6 if dt == "float32" else 1e-13
        _close(g, w, rtol, 1e-6 if dt == "float32" else 1e-15, k)


def test_closed_forms_where_scipy_is_not_exact():
    """Half-integer orders are elementary; SciPy's iv underflows below x ~ 1e-200 and its
    j0 loses digits for large x (mpmath: j0(1e5) = -0.001719201116235972...)."""
    v, x = T.dvector("v"), T.dvector("x")
    f = aotsym.function([v, x], [T.jv(v, x), T.iv(v, x), T.j0(x), T.i1(x)])
    xs = np.array([1e-300, 1e-100, 0.25, 3.5, 17.0, 60.0])
    jv_, iv_, _, i1_ = f(np.full(6, 0.5), xs)
    np.testing.assert_allclose(jv_, np.sqrt(2 / (np.pi * xs)) * np.sin(xs), rtol=1e-13)
    np.testing.assert_allclose(iv_, np.sqrt(2 / (np.pi * xs)) * np.sinh(xs), rtol=1e-13)
    np.testing.assert_allclose(i1_[:2], xs[:2] / 2, rtol=1e-15)
    jm = f(np.full(6, -0.5), xs)[0]
    np.testing.assert_allclose(jm, np.sqrt(2 / (np.pi * xs)) * np.cos(xs), rtol=1e-13)
    # (mpmath; at 1e300 SciPy's phase x - pi/4 rounds to x and gives -4.59e-151)
    j0 = f(np.zeros(2), np.array([1e5, 1e300]))[2]
    np.testing.assert_allclose(j0, [-0.0017192011162359722, -7.860673062724093e-151],
                               rtol=2e-15)
    # (mpmath's values) a negative non-integer order where I_{-n} = I_n + 2/pi sin(n pi) K_n
    # is far smaller than I_0(x) (a downward recurrence from order 0 loses it all), and the
    # incomplete gamma functions at large shapes, where SciPy errs by 1e-11
    ivn = f(np.array([-49.893229025567074, -20.3]), np.array([32.37788430460441, 12.0]))[1]
    np.testing.assert_allclose(ivn, [-0.10483101165496746, 2.0646188943133703], rtol=1e-12)
    k, y = T.dvector("k"), T.dvector("y")
    pq = aotsym.function([k, y], [T.gammainc(k, y), T.gammaincc(k, y)])(
        np.array([4313.1341430959055, 8211.70532522021]),
        np.array([2378.3959415355976, 11773.546952059192]))
    np.testing.assert_allclose([pq[0][0], pq[1][1]], [2.47941736089894e-277,
                                                      1.086330625267847e-264], rtol=1e-13)
    # signed zeros as SciPy's: j1(-0.0) = -0.0, jv(-1, 0) = -0.0, jv(1, -0.0) = i1(-0.0) = 0
    zeros = f(np.array([-1.0, 1.0]), np.array([0.0, -0.0]))
    assert list(np.signbit(zeros[0])) == [True, False]
    assert not np.signbit(zeros[3]).any() and list(np.signbit(sp.j1(np.array([0.0, -0.0])))) \
        == [False, True]
    assert list(np.signbit(aotsym.function([x], T.j1(x))(np.array([0.0, -0.0])))) == \
        [False, True]


def test_empty_and_broadcast():
    v, x = T.dscalar("v"), T.dmatrix("x")
    f = aotsym.function([v, x], [T.jv(v, x), T.gammaincc(v, x)])
    empty = f(1.5, np.zeros((0, 3)))
    assert [e.shape for e in empty] == [(0, 3), (0, 3)]
    xs = np.linspace(0.1, 9, 12).reshape(3, 4)[:, ::-1]          # negative strides
    got = f(1.5, xs)
    np.testing.assert_allclose(got[0], sp.jv(1.5, xs), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(got[1], sp.gammaincc(1.5, xs), rtol=1e-13)


def test_gradients_against_finite_differences():
    rng = np.random.default_rng(3)
    pts = [rng.uniform(0.2, 3, 4), rng.uniform(-8, 8, 4), rng.uniform(-8, 8, 4),
           rng.uniform(-5, 5, 4), rng.uniform(-5, 5, 4)]
    verify_grad(lambda a, b, c, d, e: T.erfcx(a) + T.j0(b) + T.j1(c) + T.i0(d) + T.i1(e),
                pts, rng=rng)
    v = np.array([1.3, -0.7, 2.0, 3.5])
    k = np.array([0.5, 1.0, 2.5, 7.0])
    pts = [rng.uniform(0.5, 9, 4) for _ in range(6)]
    verify_grad(lambda x1, x2, x3, x4, x5, x6: (
        T.jv(v, x1) + T.iv(v, x2) + T.gammainc(k, x3) + T.gammaincc(k, x4)
        + T.gammau(k, x5) + T.gammal(k, x6)), pts, rng=rng)


def test_undefined_gradients_raise_as_theanos():
    from aotsym.gradient import NullTypeGradError
    v, x = T.dvector("v"), T.dvector("x")
    for fn in (T.jv, T.iv, T.gammainc, T.gammaincc, T.gammau, T.gammal):
        y = fn(v, x).sum()
        T.grad(y, x)                              # the order / shape is not on the path
        with pytest.raises(NullTypeGradError, match="not implemented"):
            T.grad(y, v)
    for wrt in (x, v):
        with pytest.raises(NullTypeGradError):
            T.grad(T.chi2sf(x, v).sum(), wrt)     # Theano's Chi2SF has no gradient
    with pytest.raises(TypeError):
        T.jv(v, T.cvector())                       # complex: not defined


def test_inverse_of_log_survival_with_erfcx():
    """The program erfcx exists for: log(1 - Phi(x)) for large x, stable."""
    x = T.dvector("x")
    z = x / np.sqrt(2)
    f = aotsym.function([x], T.log(T.erfcx(z) / 2) - z * z)
    xs = np.array([0.5, 3.0, 10.0, 30.0, 60.0])
    np.testing.assert_allclose(f(xs), stats.norm.logsf(xs), rtol=1e-13)
