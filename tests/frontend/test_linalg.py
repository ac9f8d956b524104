"""``T.nlinalg`` / ``T.slinalg`` (aotsym/graph/ops/linalg.py): compiled (LAPACK) against
NumPy and the reference evaluator on well-conditioned, ill-conditioned, singular, empty,
strided, transposed and negative-stride matrices, float32 and float64; NaN/inf inputs give
NumPy's values; singular / not positive definite inputs fail in NumPy's words naming the op
and the user's line; gradients by finite differences (``verify_grad``) and compiled against
the reference evaluator.
"""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.gradient import verify_grad
from aotsym.graph.evaluate import evaluate

RNG = np.random.default_rng(1234)
TOL = {"float64": 1e-9, "float32": 2e-3}


def _general(n, dtype):
    """A random matrix, well conditioned, whose LU pivots (an odd permutation of rows)."""
    a = RNG.standard_normal((n, n)) + n * np.eye(n)
    return a[[1, 0] + list(range(2, n))].astype(dtype)


def _spd(n, dtype):
    a = RNG.standard_normal((n, n))
    return (a @ a.T + n * np.eye(n)).astype(dtype)


def _hilbert(n, dtype):
    i = np.arange(n)
    return (1.0 / (i[:, None] + i[None, :] + 1)).astype(dtype)


def _layouts(a):
    """The matrix ``a`` as the same values in several memory layouts."""
    big = np.zeros((a.shape[0] * 2, a.shape[1] * 3), a.dtype)
    big[::2, ::3] = a
    return {"contiguous": a, "fortran": np.asfortranarray(a), "strided": big[::2, ::3],
            "transposed": np.ascontiguousarray(a.T).T,
            "negative": np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1]}


# op name -> (builder on symbolic matrices, NumPy reference, input maker)
def _eigh_w(x):
    return T.nlinalg.eigh(x)[0]


OPS = {
    "matrix_inverse": (T.nlinalg.matrix_inverse, np.linalg.inv, _general),
    "det": (T.nlinalg.det, np.linalg.det, _general),
    "slogdet": (lambda x: T.nlinalg.slogdet(x)[1], lambda a: np.linalg.slogdet(a)[1], _spd),
    "cholesky": (T.slinalg.cholesky, np.linalg.cholesky, _spd),
    "cholesky_upper": (lambda x: T.slinalg.cholesky(x, lower=False),
                       lambda a: np.linalg.cholesky(a, upper=True), _spd),
    "eigvalsh": (T.slinalg.eigvalsh, np.linalg.eigvalsh, _spd),
    "eigh_w": (_eigh_w, lambda a: np.linalg.eigh(a)[0], _spd),
}

_FUNCTIONS = {}


def _compiled(key, build):
    """One compiled function per key for the whole file (builds are the slow part)."""
    if key not in _FUNCTIONS:
        _FUNCTIONS[key] = build()
    return _FUNCTIONS[key]


def _unary(name, dtype):
    def build():
        x = T.matrix("x", dtype=dtype)
        return aotsym.function([x], OPS[name][0](x))
    return _compiled((name, dtype), build)


def _close(got, want, dtype, scale=1.0):
    np.testing.assert_allclose(got, want, rtol=TOL[dtype] * scale,
                               atol=TOL[dtype] * scale * max(1.0, np.abs(want).max(initial=0)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(OPS))
def test_compiled_matches_numpy_in_every_layout(name, dtype):
    f = _unary(name, dtype)
    a = OPS[name][2](5, dtype)
    want = OPS[name][1](a)
    for layout, view in _layouts(a).items():
        before = view.copy()
        got = f(view)
        assert got.dtype == np.dtype(dtype), (layout, got.dtype)
        _close(got, want, dtype)
        np.testing.assert_array_equal(view, before)       # the caller's array is only read


@pytest.mark.parametrize("name", sorted(OPS))
def test_ill_conditioned_matrices_agree_with_numpy(name):
    """A Hilbert matrix (condition ~1e10 at n=7): the same LAPACK calls as NumPy."""
    f = _unary(name, "float64")
    a = _hilbert(7, "float64")
    _close(f(a), OPS[name][1](a), "float64", scale=1e6)


@pytest.mark.parametrize("name", sorted(OPS))
def test_an_empty_matrix_gives_numpys_answer(name):
    f = _unary(name, "float64")
    a = np.zeros((0, 0))
    want = OPS[name][1](a)
    got = f(a)
    assert got.shape == np.shape(want)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["matrix_inverse", "det", "slogdet", "eigvalsh"])
