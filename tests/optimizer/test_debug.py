"""DEBUG_MODE: the first rewrite that changes a result is reported by name, with both
subgraphs and the user's source line; dishonest destroy/view declarations are caught."""

import numpy as np
import pytest

from aotsym import tensor as T
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.op import Op
from aotsym.graph.ops import math as m
from aotsym.optimizer.debug import RewriteCheckError, RewriteChecker, values_agree
from aotsym.optimizer.engine import OptimizerStats, rewrite_graph
from aotsym.optimizer.pattern import P, Rule, RuleSet


def test_wrong_rule_is_reported_with_subgraphs_and_source_line():
    x = T.vector("x")
    y = T.exp(x) + 1          # this line is the one reported
    fg = FunctionGraph([x], [y * 2])
    wrong = Rule("exp_is_sin", P.exp(P.var("a")), lambda a: m.sin(a))
    checker = RewriteChecker(fg)
    with pytest.raises(RewriteCheckError) as info:
        rewrite_graph(fg, RuleSet("bad", [wrong]), OptimizerStats(), "test", checker)
    text = str(info.value)
    assert "exp_is_sin" in text and "Elemwise{exp}" in text and "Elemwise{sin}" in text
    assert "test_debug.py" in text and "y = T.exp(x) + 1" in text


def test_user_test_values_are_used():
    x = T.vector("x")
    x.tag.test_value = np.array([-1.0, 0.0, 1.0])
    checker = RewriteChecker(FunctionGraph([x], [T.exp(x)]))
    np.testing.assert_array_equal(checker.values[x], [-1.0, 0.0, 1.0])


class _SneakyDouble(Op):
    """Doubles its input in place without declaring destroy_map: dishonest."""

    def output_types(self, inputs):
        return [inputs[0].type]

    def perform(self, node, inputs):
        (a,) = inputs
        a *= 2
        return [a]


def test_undeclared_destruction_is_caught():
    x = T.vector("x")
    fg = FunctionGraph([x], [_SneakyDouble()(T.exp(x))])
    checker = RewriteChecker.__new__(RewriteChecker)
    checker.rng = np.random.default_rng(0)
    checker.fgraph = fg
    checker.enabled = True
    checker.values = {x: np.array([1.0, 2.0, 3.0])}
    checker.original = [np.exp(checker.values[x]) * 2]
    with pytest.raises(RewriteCheckError, match="modified its input"):
        checker.check_final(fg)


def test_debug_mode_on_the_pipeline_passes_for_honest_rules():
    from aotsym.optimizer import optimize
    a = T.vector("a")
    p = 1 / (1 + T.exp(-a))
    optimize(FunctionGraph([a], [T.log(p) + a ** 10, T.log(1 - p)]), mode="DEBUG_MODE")


def test_values_agree_accepts_stabilized_infinities():
    assert values_agree(np.array([np.inf, 1.0]), np.array([800.0, 1.0]), stabilizing=True)[0]
    assert not values_agree(np.array([np.inf, 1.0]), np.array([800.0, 1.0]))[0]
    assert not values_agree(np.array([2.0, 1.0]), np.array([2.1, 1.0]))[0]
    assert not values_agree(np.array([1], "int32"), np.array([1.0]))[0]


def test_values_agree_compares_nan_positions_and_infinities():
    nan, inf = np.nan, np.inf
    assert values_agree(np.array([nan, inf, -0.0]), np.array([nan, inf, 0.0]))[0]
    assert not values_agree(np.array([nan, 1.0]), np.array([0.0, 1.0]))[0]
    assert not values_agree(np.array([0.0, 1.0]), np.array([nan, 1.0]))[0]
    assert not values_agree(np.array([inf, 1.0]), np.array([-inf, 1.0]))[0]
    assert not values_agree(np.array([2.0, 1.0]), np.array([inf, 1.0]))[0]
    assert not values_agree(np.array([nan], "float32"), np.array([nan]))[0]   # dtype


def test_rule_turning_nan_into_zero_is_caught():
    """A deliberately wrong rule: ``x - x -> 0`` for a float ``x`` (nan - nan is nan)."""
    x = T.vector("x")
    x.tag.test_value = np.array([np.nan, np.inf, 2.0])
    fg = FunctionGraph([x], [(x - x) * 2])
    wrong = Rule("sub_self_is_zero", P.sub(P.var("a"), P.var("a")),
                 lambda a: m.second(a, T.constant(0.0)))
    with pytest.raises(RewriteCheckError, match="sub_self_is_zero.*nan in other places"):
        rewrite_graph(fg, RuleSet("bad", [wrong]), OptimizerStats(), "test", RewriteChecker(fg))


