"""Theano's tensor functions of ``aotsym/tensor/special.py``: gradient stops, ``Print``,
sort / argsort, special functions, nnet extras.

Compiled results (FAST_RUN) are compared with the NumPy reference evaluator and with
NumPy / SciPy; gradients with finite differences.
"""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.gradient import GradientStop, consider_constant, disconnected_grad, zero_grad
from aotsym.graph.evaluate import evaluate
from aotsym.optimizer.testing import assert_graph, count_ops, rewrite

# ---------------------------------------------------------------------------- gradient stops


@pytest.mark.parametrize("stop", [zero_grad, consider_constant, disconnected_grad])
def test_a_gradient_stop_is_the_identity_forward_and_removed_by_the_optimizer(stop):
    x = T.vector("x")
    before = stop(x) * 2
    assert count_ops(before, GradientStop) == 1
    after = rewrite(before, stages=["inline"])
    assert_graph(after, x * 2)
    f = aotsym.function([x], before)
    xv = np.array([1.5, -0.0, np.nan, np.inf])
    np.testing.assert_array_equal(f(xv), xv * 2)
    assert count_ops(rewrite(before), GradientStop) == 0      # every mode inlines it
    assert count_ops(rewrite(before, mode="FAST_COMPILE"), GradientStop) == 0


@pytest.mark.parametrize("stop", [zero_grad, consider_constant])
def test_zero_grad_and_consider_constant_give_zeros_where_only_they_lead(stop):
    x = T.vector("x")
    cost = (stop(x) ** 2).sum() + (3 * x).sum()
    g = aotsym.grad(cost, x)
    f = aotsym.function([x], g)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0, -4.0])), [3.0, 3.0, 3.0])
    g_only = aotsym.grad((stop(x) ** 2).sum(), x)     # connected: zeros, no error
    np.testing.assert_array_equal(evaluate([g_only], {x: np.arange(3.0)})[0], np.zeros(3))


