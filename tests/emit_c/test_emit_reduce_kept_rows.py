"""Reductions whose inner row is a kept dimension (``x.sum(axis=0)`` of a C-contiguous
matrix: every row adds elementwise into the accumulator): the unit-stride branch of the
reduction kernel (aotsym/emit_c/reduce_kernel.c.j2) runs over ``restrict`` pointers as an
``omp simd`` loop.  Built at the default flags (-O3, vectorized) and compared with the
reference evaluator on NaN, inf, -0 and lengths that leave vector tails; the strided rows
take the scalar branch of the same kernel."""

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build

from aotsym import tensor as T
from aotsym.graph.ops.composite import Composite, FusedReduce


def _cases():
    cases = []
    for dt in ("float32", "float64"):
        x = T.matrix("x", dtype=dt)
        y = T.tensor3("y", dtype=dt)
        comp = Composite([("sqr", None, [("in", 0)])], 1, [("step", 0)])
        cases.append(Case(f"kept_{dt}", [x, y], [
            x.sum(axis=0), x.max(axis=0), x.min(axis=0), x.prod(axis=0), x.mean(axis=0),
            y.sum(axis=(0, 1)), y.max(axis=0), FusedReduce("sum", (0,), comp)(x)]))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def entries():
    return build(CASES, cflags=None)


def _special(shape, dtype, rng):
    v = rng.standard_normal(shape).astype(dtype)
    flat = v.reshape(-1)
    k = flat.size
    if k >= 8:
        flat[rng.integers(0, k, 3)] = np.nan
        flat[rng.integers(0, k, 2)] = np.inf
        flat[rng.integers(0, k, 2)] = -np.inf
        flat[rng.integers(0, k, 2)] = -0.0
    return v


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cols", [1, 7, 37, 1003])
@pytest.mark.parametrize("layout", ["c", "strided", "reversed"])
def test_kept_row_reductions_match_reference(entries, dtype, cols, layout):
    rng = np.random.default_rng(cols)
    x = _special((6, 2 * cols), dtype, rng)
    y = _special((3, 4, 2 * cols), dtype, rng)
    if layout == "c":
        x, y = x[:, :cols], y[:, :, :cols]
    elif layout == "strided":
        x, y = x[:, ::2], y[:, :, ::2]
    else:
        x, y = x[::-1, cols - 1::-1], y[:, ::-1, cols - 1::-1]
    got = assert_matches(CASES[0] if dtype == "float32" else CASES[1],
                         entries[f"kept_{dtype}"], [x, y], rtol=1e-6)
    assert np.isnan(got[1]).any() or not np.isnan(x).any()   # max propagates NaN


def test_clean_rows_equal_numpy_exactly_in_float64(entries):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 500))
    got = entries["kept_float64"](x, rng.standard_normal((2, 2, 500)))
    np.testing.assert_array_equal(got[1], x.max(axis=0))
    np.testing.assert_array_equal(got[2], x.min(axis=0))
    acc = np.zeros(500)
    for row in x:                 # row by row, as the kernel adds
        acc = acc + row
    np.testing.assert_array_equal(got[0], acc)
