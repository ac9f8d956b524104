"""The state rule for elementwise updates and for variables the backward pass reads
(aotsym/optimizer/inplace.py): ``b - lr * gb`` written into ``b``'s own buffer as the last
step of the call (the emitter's prepare/commit halves, aotsym/emit_c/elementwise.py), and a
gemm update over ``W`` that ``dot(d, W.T)`` also reads.  Values against the reference
evaluator (NaN and inf included, float32 and float64), all-or-nothing on failure, and the
aliasing cases that must not be written in place."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.composite import Composite
from aotsym.graph.ops.gemm import Gemm
from aotsym.optimizer import optimize


def _state_writes(fgraph):
    """{shared input: node} of the nodes writing over a graph input."""
    found = {}
    for node in fgraph.toposort():
        for ins in node.op.destroy_map.values():
            v = node.inputs[ins[0]]
            if v in fgraph.inputs:
                found[v] = node
    return found


# ----------------------------------------------------------------------------- the graph

def test_elementwise_update_is_written_over_its_variable_moved_to_input_0():
    g, b = T.vector("g"), T.vector("b")
    new_b = b - 0.1 * T.exp(g).sum(keepdims=True).dimshuffle(0) * g
    fg = optimize(FunctionGraph([g, b], [new_b], n_updates=1, meta={"updates": {0: 1}}))
    writes = _state_writes(fg)
    node = writes[b]
    assert isinstance(node.op, Composite) and node.op.inplace == ((0, 0),)
    assert node.inputs[0] is b
    assert node in fg.meta["schedule_last"] and fg.toposort()[-1] is node
    # without the update declared, no input is touched
    plain = optimize(FunctionGraph([g, b], [new_b], n_updates=1))
    assert not _state_writes(plain)


def test_integer_power_update_stays_out_of_place():
    c, k = T.lvector("c"), T.lscalar("k")
    fg = optimize(FunctionGraph([k, c], [c ** k + c], n_updates=1, meta={"updates": {0: 1}}))
    assert not _state_writes(fg)


def test_update_read_by_another_update_is_not_written_in_place():
    b, c = T.vector("b"), T.vector("c")
    fg = optimize(FunctionGraph([b, c], [b * 0.5, c + b], n_updates=2,
                                meta={"updates": {0: 0, 1: 1}}))
    writes = _state_writes(fg)
    assert b not in writes     # c's update reads b's old value at its own commit
    assert c in writes


def test_gemm_update_of_a_variable_the_backward_pass_reads_is_in_place():
    h, d, W = T.matrix("h"), T.matrix("d"), T.matrix("W")
    back = T.dot(d, W.T)                     # reads W, no ancestor of W's update
    new_W = W - 0.01 * T.dot(h.T, d)
    fg = optimize(FunctionGraph([h, d, W], [back, new_W], n_updates=1,
                                meta={"updates": {1: 2}}))
    node = _state_writes(fg)[W]
    assert isinstance(node.op, Gemm) and node.op.inplace
    order = fg.toposort()
    assert order.index(fg.outputs[0].owner) < order.index(node)


# ----------------------------------------------------------------------------- compiled

def _step(dtype, seed=0):
    """A tiny training step: two elementwise updates, one gemm update read backwards."""
    rng = np.random.RandomState(seed)
    x = T.matrix("x", dtype=dtype)
    W = aotsym.shared(rng.randn(4, 3).astype(dtype), name="W")
    b = aotsym.shared(rng.randn(3).astype(dtype), name="b")
    s = aotsym.shared(np.asarray(0.5, dtype), name="s")
    z = T.tanh(T.dot(x, W) + b) * s
    cost = (z ** 2).sum()
    gW, gb, gs = aotsym.grad(cost, [W, b, s])
    lr = np.asarray(0.1, dtype)
    updates = [(W, W - lr * gW), (b, b - lr * gb), (s, s - lr * gs)]
    f = aotsym.function([x], [cost, z], updates=updates)
    return f, (W, b, s), x, (cost, z), updates


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_equal_the_reference_and_state_keeps_its_buffers(dtype):
    f, shared, x, (cost, z), updates = _step(dtype)
    # W and b in place; s's old value is read by b's update (gb holds s), so s's is not
    assert sorted(v.name for v in _state_writes(f.maker.fgraph)) == ["W", "b"]
    buffers = [v.get_value(borrow=True) for v in shared[:2]]
    rng = np.random.RandomState(1)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    for call in range(4):
        X = rng.randn(5, 4).astype(dtype)
        if call == 2:
            X[0, 1], X[3, 2] = np.nan, np.inf    # NaN/inf reach every state
        old = [v.get_value() for v in shared]
        givens = {x: X, **dict(zip(shared, old))}
        want = evaluate([cost, z] + [new for _, new in updates], givens)
        got = f(X)
        for g, w in zip(got + [v.get_value() for v in shared], want):
            np.testing.assert_allclose(g, w, **tol)
    assert all(v.get_value(borrow=True) is buf for v, buf in zip(shared[:2], buffers))


def test_a_failing_call_leaves_every_variable_unchanged():
    g, A, u = T.vector("g"), T.matrix("A"), T.vector("u")
    b = aotsym.shared(np.arange(3.0), name="b")
    w = aotsym.shared(np.arange(4.0), name="w")
    f = aotsym.function([g, A, u], [], updates=[(b, b - 0.5 * g), (w, w - 0.5 * T.dot(A.T, u))])
    assert len(_state_writes(f.maker.fgraph)) == 2
    rng = np.random.RandomState(3)
    G, Am, U = rng.randn(3), rng.randn(5, 4), rng.randn(5)
    f(G, Am, U)
    np.testing.assert_allclose(b.get_value(), np.arange(3.0) - 0.5 * G)
    np.testing.assert_allclose(w.get_value(), np.arange(4.0) - 0.5 * Am.T @ U)
    saved = b.get_value().tobytes(), w.get_value().tobytes()
    for args in [(rng.randn(4), Am, U),            # b's own shape check fails
                 (G, rng.randn(6, 4), U),          # the gemv's check fails after b's prepare
                 (G, Am, rng.randn(6))]:
        with pytest.raises(ValueError):
            f(*args)
        assert (b.get_value().tobytes(), w.get_value().tobytes()) == saved


def test_state_read_by_an_output_and_an_update_returned():
    g = T.vector("g")
    b = aotsym.shared(np.ones(3), name="b")
    new = b - 0.1 * g
    f = aotsym.function([g], [b * 2, new], updates=[(b, new)])
    assert not _state_writes(f.maker.fgraph)     # the update is also an output
    G = np.array([1.0, np.nan, -np.inf])
    old, out = f(G)
    np.testing.assert_array_equal(old, 2 * np.ones(3))
    np.testing.assert_array_equal(out, np.ones(3) - 0.1 * G)
    assert not np.shares_memory(out, b.get_value(borrow=True))
    out[:] = 7
    np.testing.assert_array_equal(b.get_value(), np.ones(3) - 0.1 * G)

    c = aotsym.shared(np.ones(3), name="c")
    f2 = aotsym.function([g], [c * 2, c + 1], updates=[(c, c - g)])
    assert [v.name for v in _state_writes(f2.maker.fgraph)] == ["c"]
    two, one = f2(G)        # both outputs read the value before the write
    np.testing.assert_array_equal(two, 2 * np.ones(3))
    np.testing.assert_array_equal(one, 2 * np.ones(3))
    np.testing.assert_array_equal(c.get_value(), np.ones(3) - G)


def test_read_only_overlapping_or_self_overlapping_state_goes_to_a_fresh_buffer():
    g = T.vector("g")
    b = aotsym.shared(np.ones(3), name="b")
    f = aotsym.function([g], [], updates=[(b, b * 2 - g)])
    assert _state_writes(f.maker.fgraph)
    G = np.array([1.0, 2.0, 3.0])
    ro = np.ones(3)
    ro.flags.writeable = False
    b.set_value(ro, borrow=True)
    f(G)
    np.testing.assert_array_equal(ro, np.ones(3))
    np.testing.assert_array_equal(b.get_value(), 2 - G)
    # the argument g is the state's own memory
    mem = np.arange(3.0)
    b.set_value(mem, borrow=True)
    f(mem[::-1])
    np.testing.assert_array_equal(b.get_value(), 2 * np.arange(3.0) - np.arange(3.0)[::-1])
    # a state whose elements share one address (a zero stride): not written element-wise
    one = np.array([5.0])
    rep = np.lib.stride_tricks.as_strided(one, shape=(3,), strides=(0,), writeable=True)
    b.set_value(rep, borrow=True)
    f(G)
    np.testing.assert_array_equal(b.get_value(), 10.0 - G)
    np.testing.assert_array_equal(one, [5.0])
    # a strided, reversed view of a bigger array is written in place
    big = np.arange(8.0)
    view = big[6:0:-2]
    b.set_value(view, borrow=True)
    f(G)
    np.testing.assert_array_equal(big, [0, 1, 2 * 2 - 3, 3, 2 * 4 - 2, 5, 2 * 6 - 1, 7])


def test_debug_mode_keeps_elementwise_updates_all_or_nothing():
    g = T.vector("g")
    b = aotsym.shared(np.arange(3.0), name="b")
    f = aotsym.function([g], (b * g).sum(), updates=[(b, b - g)], mode="DEBUG_MODE")
    f(np.ones(3))
    np.testing.assert_array_equal(b.get_value(), np.arange(3.0) - 1)
    saved = b.get_value().tobytes()
    with pytest.raises(ValueError):
        f(np.ones(4))
    assert b.get_value().tobytes() == saved


@pytest.mark.parametrize("update", ["gemv", "elementwise"])
def test_no_state_write_in_place_when_storing_a_new_value_can_fail(update):
    """c is broadcastable: the caller checks its new value after the call, and that check
    fails; w's update (a gemv or an elementwise op, either written in place otherwise) must
    not have happened."""
    m = T.matrix("m")
    x = T.vector("x")
    w = aotsym.shared(np.ones(3), name="w")
    c = aotsym.shared(np.zeros((1,)), name="c", broadcastable=(True,))
    new_w = w - 0.5 * T.dot(m, x) if update == "gemv" else w * 2 + x + m.sum()
    f = aotsym.function([m, x], [], updates=[(w, new_w), (c, x)])
    with pytest.raises(ValueError, match="shared variable c"):
        f(np.eye(3), np.ones(3))               # length 3 does not fit c
    np.testing.assert_array_equal(w.get_value(), np.ones(3))
    assert not f.maker.fgraph.meta.get("schedule_last")        # nothing written in place