def test_nan_and_inf_inputs_give_numpys_values(name):
    f = _unary(name, "float64")
    cases = [np.array([[1.0, np.nan], [2.0, 3.0]]), np.array([[np.nan, 1.0], [2.0, 3.0]]),
             np.array([[1.0, np.inf], [2.0, 3.0]]), np.array([[-0.0, 1.0], [1.0, -0.0]])]
    for a in cases:
        with np.errstate(all="ignore"):
            want = OPS[name][1](a)
            ref = evaluate([OPS[name][0](T.constant(a))], {})[0]
        np.testing.assert_array_equal(f(a), want)
        np.testing.assert_array_equal(ref, want)


def test_det_of_a_singular_matrix_is_zero_as_numpys():
    f = _unary("det", "float64")
    for a in (np.zeros((3, 3)), np.array([[1.0, 2.0], [2.0, 4.0]])):
        assert f(a) == np.linalg.det(a)


def _solve_fn(kind, b_ndim, dtype):
    def build():
        a = T.matrix("a", dtype=dtype)
        b = T.tensor(dtype, (False,) * b_ndim, name="b")
        fn = {"general": T.slinalg.solve, "lower": T.slinalg.solve_lower_triangular,
              "upper": T.slinalg.solve_upper_triangular,
              "trans": lambda a, b: T.slinalg.solve_triangular(a, b, trans=1, lower=True),
              "symmetric": T.slinalg.solve_symmetric,
              "assume_pos": lambda a, b: T.slinalg.solve(a, b, assume_a="pos")}[kind]
        return aotsym.function([a, b], fn(a, b))
    return _compiled(("solve", kind, b_ndim, dtype), build)


def _solve_ref(kind, a, b):
    m = {"lower": np.tril(a), "upper": np.triu(a), "trans": np.tril(a).T}.get(kind, a)
    return np.linalg.solve(m, b[:, None])[:, 0] if b.ndim == 1 else np.linalg.solve(m, b)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("b_ndim", [1, 2])
@pytest.mark.parametrize("kind", ["general", "lower", "upper", "trans", "symmetric",
                                  "assume_pos"])
def test_solve_matches_numpy_in_every_layout(kind, b_ndim, dtype):
    f = _solve_fn(kind, b_ndim, dtype)
    a = _spd(5, dtype) if kind in ("symmetric", "assume_pos") else _general(5, dtype)
    b = RNG.standard_normal((5, 3) if b_ndim == 2 else 5).astype(dtype)
    want = _solve_ref(kind, a.astype("float64"), b.astype("float64"))
    b_views = _layouts(b) if b_ndim == 2 else {"contiguous": b, "strided": np.repeat(b, 2)[::2],
                                                "negative": b[::-1].copy()[::-1]}
    for (la, av), (lb, bv) in zip(_layouts(a).items(), list(b_views.items()) * 2):
        a0, b0 = av.copy(), bv.copy()
        got = f(av, bv)
        assert got.shape == b.shape and got.dtype == np.dtype(dtype)
        _close(got, want, dtype)
        np.testing.assert_array_equal(av, a0)
        np.testing.assert_array_equal(bv, b0)


def test_solve_with_no_right_hand_sides_and_an_empty_system():
    f = _solve_fn("general", 2, "float64")
    assert f(_general(3, "float64"), np.zeros((3, 0))).shape == (3, 0)
    assert f(np.zeros((0, 0)), np.zeros((0, 2))).shape == (0, 2)
    assert _solve_fn("lower", 1, "float64")(np.zeros((0, 0)), np.zeros(0)).shape == (0,)


def test_eigh_vectors_match_numpy_up_to_sign_and_reconstruct_the_matrix():
    x = T.matrix("x")
    f = aotsym.function([x], list(T.nlinalg.eigh(x)) + list(T.nlinalg.eigh(x, UPLO="U")))
    a = RNG.standard_normal((6, 6))                 # not symmetric: each triangle is read
    for (w, v), uplo in zip([f(a)[:2], f(a)[2:]], "LU"):
        want_w, want_v = np.linalg.eigh(a, UPLO=uplo)
        _close(w, want_w, "float64")
        signs = np.sign(np.sum(v * want_v, axis=0))
        _close(v * signs, want_v, "float64")
        sym = np.tril(a) + np.tril(a, -1).T if uplo == "L" else np.triu(a) + np.triu(a, 1).T
        _close(v @ np.diag(w) @ v.T, sym, "float64", scale=10)


