"""Special values through ops whose C is written by hand (issue 15): a softmax row holding
+inf is all nan, as NumPy's stable formula ``exp(x - max) / sum(exp(x - max))`` and SciPy
give, in the reference evaluator, the C kernel and the rewrite that makes a softmax; float ->
integer casts of nan, +-inf and out-of-range values are NumPy's (x86-64), in the reference
evaluator and in C (:func:`aotsym.graph.scalar.float_to_int`)."""

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build
from representative import CAST_VALUES, INT_DTYPES

from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.nnet import log_softmax, softmax

ROWS = np.array([[np.inf, 1.0, 2.0], [-np.inf, 1.0, 2.0], [-np.inf, -np.inf, -np.inf],
                 [np.nan, 1.0, 0.0], [np.inf, np.inf, 0.0], [0.0, 1.0, 2.0]])


def numpy_softmax(x):
    with np.errstate(all="ignore"):
        shifted = x - x.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=1, keepdims=True), shifted - np.log(e.sum(axis=1, keepdims=True))


@pytest.fixture(scope="module")
def entries():
    cases = []
    for dtype in ("float64", "float32"):
        x = T.matrix("x", dtype=dtype)
        cases.append(Case(f"sm_{dtype}", [x], [softmax(x, axis=1), log_softmax(x, axis=1)]))
        v = T.vector("v", dtype=dtype)
        cases.append(Case(f"cast_{dtype}", [v], [T.cast(v, d) for d in INT_DTYPES]))
    return cases, build(cases)


def test_softmax_of_a_row_holding_inf_is_nan_in_the_reference():
    x = T.matrix("x")
    sm, lsm = evaluate([softmax(x, axis=1), log_softmax(x, axis=1)], {x: ROWS})
    ref_sm, ref_lsm = numpy_softmax(ROWS)
    np.testing.assert_array_equal(sm[0], [np.nan] * 3)
    np.testing.assert_array_equal(lsm[0], [np.nan] * 3)
    np.testing.assert_allclose(sm, ref_sm, equal_nan=True)
    np.testing.assert_allclose(lsm, ref_lsm, equal_nan=True)


def test_softmax_kernel_matches(entries):
    cases, built = entries
    for case in cases[::2]:
        vals = ROWS.astype(case.inputs[0].dtype)
        sm, lsm = assert_matches(case, built[case.name], [vals], rtol=1e-5)
        ref_sm, ref_lsm = numpy_softmax(vals)
        np.testing.assert_allclose(sm, ref_sm, rtol=1e-5, equal_nan=True)
        np.testing.assert_allclose(lsm, ref_lsm, rtol=1e-5, equal_nan=True)


def test_rewritten_stable_softmax_keeps_nan_rows():
    """``exp(x - max) / sum(...)`` written out becomes the Softmax op: same nan rows."""
    import aotsym
    x = T.matrix("x")
    e = T.exp(x - T.max(x, axis=1, keepdims=True))
    f = aotsym.function([x], e / T.sum(e, axis=1, keepdims=True))
    np.testing.assert_allclose(f(ROWS), numpy_softmax(ROWS)[0], equal_nan=True)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_float_to_int_casts_are_numpys(entries, dtype):
    """int32(3e9) = int32(1e300) = INT32_MIN, uint64(1e300) = 0, int32(nan) = INT32_MIN ...:
    NumPy's contiguous conversion on x86-64, the same in the reference and in C."""
    cases, built = entries
    case = next(c for c in cases if c.name == f"cast_{dtype}")
    with np.errstate(over="ignore"):
        vals = CAST_VALUES.astype(dtype)
    got = assert_matches(case, built[case.name], [vals])
    for d, g in zip(INT_DTYPES, got):
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(g, vals.astype(d), err_msg=f"{dtype} -> {d}")
    assert got[INT_DTYPES.index("int32")][3] == np.iinfo("int32").min     # 3e9
    assert got[INT_DTYPES.index("uint64")][5] == 0                         # 1e300
