"""The C loop of a structured LOOP step (scan): compiled results against the reference
evaluator — taps, several states and outputs, non-sequences, until, no steps at all,
go_backwards, kept last rows in a ring, hidden states — and run-time errors naming the user's
scan line.  (Scan's semantics and gradients are tested in tests/graph/ops and
tests/frontend; here the compiled loop must agree with them.)"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.basic import clone_replace
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.scan import Scan
from aotsym.optimizer.program import LOOP


def _compiled_and_reference(inputs, outputs, values, **kw):
    f = aotsym.function(inputs, outputs, mode="FAST_RUN", **kw)
    g = aotsym.function(inputs, outputs, mode="FAST_COMPILE", **kw)
    got, want = f(*values), g(*values)
    if not isinstance(got, list):
        got, want = [got], [want]
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)
    return f, got


def _loop_steps(f):
    from aotsym.optimizer.lower import lower_program
    program = lower_program(f.maker.fgraph)
    return [s for s in program.walk() if s.kind == LOOP]


def test_seed_pow_runs_as_one_c_loop():
    k, A = T.iscalar("k"), T.vector("A")
    result, updates = aotsym.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A),
                                  non_sequences=A, n_steps=k)
    f, (got,) = _compiled_and_reference([A, k], [result[-1]], [np.arange(10.0), 2])
    np.testing.assert_allclose(got, np.arange(10.0) ** 2)
    assert len(_loop_steps(f)) == 1
    for n in (0, 1, 5):
        _compiled_and_reference([A, k], [result], [np.arange(4.0), n])


def test_seed_polynomial():
    coefficients, x = T.vector("coefficients"), T.scalar("x")
    components, _ = aotsym.scan(lambda c, power, free: c * (free ** power),
                                sequences=[coefficients, T.arange(10000)], non_sequences=x)
    f, (got,) = _compiled_and_reference([coefficients, x], [components.sum()],
                                        [np.array([1.0, 0.0, 2.0]), 3.0])
    assert float(got) == 19.0


def test_taps_several_states_and_mapped_outputs():
    seq, h0, c0, w = T.vector("seq"), T.vector("h0"), T.scalar("c0"), T.scalar("w")

    def step(x_prev, x_now, h2, h1, c, w):
        h = x_now + w * h2 - 0.5 * h1 + x_prev
        return [h, c + x_now, h * 2.0]

    outs, _ = aotsym.scan(step, sequences=dict(input=seq, taps=[-1, 0]),
                          outputs_info=[dict(initial=h0, taps=[-2, -1]), c0, None],
                          non_sequences=w)
    values = [np.linspace(-1, 1, 9), np.array([0.5, -0.25]), 1.5, 0.75]
    _compiled_and_reference([seq, h0, c0, w], outs, values)


def test_special_values_and_strided_sequences():
    x = T.matrix("x")
    h0 = T.vector("h0")
    out, _ = aotsym.scan(lambda row, h: T.maximum(h, row) + T.exp(row), sequences=x,
                         outputs_info=h0)
    base = np.array([[np.nan, 1.0, -np.inf], [np.inf, -0.0, 2.0], [0.5, np.nan, 3.0]])
    _compiled_and_reference([x, h0], [out], [base, np.zeros(3)])
    big = np.arange(24.0).reshape(6, 4) / 5
    _compiled_and_reference([x, h0], [out], [big[::-2, 1:], np.ones(3)])
    _compiled_and_reference([x, h0], [out], [np.zeros((0, 3)), np.ones(3)])


def test_go_backwards_and_mapped_only():
    x = T.vector("x")
    out, _ = aotsym.scan(lambda v: v * v - 1, sequences=x, go_backwards=True)
    _compiled_and_reference([x], [out], [np.arange(5.0)])


def test_until_stops_after_the_step_that_says_so():
    from aotsym.scan_module import until
    x0, limit = T.scalar("x0"), T.scalar("limit")
    out, _ = aotsym.scan(lambda x, lim: (x * 2, until(x * 2 > lim)), outputs_info=x0,
                         non_sequences=limit, n_steps=100)
    f, (got,) = _compiled_and_reference([x0, limit], [out], [1.0, 40.0])
    np.testing.assert_allclose(got, [2, 4, 8, 16, 32, 64])


def _with_keep(var, keep):
    """``var`` (an output of a Scan) rebuilt on a Scan that keeps only ``keep`` rows."""
    node = var.owner
    op = node.op.replace(keep=(keep,) * len(node.op.keep))
    new = op(*node.inputs)
    new = new if isinstance(new, list) else [new]
    return clone_replace([var], {var: new[var.index]})[0]


def test_kept_last_rows_live_in_a_ring():
    x, h0 = T.vector("x"), T.scalar("h0")
    out, _ = aotsym.scan(lambda v, h: h * 0.5 + v, sequences=x, outputs_info=h0)
    node = out.owner.inputs[0].owner if out.owner.op.__class__ is not Scan else out.owner
    state = node.outputs[0]
    kept = _with_keep(state, 3)
    values = [np.arange(10.0), 1.0]
    f = aotsym.function([x, h0], kept, mode="FAST_RUN")
    full = evaluate([state], {x: values[0], h0: np.float64(1.0)})[0]
    np.testing.assert_allclose(f(*values), full[-3:])
    np.testing.assert_allclose(f(np.arange(1.0), 1.0), full[:2])     # fewer rows than kept


def test_kept_rows_do_not_grow_with_the_steps(tmp_path):
    """The seed's promise: ``result[-1]`` over 10^5 steps of a 2000-float state does not keep
    10^5 states (1.6 GB): the optimizer keeps the last row (scan_keep_last_rows) and the loop
    runs in a ring of one row."""
    script = textwrap.dedent("""
        import resource, numpy as np, aotsym
        from aotsym import tensor as T
        k, h0 = T.lscalar("k"), T.vector("h0")
        out, _ = aotsym.scan(lambda h: h * 0.999 + 1.0, outputs_info=h0, n_steps=k)
        f = aotsym.function([k, h0], out[-1], mode="FAST_RUN")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        got = f(100000, np.zeros(2000))
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert got.shape == (2000,), got.shape
        assert np.allclose(got, (1 - 0.999 ** 100000) / 0.001), got[:3]
        print((after - before) * 1024)
    """)
    env = dict(os.environ, AOTSYM_FLAGS=f"cache_dir={tmp_path}")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    grown = int(proc.stdout.split()[-1])
    assert grown < 64 * 2**20, f"the loop grew the process by {grown} bytes"


def test_errors_name_the_users_scan_line():
    x, k, h0 = T.vector("x"), T.lscalar("k"), T.scalar("h0")
    out, _ = aotsym.scan(lambda v, h: h + v, sequences=x, outputs_info=h0, n_steps=k)  # line
    f = aotsym.function([x, k, h0], out, mode="FAST_RUN")
    assert _loop_steps(f)
    np.testing.assert_allclose(f(np.arange(5.0), 3, 0.0), [0, 1, 3])
    with pytest.raises(ValueError) as info:
        f(np.arange(2.0), 3, 0.0)
    text = str(info.value)
    assert "fewer than the 3 steps" in text and "test_emit_loops.py" in text
    with pytest.raises(ValueError, match="n_steps is -1"):
        f(np.arange(2.0), -1, 0.0)
    # a map the optimizer turned into no loop at all keeps the check
    mapped, _ = aotsym.scan(lambda v: v + 1, sequences=x, n_steps=k)   # the user's line
    g = aotsym.function([x, k], mapped, mode="FAST_RUN")
    assert not _loop_steps(g)
    np.testing.assert_allclose(g(np.arange(5.0), 3), [1, 2, 3])
    with pytest.raises(ValueError) as info:
        g(np.arange(2.0), 3)
    assert "fewer rows than the steps" in str(info.value)
    assert "test_emit_loops.py" in str(info.value)


def test_a_step_changing_its_shape_is_an_error():
    x = T.vector("x")
    out, _ = aotsym.scan(lambda i: T.arange(i), sequences=x.astype("int64"))
    f = aotsym.function([x], out, mode="FAST_RUN")
    with pytest.raises(ValueError, match="at step 1"):
        f(np.array([2.0, 3.0]))


def test_rnn_forward_and_gradient_compiled():
    rng = np.random.RandomState(0)
    X, W, h0 = T.matrix("X"), T.matrix("W"), T.vector("h0")
    hs, _ = aotsym.scan(lambda x_t, h, W: T.tanh(T.dot(W, h) + x_t), sequences=X,
                        outputs_info=h0, non_sequences=W)
    cost = (hs ** 2).sum()
    gW, gh0 = aotsym.grad(cost, [W, h0])
    values = [rng.randn(7, 4), rng.randn(4, 4) * 0.5, rng.randn(4)]
    _compiled_and_reference([X, W, h0], [hs, cost, gW, gh0], values)


@pytest.mark.parametrize("step", ["compute", "identity", "reversed_view", "mapped_too"])
def test_a_state_read_only_at_its_last_value_is_carried_without_copies(step):
    """``result[-1]`` of a depth-1 state: the loop keeps the last rows only, in a ring of
    values, and each step's new value buffer becomes the next step's input (no row buffer, no
    copy) — or a copy when the step returns its input or a view of it.  Values (and errors:
    ``result[-1]`` after no step at all) as the reference."""
    x, h0, k = T.matrix("x"), T.vector("h0"), T.lscalar("k")
    if step == "compute":
        out, _ = aotsym.scan(lambda r, h: T.tanh(h * 0.9 + r), sequences=x, outputs_info=h0)
        outs = [out[-1]]
    elif step == "identity":
        out, _ = aotsym.scan(lambda h: h, outputs_info=h0, n_steps=k)
        outs = [out[-1]]
    elif step == "reversed_view":
        out, _ = aotsym.scan(lambda h: h[::-1], outputs_info=h0, n_steps=k)
        outs = [out[-1]]
    else:
        (out, y), _ = aotsym.scan(lambda r, h: [h * 2 + r, h * 2 + r], sequences=x,
                                  outputs_info=[h0, None])
        outs = [out[-1], y.sum(axis=0)]
    inputs = [x, h0] if step in ("compute", "mapped_too") else [h0, k]
    f = aotsym.function(inputs, outs, mode="FAST_RUN")
    loops = _loop_steps(f)
    assert loops and any(s["keep"] is not None for s in loops[0].params["states"])
    rng = np.random.default_rng(5)
    cases = ([rng.standard_normal((6, 4)), rng.standard_normal(4)],
             [np.zeros((0, 4)), rng.standard_normal(4)],
             [np.array([[np.nan, 1, np.inf, -0.0]]), np.zeros(4)]) \
        if step in ("compute", "mapped_too") else \
        ([np.arange(4.0), np.int64(5)], [np.arange(4.0), np.int64(0)],
         [np.arange(4.0), np.int64(1)])
    g = aotsym.function(inputs, outs, mode="FAST_COMPILE")
    for values in cases:
        try:
            want = g(*values)
        except IndexError:                      # no step: result[-1] does not exist
            with pytest.raises(IndexError):
                f(*values)
            continue
        for got, w in zip(f(*values), want):
            np.testing.assert_allclose(got, w, equal_nan=True)
            assert not np.shares_memory(got, values[0]) and not np.shares_memory(got, values[1])