DECOMPOSITIONS = {
    "svd": (lambda x: list(T.nlinalg.svd(x)), lambda a: list(np.linalg.svd(a))),
    "svd_reduced": (lambda x: list(T.nlinalg.svd(x, full_matrices=False)),
                    lambda a: list(np.linalg.svd(a, full_matrices=False))),
    "svd_values": (lambda x: [T.nlinalg.svd(x, compute_uv=False)],
                   lambda a: [np.linalg.svd(a, compute_uv=False)]),
    "qr": (lambda x: list(T.nlinalg.qr(x)), lambda a: list(np.linalg.qr(a))),
    "qr_complete": (lambda x: list(T.nlinalg.qr(x, mode="complete")),
                    lambda a: list(np.linalg.qr(a, mode="complete"))),
    "qr_r": (lambda x: [T.nlinalg.qr(x, mode="r")], lambda a: [np.linalg.qr(a, mode="r")]),
    "pinv": (lambda x: [T.nlinalg.pinv(x)], lambda a: [np.linalg.pinv(a)]),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(DECOMPOSITIONS))
def test_decompositions_match_numpy_on_every_shape_and_layout(name, dtype):
    """The same LAPACK calls as NumPy: even the signs of the singular vectors and of Q's
    columns agree; empty matrices give NumPy's shapes (identities for full factors)."""
    build, ref = DECOMPOSITIONS[name]

    def make():
        x = T.matrix("x", dtype=dtype)
        return aotsym.function([x], build(x))
    f = _compiled((name, dtype), make)
    # (data of its own: the module's RNG is drawn from in whatever order xdist runs the
    # tests, and a float32 matrix with two close singular values has singular vectors that
    # two OpenBLAS builds may rotate differently: it failed once, in a parallel local run)
    rng = np.random.default_rng(20261208)
    for shape in [(5, 3), (3, 5), (4, 4), (1, 4), (0, 0), (0, 3), (3, 0)]:
        a = rng.standard_normal(shape).astype(dtype)
        want = ref(a)
        for layout, view in _layouts(a).items():
            got = f(view)
            got = got if isinstance(got, list) else [got]
            for g, w in zip(got, want):
                assert g.shape == w.shape and g.dtype == np.dtype(dtype), (shape, layout)
                _close(g, w, dtype)


def test_matrix_power_and_kron_as_numpy():
    x, y, v, w = T.matrix("x"), T.matrix("y"), T.vector("v"), T.vector("w")
    a = _general(3, "float64")
    powers = [0, 1, 2, 5, -2]
    f = aotsym.function([x, y, v, w], [T.nlinalg.matrix_power(x, n) for n in powers]
                        + [T.slinalg.kron(x, y), T.slinalg.kron(v, w)])
    b, c, d = RNG.standard_normal((2, 4)), RNG.standard_normal(3), RNG.standard_normal(2)
    got = f(a, b, c, d)
    for g, n in zip(got, powers):
        _close(g, np.linalg.matrix_power(a, n), "float64", scale=100)
    _close(got[-2], np.kron(a, b), "float64")
    _close(got[-1], np.kron(c, d), "float64")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_expm_matches_the_reference_and_scipy(dtype):
    """Every Pade degree (norms from 1e-3 to 50: scaling and squaring past 5.4)."""
    scipy_linalg = pytest.importorskip("scipy.linalg")
    f = _compiled(("expm", dtype), lambda: _unary_fn(T.slinalg.expm, dtype))
    for scale in (1e-3, 0.05, 0.4, 1.0, 2.0, 3.0, 10.0, 30.0):
        a = (RNG.standard_normal((5, 5)) * scale / 5).astype(dtype)
        want = scipy_linalg.expm(a.astype("float64"))
        ref = evaluate([T.slinalg.expm(T.constant(a))], {})[0]
        for layout, view in _layouts(a).items():
            got = f(view)
            assert got.dtype == np.dtype(dtype)
            _close(got, ref, dtype, scale=10)
            _close(got, want, dtype, scale=100)
    assert f(np.zeros((0, 0), dtype)).shape == (0, 0)
    nan = np.array([[np.nan, 0.0], [0.0, 1.0]], dtype)
    np.testing.assert_array_equal(f(nan), np.full((2, 2), np.nan))
    np.testing.assert_array_equal(evaluate([T.slinalg.expm(T.constant(nan))], {})[0],
                                  np.full((2, 2), np.nan))


