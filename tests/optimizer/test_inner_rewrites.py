"""Optimizer stages inside inner graphs, pruning unused outputs, inlining OpFromGraph."""

import numpy as np
import pytest

from aotsym.optimizer.testing import merged
from aotsym import tensor as T
from aotsym.graph.basic import apply, toposort
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.inner import HasInnerGraphs, InnerGraph
from aotsym.graph.op import Op
from aotsym.graph.ops import math as m
from aotsym.graph.ops.opfromgraph import OpFromGraph
from aotsym.optimizer.engine import RewriteError
from aotsym.optimizer.inner import prune_unused_outputs
from aotsym.optimizer.pipeline import optimize
from aotsym.optimizer.testing import assert_graph, count_ops

NO_INLINE = ["merge", "canonicalize", "stabilize"]


def holders(fg):
    return [n for n in fg.toposort() if isinstance(n.op, OpFromGraph)]


def test_log1p_rewrite_fires_inside_the_body():
    x = T.vector("x")
    op = OpFromGraph([x], [T.log(1 + x)], name="body")
    a = T.vector("a")
    fg = optimize(FunctionGraph([a], [op(a)]), stages=NO_INLINE)
    (node,) = holders(fg)
    assert node.inputs == (a,) and str(node.op) == "body"
    body = node.op.inner
    assert_graph(body.outputs[0], m.log1p(body.inputs[0]))
    stats = fg.meta["optimizer_stats"]
    assert stats.fired("log1p_from_log") == 1
    assert stats.fired("optimize_inner_graphs") == 1
    assert [s.name for s in stats.stages][-1] == "inner_graphs"
    tiny = np.array([1e-20, 1e-17, 0.5])
    (naive,) = evaluate([op(a)], {a: tiny})
    (good,) = evaluate(list(fg.outputs), {a: tiny})
    assert naive[0] == 0.0                                   # the unoptimized body loses it
    np.testing.assert_allclose(good, np.log1p(tiny), rtol=1e-15)


def test_nested_bodies_are_optimized_recursively():
    u = T.vector("u")
    inner = OpFromGraph([u], [T.exp(u) - 1], name="Inner")
    x = T.vector("x")
    outer = OpFromGraph([x], [inner(x) * 2.0], name="Outer")
    a = T.vector("a")
    fg = optimize(FunctionGraph([a], [outer(a)]), stages=NO_INLINE)
    (node,) = holders(fg)
    (nested,) = [n for n in node.op.inner.nodes() if isinstance(n.op, OpFromGraph)]
    assert_graph(nested.op.inner.outputs[0], m.expm1(nested.op.inner.inputs[0]))
    assert fg.meta["optimizer_stats"].fired("expm1_from_exp") == 1
    v = np.array([1e-18, 0.25])
    np.testing.assert_allclose(evaluate(list(fg.outputs), {a: v})[0], 2 * np.expm1(v),
                               rtol=1e-15)


def test_equal_bodies_stay_one_node_and_are_optimized_once():
    def trace():
        x = T.vector("x")
        return OpFromGraph([x], [T.log(1 + x)])
    a = T.vector("a")
    out = trace()(a) + trace()(a)
    assert merged(out.owner.inputs[0]) is merged(out.owner.inputs[1])
    fg = optimize(FunctionGraph([a], [out]), stages=NO_INLINE)
    assert len(holders(fg)) == 1
    assert fg.meta["optimizer_stats"].fired("log1p_from_log") == 1


def test_inline_expands_the_body_in_every_mode():
    x, y = T.vector("x"), T.vector("y")
    op = OpFromGraph([x, y], [x * y + 1.0])
    a, b = T.vector("a"), T.vector("b")
    fg = optimize(FunctionGraph([a, b], [op(a, b)]), stages=["inline"])
    assert_graph(fg.outputs[0], a * b + 1.0)
    assert fg.meta["optimizer_stats"].fired("inline_op_from_graph") == 1
    for mode in ["FAST_RUN", "FAST_COMPILE", "DEBUG_MODE"]:
        fg = optimize(FunctionGraph([a, b], [T.exp(op(a, b))]), mode=mode)
        assert count_ops(list(fg.outputs), OpFromGraph) == 0, mode


