"""The small matrix-vector kernel of runtime/aotsym_blas.h (``aot_gemv_small``: row-major A
of at least 8 rows and 16 columns, unit-stride x, fewer than AOT_GEMV_SMALL_MAX elements;
eight rows at a time, the rows swept in alternate directions on successive calls) against
NumPy and the reference evaluator: shapes on and around its limits, remainders of the 8-row
blocks and of the vectors, every operand layout (row-strided A and strided y stay on the
kernel; transposed A, strided x and reversed operands go to BLAS), float32, NaN/inf, beta 0
over a NaN y, alpha 0, and equal results on successive calls (either sweep direction).
Built at -O1 and at -O3 (the vectorized code)."""

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build

from aotsym import tensor as T
from aotsym.graph.ops.gemm import Gemv

A, v, w = T.matrix("A"), T.vector("v"), T.vector("w")
Af, vf, wf = T.fmatrix("Af"), T.fvector("vf"), T.fvector("wf")
al, be = T.scalar("al"), T.scalar("be")
alf, bef = T.fscalar("alf"), T.fscalar("bef")

CASES = [
    Case("d", [A, v, w, al, be], [Gemv()(v, al, A, w, be), T.dot(A, w)]),
    Case("s", [Af, vf, wf, alf, bef], [Gemv()(vf, alf, Af, wf, bef), T.dot(Af, wf)]),
]
SHAPES = [(8, 16), (9, 17), (16, 19), (13, 37), (100, 100), (7, 16), (8, 15), (130, 64)]


@pytest.fixture(scope="module", params=["-O1", "-O3 -march=native"])
def entries(request):
    return build(CASES, cflags=request.param)


def _layout(a, k):
    """0: C order; 1: strided (A: rows of a wider matrix, unit column stride; a vector every
    other element); 2: reversed (negative strides); 3: A stored transposed (F order)."""
    if k == 1:
        if a.ndim == 2:
            big = np.full((a.shape[0], a.shape[1] + 5), np.nan, a.dtype)
            big[:, :a.shape[1]] = a
            return big[:, :a.shape[1]]
        big = np.full(2 * a.shape[0], np.nan, a.dtype)
        big[::2] = a
        return big[::2]
    if k == 2:
        rev = tuple(slice(None, None, -1) for _ in a.shape)
        return np.ascontiguousarray(a[rev])[rev]
    if k == 3 and a.ndim == 2:
        return np.asfortranarray(a)
    return a


@pytest.mark.parametrize("dtype", ["d", "s"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("layout", [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1), (2, 2, 2),
                                    (3, 0, 0), (1, 1, 1)], ids=str)
def test_small_gemv_matches_numpy_and_reference(entries, dtype, shape, layout):
    m, n = shape
    rng = np.random.default_rng(m * n + sum(layout))
    t = "float64" if dtype == "d" else "float32"
    a = rng.standard_normal((m, n)).astype(t)
    y, x = rng.standard_normal(m).astype(t), rng.standard_normal(n).astype(t)
    alpha, beta = np.array(-0.7, t), np.array(1.3, t)
    values = [_layout(a, layout[0]), _layout(y, layout[1]), _layout(x, layout[2]), alpha,
              beta]
    case = CASES[0 if dtype == "d" else 1]
    tol = 1e-12 if dtype == "d" else 1e-5
    first = assert_matches(case, entries[case.name], values, rtol=tol, atol=tol)
    want = [alpha * (a.astype("float64") @ x) + beta * y, a.astype("float64") @ x]
    for g, e in zip(first, want):
        np.testing.assert_allclose(g, e, rtol=tol * 10, atol=tol * 10)
    for _ in range(3):   # the other sweep direction, and back: the same sums
        again = entries[case.name](*values)
        for g, h in zip(first, again):
            np.testing.assert_array_equal(g, h)


def test_special_values_beta_zero_and_alpha_zero(entries):
    m, n = 20, 24
    rng = np.random.default_rng(7)
    a, x = rng.standard_normal((m, n)), rng.standard_normal(n)
    a[3, 5], a[17, 0] = np.nan, np.inf
    y = np.full(m, np.nan)
    case = CASES[0]
    # beta 0: y is overwritten, its NaN never read (BLAS semantics, as the reference)
    got = assert_matches(case, entries["d"], [a, y, x, np.array(1.5), np.array(0.0)],
                         rtol=1e-12, atol=1e-12)
    with np.errstate(invalid="ignore"):
        want = 1.5 * (a @ x)
    np.testing.assert_allclose(got[0], want, rtol=1e-12, equal_nan=True)
    assert np.isnan(got[0][3]) and np.isinf(got[0][17])
    assert np.isfinite(np.delete(got[0], [3, 17])).all()
    # alpha 0: beta * y (finite A: BLAS skips A there, the reference's 0 * NaN would not)
    y = rng.standard_normal(m)
    a = rng.standard_normal((m, n))
    got = assert_matches(case, entries["d"], [a, y, x, np.array(0.0), np.array(2.0)],
                         rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got[0], 2.0 * y)
