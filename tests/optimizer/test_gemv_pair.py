"""fuse_gemv_pairs: ``X @ v``, a row-wise chain and ``X.T @ d`` become one FusedGemvPair; the
reference evaluator gives the graph before and after the same values."""

import numpy as np
import pytest

from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.gemm import Gemv
from aotsym.graph.ops.gemv_pair import FusedGemvPair
from aotsym.optimizer.engine import OptimizerStats, PassContext
from aotsym.optimizer.gemv_pair import fuse_gemv_pairs
from aotsym.optimizer.pipeline import FAST_RUN, optimize
from aotsym.optimizer.testing import count_ops
from seed_logreg import logreg_step

# the FAST_RUN stages the rewrite comes after (its own stage and inplace excluded)
BEFORE = [s for s in FAST_RUN if s not in ("fuse_gemv_pairs", "inplace")]


def fused(inputs, outputs):
    """(graph after the stages before the rewrite, graph after the rewrite, times fired)."""
    before = optimize(FunctionGraph(inputs, outputs), stages=BEFORE)
    ctx = PassContext(stats=OptimizerStats(mode="FAST_RUN"))
    after = fuse_gemv_pairs(before, ctx)
    fired = ctx.stats.rules[("fuse_gemv_pairs", "fuse_gemv_pairs")].fired
    return before, after, fired


def seed_graph(dtype="float64", bias=True):
    """The seed's logistic-regression step as a graph: (inputs, outputs), the outputs being
    prediction, xent and the new w and b."""
    step = logreg_step(dtype=dtype, bias=bias)
    return step.inputs, step.outputs


def seed_values(m=40, n=30, dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((m, n)).astype(dtype),
            rng.integers(0, 2, m).astype(dtype),
            (0.1 * rng.standard_normal(n)).astype(dtype), np.asarray(0.3, dtype)]


def assert_same(before, after, values, exact=True):
    """The reference evaluator's values of the two graphs (bit for bit when ``exact``: the
    fused op's reference is the three ops' own)."""
    got = evaluate(list(after.outputs), dict(zip(after.inputs, values)))
    ref = evaluate(list(before.outputs), dict(zip(before.inputs, values)))
    for g, r in zip(got, ref):
        assert g.dtype == r.dtype and g.shape == r.shape
        if exact:
            np.testing.assert_array_equal(g, r)
        else:
            np.testing.assert_allclose(g, r, rtol=1e-12, equal_nan=True)


def test_the_seed_step_fuses_into_one_node_reading_x_once():
    inputs, outputs = seed_graph()
    before, after, fired = fused(inputs, outputs)
    assert fired == 1
    assert count_ops(list(before.outputs), Gemv) == 2
    (node,) = [n for n in after.toposort() if isinstance(n.op, FusedGemvPair)]
    x, v = node.inputs[:2]
    assert x is inputs[0] and v is inputs[2]
    # w's update stays a Gemv (so it is written over w in place), of X.T @ d as a column
    (update,) = [n for n in after.toposort() if isinstance(n.op, Gemv)]
    assert update.inputs[0] is inputs[2] and update.inputs[2].owner.inputs[0] is node.outputs[0]
    # prediction, xent and d (read by the sum for b's update) are kept; z is read by nothing else
    assert node.op.stored == (0, 1, 2) and not node.op.store_z
    assert_same(before, after, seed_values())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
def test_variants_of_the_seed_step(dtype, bias):
    inputs, outputs = seed_graph(dtype, bias)
    before, after, fired = fused(inputs, outputs)
    assert fired == 1
    assert after.outputs[2].dtype == dtype
    assert_same(before, after, seed_values(dtype=dtype)[:len(inputs)])