def test_debug_mode_accepts_fast_run_on_special_values():
    """The real pipeline on special test values passes DEBUG_MODE's stricter comparison."""
    from aotsym.optimizer.pipeline import optimize
    x, y = T.vector("x"), T.vector("y")
    x.tag.test_value = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 2.0])
    y.tag.test_value = np.array([2.0, np.nan, 0.0, np.inf, -np.inf, -0.0])
    outs = [x - x, x / x, x * y / y, x + y - y, T.sum(x) - T.sum(x), (0.5 / x) * x,
            T.log1p(T.exp(x)), T.softmax(T.stack([x, y]))]
    optimize(FunctionGraph([x, y], outs), mode="DEBUG_MODE")


def test_in_place_ops_are_checked_on_copies_of_their_inputs():
    """The checker's known values are frozen; an op that writes over an input (here the
    in-place set_subtensor the gradient of ``out[-1]`` through a scan makes) gets a copy."""
    import numpy as np
    import aotsym
    from aotsym import tensor as T
    x, w, h0 = T.vector("x"), T.scalar("w"), T.scalar("h0")
    out, _ = aotsym.scan(lambda v, h, w: T.tanh(h * w + v), sequences=x, outputs_info=h0,
                         non_sequences=w)
    f = aotsym.function([x, w, h0], [out[-1], aotsym.grad(out[-1], w)], mode="DEBUG_MODE")
    g = aotsym.function([x, w, h0], [out[-1], aotsym.grad(out[-1], w)], mode="FAST_COMPILE")
    values = (np.arange(4.0), 0.5, 0.1)
    for a, b in zip(f(*values), g(*values)):
        np.testing.assert_allclose(a, b)


# ---------------------------------------------------------------- the compiled module, checked


def test_each_call_runs_the_compiled_module_and_the_reference_evaluator():
    """DEBUG_MODE compiles the optimized graph and compares every call with the reference
    evaluator, on hostile values too (nan, infinities, signed zeros, empty arrays)."""
    import aotsym
    from aotsym.build.checked import CheckedFunction
    from aotsym.build.driver import CompiledFunction
    x, y = T.vector("x"), T.vector("y")
    outs = [T.exp(x) * y + T.maximum(x, y), T.log1p(x ** 2).sum(), T.switch(x > y, x, y),
            T.sqrt(abs(x)) / (y + 1), T.sgn(x) * T.tanh(y)]
    f = aotsym.function([x, y], outs, mode="DEBUG_MODE")
    assert isinstance(f._run, CheckedFunction) and isinstance(f._run.compiled, CompiledFunction)
    xv = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e308, -3.5, 2.0])
    yv = np.array([-0.0, 0.0, 1.0, np.nan, -np.inf, 2.0, np.inf, -1.0])
    want = aotsym.function([x, y], outs, mode="FAST_COMPILE")(xv, yv)
    with np.errstate(all="ignore"):
        for got, w in zip(f(xv, yv), want):
            np.testing.assert_allclose(got, w, rtol=1e-15)
        for got in f(np.zeros(0), np.zeros(0)):
            assert got.size == 0 or got.shape == ()


def test_a_compiled_result_that_differs_is_reported_and_no_update_is_stored():
    import aotsym
    from aotsym.build.checked import CompiledResultError
    x = T.vector("x")
    w = aotsym.shared(np.ones(3), name="w")
    y = T.exp(x) * w
    cost = y.sum()            # the output's line, reported
    f = aotsym.function([x], cost, updates=[(w, w * 2)], mode="DEBUG_MODE")
    assert f(np.zeros(3)) == 3.0 and w.get_value().tolist() == [2.0, 2.0, 2.0]
    compiled = f._run.compiled
    for wrong, why in [(lambda v: v * (1 + 1e-6), "values differ"),
                       (lambda v: v * np.nan, "nan in other places")]:
        f._run.compiled = lambda values: [wrong(r) if k == 0 else r
                                          for k, r in enumerate(compiled(values))]
        before = w.get_value()
        with pytest.raises(CompiledResultError) as info:
            f(np.zeros(3))
        text = str(info.value)
        assert "output 0" in text and why in text and "cost = y.sum()" in text
        np.testing.assert_array_equal(w.get_value(), before)