def test_inline_reaches_bodies_nested_in_an_inlined_body():
    u = T.vector("u")
    inner = OpFromGraph([u], [T.sin(u)])
    x = T.vector("x")
    outer = OpFromGraph([x], [inner(x) + inner(x * 2.0)])
    a = T.vector("a")
    fg = optimize(FunctionGraph([a], [outer(a)]), stages=["inline"])
    assert_graph(fg.outputs[0], T.sin(a) + T.sin(a * 2.0))


def test_a_graph_without_inner_graphs_gets_no_inner_stage():
    a = T.vector("a")
    fg = optimize(FunctionGraph([a], [T.log(1 + a)]), stages=NO_INLINE)
    names = [s.name for s in fg.meta["optimizer_stats"].stages]
    assert names == NO_INLINE


def test_prune_stage_keeps_the_graph_and_its_values():
    x, y = T.vector("x"), T.vector("y")
    op = OpFromGraph([x, y], [T.exp(x), T.log(y) * x])
    a, b = T.vector("a"), T.vector("b")
    e, _unused = op(a, b)
    fg = optimize(FunctionGraph([a, b], [e * 2.0, b]), stages=["prune_outputs"])
    (node,) = holders(fg)
    assert len(node.outputs) == 1 and node.inputs == (a,)
    va = np.array([0.0, 1.0])
    np.testing.assert_allclose(evaluate([fg.outputs[0]], {a: va})[0], 2 * np.exp(va))
    # everything used: nothing pruned, the same graph
    both = FunctionGraph([a, b], list(op(a, b)))
    assert prune_unused_outputs(both) is both


class _BadPrune(HasInnerGraphs, Op):
    """An op whose prune_outputs breaks the contract (returns every output)."""

    nout = 2

    def output_types(self, inputs):
        return [inputs[0].type, inputs[0].type]

    def prune_outputs(self, node, used):
        return apply(_BadPrune(), [node.inputs[0] + 1])


def test_a_broken_prune_contract_is_reported():
    a = T.vector("a")
    out0 = apply(_BadPrune(), [a]).outputs[0]
    with pytest.raises(RewriteError, match="one per used output"):
        prune_unused_outputs(FunctionGraph([a], [out0]))


def test_debug_mode_checks_rewrites_inside(monkeypatch):
    x = T.vector("x")
    op = OpFromGraph([x], [T.log(1 + x) * (T.exp(x) - 1)])
    a = T.vector("a")
    fg = optimize(FunctionGraph([a], [op(a)]), mode="DEBUG_MODE", stages=NO_INLINE)
    (node,) = holders(fg)
    ops = {str(n.op) for n in node.op.inner.nodes()}
    assert "Elemwise{log1p}" in ops and "Elemwise{expm1}" in ops
    # a wrong rule that fires only inside the body is caught there
    from aotsym.optimizer import pipeline
    from aotsym.optimizer.debug import RewriteCheckError
    from aotsym.optimizer.engine import Stage
    from aotsym.optimizer.pattern import P, Rule, RuleSet
    wrong = Rule("wrong_exp", P.exp(P.var("v")), lambda v: T.sin(v))
    monkeypatch.setitem(pipeline.STAGES, "wrong", Stage("wrong", rules=RuleSet("w", [wrong])))
    with pytest.raises(RewriteCheckError, match="wrong_exp"):
        optimize(FunctionGraph([a], [op(a)]), mode="DEBUG_MODE", stages=["wrong"])


def test_fast_run_stages_inside_a_body_that_is_not_inlined():
    """Every FAST_RUN stage but inline runs inside (fusion included)."""
    x, y = T.vector("x"), T.vector("y")
    op = OpFromGraph([x, y], [T.exp(x) * y + T.sin(x)])
    a, b = T.vector("a"), T.vector("b")
    from aotsym.optimizer.pipeline import FAST_RUN
    stages = [s for s in FAST_RUN if s != "inline"]
    fg = optimize(FunctionGraph([a, b], [op(a, b)]), stages=stages)
    (node,) = holders(fg)
    inner_ops = [type(n.op).__name__ for n in node.op.inner.nodes()]
    assert inner_ops == ["Composite"]
    va, vb = np.array([0.1, -2.0]), np.array([3.0, 0.5])
    np.testing.assert_allclose(evaluate(list(fg.outputs), {a: va, b: vb})[0],
                               np.exp(va) * vb + np.sin(va))
    assert isinstance(node.op.inner, InnerGraph) and len(toposort(list(fg.outputs))) == 1
