"""Inplace: outputs over dead intermediates; never over user inputs or live values."""

import numpy as np

from aotsym import tensor as T
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.gemm import Gemv
from aotsym.optimizer import optimize


def _destroyers(fg):
    return [n for n in fg.toposort() if n.op.destroy_map]


def test_chain_of_intermediates_is_inplace_but_inputs_are_not():
    x = T.vector("x")
    y = T.exp(x)
    z = T.log(T.sum(y)) + T.sin(y)   # y read twice: fusion keeps it, sin reads it last
    fg = optimize(FunctionGraph([x], [z]), stages=["inplace"])
    for node in _destroyers(fg):
        for ins in node.op.destroy_map.values():
            assert node.inputs[ins[0]] is not x


def test_value_read_later_is_not_destroyed():
    x = T.vector("x")
    e = T.exp(x)
    a = T.sin(e)      # could write over e ...
    b = a + e         # ... but e is read again here, after sin
    fg = optimize(FunctionGraph([x], [b]), stages=["inplace"])
    sin_node = fg.outputs[0].owner.inputs[0].owner
    assert not sin_node.op.destroy_map
    assert fg.outputs[0].owner.op.destroy_map  # the add may overwrite sin's result


def test_graph_outputs_are_not_destroyed():
    x = T.vector("x")
    e = T.exp(x)
    fg = optimize(FunctionGraph([x], [e, T.sin(e)]), stages=["inplace"])
    assert not fg.outputs[1].owner.op.destroy_map


def _logreg_update():
    x, d = T.matrix("x"), T.vector("d")
    w = T.vector("w")
    pred = T.dot(x, w)
    new_w = w - 0.1 * T.dot(x.T, d * pred)
    return x, d, w, pred, new_w


def test_shared_update_gemv_is_inplace_only_with_update_declared():
    x, d, w, pred, new_w = _logreg_update()
    fg = FunctionGraph([x, d, w], [pred, new_w], n_updates=1, meta={"updates": {1: 2}})
    out = optimize(fg)
    gemv = [n for n in out.toposort() if isinstance(n.op, Gemv) and n.inputs[0] is w]
    assert len(gemv) == 1 and gemv[0].op.inplace
    # the forward dot(x, w) reads w before the update writes over it
    assert out.toposort().index(out.outputs[0].owner) < out.toposort().index(gemv[0])
    plain = optimize(FunctionGraph([x, d, w], [pred, new_w], n_updates=1))
    on_w = [n for n in plain.toposort() if isinstance(n.op, Gemv) and n.inputs[0] is w]
    assert len(on_w) == 1 and not on_w[0].op.inplace


def test_debug_mode_checks_inplace_results():
    x, d, w, pred, new_w = _logreg_update()
    fg = FunctionGraph([x, d, w], [pred, new_w], n_updates=1, meta={"updates": {1: 2}})
    optimize(fg, mode="DEBUG_MODE")  # raises if a write were seen by a later reader


def test_user_input_never_destroyed_in_evaluation():
    x = T.vector("x")
    fg = optimize(FunctionGraph([x], [T.exp(x) * 2 + 1]))
    from aotsym.graph.evaluate import evaluate
    xv = np.array([1.0, 2.0, 3.0])
    keep = xv.copy()
    evaluate(list(fg.outputs), {x: xv})
    np.testing.assert_array_equal(xv, keep)


def test_view_of_a_value_counts_as_a_reader():
    x = T.matrix("x")
    e = T.exp(x)
    t = e.T                 # a view of e's buffer
    s = T.sin(e)            # may not write over e: the view t is read afterwards
    out = T.dot(t, s)
    fg = optimize(FunctionGraph([x], [out]), stages=["inplace"])
    sin_node = [n for n in fg.toposort() if "sin" in str(n.op)][0]
    assert not sin_node.op.destroy_map
    from aotsym.optimizer.testing import assert_same_values
    assert_same_values([out], list(fg.outputs))


def test_composite_prefers_a_destroyable_input():
    x, y, a = T.vector("x"), T.vector("y"), T.matrix("a")
    e = T.dot(a, y)          # not elementwise: an input of the fused loop
    fused = optimize(FunctionGraph([x, y, a], [T.exp(x) * e + 1]),
                     stages=["fuse_elementwise", "inplace"])
    node = fused.outputs[0].owner
    assert node.inputs[0] is x      # the user's x comes first but is never written
    assert node.op.destroy_map and node.inputs[node.op.destroy_map[0][0]] is e