def _unary_fn(build, dtype):
    x = T.matrix("x", dtype=dtype)
    return aotsym.function([x], build(x))


def test_pinv_drops_the_singular_values_numpy_drops():
    x = T.matrix("x")
    f = aotsym.function([x], T.nlinalg.pinv(x))
    for a in (np.ones((3, 4)), np.zeros((2, 2)), np.diag([1.0, 1e-16, 0.0])):
        _close(f(a), np.linalg.pinv(a), "float64")


# ---------------------------------------------------------------------------- errors


def _raises_numpys_error(f, args, words, op_name, error=np.linalg.LinAlgError):
    with pytest.raises(error) as info:
        f(*args)
    message = str(info.value)
    assert words in message, message
    assert op_name in message and "test_linalg.py" in message, message


def test_a_singular_inverse_fails_as_numpy_naming_the_op_and_line():
    x = T.matrix("x")
    y = T.nlinalg.matrix_inverse(x)                   # the user's line
    f = aotsym.function([x], y)
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        np.linalg.inv(np.ones((3, 3)))
    _raises_numpys_error(f, [np.ones((3, 3))], "Singular matrix", "MatrixInverse")
    _raises_numpys_error(f, [np.zeros((2, 2))], "Singular matrix", "MatrixInverse")
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        aotsym.function([x], y, mode="FAST_COMPILE")(np.ones((3, 3)))
    np.testing.assert_allclose(f(np.eye(2) * 2), np.eye(2) / 2)   # the module still works


def test_cholesky_of_a_matrix_that_is_not_positive_definite_fails_as_numpy():
    x = T.matrix("x")
    f = aotsym.function([x], T.slinalg.cholesky(x))
    for a in (-np.eye(3), np.ones((3, 3)), np.array([[4.0, np.inf], [np.inf, 9.0]])):
        with pytest.raises(np.linalg.LinAlgError, match="Matrix is not positive definite"):
            np.linalg.cholesky(a)
        _raises_numpys_error(f, [a], "Matrix is not positive definite", "Cholesky")
    for a in (np.array([[np.nan, 0.0], [0.0, 1.0]]), np.array([[1.0, np.nan], [np.nan, 1.0]])):
        np.testing.assert_array_equal(f(a), np.linalg.cholesky(a))   # NaN: NumPy's values


def test_singular_solves_fail_as_numpy_and_scipy():
    a, b = T.matrix("a"), T.vector("b")
    general = aotsym.function([a, b], T.slinalg.solve(a, b))
    lower = aotsym.function([a, b], T.slinalg.solve_lower_triangular(a, b))
    _raises_numpys_error(general, [np.ones((3, 3)), np.ones(3)], "Singular matrix", "Solve")
    singular = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    _raises_numpys_error(lower, [singular, np.ones(3)],
                         "singular matrix: resolution failed at diagonal 1", "Solve")
    ref = aotsym.function([a, b], T.slinalg.solve_lower_triangular(a, b), mode="FAST_COMPILE")
    with pytest.raises(np.linalg.LinAlgError, match="resolution failed at diagonal 1"):
        ref(singular, np.ones(3))


def test_shape_errors_name_the_op():
    x, b = T.matrix("x"), T.vector("b")
    for y, name in [(T.nlinalg.matrix_inverse(x), "MatrixInverse"), (T.nlinalg.det(x), "Det"),
                    (T.slinalg.cholesky(x), "Cholesky"), (T.nlinalg.eigh(x)[0], "Eigh")]:
        _raises_numpys_error(aotsym.function([x], y), [np.ones((2, 3))], "must be square", name)
    f = aotsym.function([x, b], T.slinalg.solve(x, b))
    _raises_numpys_error(f, [np.eye(3), np.ones(2)], "do not match", "Solve", ValueError)


def test_types_matrices_only_and_integer_inputs_become_float64():
    with pytest.raises(ValueError, match="matrix"):
        T.nlinalg.matrix_inverse(T.tensor3("t"))
    with pytest.raises(ValueError, match="matrix"):
        T.slinalg.cholesky(T.vector("v"))
    i = T.imatrix("i")
    y = T.nlinalg.det(i)
    assert y.dtype == "float64"
    a = np.array([[2, 1], [1, 3]], dtype="int32")
    assert aotsym.function([i], y)(a) == pytest.approx(np.linalg.det(a))
    assert T.nlinalg.matrix_inverse(T.fmatrix()).dtype == "float32"
    assert T.slinalg.solve(T.fmatrix(), T.dvector()).dtype == "float64"