@pytest.mark.parametrize("spelling", ["d @ X", "X.T @ d"])
def test_a_transposed_x_and_the_vector_matrix_spelling(spelling):
    a, v, y = T.matrix("a"), T.vector("v"), T.vector("y")
    x = a.T                                   # X is a transposed view: X.T is a itself
    d = T.tanh(T.dot(x, v)) - y
    g = T.dot(d, x) if spelling == "d @ X" else T.dot(x.T, d)
    before, after, fired = fused([a, v, y], [g])
    assert fired == 1 and count_ops(list(after.outputs), Gemv) == 0   # the product itself
    rng = np.random.default_rng(1)
    assert_same(before, after, [rng.standard_normal((6, 9)), rng.standard_normal(6),
                                rng.standard_normal(9)])


def test_two_products_of_one_z_fuse_once():
    x, v = T.matrix("x"), T.vector("v")
    z = T.dot(x, v)
    outputs = [T.dot(x.T, T.tanh(z)), T.dot(x.T, T.exp(z))]
    before, after, fired = fused([x, v], outputs)
    assert fired == 1 and count_ops(list(after.outputs), Gemv) == 1
    (node,) = [n for n in after.toposort() if isinstance(n.op, FusedGemvPair)]
    assert node.op.store_z                    # the other chain still reads z
    rng = np.random.default_rng(4)
    assert_same(before, after, [rng.standard_normal((6, 4)), rng.standard_normal(4)])


def test_other_readers_of_z_and_of_the_chain_keep_their_values():
    x, v = T.matrix("x"), T.vector("v")
    z = T.dot(x, v)
    e = T.exp(z)
    d = e * 3
    outputs = [T.dot(x.T, d), z, e.sum(), T.sum(d * z)]
    before, after, fired = fused([x, v], outputs)
    assert fired == 1
    (node,) = [n for n in after.toposort() if isinstance(n.op, FusedGemvPair)]
    assert node.op.store_z
    rng = np.random.default_rng(2)
    assert_same(before, after, [rng.standard_normal((7, 5)), rng.standard_normal(5)])


def test_a_chain_reading_a_reduction_over_all_rows_is_not_fused():
    x, v = T.matrix("x"), T.vector("v")
    z = T.dot(x, v)
    d = z - z.mean()                          # every z before the first d
    before, after, fired = fused([x, v], [T.dot(x.T, d)])
    assert fired == 0 and count_ops(list(after.outputs), FusedGemvPair) == 0


def test_a_second_product_over_another_matrix_is_not_fused():
    x, x2, v = T.matrix("x"), T.matrix("x2"), T.vector("v")
    d = T.tanh(T.dot(x, v))
    before, after, fired = fused([x, x2, v], [T.dot(x2.T, d)])
    assert fired == 0


def test_an_accumulator_computed_from_the_chain_is_not_fused():
    x, v = T.matrix("x"), T.vector("v")
    d = T.tanh(T.dot(x, v))
    before, after, fired = fused([x, v], [T.dot(x.T, d) + 2 * d])   # x square (conservative)
    (node,) = [n for n in before.toposort() if isinstance(n.op, Gemv) and
               n.inputs[3] is n.inputs[0]]       # Gemv(d, 1, x.T, d, 2): acc is d itself
    assert fired == 0 and count_ops(list(after.outputs), FusedGemvPair) == 0
    rng = np.random.default_rng(3)
    assert_same(before, after, [rng.standard_normal((4, 4)), rng.standard_normal(4)])


def test_special_and_empty_values_agree():
    inputs, outputs = seed_graph()
    before, after, _ = fused(inputs, outputs)
    x, y, w, b = seed_values(8, 5)
    x[1, 2], x[3, 0], w[4] = np.nan, np.inf, -np.inf
    with np.errstate(all="ignore"):
        assert_same(before, after, [x, y, w, b])
        for m, n in ((0, 5), (8, 0), (0, 0)):
            assert_same(before, after, seed_values(m, n))


def test_shape_errors_are_the_products_own():
    inputs, outputs = seed_graph()
    before, after, _ = fused(inputs, outputs)
    x, y, w, b = seed_values(8, 5)
    for graph in (before, after):
        with pytest.raises(ValueError, match="do not match"):
            evaluate(list(graph.outputs), dict(zip(graph.inputs, [x, y, w[:4], b])))
