"""Laziness after ``grad`` for nested ifelses and an ifelse in a scan step
(aotsym.optimizer.ifelse: ``merge_chained_same_condition``, ``drop_untaken_gradient_terms``
seeing through a nested ifelse's gradient and splitting differences).

A nested ifelse's forward and backward work both end in the branch of the outer ifelse taken,
and inside it in the nested branch taken: ops counting their runs (forward and backward
counted apart) show the untaken sides run nothing, for every combination of conditions, with
3 levels and with the nested condition equal to the outer one; gradients match central
differences (FAST_COMPILE and DEBUG_MODE, the reference modes; DEBUG_MODE checks every
rewrite).  In a scan step, ops that log the step's sequence row show no untaken branch runs
in any step, forward or backward.  The C build (FAST_RUN) gives the reference's values, and
its top-level graph is one ifelse."""

import itertools

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.basic import toposort
from aotsym.graph.op import Op
from aotsym.graph.ops.ifelse import IfElse, ifelse
from aotsym.optimizer.testing import optimized_graph

from tests.optimizer.test_ifelse_grad_laziness import (PER_CALL, Counted, central_difference,
                                                       run_counted)

MODES = ["FAST_COMPILE", "DEBUG_MODE"]
pytestmark = pytest.mark.filterwarnings("ignore:DEBUG_MODE", "ignore::RuntimeWarning")
SEEN: dict = {}


def three_levels(x, c1, c2, c3, op=Counted):
    """``ifelse(c1, ifelse(c2, ifelse(c3, A, B), D), E)``, each side reading its own
    counted intermediate (``op(tag)``) of ``x``."""
    l3 = ifelse(c3, (op("A")(T.exp(x)) ** 2).sum(), (op("B")(x) * 3).sum())
    l2 = ifelse(c2, l3 * 2, (op("D")(T.tanh(x)) ** 3).sum())
    return ifelse(c1, l2, (op("E")(T.sin(x)) ** 2).sum())


def taken_of(c1, c2, c3):
    return "E" if not c1 else "D" if not c2 else "B" if not c3 else "A"


