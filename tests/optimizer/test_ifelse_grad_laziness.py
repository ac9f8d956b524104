"""Laziness after ``grad`` (aotsym.optimizer.ifelse): ``drop_untaken_gradient_terms``,
``blank_unread_sides`` and ``share_branch_work``.

``y = ifelse(c, f(x), g(x)); gx = grad(y.sum(), x)``: the backward pass holds its own ifelse
on ``c``, and the branches' backward work and the forward values it reads sit outside both.
Each branch here runs ops that count their runs, forward and backward (the backward op of a
counted op is counted under its own tag); the untaken branch's counts stay 0 for both values
of the condition, the gradients match central differences, in FAST_COMPILE and DEBUG_MODE
(the reference modes; DEBUG_MODE checks every rewrite)."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.op import Op
from aotsym.graph.ops.ifelse import ifelse
from aotsym.optimizer.debug import RewriteCheckError

MODES = ["FAST_COMPILE", "DEBUG_MODE"]
# the implementations one call runs: DEBUG_MODE runs the compiled module and the reference
# evaluator, each the taken side once and the other never
PER_CALL = {"FAST_COMPILE": 1, "DEBUG_MODE": 2}
pytestmark = pytest.mark.filterwarnings("ignore:DEBUG_MODE", "ignore::RuntimeWarning")
RUNS: dict = {}


class Counted(Op):
    """``x * 1``, counting its reference runs under ``tag``; its gradient multiplies the
    output gradient by a Counted of tag ``tag + "'"`` (work only the branch's backward
    pass does, so it is counted too)."""

    __props__ = ("tag",)

    def __init__(self, tag):
        self.tag = tag

    def output_types(self, inputs):
        return [inputs[0].type]

    def perform(self, node, inputs):
        RUNS[self.tag] = RUNS.get(self.tag, 0) + 1
        return [np.array(inputs[0], copy=True)]

    def grad(self, node, inputs, output_grads):
        return [output_grads[0] * Counted(self.tag + "'")(T.ones_like(inputs[0]))]


def run_counted(f, *args):
    RUNS.clear()
    got = f(*args)
    return got, dict(RUNS)


def central_difference(fun, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        d = np.zeros_like(x)
        d.flat[i] = eps
        g.flat[i] = (fun(x + d) - fun(x - d)) / (2 * eps)
    return g


def branches(x):
    """Two branches whose gradients read their forward intermediates (exp(x), Counted)."""
    t = Counted("then")(T.exp(x))
    e = Counted("else")(T.log(x))
    return (t * t).sum() + T.sin(t).sum(), (e * 3).sum() + (e * e).sum()


@pytest.mark.parametrize("mode", MODES)
def test_untaken_branch_runs_nothing_forward_or_backward(mode):
    c, x = T.iscalar("c"), T.vector("x")
    then, other = branches(x)
    y = ifelse(c, then, other)
    gx = aotsym.grad(y, x)
    f = aotsym.function([c, x], [y, gx], mode=mode)
    cost = aotsym.function([c, x], y, mode="FAST_COMPILE")
    xv = np.array([0.5, 1.5, 0.25])
    for cv, taken, untaken in [(1, "then", "else"), (0, "else", "then")]:
        (yv, gv), runs = run_counted(f, cv, xv)
        assert runs.get(untaken, 0) == 0 and runs.get(untaken + "'", 0) == 0, runs
        k = PER_CALL[mode]
        assert runs.get(taken) == k and runs.get(taken + "'") == k, runs
        np.testing.assert_allclose(gv, central_difference(lambda v: cost(cv, v), xv),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_untaken_branch_with_nan_forward_gives_the_taken_gradient(mode):
    """log of a negative number in the untaken branch: the eager backward made the
    gradient NaN (0 * NaN); the lazy one is the taken branch's, as finite differences say."""
    c, x = T.iscalar("c"), T.vector("x")
    then, other = branches(x)
    y = ifelse(c, then, other)
    f = aotsym.function([c, x], aotsym.grad(y, x), mode=mode)
    cost = aotsym.function([c, x], y, mode="FAST_COMPILE")
    xv = np.array([-0.5, 1.5])
    gv, runs = run_counted(f, 1, xv)
    assert "else" not in runs and "else'" not in runs
    np.testing.assert_allclose(gv, central_difference(lambda v: cost(1, v), xv), rtol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_multiple_outputs_and_an_equal_condition_spelled_twice(mode):
    a, b, x = T.scalar("a"), T.scalar("b"), T.vector("x")
    t, e = Counted("then")(T.exp(x)), Counted("else")(T.tanh(x))
    y1, y2 = ifelse(T.lt(a, b), [(t * t).sum(), (t * 2).sum()], [(e * e).sum(), e.sum()])
    y3 = ifelse(T.lt(a, b), (Counted("then2")(x) ** 2).sum(), (Counted("else2")(x) * 5).sum())
    cost = y1 + 3 * y2 + y3
    f = aotsym.function([a, b, x], [cost, aotsym.grad(cost, x)], mode=mode)
    fc = aotsym.function([a, b, x], cost, mode="FAST_COMPILE")
    xv = np.array([0.3, -0.7])
    for (av, bv), untaken in [((0.0, 1.0), "else"), ((1.0, 0.0), "then")]:
        (_, gv), runs = run_counted(f, av, bv, xv)
        assert not any(k.startswith(untaken) for k in runs), runs
        np.testing.assert_allclose(gv, central_difference(lambda v: fc(av, bv, v), xv),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_nested_ifelse(mode):
    c1, c2, x = T.iscalar("c1"), T.iscalar("c2"), T.vector("x")
    inner = ifelse(c2, (Counted("A")(T.exp(x)) ** 2).sum(), (Counted("B")(x) * 3).sum())
    y = ifelse(c1, inner, (Counted("C")(T.sin(x)) ** 2).sum())
    f = aotsym.function([c1, c2, x], [y, aotsym.grad(y, x)], mode=mode)
    fc = aotsym.function([c1, c2, x], y, mode="FAST_COMPILE")
    xv = np.array([0.2, 0.9])
    for c1v, c2v, taken in [(1, 1, "A"), (1, 0, "B"), (0, 1, "C"), (0, 0, "C")]:
        (_, gv), runs = run_counted(f, c1v, c2v, xv)
        assert {k.rstrip("'") for k in runs} == {taken}, (c1v, c2v, runs)
        np.testing.assert_allclose(gv, central_difference(lambda v: fc(c1v, c2v, v), xv),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_ifelse_inside_a_scan_step(mode):
    x, w = T.vector("x"), T.scalar("w")

    def step(x_t, h):
        return ifelse(T.gt(x_t, 0), Counted("then")(T.exp(x_t * w)) * h,
                      Counted("else")(T.cos(x_t * w)) + h)

    hs, _ = aotsym.scan(step, sequences=[x], outputs_info=[T.constant(1.0)])
    cost = hs[-1]
    f = aotsym.function([x, w], [cost, aotsym.grad(cost, w)], mode=mode)
    fc = aotsym.function([x, w], cost, mode="FAST_COMPILE")
    xv = np.array([0.5, -0.3, 0.8, -1.0, 0.1])
    (cv, gv), runs = run_counted(f, xv, np.array(0.7))
    k = PER_CALL[mode]
    n_then, n_else = k * int((xv > 0).sum()), k * int((xv <= 0).sum())
    # the backward loop's step recomputes the forward step's values it reads (here the then
    # side's Counted output), in the steps that took that side: forward runs are at most
    # twice the taken steps; per-step checks: test_ifelse_grad_laziness_nested.py
    assert n_then <= runs.get("then") <= 2 * n_then, runs
    assert runs.get("else") == n_else, runs
    assert runs.get("then'") == n_then and runs.get("else'") == n_else, runs
    want = central_difference(lambda v: np.array(fc(xv, v[0])), np.array([0.7]))
    np.testing.assert_allclose(gv, want[0], rtol=1e-6)


def test_debug_mode_checks_the_rewrite(monkeypatch):
    """A wrong zero test (every branch output taken for a zero) drops live gradient terms:
    DEBUG_MODE names the rule; with the right one the same graph passes."""
    from aotsym.optimizer import ifelse as stage
    c, x = T.iscalar("c"), T.vector("x")
    t, e = Counted("then")(T.exp(x)), Counted("else")(T.log(x + 1))
    y = ifelse(c, (t * t).sum(), (e * 3).sum())
    gx = aotsym.grad(y + (x * x).sum(), x)
    f = aotsym.function([c, x], gx, mode="DEBUG_MODE")
    for cv in (0, 1):
        RUNS.clear()
        f(cv, np.array([0.5, 2.0]))
        untaken = "else" if cv else "then"
        assert RUNS and not any(k.startswith(untaken) for k in RUNS), RUNS
    monkeypatch.setattr(stage, "_structural_zero", lambda v: True)
    with pytest.raises(RewriteCheckError, match="drop_untaken_gradient_terms"):
        aotsym.function([c, x], gx, mode="DEBUG_MODE")


def test_the_rewrite_fires_and_fails_without_it():
    """The stage's stats show the rules fired (in DEBUG_MODE the same graph is checked)."""
    from aotsym.optimizer.testing import optimized_graph
    from aotsym.graph.basic import toposort
    from aotsym.graph.ops.ifelse import IfElse
    c, x = T.iscalar("c"), T.vector("x")
    then, other = branches(x)
    y = ifelse(c, then, other)
    fg = optimized_graph([y, aotsym.grad(y, x)], mode="FAST_COMPILE")
    outside = [n for n in toposort(fg.outputs) if isinstance(n.op, Counted)]
    assert not outside            # every counted op (forward and backward) is in a branch
    assert any(isinstance(n.op, IfElse) for n in toposort(fg.outputs))