def test_disconnected_grad_disconnects():
    x, w = T.vector("x"), T.vector("w")
    cost = (disconnected_grad(x * w) * w).sum()
    gw = aotsym.grad(cost, w)           # only the direct path to w counts
    xv, wv = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    np.testing.assert_array_equal(aotsym.function([x, w], gw)(xv, wv), xv * wv)
    with pytest.raises(Exception, match="does not depend on x"):
        aotsym.grad(cost, x)
    gx = aotsym.grad(cost, x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(evaluate([gx], {x: xv, w: wv})[0], [0.0, 0.0])


def test_the_tensor_namespace_exports_the_stops():
    assert T.zero_grad is zero_grad and T.consider_constant is consider_constant
    assert aotsym.gradient.disconnected_grad is disconnected_grad


# ---------------------------------------------------------------------------- Print


def test_print_prints_from_the_compiled_function_and_returns_its_input(capsys):
    from aotsym.printing import Print
    x = T.vector("x")
    y = Print("x is")(x) * 2
    f = aotsym.function([x], y)
    capsys.readouterr()
    xv = np.array([1.5, -0.0, np.nan])
    np.testing.assert_array_equal(f(xv), xv * 2)
    assert capsys.readouterr().out == f"x is __str__ = {xv}\n"
    f(np.array([3.0]))
    assert capsys.readouterr().out == "x is __str__ = [3.]\n"


def test_print_attributes_strided_input_and_gil_released_run(capsys):
    from aotsym.printing import Print
    x = T.matrix("x")
    y = Print("m", attrs=("shape", "sum", "__str__"))(x.T) + 1
    f = aotsym.function([x], y)
    xv = np.arange(12.0).reshape(3, 4)[:, ::-2]          # strided, negative stride
    capsys.readouterr()
    np.testing.assert_array_equal(f(xv), xv.T + 1)
    out = capsys.readouterr().out
    assert out == f"m shape = (2, 3)\nm sum = {xv.sum()}\nm __str__ = {xv.T}\n", out
    big = np.ones((300, 300))                             # the entry releases the GIL
    np.testing.assert_array_equal(f(big), 2 * big)
    assert capsys.readouterr().out.startswith("m shape = (300, 300)\nm sum = 90000.0\n")


def test_print_is_kept_by_the_optimizer_and_in_fast_compile(capsys):
    from aotsym.graph.ops.debugprint import Print as PrintOp
    from aotsym.printing import Print
    x = T.scalar("x")
    y = Print("c")(T.constant(2.0)) + Print("v")(x)
    assert count_ops(rewrite(y), PrintOp) == 2          # not folded, not removed
    f = aotsym.function([x], y, mode="FAST_COMPILE")
    capsys.readouterr()
    assert f(1.0) == 3.0
    assert sorted(capsys.readouterr().out.splitlines()) == ["c __str__ = 2.0",
                                                           "v __str__ = 1.0"]


def test_print_gradient_passes_through_and_an_unknown_attribute_fails_clearly():
    from aotsym.printing import Print
    x = T.vector("x")
    g = aotsym.grad((Print("p")(x) ** 2).sum(), x)
    np.testing.assert_array_equal(evaluate([g], {x: np.array([1.0, 2.0])})[0], [2.0, 4.0])
    f = aotsym.function([x], Print("p", attrs=("no_such_attribute",))(x))
    with pytest.raises(Exception, match="no_such_attribute"):
        f(np.array([1.0]))


# ---------------------------------------------------------------------------- sort / argsort

SORT_VALUES = np.array([[3.0, np.nan, -0.0, 0.0, 1.0, 2.0],
                        [2.0, 2.0, -np.inf, np.inf, np.nan, -1.0],
                        [0.0, -0.0, 0.0, np.nan, np.nan, 5.0]])


def _same(got, expected):
    assert got.dtype == expected.dtype and got.shape == expected.shape, (got, expected)
    np.testing.assert_array_equal(got, expected)
    if got.dtype.kind == "f":      # -0.0 and 0.0 in the stable order
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "uint8", "bool"])
def test_sort_and_argsort_are_numpys_stable_sort(dtype):
    x = T.tensor3("x", dtype=dtype)
    outs, refs = [], []
    for axis in (0, 1, 2, -1, None):
        outs += [T.sort(x, axis=axis), T.argsort(x, axis=axis)]
        refs += [lambda a, axis=axis: np.sort(a, axis=axis, kind="stable"),
                 lambda a, axis=axis: np.argsort(a, axis=axis, kind="stable")]
    f = aotsym.function([x], outs)
    rng = np.random.default_rng(1)
    base = np.concatenate([SORT_VALUES, rng.integers(-3, 4, (3, 6)).astype(float)])
    if dtype == "bool":
        base = np.nan_to_num(base) > 0
    with np.errstate(invalid="ignore"):
        values = np.stack([base, base[::-1]]).astype(dtype)
    for a in (values, values[:, ::-1, ::-2], np.zeros((2, 0, 3), dtype),
              np.broadcast_to(values[:1], (3,) + values.shape[1:])):
        got = f(a)
        for g, ref, out in zip(got, refs, outs):
            _same(g, ref(a).astype(out.dtype))
            _same(g, evaluate([out], {x: a})[0])


def test_sort_long_rows_take_the_merge_path_and_ties_stay_in_order():
    x = T.vector("x")
    f = aotsym.function([x], [T.sort(x), T.argsort(x)])
    a = np.random.default_rng(2).integers(0, 50, 5000).astype(float)
    a[::97] = np.nan
    a[::89] = -0.0
    s, i = f(a)
    _same(s, np.sort(a, kind="stable"))
    _same(i, np.argsort(a, kind="stable"))
    _same(f(a[::-3])[1], np.argsort(a[::-3], kind="stable"))


def test_sort_gradient_goes_back_through_the_permutation():
    aotsym.gradient.verify_grad(lambda a: T.sort(a, axis=0),
                                [np.array([[0.3, -1.2], [2.5, 0.1], [-0.7, 4.0]])])
    aotsym.gradient.verify_grad(lambda a: T.sort(a, axis=None) * np.arange(6.0),
                                [np.array([[0.3, -1.2, 7.0], [2.5, 0.1, -3.0]])])
    x = T.vector("x")
    g = aotsym.grad((T.sort(x) * np.arange(4.0)).sum(), x)
    xv = np.array([3.0, -1.0, 2.0, 0.5])
    np.testing.assert_array_equal(aotsym.function([x], g)(xv), [3.0, 0.0, 2.0, 1.0])


