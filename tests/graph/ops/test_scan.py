"""The Scan op: layout, reference loop (taps, until, keep, hidden), shapes, pruning,
gradients (BPTT, truncation, second derivatives) against finite differences."""

import numpy as np
import pytest

import aotsym
from aotsym.optimizer.testing import merged
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.scan import Scan
from aotsym.gradient import verify_grad
from aotsym.optimizer.inner import prune_unused_outputs

RNG = np.random.default_rng(0)


def scan_node(v):
    while not isinstance(v.owner.op, Scan):
        v = v.owner.inputs[0]
    return v.owner


def test_layout_and_structured_params():
    x, h0, w = T.matrix("x"), T.vector("h0"), T.vector("w")
    outs, _ = aotsym.scan(lambda xt, h2, h1, w: [h1 * w + xt - h2, (h1 * xt).sum()],
                          sequences=x, outputs_info=[{"initial": h0.dimshuffle("x", 0) *
                                                      T.ones((2, 1)), "taps": [-2, -1]}, None],
                          non_sequences=w)
    node = scan_node(outs[0])
    op = node.op
    assert (op.n_seqs, op.state_taps, op.n_mapped, op.n_nonseqs) == (1, ((-2, -1),), 1, 1)
    assert op.structured_kind == "loop"
    params = op.structured_params(node)
    assert params["sequences"] == [{"input": 1, "inner_input": 0}]
    assert params["states"] == [{"input": 2, "output": 0, "taps": [-2, -1], "depth": 2,
                                 "inner_inputs": [1, 2], "inner_output": 0, "keep": None}]
    assert params["mapped"] == [{"output": 1, "inner_output": 1, "keep": None}]
    assert params["non_sequences"] == [{"input": 3, "inner_input": 3}]
    assert params["until"] is None
    # the state output holds the initial rows too; the user sees it without them
    xv, h0v, wv = RNG.normal(size=(4, 3)), RNG.normal(size=3), RNG.normal(size=3)
    full, = evaluate([node.outputs[0]], {x: xv, h0: h0v, w: wv})
    assert full.shape == (6, 3)
    np.testing.assert_allclose(full[:2], [h0v, h0v])


def test_two_traces_of_the_same_scan_are_one_node():
    x, w = T.vector("x"), T.scalar("w")

    def build():
        out, _ = aotsym.scan(lambda xt, h, w: h * w + xt, sequences=x,
                             outputs_info=T.zeros_like(w), non_sequences=w)
        return out

    a, b = build(), build()
    assert merged(a) is merged(b) and a is not b   # two variables, one node once merged


def test_until_truncates_the_outputs():
    s = T.scalar("s")
    out, _ = aotsym.scan(lambda h: (h * 2, aotsym.scan_module.until(h * 2 > s)),
                         outputs_info=T.constant(1.0), n_steps=100)
    (got,) = evaluate([out], {s: 50.0})
    np.testing.assert_array_equal(got, [2, 4, 8, 16, 32, 64])
    (got,) = evaluate([out], {s: 1e300})
    assert got.shape == (100,)


def test_keep_and_hidden_states_in_perform():
    x = T.vector("x")
    (a, b), _ = aotsym.scan(lambda xt, h, g: [h + xt, g * 2 + h], sequences=x,
                            outputs_info=[T.constant(0.0), T.constant(1.0)])
    node = scan_node(a)
    xv = np.arange(5.0)
    full_a, full_b = evaluate(list(node.outputs), {x: xv})
    kept = node.op.replace(keep=(1, 2)).make_node(*node.inputs)
    got_a, got_b = evaluate(list(kept.outputs), {x: xv})
    np.testing.assert_array_equal(got_a, full_a[-1:])
    np.testing.assert_array_equal(got_b, full_b[-2:])
    # only b read: a is still needed by b's step, so it stays as hidden internal state
    fg = prune_unused_outputs(FunctionGraph([x], [node.outputs[1]]))
    new = scan_node(fg.outputs[0])
    assert new.op.hidden == (True, False) and len(new.outputs) == 1
    assert new.op.structured_params(new)["states"][0]["output"] is None
    np.testing.assert_array_equal(evaluate(list(fg.outputs), {x: xv})[0], full_b)


def test_prune_drops_unread_mapped_outputs_and_inputs():
    x, z = T.vector("x"), T.vector("z")
    (a, b), _ = aotsym.scan(lambda xt, zt: [xt * 2, zt + 1], sequences=[x, z])
    fg = prune_unused_outputs(FunctionGraph([x, z], [a]))
    node = scan_node(fg.outputs[0])
    assert node.op.n_mapped == 1 and node.op.n_seqs == 1 and z not in node.inputs
    np.testing.assert_array_equal(evaluate(list(fg.outputs), {x: np.arange(3.0),
                                                               z: np.zeros(3)})[0], [0, 2, 4])


