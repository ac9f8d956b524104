"""Fusion: elementwise trees become one Composite; producers fuse into reductions."""

import numpy as np

from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.composite import Composite, FusedReduce
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.optimizer.testing import assert_same_values, count_ops, optimized_graph, rewrite


def test_chain_fuses_into_one_composite_bit_for_bit():
    a, b = T.vector("a"), T.vector("b", dtype="float32")
    before = T.exp(a * 2 + b) - T.sin(b)
    after = rewrite(before, ["fuse_elementwise"])
    assert isinstance(after.owner.op, Composite)
    assert count_ops(after, Elemwise) == 0
    vals = {a: np.random.rand(5), b: np.random.rand(5).astype("float32")}
    np.testing.assert_array_equal(evaluate([before], vals)[0], evaluate([after], vals)[0])


def test_tree_with_shared_producer_is_one_loop():
    x = T.matrix("x")
    e = T.exp(x)
    before = e * e + T.log(e)
    after = rewrite(before, ["fuse_elementwise"])
    assert isinstance(after.owner.op, Composite) and len(after.owner.inputs) == 1


def test_producer_read_elsewhere_is_not_duplicated():
    x = T.vector("x")
    e = T.exp(x)
    outs = rewrite([e * 2, T.sum(e)], ["fuse_elementwise"])
    assert count_ops(outs, "exp") == 1


def test_graph_output_becomes_extra_output():
    x, y = T.vector("x"), T.vector("y")
    s = x + y
    outs = rewrite([s, T.sqr(s)], ["fuse_elementwise"])
    assert outs[0].owner is outs[1].owner and isinstance(outs[0].owner.op, Composite)
    assert_same_values([s, T.sqr(s)], outs)


def test_narrower_producer_stays_separate():
    m, r = T.matrix("m"), T.row("r")
    before = m * T.exp(r)               # exp on the row: not recomputed per matrix element
    after = rewrite(before, ["fuse_elementwise"])
    assert count_ops(after, Composite) == 0 and count_ops(after, "exp") == 1


def test_constants_become_literals():
    x = T.vector("x")
    after = rewrite(T.exp(x * 2.5) + 1, ["canonicalize", "fuse_elementwise"])
    assert after.owner.inputs == (x,)
    assert "2.5" in str(after.owner.op)


def test_fused_reduction():
    a, b = T.matrix("a"), T.matrix("b")
    before = T.sum((a - b) ** 2, axis=1)
    fg = optimized_graph([before])
    (after,) = fg.outputs
    assert isinstance(after.owner.op, FusedReduce) and after.owner.inputs == (a, b)
    assert_same_values(before, after)


def test_reduction_of_value_read_twice_is_not_fused():
    a = T.vector("a")
    e = T.exp(a)
    outs = optimized_graph([e, T.sum(e)]).outputs
    assert count_ops(outs, FusedReduce) == 0


def test_group_size_is_capped():
    from aotsym.optimizer.fusion import MAX_STEPS
    x = T.vector("x")
    v = x
    for i in range(3 * MAX_STEPS):
        v = T.sin(v) if i % 2 else T.cos(v)
    after = rewrite(v, ["fuse_elementwise"])
    assert 3 <= count_ops(after, Composite) <= 4
    assert_same_values(v, after)
