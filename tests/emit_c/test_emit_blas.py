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