def test_infer_shape():
    from aotsym.graph.ops.shape import shape
    x, h0 = T.matrix("x"), T.vector("h0")
    (h, y), _ = aotsym.scan(lambda xt, h: [h + xt, T.outer(xt, h)], sequences=x,
                            outputs_info=[h0, None])
    node = scan_node(h)
    shapes = node.op.infer_shape(node, [(), (T.constant(np.int64(4)), T.constant(np.int64(3))),
                                        (T.constant(np.int64(1)), T.constant(np.int64(3)))])
    vals = [[int(evaluate([e], {x: np.zeros((4, 3)), h0: np.zeros(3)})[0]) if not
             isinstance(e, int) else e for e in s] for s in shapes]
    assert vals == [[5, 3], [4, 3, 3]]
    (got,) = evaluate([shape(y)], {x: np.zeros((4, 3)), h0: np.zeros(3)})
    assert list(got) == [4, 3, 3]


def test_rnn_gradient_matches_finite_differences():
    def rnn(x, h0, W, U):
        out, _ = aotsym.scan(lambda xt, h, W, U: T.tanh(T.dot(h, W) + T.dot(xt, U)),
                             sequences=x, outputs_info=h0, non_sequences=[W, U])
        return out

    verify_grad(rnn, [RNG.normal(size=(5, 3)), RNG.normal(size=4),
                      RNG.normal(size=(4, 4)) * 0.5, RNG.normal(size=(3, 4))])


def test_gradient_with_taps_mapped_outputs_and_go_backwards():
    def taps(x, h0):
        out, _ = aotsym.scan(lambda a, b, c, h2, h1: a * b + T.sin(c) * h1 - 0.5 * h2 * h1,
                             sequences={"input": x, "taps": [-1, 0, 2]},
                             outputs_info={"initial": h0, "taps": [-2, -1]})
        return out

    verify_grad(taps, [RNG.normal(size=8), RNG.normal(size=3)])

    def mapped(x, w):
        out, _ = aotsym.scan(lambda a, h, w: [h * w + a, T.exp(h) * a], sequences=x,
                             outputs_info=[T.zeros_like(w), None], non_sequences=w,
                             go_backwards=True)
        return out[0].sum() + out[1][1:].sum()

    verify_grad(mapped, [RNG.normal(size=(4, 2)), RNG.normal(size=2)])


def test_gradient_with_respect_to_a_shared_variable_read_in_the_step():
    w = aotsym.shared(np.array([0.5, -0.3]), name="w")
    x = T.matrix("x")
    out, _ = aotsym.scan(lambda xt, h: T.tanh(h * w + xt), sequences=x,
                         outputs_info=T.zeros_like(w))
    g = aotsym.grad(out.sum(), w)
    xv = RNG.normal(size=(4, 2))

    def cost(wv):
        h, total = np.zeros(2), 0.0
        for row in xv:
            h = np.tanh(h * wv + row)
            total += h.sum()
        return total

    (got,) = evaluate([g], {x: xv, w: w.get_value()})
    eps = 1e-6
    num = [(cost(w.get_value() + eps * e) - cost(w.get_value() - eps * e)) / (2 * eps)
           for e in np.eye(2)]
    np.testing.assert_allclose(got, num, rtol=1e-5)


def test_truncate_gradient_stops_after_the_last_steps():
    x, w = T.vector("x"), T.scalar("w")
    out, _ = aotsym.scan(lambda xt, h, w: h * w + xt, sequences=x,
                         outputs_info=T.constant(0.0), non_sequences=w, truncate_gradient=2)
    gx, gw = aotsym.grad(out[-1], [x, w])
    got_x, got_w = evaluate([gx, gw], {x: np.arange(1.0, 6.0), w: np.float64(0.5)})
    np.testing.assert_allclose(got_x, [0, 0, 0, 0.5, 1])
    # h4 = w*h3 + x4, h3 = w*h2 + x3: d/dw over the last two steps only = h3 + w*h2
    h = [1.0]
    for v in [2.0, 3.0, 4.0, 5.0]:
        h.append(h[-1] * 0.5 + v)
    np.testing.assert_allclose(got_w, h[3] + 0.5 * h[2])


def test_second_derivative_through_scan():
    def first(w):
        x = T.constant(np.linspace(-1, 1, 5))
        out, _ = aotsym.scan(lambda a, h, w: T.tanh(h * w + a), sequences=x,
                             outputs_info=T.constant(0.1), non_sequences=w)
        return aotsym.grad(out.sum(), w)

    verify_grad(first, [np.array(0.8)])


def test_gradient_of_until_scan_runs_over_the_steps_run():
    """(Do-while gradients in depth: test_scan_until_grad.py.)"""
    w = T.scalar("w")
    out, _ = aotsym.scan(lambda h, w: (h * w, aotsym.scan_module.until(h > 10)),
                         outputs_info=T.constant(1.0), non_sequences=w, n_steps=6)
    got_out, got = evaluate([out, aotsym.grad(out.sum(), w)], {w: np.float64(3.0)})
    # the step reading h = 27 stops the loop: rows w, w^2, w^3, w^4 (4 of the 6 steps)
    np.testing.assert_array_equal(got_out, [3, 9, 27, 81])
    np.testing.assert_allclose(got, 1 + 2 * 3.0 + 3 * 3.0 ** 2 + 4 * 3.0 ** 3)
