"""Updates written into a shared variable's own buffer (the optimizer's state rule,
aotsym/optimizer/inplace.py; the emitter's prepare/commit halves, aotsym/emit_c/emitter.py):
the seed's logistic-regression update becomes one in-place gemv, values equal the reference
evaluator, and a failing call leaves every shared variable unchanged, bit for bit."""

import io

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate

N, FEATS = 40, 13


def logreg(mode="FAST_RUN", seed=0):
    rng = np.random.RandomState(seed)
    x, y = T.matrix("x"), T.vector("y")
    w = aotsym.shared(rng.randn(FEATS), name="w")
    b = aotsym.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = aotsym.grad(cost, [w, b])
    updates = {w: w - 0.1 * gw, b: b - 0.1 * gb}
    train = aotsym.function([x, y], [p_1 > 0.5, xent], updates=updates, mode=mode)
    data = (rng.randn(N, FEATS), rng.randint(0, 2, size=N).astype("float64"))
    return train, w, b, data, (x, y, p_1, xent, updates)


def _state_gemv(fgraph):
    gemvs = [n for n in fgraph.toposort() if type(n.op).__name__ == "Gemv"]
    return [n for n in gemvs if n.op.inplace and n.inputs[0] in fgraph.inputs]


def test_update_is_one_inplace_gemv_scheduled_last():
    train, w, *_ = logreg()
    (node,) = _state_gemv(train.maker.fgraph)
    assert node.inputs[0] is w
    # scheduled last: only the other state write (b's, elementwise) may follow it
    order = train.maker.fgraph.toposort()
    last = train.maker.fgraph.meta["schedule_last"]
    assert node in last and all(n in last for n in order[order.index(node):])
    out = io.StringIO()
    aotsym.printing.debugprint(train, file=out)
    text = out.getvalue()
    (line,) = [k for k, s in enumerate(text.splitlines()) if s.startswith("Gemv{inplace}")]
    assert text.splitlines()[line + 1].startswith(" |w ")


def test_values_equal_the_reference_evaluator_and_state_is_written_in_place():
    train, w, b, (X, Y), (x, y, p_1, xent, updates) = logreg()
    w0, b0 = w.get_value(), b.get_value()
    buffer = w.get_value(borrow=True)
    for _ in range(3):
        givens = {x: X, y: Y, w: w0, b: b0}
        pred, err, w_new, b_new = evaluate([p_1 > 0.5, xent, updates[w], updates[b]], givens)
        got_pred, got_err = train(X, Y)
        np.testing.assert_array_equal(got_pred, pred)
        np.testing.assert_allclose(got_err, err, rtol=1e-12)
        np.testing.assert_allclose(w.get_value(), w_new, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b.get_value(), b_new, rtol=1e-12)
        w0, b0 = w.get_value(), b.get_value()
    # the update went into the variable's own array, not a new one
    assert w.get_value(borrow=True) is buffer


def test_get_value_taken_before_a_call_is_not_changed_by_it():
    train, w, b, (X, Y), _ = logreg()
    before = w.get_value()
    kept = before.copy()
    train(X, Y)
    np.testing.assert_array_equal(before, kept)
    assert not np.array_equal(w.get_value(), kept)


@pytest.mark.parametrize("path", ["exact", "checked"])
def test_a_failing_call_leaves_state_unchanged(path):
    train, w, b, (X, Y), _ = logreg()
    train(X, Y)
    w0, b0 = w.get_value().tobytes(), b.get_value().tobytes()
    bad = np.random.RandomState(1).randn(N, FEATS + 1)
    with pytest.raises(ValueError):
        if path == "exact":
            train(bad, Y)
        else:
            train(x=bad.tolist(), y=Y)
    assert w.get_value().tobytes() == w0 and b.get_value().tobytes() == b0
    with pytest.raises(ValueError):
        train(X, Y[:-1])
    assert w.get_value().tobytes() == w0 and b.get_value().tobytes() == b0