def test_theano_names_are_there():
    for name in ["matrix_inverse", "det", "eigh", "svd", "qr", "pinv", "trace", "diag",
                 "matrix_dot", "matrix_power", "norm", "extract_diag", "alloc_diag"]:
        assert callable(getattr(T.nlinalg, name)), name
    for name in ["cholesky", "solve", "solve_triangular", "solve_lower_triangular",
                 "solve_upper_triangular", "eigvalsh", "expm", "kron", "Solve", "Cholesky"]:
        assert callable(getattr(T.slinalg, name)), name
    x, y, z = T.matrix("x"), T.matrix("y"), T.matrix("z")
    a, b, c = (RNG.standard_normal((3, 3)) for _ in range(3))
    f = aotsym.function([x, y, z], [T.nlinalg.matrix_dot(x, y, z), T.nlinalg.trace(x),
                                    T.nlinalg.norm(x, None), T.nlinalg.norm(x, 1),
                                    T.nlinalg.norm(x[0], np.inf), T.nlinalg.norm(x[0], 0)])
    got = f(a, b, c)
    _close(got[0], a @ b @ c, "float64")
    _close(got[1], np.trace(a), "float64")
    _close(got[2], np.linalg.norm(a), "float64")
    _close(got[3], np.linalg.norm(a, 1), "float64")
    _close(got[4], np.linalg.norm(a[0], np.inf), "float64")
    assert got[5] == np.linalg.norm(a[0], 0) and got[5].dtype == np.float64


# ---------------------------------------------------------------------------- gradients

GRADS = {
    "matrix_inverse": (T.nlinalg.matrix_inverse, _general),
    "det": (T.nlinalg.det, _general),
    "slogdet": (lambda x: T.nlinalg.slogdet(x)[1], _spd),
    "cholesky": (T.slinalg.cholesky, _spd),
    "cholesky_upper": (lambda x: T.slinalg.cholesky(x, lower=False), _spd),
    "eigh_w": (_eigh_w, _spd),
    "eigvalsh": (T.slinalg.eigvalsh, _spd),
    "eigvalsh_upper": (lambda x: T.slinalg.eigvalsh(x, lower=False), _spd),
    "eigh_v": (lambda x: T.nlinalg.eigh(x)[1], _spd),
    "eigh_v_upper": (lambda x: T.nlinalg.eigh(x, "U")[1], _spd),
    "pinv": (T.nlinalg.pinv, _general),
    "expm": (T.slinalg.expm, lambda n, dtype: RNG.standard_normal((n, n)).astype(dtype)),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradients_by_finite_differences_and_compiled(name):
    fn, make = GRADS[name]
    a = make(4, "float64")
    verify_grad(fn, [a], rng=np.random.default_rng(0))
    x = T.matrix("x")
    y = fn(x)
    weights = np.arange(1.0, 1.0 + 4 ** y.ndim).reshape((4,) * y.ndim)
    g = aotsym.grad((y * weights).sum(), x)
    _close(aotsym.function([x], g)(a), evaluate([g], {x: a})[0], "float64", scale=100)


@pytest.mark.parametrize("kind", ["general", "lower", "upper", "trans"])
@pytest.mark.parametrize("b_ndim", [1, 2])
def test_solve_gradients_for_both_inputs(kind, b_ndim):
    fn = {"general": T.slinalg.solve, "lower": T.slinalg.solve_lower_triangular,
          "upper": T.slinalg.solve_upper_triangular,
          "trans": lambda a, b: T.slinalg.solve_triangular(a, b, trans="T", lower=False)}[kind]
    a = _general(4, "float64")
    b = RNG.standard_normal((4, 2) if b_ndim == 2 else 4)
    verify_grad(fn, [a, b], rng=np.random.default_rng(0))
    x, y = T.matrix("x"), T.tensor("float64", (False,) * b_ndim, name="y")
    cost = (fn(x, y) ** 2).sum()
    grads = aotsym.grad(cost, [x, y])
    got = aotsym.function([x, y], grads)(a, b)
    for g, want in zip(got, evaluate(grads, {x: a, y: b})):
        _close(g, want, "float64", scale=100)


def test_float32_gradient_of_the_inverse_compiles_in_float32():
    x = T.fmatrix("x")
    g = aotsym.grad(T.nlinalg.det(x), x)
    a = _general(3, "float32")
    got = aotsym.function([x], g)(a)
    assert got.dtype == np.float32
    _close(got, np.linalg.det(a) * np.linalg.inv(a).T, "float32")
