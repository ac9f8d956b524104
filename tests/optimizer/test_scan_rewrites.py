"""Scan rewrites (aotsym.optimizer.scan): before/after graphs and equal values."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.scan import Scan
from aotsym.optimizer.inner import prune_unused_outputs
from aotsym.optimizer.pipeline import optimize
from aotsym.optimizer.testing import assert_same_values

STAGES = ["merge", "canonicalize", "scan"]


def scans(fg):
    return [n for n in fg.toposort() if isinstance(n.op, Scan)]


def test_scan_hoist_invariants():
    W, x, h0 = T.matrix("W"), T.matrix("x"), T.vector("h0")
    out, _ = aotsym.scan(lambda xt, h, W: T.tanh(T.dot(h, W.T * 2) + xt), sequences=x,
                         outputs_info=h0, non_sequences=W)
    before = FunctionGraph([x, h0, W], [out])
    after = optimize(before, stages=STAGES)
    (node,) = scans(after)
    # after: W.T * 2 is an outer input of the loop; the step holds only dot, add, tanh
    inner_ops = sorted(type(n.op).__name__ for n in node.op.inner.nodes())
    assert inner_ops == ["Dot", "Elemwise", "Elemwise"]
    assert W not in node.inputs and any(v.owner is not None and "mul" in str(v.owner.op)
                                        for v in node.inputs)
    assert after.meta["optimizer_stats"].fired("scan_hoist_invariants") == 1
    rng = np.random.default_rng(0)
    vals = {x: rng.normal(size=(4, 3)), h0: rng.normal(size=3), W: rng.normal(size=(3, 3))}
    np.testing.assert_allclose(evaluate(list(after.outputs), vals)[0],
                               evaluate([out], vals)[0])


def test_scan_drop_unused_inputs():
    x, z, w, h0 = T.vector("x"), T.vector("z"), T.scalar("w"), T.scalar("h0")
    # (a step reading the state, so that the loop stays: a map of x_t * 2 is no loop at all)
    out, _ = aotsym.scan(lambda xt, zt, h, w: h * 2 + xt, sequences=[x, z], outputs_info=h0,
                         non_sequences=w)
    before = FunctionGraph([x, z, w, h0], [out])
    (node,) = scans(before)
    assert len(node.inputs) == 5
    after = optimize(before, stages=STAGES)
    (node,) = scans(after)
    assert len(node.inputs) == 3 and node.inputs[1] is x       # n_steps, x, h0
    assert_same_values(list(before.outputs), list(after.outputs))


def test_prune_outputs_removes_unused_mapped_outputs_and_carries():
    x = T.vector("x")
    (h, y, g), _ = aotsym.scan(lambda xt, h, g: [h + xt, h * xt, g * 2], sequences=x,
                               outputs_info=[T.constant(0.0), None, T.constant(1.0)])
    before = FunctionGraph([x], [h])
    after = prune_unused_outputs(before)
    (node,) = scans(after)
    assert node.op.n_mapped == 0 and node.op.state_taps == ((-1,),)
    np.testing.assert_array_equal(evaluate(list(after.outputs), {x: np.arange(4.0)})[0],
                                  [0, 1, 3, 6])


def test_scan_keep_last_rows_for_result_minus_one():
    k, A = T.iscalar("k"), T.vector("A")
    result, _ = aotsym.scan(lambda p, A: p * A, outputs_info=T.ones_like(A),
                            non_sequences=A, n_steps=k)
    before = FunctionGraph([A, k], [result[-1]])
    # before: Subtensor{-1}(Subtensor{1:}(Scan{...}.0))
    after = optimize(before, stages=STAGES)
    (node,) = scans(after)
    # after: Subtensor{-1}(Subtensor{1:}(Scan{keep=2}.0)): the initial row and the last one,
    # so that no step at all is still result[-1]'s IndexError
    assert node.op.keep == (2,)
    out = after.outputs[0]
    assert out.owner.inputs[0].owner.inputs[0] is node.outputs[0]
    assert after.meta["optimizer_stats"].fired("scan_keep_last_rows") == 1
    vals = {A: np.arange(5.0), k: np.int32(3)}
    np.testing.assert_array_equal(evaluate(list(after.outputs), vals)[0], np.arange(5.0) ** 3)
    (full,) = evaluate([node.outputs[0]], vals)
    assert full.shape == (2, 5)
    for graph in (before, after):
        with pytest.raises(IndexError):
            evaluate(list(graph.outputs), {A: np.arange(5.0), k: np.int32(0)})


def test_keep_last_rows_holds_constant_memory_over_many_steps():
    import tracemalloc
    n = T.iscalar("n")
    h, _ = aotsym.scan(lambda h: h + 1.0, outputs_info=T.zeros((100,)), n_steps=n)
    after = optimize(FunctionGraph([n], [h[-1]]), stages=STAGES)
    tracemalloc.start()
    (got,) = evaluate(list(after.outputs), {n: np.int32(20000)})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert got[0] == 20000.0
    assert peak < 2_000_000        # the full 20001 x 100 buffer would be 16 MB


def test_keep_last_rows_does_not_fire_when_more_is_read():
    x = T.vector("x")
    out, _ = aotsym.scan(lambda xt, h: h + xt, sequences=x, outputs_info=T.constant(0.0))
    after = optimize(FunctionGraph([x], [out[-1], out.sum()]), stages=STAGES)
    (node,) = scans(after)
    assert node.op.keep == (None,)


def test_gradient_taken_before_the_rewrite_is_right():
    x, w = T.vector("x"), T.scalar("w")
    out, _ = aotsym.scan(lambda xt, h, w: h * w + xt, sequences=x,
                         outputs_info=T.constant(0.0), non_sequences=w)
    g = aotsym.grad(out[-1], w)
    after = optimize(FunctionGraph([x, w], [out[-1], g]), stages=STAGES)
    last, gw = evaluate(list(after.outputs), {x: np.array([1.0, 2.0, 3.0]), w: 0.5})
    # h = (1, 2.5, 4.25); d h3/dw = h2 + w*(h1 + w*0)
    assert last == 4.25 and gw == 2.5 + 0.5 * 1.0


def test_rewrites_checked_in_debug_mode():
    W, x, h0 = T.matrix("W"), T.matrix("x"), T.vector("h0")
    out, _ = aotsym.scan(lambda xt, h, W: T.tanh(T.dot(h, W * 0.5) + xt), sequences=x,
                         outputs_info=h0, non_sequences=W)
    f = aotsym.function([x, h0, W], out[-1], mode="DEBUG_MODE")
    rng = np.random.default_rng(0)
    xv, hv, Wv = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(3, 3))
    h = hv
    for row in xv:
        h = np.tanh(h @ (Wv * 0.5) + row)
    np.testing.assert_allclose(f(xv, hv, Wv), h)


def _values(rng, inputs, shapes):
    return {v: rng.normal(size=s) for v, s in zip(inputs, shapes)}


def test_scan_push_out_sequences_makes_the_input_projection_one_product():
    X, W, U, h0 = T.matrix("X"), T.matrix("W"), T.matrix("U"), T.vector("h0")
    hs, _ = aotsym.scan(lambda x_t, h, U, W: T.tanh(T.dot(h, U) + T.dot(x_t, W)),
                        sequences=X, outputs_info=h0, non_sequences=[U, W])
    before = FunctionGraph([X, W, U, h0], [hs])
    after = optimize(before, stages=STAGES)
    (node,) = scans(after)
    # after: dot(X[:n], W) is computed before the loop; the step reads its row and U only
    assert W not in node.inputs
    assert any(v.owner is not None and type(v.owner.op).__name__ == "Dot" and
               v.owner.inputs[1] is W for v in node.inputs)
    assert [type(n.op).__name__ for n in node.op.inner.nodes()].count("Dot") == 1
    assert after.meta["optimizer_stats"].fired("scan_push_out_sequences") >= 1
    vals = _values(np.random.default_rng(1), [X, W, U, h0], [(6, 3), (3, 4), (4, 4), (4,)])
    vals[U] = vals[U] * 0.3
    np.testing.assert_allclose(evaluate(list(after.outputs), vals)[0],
                               evaluate([hs], vals)[0], rtol=1e-12, atol=1e-14)


def test_a_map_of_elementwise_work_is_no_loop_at_all():
    """The seed's polynomial: after push-out the mapped output is a sequence's row, and
    scan_mapped_sequences replaces the loop by the vectorized expression."""
    coefficients, x = T.vector("coefficients"), T.scalar("x")
    components, _ = aotsym.scan(lambda c, power, free: c * (free ** power),
                                sequences=[coefficients, T.arange(10000)], non_sequences=x)
    before = FunctionGraph([coefficients, x], [components.sum()])
    after = optimize(before, stages=STAGES)
    assert not scans(after)
    assert after.meta["optimizer_stats"].fired("scan_mapped_sequences") == 1
    for c in ([1.0, 0.0, 2.0], [], [np.nan, np.inf, -0.0, 1e300]):
        vals = {coefficients: np.array(c), x: np.float64(3.0)}
        np.testing.assert_allclose(evaluate(list(after.outputs), vals)[0],
                                   evaluate([components.sum()], vals)[0], equal_nan=True)
    f = aotsym.function([coefficients, x], components.sum())
    assert float(f(np.array([1.0, 0.0, 2.0]), 3.0)) == 19.0


def test_push_out_keeps_state_dependent_and_until_work_in_the_loop():
    from aotsym.scan_module import until
    x, h0 = T.vector("x"), T.scalar("h0")
    # x_t * 2 could be pushed out, but the loop stops at a value it computes: it stays
    out, _ = aotsym.scan(lambda x_t, h: (h + x_t * 2, until(h > 3)), sequences=x,
                         outputs_info=h0)
    after = optimize(FunctionGraph([x, h0], [out]), stages=STAGES)
    (node,) = scans(after)
    assert node.op.n_seqs == 1 and after.meta["optimizer_stats"].fired(
        "scan_push_out_sequences") == 0
    # a step mixing the state and the row: only the row's part leaves the loop
    out2, _ = aotsym.scan(lambda x_t, h: T.sin(h) + T.exp(x_t) * 3, sequences=x,
                          outputs_info=h0)
    after2 = optimize(FunctionGraph([x, h0], [out2]), stages=STAGES)
    (node2,) = scans(after2)
    names = " ".join(str(n.op) for n in node2.op.inner.nodes())
    assert "exp" not in names and "sin" in names
    vals = {x: np.array([0.5, np.nan, -np.inf, 2.0]), h0: np.float64(0.1)}
    np.testing.assert_allclose(evaluate(list(after2.outputs), vals)[0],
                               evaluate([out2], vals)[0], equal_nan=True)


def test_scan_merge_makes_one_loop_of_two_over_the_same_steps():
    x, a0, b0 = T.vector("x"), T.scalar("a0"), T.scalar("b0")
    a, _ = aotsym.scan(lambda x_t, h: T.sin(h) + x_t, sequences=x, outputs_info=a0)
    b, _ = aotsym.scan(lambda x_t, h: h * x_t, sequences=x, outputs_info=b0)
    c, _ = aotsym.scan(lambda x_t, h: T.cos(h) + x_t, sequences=x, outputs_info=a0)  # = a's?
    before = FunctionGraph([x, a0, b0], [a, b, c * 2])
    assert len(scans(before)) == 3
    after = optimize(before, stages=STAGES)
    (node,) = scans(after)                  # one pass over the steps
    assert after.meta["optimizer_stats"].fired("scan_merge") == 2
    vals = {x: np.array([0.5, np.nan, -1.0, 2.0]), a0: np.float64(0.1), b0: np.float64(3.0)}
    for got, want in zip(evaluate(list(after.outputs), vals),
                         evaluate(list(before.outputs), vals)):
        np.testing.assert_allclose(got, want, equal_nan=True)
    f = aotsym.function([x, a0, b0], [a, b, c * 2])
    g = aotsym.function([x, a0, b0], [a, b, c * 2], mode="FAST_COMPILE")
    for got, want in zip(f(np.arange(5.0), 0.1, 3.0), g(np.arange(5.0), 0.1, 3.0)):
        np.testing.assert_allclose(got, want)


def test_scan_merge_leaves_dependent_loops_apart():
    x, a0 = T.vector("x"), T.scalar("a0")
    a, _ = aotsym.scan(lambda x_t, h: T.sin(h) + x_t, sequences=x, outputs_info=a0)
    b, _ = aotsym.scan(lambda a_t, h: h * a_t, sequences=a, outputs_info=a0)  # reads a
    after = optimize(FunctionGraph([x, a0], [b]), stages=STAGES)
    assert len(scans(after)) == 2
    assert after.meta["optimizer_stats"].fired("scan_merge") == 0