@pytest.mark.parametrize("mode", MODES)
def test_three_levels(mode):
    c1, c2, c3, x = T.iscalar("c1"), T.iscalar("c2"), T.iscalar("c3"), T.vector("x")
    y = three_levels(x, c1, c2, c3)
    f = aotsym.function([c1, c2, c3, x], [y, aotsym.grad(y, x)], mode=mode)
    fc = aotsym.function([c1, c2, c3, x], y, mode="FAST_COMPILE")
    xv = np.array([0.2, 0.9, 0.45])
    for cs in itertools.product((0, 1), repeat=3):
        (yv, gv), runs = run_counted(f, *cs, xv)
        taken = taken_of(*cs)
        k = PER_CALL[mode]
        assert runs == {taken: k, taken + "'": k}, (cs, runs)
        np.testing.assert_allclose(yv, fc(*cs, xv), rtol=1e-12)
        np.testing.assert_allclose(gv, central_difference(lambda v: fc(*cs, v), xv),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_nested_on_the_same_condition(mode):
    """The nested ifelse on the outer condition: its else side can never run, and the outer
    else branch reads the nested value too (its then side computed only when taken)."""
    c, x = T.iscalar("c"), T.vector("x")
    inner = ifelse(c, (Counted("A")(T.exp(x)) ** 2).sum(), (Counted("B")(x) * 3).sum())
    y = ifelse(c, inner * 2, (Counted("C")(T.sin(x)) ** 2).sum() + inner)
    f = aotsym.function([c, x], [y, aotsym.grad(y, x)], mode=mode)
    fc = aotsym.function([c, x], y, mode="FAST_COMPILE")
    xv = np.array([0.3, 1.1])
    for cv, want in [(1, {"A", "A'"}), (0, {"B", "B'", "C", "C'"})]:
        (yv, gv), runs = run_counted(f, cv, xv)
        assert set(runs) == want and set(runs.values()) == {PER_CALL[mode]}, (cv, runs)
        np.testing.assert_allclose(yv, fc(cv, xv), rtol=1e-12)
        np.testing.assert_allclose(gv, central_difference(lambda v: fc(cv, v), xv),
                                   rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_nested_untaken_nan_gives_the_taken_gradient(mode):
    """log of a negative number in the untaken nested branch (665bfb6's documented
    exception: the eager backward was NaN, the lazy one is what finite differences say)."""
    c1, c2, x = T.iscalar("c1"), T.iscalar("c2"), T.vector("x")
    inner = ifelse(c2, (T.exp(x) ** 2).sum(), (Counted("B")(T.log(x)) * 3).sum())
    y = ifelse(c1, inner, T.sin(x).sum())
    f = aotsym.function([c1, c2, x], aotsym.grad(y, x), mode=mode)
    fc = aotsym.function([c1, c2, x], y, mode="FAST_COMPILE")
    xv = np.array([-0.5, 0.7])
    for cs in [(1, 1), (0, 0), (0, 1)]:
        gv, runs = run_counted(f, *cs, xv)
        assert not runs and np.all(np.isfinite(gv)), (cs, runs, gv)
        np.testing.assert_allclose(gv, central_difference(lambda v: fc(*cs, v), xv),
                                   rtol=1e-6, atol=1e-6)


def test_debug_mode_checks_the_nested_split(monkeypatch):
    """A wrong reading of a nested ifelse's gradient (its passed-on side taken for a zero)
    drops live terms: DEBUG_MODE names the rule."""
    from aotsym.optimizer import ifelse as stage
    from aotsym.optimizer.debug import RewriteCheckError
    c1, c2, x = T.iscalar("c1"), T.iscalar("c2"), T.vector("x")
    y = three_levels(x, c1, c2, c2)
    gx = aotsym.grad(y + (x * x).sum(), x)
    aotsym.function([c1, c2, x], gx, mode="DEBUG_MODE")
    real = stage._ifelse_vanishing
    monkeypatch.setattr(stage, "_ifelse_vanishing", lambda cond, passed, memo: real(
        cond, ["zero" if p is not None else p for p in passed], memo))
    with pytest.raises(RewriteCheckError, match="drop_untaken_gradient_terms"):
        aotsym.function([c1, c2, x], gx, mode="DEBUG_MODE")


def test_the_c_build_matches_the_reference_and_is_one_ifelse():
    """FAST_RUN (the C backend): the same values as the reference evaluator, for every
    combination of conditions, on a negative-stride input; the top level is one ifelse (all
    of the forward and backward work is inside its branches)."""
    c1, c2, c3, x = T.iscalar("c1"), T.iscalar("c2"), T.iscalar("c3"), T.vector("x")
    y = three_levels(x, c1, c2, c3, op=lambda tag: (lambda v: v * 1.5))
    gx = aotsym.grad(y, x)
    top = [n for n in toposort(optimized_graph([y, gx], mode="FAST_RUN").outputs)]
    assert len(top) == 1 and isinstance(top[0].op, IfElse), top
    f = aotsym.function([c1, c2, c3, x], [y, gx])
    fc = aotsym.function([c1, c2, c3, x], [y, gx], mode="FAST_COMPILE")
    xv = np.array([0.2, 0.9, 1.3, 0.4, 0.7])[::-2]
    for cs in itertools.product((0, 1), repeat=3):
        for got, want in zip(f(*cs, xv), fc(*cs, xv)):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------------- in a scan step


class Logged(Op):
    """``x * 1``, logging ``mark`` (the step's sequence row) under ``tag`` at each
    reference run; its gradient logs under ``tag + "'"`` the same way."""

    __props__ = ("tag",)

    def __init__(self, tag):
        self.tag = tag

    def output_types(self, inputs):
        return [inputs[0].type]

    def perform(self, node, inputs):
        SEEN.setdefault(self.tag, []).append(float(np.asarray(inputs[1]).sum()))
        return [np.array(inputs[0], copy=True)]

    def grad(self, node, inputs, output_grads):
        ones = Logged(self.tag + "'")(T.ones_like(inputs[0]), inputs[1])
        return [output_grads[0] * ones, T.zeros_like(inputs[1])]


def rnn(x, w_h, w_x):
    """``h_t = tanh(W_h h + W_x x_t)`` when ``sum(x_t) > 0``, else ``0.5 * h + sin(W_x x_t)``."""
    def step(x_t, h):
        pre = T.dot(w_x, x_t)
        return ifelse(T.gt(x_t.sum(), 0),
                      T.tanh(Logged("then")(T.dot(w_h, h) + pre, x_t)),
                      0.5 * h + T.sin(Logged("else")(pre, x_t)))

    hs, _ = aotsym.scan(step, sequences=[x], outputs_info=[T.zeros((w_h.shape[0],))])
    return (hs ** 2).sum()


def check_steps(marks, per_call=1):
    """Each step's logged runs: the untaken side none, forward or backward; the taken side
    forward at most twice (once in the forward loop, once where the backward loop recomputes
    the step), backward once -- per implementation the call runs (``per_call``)."""
    pos, neg = sorted(m for m in marks if m > 0), sorted(m for m in marks if m <= 0)
    for tag, taken, untaken in [("then", pos, neg), ("else", neg, pos)]:
        fwd, bwd = SEEN.get(tag, []), SEEN.get(tag + "'", [])
        assert not set(fwd) & set(untaken) and not set(bwd) & set(untaken), (tag, SEEN)
        assert sorted(bwd) == sorted(taken * per_call), (tag, SEEN)
        assert set(fwd) == set(taken) and all(fwd.count(m) <= 2 * per_call for m in taken), \
            (tag, SEEN)


@pytest.mark.parametrize("mode", MODES)
def test_rnn_with_an_ifelse_in_the_step(mode):
    x, w_h, w_x = T.matrix("x"), T.matrix("w_h"), T.matrix("w_x")
    cost = rnn(x, w_h, w_x)
    f = aotsym.function([x, w_h, w_x], [cost, aotsym.grad(cost, w_h),
                                        aotsym.grad(cost, w_x)], mode=mode)
    fc = aotsym.function([x, w_h, w_x], cost, mode="FAST_COMPILE")
    rng = np.random.default_rng(3)
    xv = rng.normal(size=(7, 2))
    xv[:, 0] += np.where(np.arange(7) % 3 == 0, 2.0, -2.0)
    marks = [float(r.sum()) for r in xv]
    assert any(m > 0 for m in marks) and any(m <= 0 for m in marks)
    wh, wx = rng.normal(size=(3, 3)) * 0.5, rng.normal(size=(3, 2)) * 0.5
    SEEN.clear()
    cv, gh, gx = f(xv, wh, wx)
    check_steps(marks, PER_CALL[mode])
    np.testing.assert_allclose(cv, fc(xv, wh, wx), rtol=1e-12)
    want_h = central_difference(lambda v: fc(xv, v, wx), wh)
    want_x = central_difference(lambda v: fc(xv, wh, v), wx)
    np.testing.assert_allclose(gh, want_h, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gx, want_x, rtol=1e-5, atol=1e-7)
