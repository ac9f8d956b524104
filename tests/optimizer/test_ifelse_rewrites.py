"""The ifelse stage (aotsym.optimizer.ifelse): each rewrite's before/after, values against
the reference evaluator, and laziness proven with an op that counts its runs: the branch
not taken runs nothing, in FAST_COMPILE and DEBUG_MODE (the reference modes)."""

import numpy as np
import pytest

import aotsym
from aotsym.optimizer.testing import merged
from aotsym import tensor as T
from aotsym.graph.basic import toposort
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.inner import InnerGraph
from aotsym.graph.op import Op
from aotsym.graph.ops.ifelse import IfElse, ifelse
from aotsym.optimizer.engine import OptimizerStats, PassContext
from aotsym.optimizer.ifelse import (bypass_identical_branches, fold_constant_condition,
                                     fold_known_condition, lift_common_work,
                                     merge_same_condition, optimize_ifelse, sink_into_branches)
from aotsym.optimizer.pipeline import MODES
from aotsym.optimizer.testing import assert_same_values, optimized_graph


class Counted(Op):
    """``x * 1``, counting its reference runs."""

    __props__ = ("tag",)
    runs = 0
    by_tag: dict = {}

    def __init__(self, tag="c"):
        self.tag = tag

    def output_types(self, inputs):
        return [inputs[0].type]

    def perform(self, node, inputs):
        type(self).runs += 1
        Counted.by_tag[self.tag] = Counted.by_tag.get(self.tag, 0) + 1
        return [np.array(inputs[0], copy=True)]

    def grad(self, node, inputs, output_grads):
        return [output_grads[0]]


def ifelse_nodes(outputs):
    outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [n for n in toposort(outs) if isinstance(n.op, IfElse)]


def branch_ops(node, b):
    return [type(n.op).__name__ if not hasattr(n.op, "scalar_op") else str(n.op)
            for n in node.op.inner_graphs[b].nodes()]


def run_stage(outputs):
    outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    inputs = [v for v in FunctionGraph([], outs, check=False).variables()
              if v.owner is None and not hasattr(v, "data")]
    ctx = PassContext(stats=OptimizerStats())
    fg = optimize_ifelse(FunctionGraph(inputs, outs), ctx)
    return fg, ctx.stats


# ---------------------------------------------------------------------------- the stage


def test_the_stage_runs_after_canonicalize_in_every_mode():
    for mode, stages in MODES.items():
        assert "ifelse" in stages, mode
        before = "canonicalize" if "canonicalize" in stages else "fold"
        assert stages.index("ifelse") == stages.index(before) + 1, mode


# ---------------------------------------------------------------------------- sinking


def test_sink_into_branches_moves_what_only_one_branch_reads():
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z = ifelse(T.lt(a, b), T.exp(x).sum(), T.log(y).mean())
    (before,) = ifelse_nodes(z)
    assert branch_ops(before, 0) == [] and branch_ops(before, 1) == []
    fg, moved = sink_into_branches(FunctionGraph([a, b, x, y], [z]))
    (after,) = ifelse_nodes(fg.outputs)
    # before: IfElse(lt(a, b), sum(exp(x)), mean(log(y)))   after: IfElse(lt(a, b), x, y)
    assert [merged(v) for v in after.inputs] == [merged(T.lt(a, b)), x, y]
    assert "Elemwise{exp}" in branch_ops(after, 0) and "Elemwise{log}" not in \
        branch_ops(after, 0)
    assert "Elemwise{log}" in branch_ops(after, 1) and "Elemwise{exp}" not in \
        branch_ops(after, 1)
    assert moved >= 4
    for cond in (0.0, 2.0):
        assert_same_values(z, fg.outputs[0], {a: cond, b: 1.0})


def test_what_the_condition_or_both_branches_or_the_outside_read_stays_out():
    c = T.scalar("c")
    x = T.vector("x")
    shared_work = T.exp(x)                     # read by both branches
    outside = T.sin(x)                         # read by a graph output too
    cond = T.gt(T.cos(c), 0)                   # the condition's work
    z = ifelse(cond, shared_work * 2 + outside, shared_work - 1)
    fg, _ = sink_into_branches(FunctionGraph([c, x], [z, outside]))
    (node,) = ifelse_nodes(fg.outputs)
    outer = {str(n.op) for n in toposort(fg.outputs)}
    assert {"Elemwise{exp}", "Elemwise{sin}", "Elemwise{cos}", "Elemwise{gt}"} <= outer
    assert "Elemwise{mul}" in branch_ops(node, 0) and "Elemwise{sub}" in branch_ops(node, 1)
    assert_same_values([z, outside], fg.outputs, {c: 0.0})
    assert_same_values([z, outside], fg.outputs, {c: 3.0})


