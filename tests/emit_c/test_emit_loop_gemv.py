"""A scan state whose step ends in ``f(Gemv(...))`` computed straight into its row
(aotsym/emit_c/loop_gemv.py): which states qualify (on the lowered program), and the compiled
loop against the same loop built without it (the same bits: the same product and kernel,
another buffer) and against the reference evaluator -- float64 and float32, NaN and inf,
no step at all, strided, reversed and transposed operands, an epilogue with a broadcast row
and a scalar, alpha 0, the errors of a step returning another shape or of mismatched
products (the generic steps run then, with their messages), and the RNN's gradient."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.build import BuildOptions, build_module
from aotsym.emit_c import FunctionSpec
from aotsym.emit_c.loop_gemv import find_row_gemvs
from aotsym.optimizer import lower_program
from aotsym.optimizer.program import LOOP


def _rnn(dtype="float64", step=None):
    X = T.matrix("X", dtype=dtype)
    W = T.matrix("W", dtype=dtype)
    h0 = T.vector("h0", dtype=dtype)
    step = step or (lambda x_t, h, W: T.tanh(T.dot(W, h) + x_t))
    hs, _ = aotsym.scan(step, sequences=X, outputs_info=h0, non_sequences=W)
    return [X, W, h0], hs


def _loops(fgraph):
    return [s for s in lower_program(fgraph).walk() if s.kind == LOOP]


def _both(inputs, outputs, monkeypatch):
    """(in its row, generic): the optimized graph built twice, the second time with no state
    computed in its row; and the C source of the first."""
    import aotsym.emit_c.loops as loops
    fg = aotsym.function(inputs, outputs, mode="FAST_RUN").maker.fgraph
    fused = build_module([FunctionSpec("f", lower_program(fg))], BuildOptions.from_config())
    monkeypatch.setattr(loops, "find_row_gemvs", lambda body, params: {})
    plain = build_module([FunctionSpec("f", lower_program(fg))], BuildOptions.from_config())
    monkeypatch.undo()
    return fused.entries[0], plain.entries[0], fused.emitted.source


def _same(got, want):
    got, want = (x if isinstance(x, list) else [x] for x in (got, want))
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)     # bit for bit, NaN where NaN


def _same_error(fused, plain, values):
    """Both builds refuse ``values`` with the same message."""
    with pytest.raises(ValueError) as generic:
        plain(*values)
    with pytest.raises(ValueError) as in_row:
        fused(*values)
    assert str(in_row.value) == str(generic.value)


def _like_reference(f, inputs, outputs, values, rtol):
    want = aotsym.function(inputs, outputs, mode="FAST_COMPILE")(*values)
    got = f(*values)
    got, want = (x if isinstance(x, list) else [x] for x in (got, want))
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol, equal_nan=True)


def test_the_rnn_state_is_found_and_a_kept_state_or_a_profile_build_is_not():
    inputs, hs = _rnn()
    (loop,) = _loops(aotsym.function(inputs, hs, mode="FAST_RUN").maker.fgraph)
    (body,) = loop.body
    found = find_row_gemvs(body, loop.params)
    assert list(found) == [0]
    plan = found[0]
    assert type(plan.gemv.node.op).__name__ == "Gemv"
    assert body.steps[plan.at] is plan.gemv and body.steps[plan.epilogue_at] is plan.epilogue
    # only the last value read: a ring of values (rotated, never copied), not a row buffer
    (kept,) = _loops(aotsym.function(inputs, hs[-1], mode="FAST_RUN").maker.fgraph)
    assert find_row_gemvs(kept.body[0], kept.params) == {}


def test_a_value_read_again_in_the_step_is_not_computed_in_its_row():
    # the new state is also a mapped output: another body output hands over the same value
    X, W, h0 = T.matrix("X"), T.matrix("W"), T.vector("h0")

    def step(x_t, h, W):
        new = T.tanh(T.dot(W, h) + x_t)
        return [new, new.sum()]
    (hs, sums), _ = aotsym.scan(step, sequences=X, outputs_info=[h0, None], non_sequences=W)
    (loop,) = _loops(aotsym.function([X, W, h0], [hs, sums], mode="FAST_RUN").maker.fgraph)
    assert find_row_gemvs(loop.body[0], loop.params) == {}


SPECIAL = {
    "random": lambda rng, n, m, dt: (rng.standard_normal((n, m)).astype(dt),
                                     (rng.standard_normal((m, m)) * 0.3).astype(dt),
                                     rng.standard_normal(m).astype(dt)),
    "nan_inf": lambda rng, n, m, dt: (
        np.where(rng.random((n, m)) < 0.1, np.nan, rng.standard_normal((n, m))).astype(dt),
        np.where(rng.random((m, m)) < 0.02, np.inf, rng.standard_normal((m, m)) * 0.3
                 ).astype(dt),
        np.where(np.arange(m) == 3, -0.0, rng.standard_normal(m)).astype(dt)),
    "no_step": lambda rng, n, m, dt: (np.zeros((0, m), dt),
                                      rng.standard_normal((m, m)).astype(dt),
                                      rng.standard_normal(m).astype(dt)),
}


def _layouts(values):
    X, W, h0 = values
    yield "c", (X, W, h0)
    wide = np.full((X.shape[0], 2 * X.shape[1]), np.nan, X.dtype)
    wide[:, ::2] = X
    yield "strided", (wide[:, ::2], np.asfortranarray(W), h0[::-1].copy()[::-1])
    yield "x_strided", (wide[:, ::2], W, h0)                  # the small kernel reads x_t
    yield "x_reversed", (X[:, ::-1].copy()[:, ::-1], W, h0)   # where it is, any stride
    yield "reversed", (X[::-1].copy()[::-1], W[::-1].copy()[::-1], h0)
    Wt = np.full((W.shape[0], W.shape[1] + 3), np.inf, W.dtype)
    Wt[:, :W.shape[1]] = W
    yield "row_strided", (X, Wt[:, :W.shape[1]], h0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("hidden", [100, 13, 4])
def test_the_rnn_in_its_row_equals_the_generic_loop_and_the_reference(dtype, hidden,
                                                                       monkeypatch):
    inputs, hs = _rnn(dtype)
    fused, plain, source = _both(inputs, hs, monkeypatch)
    assert "in_row0_" in source and "aot_gemv_into" in source
    rng = np.random.default_rng(hidden)
    for kind, make in SPECIAL.items():
        for name, values in _layouts(make(rng, 9, hidden, dtype)):
            _same(fused(*values), plain(*values))
            _like_reference(fused, inputs, hs, values, 1e-5 if dtype == "float32" else 1e-11)


def test_an_epilogue_with_a_broadcast_row_and_a_scalar(monkeypatch):
    X, W, h0 = T.matrix("X"), T.matrix("W"), T.vector("h0")
    b = T.tensor("float64", broadcastable=(True,), name="b")     # one value, broadcast
    a = T.scalar("a")

    def step(x_t, h, W, b, a):
        return T.tanh(T.dot(W, h) * a + b) * x_t[0] + T.exp(-h)
    hs, _ = aotsym.scan(step, sequences=X, outputs_info=h0, non_sequences=[W, b, a])
    inputs = [X, W, h0, b, a]
    fused, plain, source = _both(inputs, hs, monkeypatch)
    assert "in_row0_" in source
    rng = np.random.default_rng(1)
    for alpha in (0.5, 0.0, -2.0):
        for n in (24, 1):
            values = [rng.standard_normal((5, n)), rng.standard_normal((n, n)),
                      rng.standard_normal(n), rng.standard_normal(1), np.float64(alpha)]
            values[1][0, 0] = np.inf       # alpha 0: 0 * inf -- as the generic Gemv step
            _same(fused(*values), plain(*values))


def test_a_product_of_another_length_is_the_generic_steps_error(monkeypatch):
    inputs, hs = _rnn()
    fused, plain, _ = _both(inputs, hs, monkeypatch)
    rng = np.random.default_rng(2)
    cases = [
        # W (5 x 4) @ h (4): a row of 5 for a state of 4 -- the loop's shape error
        (rng.standard_normal((3, 5)), rng.standard_normal((5, 4)), rng.standard_normal(4)),
        # x_t of 6 for a product of 4: the Gemv's shape error
        (rng.standard_normal((3, 6)), rng.standard_normal((4, 4)), rng.standard_normal(4)),
        # W (4 x 3) @ h (4): the Gemv's shape error
        (rng.standard_normal((3, 4)), rng.standard_normal((4, 3)), rng.standard_normal(4)),
    ]
    for values in cases:
        _same_error(fused, plain, values)


def test_strided_operands_of_the_elementwise_step_and_one_of_length_1(monkeypatch):
    X, W, h0, c = T.matrix("X"), T.matrix("W"), T.vector("h0"), T.vector("c")
    hs, _ = aotsym.scan(lambda x_t, h, W, c: T.tanh(T.dot(W, h)) * x_t - c, sequences=X,
                        outputs_info=h0, non_sequences=[W, c])
    fused, plain, source = _both([X, W, h0, c], hs, monkeypatch)
    assert "in_row0_" in source
    (loop,) = _loops(aotsym.function([X, W, h0, c], hs, mode="FAST_RUN").maker.fgraph)
    (plan,) = find_row_gemvs(loop.body[0], loop.params).values()
    assert len(plan.epilogue.inputs) >= 3        # x_t and c are the elementwise step's
    rng = np.random.default_rng(4)
    X_, W_, h_, c_ = (rng.standard_normal((3, 9)), rng.standard_normal((9, 9)) * 0.3,
                      rng.standard_normal(9), rng.standard_normal(18))
    for values in ([X_, W_, h_, c_[:9]],                       # contiguous
                   [np.repeat(X_, 2, axis=1)[:, ::2], W_, h_, c_[::2]],  # strided rows
                   [X_[::-1].copy()[::-1], W_, h_, c_[::-2]]):  # reversed
        _same(fused(*values), plain(*values))
        _like_reference(fused, [X, W, h0, c], hs, values, 1e-12)
    bad = [X_, W_, h_, c_[:1]]          # c of length 1 (not broadcastable) for rows of 9
    _same_error(fused, plain, bad)


def test_two_taps_and_go_backwards(monkeypatch):
    """A state of depth 2 (row t + 2 written, rows t and t + 1 read) over a reversed
    sequence, beside a second state that is not computed in its row."""
    X, W, h0, c0 = T.matrix("X"), T.matrix("W"), T.matrix("h0"), T.vector("c0")

    def step(x_t, h2, h1, c, W):
        return [T.tanh(T.dot(W, h1) + 0.5 * h2 - x_t), c + h1]
    (hs, cs), _ = aotsym.scan(step, sequences=X, non_sequences=W, go_backwards=True,
                              outputs_info=[{"initial": h0, "taps": [-2, -1]}, c0])
    inputs = [X, W, h0, c0]
    fused, plain, source = _both(inputs, [hs, cs], monkeypatch)
    assert "in_row0_" in source and "in_row1_" not in source
    rng = np.random.default_rng(6)
    for n in (11, 0):
        values = [rng.standard_normal((n, 16)), rng.standard_normal((16, 16)) * 0.3,
                  rng.standard_normal((2, 16)), rng.standard_normal(16)]
        _same(fused(*values), plain(*values))
        _like_reference(fused, inputs, [hs, cs], values, 1e-11)


def test_the_rnn_gradient_with_its_rows_written_in_place():
    rng = np.random.RandomState(3)
    inputs, hs = _rnn()
    X, W, h0 = inputs
    cost = (hs ** 2).sum()
    outputs = [hs, cost] + aotsym.grad(cost, [X, W, h0])
    f = aotsym.function(inputs, outputs, mode="FAST_RUN")
    assert any(find_row_gemvs(s.body[0], s.params) for s in _loops(f.maker.fgraph))
    values = [rng.randn(12, 16), rng.randn(16, 16) * 0.3, rng.randn(16)]
    _like_reference(f, inputs, outputs, values, 1e-10)
    # and against central differences of the cost in W
    g = aotsym.function(inputs, cost, mode="FAST_RUN")
    dW = np.zeros_like(values[1])
    eps = 1e-6
    for i, j in [(0, 0), (3, 7), (15, 15)]:
        up, down = [v.copy() for v in values], [v.copy() for v in values]
        up[1][i, j] += eps
        down[1][i, j] -= eps
        dW[i, j] = (g(*up) - g(*down)) / (2 * eps)
        np.testing.assert_allclose(f(*values)[3][i, j], dW[i, j], rtol=1e-5, atol=1e-7)
