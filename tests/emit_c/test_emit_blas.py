"""Dot in every rank combination and dtype, and the optimizer's Gemm/Gemv/Ger, through the
linked BLAS (float32/float64) or C loops (other dtypes), with operands of any layout."""

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build

from aotsym import tensor as T
from aotsym.graph.ops.gemm import Gemm, Gemv, Ger

A, B = T.matrix("A"), T.matrix("B")
v, w = T.vector("v"), T.vector("w")
Af, vf = T.fmatrix("Af"), T.fvector("vf")
Ai, vi = T.lmatrix("Ai"), T.lvector("vi")
Ab = T.bmatrix("Ab")
Ac = T.zmatrix("Ac")
al, be = T.scalar("al"), T.scalar("be")

CASES = [
    Case("float64", [A, B, v, w], [T.dot(A, B), T.dot(A, v), T.dot(w, A), T.dot(v, w)]),
    Case("float32", [Af, vf], [T.dot(Af, Af), T.dot(Af, vf), T.dot(vf, Af), T.dot(vf, vf)]),
    Case("int64", [Ai, vi], [T.dot(Ai, Ai), T.dot(Ai, vi), T.dot(vi, Ai), T.dot(vi, vi)]),
    Case("int8", [Ab], [T.dot(Ab, Ab)]),
    Case("complex", [Ac], [T.dot(Ac, Ac)]),
    Case("mixed", [Af, A, vi], [T.dot(Af, A), T.dot(A, T.cast(vi, "float32"))]),
    Case("gemm", [A, B, al, be], [Gemm()(A, al, A, B, be), Gemm()(A, al, B.T, A, T.constant(0.0))]),
    Case("gemv", [A, v, w, al, be], [Gemv()(v, al, A, w, be), Gemv()(w, al, A.T, v, be)]),
    Case("ger", [A, v, w, al], [Ger()(A, al, v, w), Ger()(A.T, al, w, v)]),
    # an in-place Gemm whose accumulated input is an intermediate nobody reads afterwards
    Case("gemm_inplace", [A, B, al, be], [Gemm(inplace=True)(A * 2, al, A, B, be)]),
]


@pytest.fixture(scope="module")
def entries():
    return build(CASES)


def _layouts(a, rng):
    """a itself, transposed storage, strided, reversed."""
    yield a
    if a.ndim == 2:
        yield np.asfortranarray(a)
    big = np.empty(tuple(2 * n for n in a.shape), a.dtype)
    big[tuple(slice(None, None, 2) for _ in a.shape)] = a
    yield big[tuple(slice(None, None, 2) for _ in a.shape)]
    yield np.ascontiguousarray(a[tuple(slice(None, None, -1) for _ in a.shape)])[
        tuple(slice(None, None, -1) for _ in a.shape)]