def two_state_writes():
    """Two in-place gemvs at the end; the second one's shape check fails after the first was
    prepared: nothing may be written."""
    a, u, bm, v = T.matrix("a"), T.vector("u"), T.matrix("bm"), T.vector("v")
    w1 = aotsym.shared(np.arange(4.0), name="w1")
    w2 = aotsym.shared(np.arange(3.0), name="w2")
    f = aotsym.function([a, u, bm, v], [], updates={
        w1: w1 - 0.5 * T.dot(a.T, u), w2: w2 - 0.5 * T.dot(bm.T, v)})
    return f, w1, w2


def test_failure_in_a_later_state_write_leaves_every_variable_unchanged():
    f, w1, w2 = two_state_writes()
    assert len(_state_gemv(f.maker.fgraph)) == 2
    rng = np.random.RandomState(2)
    A, U, B, V = rng.randn(5, 4), rng.randn(5), rng.randn(6, 3), rng.randn(6)
    f(A, U, B, V)
    np.testing.assert_allclose(w1.get_value(), np.arange(4.0) - 0.5 * A.T @ U)
    np.testing.assert_allclose(w2.get_value(), np.arange(3.0) - 0.5 * B.T @ V)
    s1, s2 = w1.get_value().tobytes(), w2.get_value().tobytes()
    for bad in (rng.randn(6, 4), rng.randn(6, 5)):          # rows, then columns wrong
        with pytest.raises(ValueError):
            f(A, U, bad, V)
        assert w1.get_value().tobytes() == s1 and w2.get_value().tobytes() == s2


def test_update_also_returned_is_not_written_in_place():
    x, d = T.matrix("x"), T.vector("d")
    w = aotsym.shared(np.ones(3), name="w")
    new = w - 0.1 * T.dot(x.T, d)
    f = aotsym.function([x, d], new, updates={w: new})
    assert not _state_gemv(f.maker.fgraph)
    out = f(np.ones((2, 3)), np.ones(2))
    np.testing.assert_allclose(out, 0.8 * np.ones(3))
    assert not np.shares_memory(out, w.get_value(borrow=True))
    out[:] = 7
    np.testing.assert_allclose(w.get_value(), 0.8 * np.ones(3))


def test_read_only_or_overlapping_state_goes_to_a_fresh_buffer():
    x, d = T.matrix("x"), T.vector("d")
    w = aotsym.shared(np.ones(3), name="w")
    f = aotsym.function([x, d], [], updates={w: w - 0.1 * T.dot(x.T, d)})
    assert _state_gemv(f.maker.fgraph)
    ro = np.ones(3)
    ro.flags.writeable = False
    w.set_value(ro, borrow=True)
    f(np.ones((2, 3)), np.ones(2))
    np.testing.assert_array_equal(ro, np.ones(3))
    np.testing.assert_allclose(w.get_value(), 0.8 * np.ones(3))
    # the argument x is the state's own memory: BLAS must not write what it reads
    state = np.arange(6.0)
    w.set_value(state[:3], borrow=True)
    xs = state.reshape(2, 3)
    expect = state[:3] - 0.1 * xs.T @ np.ones(2)
    f(xs, np.ones(2))
    np.testing.assert_allclose(w.get_value(), expect)
    np.testing.assert_array_equal(state, np.arange(6.0))


@pytest.mark.parametrize("mode", ["DEBUG_MODE", "FAST_COMPILE"])
def test_other_modes_keep_updates_all_or_nothing(mode):
    train, w, b, (X, Y), _ = logreg(mode=mode)
    w0 = w.get_value().tobytes()
    with pytest.raises(ValueError):
        train(np.zeros((N, FEATS + 1)), Y)
    assert w.get_value().tobytes() == w0
    before = w.get_value()
    train(X, Y)
    assert before.tobytes() == w0
