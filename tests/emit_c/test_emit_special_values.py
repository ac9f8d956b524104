"""Special values through ops whose C kernels are written by hand (issue 15): a softmax row
holding +inf is all nan, as NumPy's stable formula ``exp(x - max) / sum(exp(x - max))`` and
SciPy give, in the reference evaluator, the C kernel and the rewrite that makes a softmax."""

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build

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
    for case in cases:
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