def _value(var, n, rng):
    shape = (n,) * var.ndim
    if var.dtype.startswith("int"):
        return rng.integers(-4, 4, shape).astype(var.dtype)
    if var.dtype.startswith("complex"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(var.dtype)
    return rng.standard_normal(shape).astype(var.dtype)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("n", [5, 1, 0])
def test_products_match_reference(entries, case, n):
    rng = np.random.default_rng(n)
    values = [_value(var, n, rng) for var in case.inputs]
    for k, var in enumerate(case.inputs):
        if var.ndim == 0:
            values[k] = np.array(0.5 + k, dtype=var.dtype)
    for variant in range(4):
        vals = [list(_layouts(a, rng))[min(variant, len(list(_layouts(a, rng))) - 1)]
                if a.ndim else a for a in values]
        assert_matches(case, entries[case.name], vals, rtol=1e-5)


def test_misaligned_shapes_raise_with_numpys_words(entries):
    with pytest.raises(ValueError, match=r"Dot: shapes \(2, 3\) and \(2, 3\) are not aligned "
                                         r"for a matrix·matrix product"):
        entries["float64"](np.ones((2, 3)), np.ones((2, 3)), np.ones(3), np.ones(2))


def test_large_dot_uses_blas_speed(entries):
    a = np.random.default_rng(0).standard_normal((300, 300))
    got = entries["float64"](a, a, a[0], a[1])
    np.testing.assert_allclose(got[0], a @ a, rtol=1e-10)


# Large enough (AOT_GEMV_PAR_MIN <= M * N < AOT_GEMV_PAR_MAX in runtime/aotsym_blas.h) for a
# gemv split over the thread pool in blocks of y; M not a multiple of the block unit (8).
PAR_SHAPES = [(400, 784), (403, 781)]
wf = T.fvector("wf")
PAR_CASES = [
    Case("gemv_par", [A, v, w, al, be], [Gemv()(v, al, A, w, be), Gemv()(w, al, A.T, v, be),
                                          T.dot(A, w), T.dot(A.T, v), T.dot(v, A)]),
    Case("gemv_par_f32", [Af, vf, wf], [T.dot(Af, wf), T.dot(Af.T, vf)]),
]


@pytest.fixture(scope="module")
def par_entries():
    return build(PAR_CASES)


def _par_layouts(a):
    """C order, transposed storage (Fortran; a vector: reversed), strided (every other
    element), reversed (negative strides)."""
    rev = tuple(slice(None, None, -1) for _ in a.shape)
    yield a
    yield np.asfortranarray(a) if a.ndim == 2 else np.ascontiguousarray(a[rev])[rev]
    big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
    sl = tuple(slice(None, None, 2) for _ in a.shape)
    big[sl] = a
    yield big[sl]
    yield np.ascontiguousarray(a[rev])[rev]


@pytest.mark.parametrize("shape", PAR_SHAPES)
@pytest.mark.parametrize("layout", range(4))
def test_parallel_gemv_matches_numpy_and_reference(par_entries, shape, layout):
    m, n = shape
    rng = np.random.default_rng(m + layout)
    a, x_m, x_n = rng.standard_normal((m, n)), rng.standard_normal(m), rng.standard_normal(n)
    alpha, beta = np.array(-0.7), np.array(1.3)
    a_, xm_, xn_ = (list(_par_layouts(t))[layout] for t in (a, x_m, x_n))
    case = PAR_CASES[0]
    got = assert_matches(case, par_entries[case.name], [a_, xm_, xn_, alpha, beta],
                         rtol=1e-12, atol=1e-12)
    want = [alpha * (a @ x_n) + beta * x_m, alpha * (a.T @ x_m) + beta * x_n, a @ x_n,
            a.T @ x_m, x_m @ a]
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    # the accumulated inputs are not written (Gemv is not in place here)
    np.testing.assert_array_equal(xm_, x_m)
    np.testing.assert_array_equal(xn_, x_n)


@pytest.mark.parametrize("layout", range(4))
def test_parallel_sgemv_matches_numpy(par_entries, layout):
    m, n = PAR_SHAPES[1]
    rng = np.random.default_rng(layout)
    a = rng.standard_normal((m, n)).astype("float32")
    x_m, x_n = (rng.standard_normal(k).astype("float32") for k in (m, n))
    args = [list(_par_layouts(t))[layout] for t in (a, x_m, x_n)]
    case = PAR_CASES[1]
    got = assert_matches(case, par_entries[case.name], args, rtol=1e-5)
    np.testing.assert_allclose(got[0], a @ x_n, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got[1], a.T @ x_m, rtol=1e-4, atol=1e-4)


def test_adaptive_gemv_split_gives_the_same_products_on_either_arm(par_entries):
    """The split inside the size range is chosen per call by measurement (aot_adapt in
    runtime/aotsym_blas.h): the first calls alternate one call and the split, later ones
    re-probe the other arm now and then.  Whatever arm a call takes, the products are the
    ones NumPy computes, bit for bit between calls (each element is one dot product either
    way)."""
    m, n = PAR_SHAPES[1]
    rng = np.random.default_rng(7)
    a, x_m, x_n = rng.standard_normal((m, n)), rng.standard_normal(m), rng.standard_normal(n)
    alpha, beta = np.array(0.5), np.array(-2.0)
    entry = par_entries[PAR_CASES[0].name]
    first = entry(a, x_m, x_n, alpha, beta)
    for _ in range(80):          # > 2 x AOT_ADAPT_TRIALS, and past a re-probe period
        got = entry(a, x_m, x_n, alpha, beta)
        for g, f in zip(got, first):
            np.testing.assert_array_equal(g, f)
    np.testing.assert_allclose(first[2], a @ x_n, rtol=1e-12, atol=1e-12)