def test_sort_refuses_what_numpy_refuses():
    with pytest.raises(ValueError, match="axis"):
        T.sort(T.vector(), axis=1)
    with pytest.raises(TypeError, match="complex"):
        T.argsort(T.cvector())


# ---------------------------------------------------------------------------- special functions

SPECIAL_CORNERS = [0.0, -0.0, -1.0, -2.0, -2.5, -0.5, np.inf, -np.inf, np.nan, 1e-300, -1e-300,
                   1e-310, 171.7, 172.0, 1.0, 2.0, 0.5, 1.5, 0.3, 1.4616321449683623,
                   -0.99999, 0.99999, 1 - 1e-16, 1e-10, 1.9999999, 1e-200, -7.25, 33.3]


def _special_inputs():
    rng = np.random.default_rng(0)
    return np.concatenate([SPECIAL_CORNERS, rng.uniform(-20, 20, 400), rng.uniform(-1, 1, 400),
                           rng.uniform(0, 2, 400), 10 ** rng.uniform(-300, 0, 200),
                           1 - 10 ** rng.uniform(-16, 0, 200)])


def _scipy_reference(name, x):
    import scipy.special as S
    with np.errstate(all="ignore"):
        if name == "tri_gamma":
            return S.polygamma(1, x).astype(x.dtype)
        return np.asarray(getattr(S, name)(x)).astype(x.dtype)


def _mpmath_reference(name, v):
    mpmath = pytest.importorskip("mpmath")
    fn = {"gammaln": mpmath.loggamma, "gamma": mpmath.gamma, "psi": mpmath.digamma,
          "tri_gamma": lambda t: mpmath.polygamma(1, t), "erfinv": mpmath.erfinv,
          "erfcinv": lambda t: mpmath.erfinv(1 - mpmath.mpf(t))}[name]
    with mpmath.workdps(40):
        return float(mpmath.re(fn(mpmath.mpf(v))))


# (ulps allowed, absolute error allowed) against SciPy, or against mpmath's value where SciPy
# is further off (psi(-0.99999): SciPy 30,000 ulps away).  gammaln is libm's lgamma, exact
# where SciPy is not (gammaln(1 - 1e-16)); psi and tri_gamma lose relative accuracy next to psi's zero and where
# the reflection cancels, so an absolute bound holds there; gamma(-171.5) is a subnormal
# SciPy flushes to 0.  Where SciPy says inf and aotsym a number, mpmath decides.
SPECIAL_TOLERANCE = {"gammaln": (4, 1e-15), "gamma": (8, 1e-300), "psi": (8, 2e-15),
                     "tri_gamma": (8, 1e-15), "erfinv": (4, 0), "erfcinv": (4, 0)}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_special_functions_match_scipy(dtype):
    x = T.vector("x", dtype=dtype)
    names = sorted(SPECIAL_TOLERANCE)
    outs = [getattr(T, n)(x) for n in names]
    f = aotsym.function([x], outs)
    values = _special_inputs().astype(dtype)
    for a in (values, values[::-3]):
        got = f(a)
        ref_eval = evaluate(outs, {x: a})
        for name, g, r_eval in zip(names, got, ref_eval):
            r = _scipy_reference(name, a)
            assert g.dtype == r.dtype == dtype, name
            np.testing.assert_array_equal(np.isnan(g), np.isnan(r), err_msg=name)
            inf = np.isinf(r) & (g != r)         # SciPy's gammaln(1e-310) is inf: not so
            for v, gv in zip(a[inf], g[inf]):
                true = _mpmath_reference(name, float(v))
                assert abs(float(gv) - true) <= 4 * np.spacing(abs(true)), (name, v, gv, true)
            ok = np.isfinite(r)
            ulps, atol = SPECIAL_TOLERANCE[name]
            if dtype == "float32":
                ulps, atol = max(ulps, 2), max(atol, 1e-7)
            err = np.abs(g[ok].astype("float64") - r[ok])
            bad = (err > ulps * np.spacing(np.abs(r[ok]))) & (err > atol)
            for v, gv in zip(a[ok][bad], g[ok][bad]):   # where SciPy is off: the true value
                true = _mpmath_reference(name, float(v))
                assert abs(float(gv) - true) <= max(ulps * np.spacing(abs(true)), atol), \
                    (name, v, gv, true)
            np.testing.assert_array_equal(np.isnan(r_eval), np.isnan(r), err_msg=name)


