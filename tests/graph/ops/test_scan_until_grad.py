"""Gradients through a do-while scan (``until``): the backward loop runs over the steps the
forward loop ran (``n_run``, the length of its outputs), not over ``n_steps`` — checked
against finite differences on the reference evaluator (``verify_grad``) and against a NumPy
loop, compiled (FAST_RUN) and on the reference; early stop, no stop, stop at step 1, no
step, taps, go_backwards, mapped outputs, truncate_gradient, second derivatives."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.gradient import verify_grad
from aotsym.scan_module import until

RNG = np.random.default_rng(3)


def _growth(w, h0, limit, n_steps=10):
    """h <- h * w + 0.1, the step reading h stopping the loop when sum(h) > limit."""
    out, _ = aotsym.scan(lambda h, w: (h * w + 0.1, until(h.sum() > limit)),
                         outputs_info=h0, non_sequences=w, n_steps=n_steps)
    return out


def _numpy_growth(w, h0, limit, n_steps=10):
    rows, h = [], h0
    for _ in range(n_steps):
        stop = h.sum() > limit
        h = h * w + 0.1
        rows.append(h)
        if stop:
            break
    return np.array(rows)


def _steps(out, values):
    (got,) = evaluate([out], values)
    return got.shape[0]


@pytest.mark.parametrize("limit, steps", [(3.0, 5), (1e9, 10), (-1.0, 1)],
                         ids=["stops_early", "runs_all_steps", "stops_at_step_1"])
def test_do_while_gradient_matches_finite_differences(limit, steps):
    w0, h00 = np.array([1.3, 1.2]), np.array([0.5, 0.6])
    w, h0 = T.vector("w"), T.vector("h0")
    assert _steps(_growth(w, h0, limit), {w: w0, h0: h00}) == steps
    assert len(_numpy_growth(w0, h00, limit)) == steps
    verify_grad(lambda w, h0: _growth(w, h0, limit), [w0, h00])
    verify_grad(lambda w, h0: _growth(w, h0, limit)[-1] ** 2, [w0, h00])


def test_do_while_with_no_step_at_all():
    w, h0 = T.vector("w"), T.vector("h0")
    out = _growth(w, h0, 3.0, n_steps=0)
    gw, gh = aotsym.grad(out.sum() + h0.sum(), [w, h0])
    got_w, got_h = evaluate([gw, gh], {w: np.ones(2), h0: np.ones(2)})
    np.testing.assert_array_equal(got_w, [0, 0])
    np.testing.assert_array_equal(got_h, [1, 1])


def test_sequence_rows_after_the_stop_get_zero_gradient():
    """The rows past the stop are never read: a NaN there changes nothing, and their
    gradient is exactly 0 (the backward loop does not run over them)."""
    x, w = T.vector("x"), T.scalar("w")
    out, _ = aotsym.scan(lambda xt, h, w: (h * w + xt, until(h * w + xt > 2.0)), sequences=x,
                         outputs_info=T.constant(0.5), non_sequences=w)
    gx, gw = aotsym.grad((out ** 2).sum(), [x, w])
    xv = np.array([0.3, 0.4, 1.5, np.nan, 7.0])
    got_x, got_w = evaluate([gx, gw], {x: xv, w: np.float64(0.9)})
    assert np.all(np.isfinite(got_x)) and np.isfinite(got_w)
    np.testing.assert_array_equal(got_x[3:], [0.0, 0.0])

    def cost(xs, wv):
        h, total = 0.5, 0.0
        for v in xs:
            h = h * wv + v
            total += h * h
            if h > 2.0:
                break
        return total

    eps = 1e-6
    num_x = [(cost(xv + eps * e, 0.9) - cost(xv - eps * e, 0.9)) / (2 * eps)
             for e in np.eye(3, 5)]
    np.testing.assert_allclose(got_x[:3], num_x, rtol=1e-6)
    np.testing.assert_allclose(got_w, (cost(xv, 0.9 + eps) - cost(xv, 0.9 - eps)) / (2 * eps),
                               rtol=1e-6)


def test_taps_mapped_outputs_and_go_backwards():
    def taps(x, h0):
        out, _ = aotsym.scan(
            lambda a, b, h2, h1: (a * b + T.sin(h1) - 0.5 * h2 * h1, until(h1 > 1.1)),
            sequences={"input": x, "taps": [-1, 1]},
            outputs_info={"initial": h0, "taps": [-2, -1]})
        return out

    x0, h00 = np.linspace(0.2, 1.6, 9), np.array([0.3, 0.4])
    x, h0 = T.vector("x"), T.vector("h0")
    assert 1 < _steps(taps(x, h0), {x: x0, h0: h00}) < 7
    verify_grad(taps, [x0, h00])

    def mapped(x, w):
        out, _ = aotsym.scan(
            lambda a, h, w: ([h * w + a, T.exp(h) * a], until((h * w + a).sum() > 1.0)),
            sequences=x, outputs_info=[T.zeros_like(w), None], non_sequences=w,
            go_backwards=True)
        return out[0].sum() + out[1][1:].sum()

    xv = np.abs(RNG.normal(size=(6, 2))) * 0.4
    xs, ws = T.matrix("x"), T.vector("w")
    m_out, _ = aotsym.scan(
        lambda a, h, w: ([h * w + a, T.exp(h) * a], until((h * w + a).sum() > 1.0)),
        sequences=xs, outputs_info=[T.zeros_like(ws), None], non_sequences=ws,
        go_backwards=True)
    assert 1 < _steps(m_out[1], {xs: xv, ws: np.array([0.7, 0.8])}) < 6
    verify_grad(mapped, [xv, np.array([0.7, 0.8])])


def test_truncate_gradient_counts_back_from_the_stop():
    """truncate_gradient=2 keeps the last two steps *run*, not the last two of n_steps."""
    x, w = T.vector("x"), T.scalar("w")
    out, _ = aotsym.scan(lambda xt, h, w: (h * w + xt, until(h * w + xt > 5.0)), sequences=x,
                         outputs_info=T.constant(0.0), non_sequences=w, truncate_gradient=2)
    gx, gw = aotsym.grad(out[-1], [x, w])
    xv = np.arange(1.0, 8.0)   # h: 1, 2.5, 4.25, 6.125 -> stops after step 3 of 7
    got_x, got_w = evaluate([gx, gw], {x: xv, w: np.float64(0.5)})
    np.testing.assert_allclose(got_x, [0, 0, 0.5, 1, 0, 0, 0])
    h = [1.0, 2.5, 4.25, 6.125]
    np.testing.assert_allclose(got_w, h[2] + 0.5 * h[1])


def test_second_derivative_through_a_do_while():
    def first(w):
        x = T.constant(np.linspace(-1, 1, 7))
        out, _ = aotsym.scan(lambda a, h, w: (T.tanh(h * w + a), until(a > 0.3)),
                             sequences=x, outputs_info=T.constant(0.1), non_sequences=w)
        return aotsym.grad((out ** 2).sum(), w)

    verify_grad(first, [np.array(0.8)])


@pytest.mark.parametrize("limit, steps", [(1.0, 3), (1e9, 8), (-1.0, 1)],
                         ids=["stops_early", "runs_all_steps", "stops_at_step_1"])
def test_compiled_gradient_matches_the_reference_and_numpy(limit, steps):
    w, h0, X = T.vector("w"), T.vector("h0"), T.matrix("X")
    hs, _ = aotsym.scan(lambda x_t, h, w: (T.tanh(h * w + x_t) + 0.3,
                                           until(h.sum() > limit)),
                        sequences=X, outputs_info=h0, non_sequences=w)
    cost = (hs ** 2).sum()
    grads = aotsym.grad(cost, [w, h0, X])
    values = [np.array([1.1, 0.9]), np.array([0.2, -0.1]),
              np.random.default_rng(0).normal(size=(8, 2)) * 0.5]
    last = aotsym.grad(hs[-1].sum(), w)   # only the last row read: the forward keeps all
    f = aotsym.function([w, h0, X], [hs, cost] + grads + [last], mode="FAST_RUN")
    got = f(*values)
    assert got[0].shape == (steps, 2)
    want = evaluate([hs, cost] + grads + [last], dict(zip([w, h0, X], values)))
    for a, b in zip(got, want):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)

    def cost_np(wv, hv, xv):
        total = 0.0
        for row in xv:
            cond = hv.sum() > limit
            hv = np.tanh(hv * wv + row) + 0.3
            total += (hv ** 2).sum()
            if cond:
                break
        return total

    eps = 1e-6
    for i, g in enumerate(got[2:5]):
        num = np.zeros_like(values[i])
        for idx in np.ndindex(*values[i].shape):
            plus = [v.copy() for v in values]
            minus = [v.copy() for v in values]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            num[idx] = (cost_np(*plus) - cost_np(*minus)) / (2 * eps)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)