def test_nested_ifelse_moves_with_its_sub_tree():
    c1, c2 = T.iscalars("c1", "c2")
    x, y = T.vectors("x", "y")
    inner = ifelse(c2, T.exp(x), T.log(y))
    z = ifelse(c1, inner * 2, T.sin(y))
    fg, _ = sink_into_branches(FunctionGraph([c1, c2, x, y], [z]))
    (outer,) = ifelse_nodes(fg.outputs)                   # not entering inner graphs
    assert [type(n.op) for n in outer.op.then_graph.nodes()].count(IfElse) == 1
    # the nested one is made lazy when the stage runs inside the branch
    opt = optimized_graph([z], mode="FAST_COMPILE")
    (node,) = ifelse_nodes(opt.outputs)
    (nested,) = [n for n in node.op.then_graph.nodes() if isinstance(n.op, IfElse)]
    assert "Elemwise{exp}" in branch_ops(nested, 0)
    for a in (0, 1):
        for b in (0, 1):
            assert_same_values(z, opt.outputs[0], {c1: np.int32(a), c2: np.int32(b)})


# ---------------------------------------------------------------------------- rules


def test_fold_constant_condition():
    x, y = T.vectors("x", "y")
    # before: IfElse(1, x * 2, exp(y))          after: x * 2
    z = ifelse(np.int8(1), x * 2, T.exp(y))
    assert [merged(v) for v in fold_constant_condition.apply(z.owner, None)] == [merged(x * 2)]
    w = ifelse(False, x * 2, T.exp(y))
    assert [merged(v) for v in fold_constant_condition.apply(w.owner, None)] == [merged(T.exp(y))]
    assert fold_constant_condition.apply(ifelse(T.bscalar(), x, y).owner, None) is None


def test_fold_constant_condition_never_runs_the_dropped_branch():
    Counted.runs = 0
    x = T.vector("x")
    z = ifelse(0, Counted("then")(x), x + 1)
    fg = optimized_graph([z], mode="FAST_RUN")
    assert Counted.runs == 0
    assert not ifelse_nodes(fg.outputs) and "Counted" not in str(list(toposort(fg.outputs)))


def test_fold_known_condition():
    c = T.iscalar("c")
    p = [T.vector(f"p{k}") for k in range(4)]
    q0, q1 = T.vectors("q0", "q1")
    # before: IfElse{then: IfElse(k0, p1, p2), else: p3}(c, c, x, y, z)
    k0 = T.iscalar("k0")
    then_g = InnerGraph([k0, p[1], p[2], p[3]], [IfElse(
        InnerGraph([q0, q1], [q0]), InnerGraph([q0, q1], [q1]))(k0, p[1], p[2])])
    else_g = InnerGraph([k0, p[1], p[2], p[3]], [p[3]])
    x, y, z = T.vectors("x", "y", "z")
    out = IfElse(then_g, else_g)(c, c, x, y, z)
    (got,) = fold_known_condition.apply(out.owner, None)
    # after: IfElse{then: p1, else: p3}(c, x, z)
    assert list(got.owner.inputs) == [c, x, z]
    assert ifelse_nodes(got.owner.op.then_graph.outputs) == []
    for cv in (0, 5):
        assert_same_values(out, got, {c: np.int32(cv)})


def test_lift_common_work():
    c = T.iscalar("c")
    x = T.vector("x")
    p = T.vector("p")
    # before: IfElse{then: exp(p) + 1, else: exp(p) * 2}(c, x)
    op = IfElse(InnerGraph([p], [T.exp(p) + 1]), InnerGraph([p], [T.exp(p) * 2]))
    z = op(c, x)
    fg, stats = run_stage(z)
    # after: IfElse{then: q + 1, else: q * 2}(c, exp(x))
    (node,) = ifelse_nodes(fg.outputs)
    assert [merged(v) for v in node.inputs] == [c, merged(T.exp(x))]
    assert "Elemwise{exp}" not in branch_ops(node, 0) + branch_ops(node, 1)
    assert stats.fired("lift_common_work") == 1
    for cv in (0, 1):
        assert_same_values(z, fg.outputs[0], {c: np.int32(cv)})
    assert lift_common_work.apply(node, None) is None     # settled


def test_lift_common_work_keeps_the_rest_lazy():
    Counted.runs = 0
    c = T.iscalar("c")
    x = T.vector("x")
    p = T.vector("p")
    op = IfElse(InnerGraph([p], [T.exp(p) + Counted("then")(p)]),
                InnerGraph([p], [T.exp(p) * 2]))
    z = op(c, x)
    f = aotsym.function([c, x], z, mode="FAST_COMPILE")
    (node,) = ifelse_nodes(run_stage(z)[0].outputs)
    assert any(type(n.op) is Counted for n in node.op.then_graph.nodes())
    np.testing.assert_allclose(f(0, np.zeros(2)), [2.0, 2.0])
    assert Counted.runs == 0


def test_bypass_identical_branches():
    c = T.iscalar("c")
    x, y, u = T.vectors("x", "y", "u")
    # before: o0, o1 = IfElse{then: (p0, p1), else: (p0, p2)}(c, x, y, u)
    o0, o1 = ifelse(c, [x, y], [x, u])
    got = bypass_identical_branches.apply(o0.owner, None)
    # after: o0 = x; o1 = IfElse(c, y, u)
    assert got[0] is x and list(got[1].owner.inputs) == [c, y, u]
    assert bypass_identical_branches.apply(got[1].owner, None) is None
    (same,) = bypass_identical_branches.apply(ifelse(c, x, x).owner, None)
    assert same is x