def test_special_functions_at_their_corners():
    x = T.vector("x")
    f = aotsym.function([x], [T.gamma(x), T.psi(x), T.erfinv(x), T.erfcinv(x), T.gammaln(x)])
    gamma, psi, erfinv, erfcinv, gammaln = f(np.array([0.0, -0.0, -1.0, 1.0, 2.0, -np.inf]))
    np.testing.assert_array_equal(gamma, [np.inf, -np.inf, np.nan, 1.0, 1.0, np.nan])
    np.testing.assert_array_equal(psi[:3], [-np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(erfinv, [0.0, -0.0, -np.inf, np.inf, np.nan, np.nan])
    assert np.signbit(erfinv[1]) and not np.signbit(erfinv[0])
    np.testing.assert_array_equal(erfcinv, [np.inf, np.inf, np.nan, -0.0, -np.inf, np.nan])
    assert np.signbit(erfcinv[3])                   # erfcinv(1) = -0.0, as SciPy
    np.testing.assert_array_equal(gammaln, [np.inf, np.inf, np.inf, 0.0, 0.0, -np.inf])


@pytest.mark.parametrize("name, point", [
    ("gammaln", [0.7, 3.2, -2.5]), ("gamma", [0.7, 3.2, -2.5]), ("psi", [0.7, 3.2, -2.5]),
    ("erfinv", [-0.9, 0.1, 0.6]), ("erfcinv", [0.05, 0.9, 1.7])])
def test_special_function_gradients_match_finite_differences(name, point):
    aotsym.gradient.verify_grad(getattr(T, name), [np.array(point)])


def test_psi_gradient_is_trigamma_compiled():
    x = T.vector("x")
    g = aotsym.grad(T.psi(x).sum(), x)
    xv = np.array([0.3, 1.0, 4.5, -1.5])
    np.testing.assert_allclose(aotsym.function([x], g)(xv), _scipy_reference("tri_gamma", xv),
                               rtol=1e-13)


# ---------------------------------------------------------------------------- nnet extras

NNET_X = np.array([[-3.0, -0.0, 0.0, 0.5], [2.0, -1e-8, np.inf, -np.inf], [np.nan, 40.0, -40.0,
                                                                            1.0]])


def _np_elu(x, alpha=1.0):
    with np.errstate(all="ignore"):
        return np.where(x > 0, x, alpha * np.expm1(x))


@pytest.mark.parametrize("a", [NNET_X, NNET_X[:, ::-2], np.zeros((0, 4))])
def test_activations_match_numpy(a):
    x = T.matrix("x")
    outs = [T.nnet.elu(x), T.nnet.elu(x, alpha=0.3), T.nnet.selu(x), T.nnet.softsign(x),
            T.nnet.logsoftmax(x)]
    got = aotsym.function([x], outs)(a)
    with np.errstate(all="ignore"):
        refs = [_np_elu(a), _np_elu(a, 0.3),
                1.0507009873554804934193349852946 * _np_elu(a, 1.6732632423543772848170429916717),
                a / (1 + np.abs(a)), evaluate([T.log_softmax(x)], {x: a})[0]]
    for g, r in zip(got, refs):
        np.testing.assert_allclose(g, r, rtol=1e-15, atol=0, equal_nan=True)
        np.testing.assert_array_equal(np.signbit(g[g == 0]), np.signbit(r[r == 0]))


def test_sigmoid_binary_crossentropy_is_stable_and_its_gradient_is_sigmoid_minus_target():
    o, t = T.vector("o"), T.vector("t")
    loss = T.nnet.sigmoid_binary_crossentropy(o, t)
    ov = np.array([-800.0, -3.0, -0.0, 0.5, 40.0, 800.0])
    tv = np.array([0.0, 1.0, 0.5, 0.2, 1.0, 0.0])
    got = aotsym.function([o, t], loss)(ov, tv)
    # -t log s(o) - (1 - t) log(1 - s(o)) = log(1 + exp(-|o|)) + max(o, 0) - t o
    expected = np.log1p(np.exp(-np.abs(ov))) + (np.maximum(ov, 0) - tv * ov)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    g = aotsym.function([o, t], aotsym.grad(loss.sum(), o))(ov, tv)
    np.testing.assert_allclose(g, 0.5 * (1 + np.tanh(ov / 2)) - tv, rtol=1e-14, atol=1e-300)
    aotsym.gradient.verify_grad(lambda a, b: T.nnet.sigmoid_binary_crossentropy(a, b),
                                [np.array([-2.0, 0.3, 1.7]), np.array([0.1, 0.9, 0.5])])


def test_crossentropies_with_integer_labels():
    x, y = T.matrix("x"), T.lvector("y")
    nll, sm = T.nnet.crossentropy_softmax_1hot(x, y)
    xent = T.nnet.crossentropy_categorical_1hot(sm, y)
    xv = np.array([[1.0, 2.0, 3.0], [0.0, -5.0, 1000.0], [-1.0, -1.0, -1.0]])
    yv = np.array([2, 0, 1])
    got_nll, got_sm, got_xent = aotsym.function([x, y], [nll, sm, xent])(xv, yv)
    shifted = xv - xv.max(axis=1, keepdims=True)
    lsm = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(got_nll, -lsm[np.arange(3), yv], rtol=1e-14)  # 1000, no inf
    np.testing.assert_allclose(got_sm, np.exp(lsm), rtol=1e-14)
    # of a softmax: its log-softmax's entries (Theano's crossentropy_softmax rewrite gives
    # them too), so a probability that underflowed to 0 costs 1000, not inf
    np.testing.assert_allclose(got_xent, -lsm[np.arange(3), yv], rtol=1e-14)
    aotsym.gradient.verify_grad(lambda a: T.nnet.crossentropy_softmax_1hot(a, yv)[0],
                                [np.array([[0.1, 0.2, 0.3], [1.0, -1.0, 0.5], [2.0, 0.0, 1.0]])])


def _np_bn_train(x, gamma, beta, axes, eps, f, rm, rv):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    invstd = 1 / np.sqrt(var + eps)
    m = np.prod([x.shape[a] for a in axes])
    return ((x - mean) * gamma * invstd + beta, mean, invstd, rm * (1 - f) + mean * f,
            rv * (1 - f) + var * m / (m - 1) * f)


@pytest.mark.parametrize("axes", ["per-activation", "spatial", (0, 2)])
def test_batch_normalization_train_test_and_low_mem(axes):
    bn = T.nnet.bn
    x = T.tensor4("x")
    rng = np.random.default_rng(3)
    xv = rng.normal(size=(5, 3, 4, 2))
    ax = {"per-activation": (0,), "spatial": (0, 2, 3)}.get(axes, axes)
    bshape = tuple(1 if d in ax else n for d, n in enumerate(xv.shape))
    bc = tuple(n == 1 for n in bshape)
    gamma, beta, rm, rv = (T.tensor("float64", bc, name=n) for n in ("g", "b", "rm", "rv"))
    gv, bv = rng.uniform(0.5, 2, bshape), rng.normal(size=bshape)
    rmv, rvv = rng.normal(size=bshape), rng.uniform(0.5, 2, bshape)
    outs = bn.batch_normalization_train(x, gamma, beta, axes, 1e-3, 0.2, rm, rv)
    test_out = bn.batch_normalization_test(x, gamma, beta, rm, rv, axes, 1e-3)
    low_mem = bn.batch_normalization(x, gamma, beta, rm, T.sqrt(rv + 1e-3), mode="low_mem")
    f = aotsym.function([x, gamma, beta, rm, rv], list(outs) + [test_out, low_mem])
    got = f(xv, gv, bv, rmv, rvv)
    refs = list(_np_bn_train(xv, gv, bv, ax, 1e-3, 0.2, rmv, rvv))
    refs += [(xv - rmv) * gv / np.sqrt(rvv + 1e-3) + bv] * 2
    for g, r in zip(got, refs):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-14)


def test_batch_normalization_train_gradient():
    def fn(a, g, b):
        return T.nnet.bn.batch_normalization_train(a, g.dimshuffle("x", 0),
                                                   b.dimshuffle("x", 0))[0]
    rng = np.random.default_rng(4)
    aotsym.gradient.verify_grad(fn, [rng.normal(size=(4, 3)), rng.uniform(0.5, 2, 3),
                                     rng.normal(size=3)])