def test_merge_same_condition():
    c = T.iscalar("c")
    x, y, z = T.vectors("x", "y", "z")
    # before: o = IfElse(c, x * 2, y);  r = IfElse(c, z, -z)
    o = ifelse(c, x * 2, y)
    r = ifelse(c, z, -z)
    fg, merged = merge_same_condition(FunctionGraph([c, x, y, z], [o, r]))
    assert merged == 1
    (node,) = ifelse_nodes(fg.outputs)
    assert len(node.outputs) == 2 and fg.outputs[0].owner is fg.outputs[1].owner
    for cv in (0, 1):
        assert_same_values([o, r], fg.outputs, {c: np.int32(cv)})


def test_merge_same_condition_leaves_dependent_ifelses():
    c = T.iscalar("c")
    x, y = T.vectors("x", "y")
    o = ifelse(c, x * 2, y)
    r = ifelse(c, o + 1, y)                     # reads o: merging would make a cycle
    fg, merged = merge_same_condition(FunctionGraph([c, x, y], [r]))
    assert merged == 0 and len(ifelse_nodes(fg.outputs)) == 2


def test_merge_then_lift_then_sink():
    c = T.iscalar("c")
    x = T.vector("x")
    e = T.exp(x)
    o = ifelse(c, e * 2, x)
    r = ifelse(c, x, e + 1)
    opt = optimized_graph([o, r], mode="FAST_COMPILE")
    (node,) = ifelse_nodes(opt.outputs)
    assert merged(T.exp(x)) in [merged(v) for v in node.inputs]  # read by both: computed once
    for cv in (0, 1):
        assert_same_values([o, r], opt.outputs, {c: np.int32(cv)})


# ---------------------------------------------------------------------------- laziness


@pytest.mark.filterwarnings("ignore:DEBUG_MODE")
@pytest.mark.parametrize("mode", ["FAST_COMPILE", "DEBUG_MODE"])
def test_the_branch_not_taken_runs_nothing(mode):
    a, b = T.scalars("a", "b")
    x, y = T.vectors("x", "y")
    then_work = Counted("then")(T.exp(x)).sum()
    else_work = Counted("else")(T.log(y) * 2).mean()
    z = ifelse(T.lt(a, b), then_work, else_work)
    f = aotsym.function([a, b, x, y], z, mode=mode)
    xv, yv = np.array([0.0, 1.0]), np.array([1.0, np.e])
    # DEBUG_MODE runs each call twice, compiled and by the reference evaluator: the taken
    # branch once in each, the other in neither
    per_call = 2 if mode == "DEBUG_MODE" else 1
    Counted.runs = 0                                     # (DEBUG_MODE ran it to check)
    assert f(0.0, 1.0, xv, yv) == pytest.approx(1 + np.e)
    assert Counted.runs == per_call
    Counted.runs = 0
    assert f(1.0, 0.0, xv, yv) == pytest.approx(1.0)
    assert Counted.runs == per_call


@pytest.mark.filterwarnings("ignore:DEBUG_MODE")
@pytest.mark.parametrize("mode", ["FAST_COMPILE", "DEBUG_MODE"])
def test_the_gradients_ifelse_runs_only_the_taken_side(mode):
    # The value's gradient is IfElse(c, then's gradient, else's gradient); the backward
    # work of the branch's own nodes is inside it.  (Forward values the outer backward pass
    # reads, e.g. as shape models, are computed outside: see the module docstring of
    # aotsym.optimizer.ifelse.)
    c = T.iscalar("c")
    p = T.vector("p")
    op = IfElse(InnerGraph([p], [(Counted("then")(p) ** 2).sum()]),
                InnerGraph([p], [(Counted("else")(p) * 3).sum()]))
    x = T.vector("x")
    z = op(c, x)
    gx = aotsym.grad(z, x)
    f = aotsym.function([c, x], [z, gx], mode=mode)
    xv = np.array([1.0, -2.0])
    for cv, want_z, want_g in [(1, 5.0, 2 * xv), (0, -3.0, [3.0, 3.0])]:
        Counted.by_tag.clear()
        got = f(cv, xv)
        assert got[0] == pytest.approx(want_z)
        np.testing.assert_allclose(got[1], want_g)
        # the taken side's forward and its gradient's (one run when merged and shared)
        taken, other = ("then", "else") if cv else ("else", "then")
        assert 1 <= Counted.by_tag.get(taken, 0) <= 2 and other not in Counted.by_tag


def test_in_place_writes_in_a_branch_never_touch_the_outer_values():
    c = T.iscalar("c")
    x = T.vector("x")
    z = ifelse(c, T.exp(x) + x, x - 1)                  # exp(x)+x may be written in place
    fg = optimized_graph([z], mode="FAST_RUN")
    xv = np.array([1.0, 2.0])
    keep = xv.copy()
    for cv in (0, 1):
        got = evaluate(fg.outputs, {c: np.int32(cv), x: xv})
        assert np.array_equal(xv, keep)
        np.testing.assert_allclose(got[0], np.exp(keep) + keep if cv else keep - 1)
