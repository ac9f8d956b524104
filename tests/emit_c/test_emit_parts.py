"""A long function's steps are compiled as several C functions ("parts") that its run function
calls in turn (emit_c/emitter.py PART_LINES): GCC's time on one function grows faster than its
length.  The parts share the run function's frame: values made in one part are read in the
next, a failure in any part releases the whole frame and names its op, and the state writes
(commits) still happen only after every step succeeded."""

import re

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.build import BuildOptions, build_module
from aotsym.emit_c import FunctionSpec
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import lower_program


def _chain(x, n):
    y = x
    for k in range(n):           # unoptimized: 2n steps
        y = T.tanh(y) * (1.0 + k / 100)
    return y


def _parts(source):
    defined = set(re.findall(r"int (aot_f0_part\d+)\(aot_ctx \*ctx, const aot_array \*in", source))
    called = set(re.findall(r"if \((aot_f0_part\d+)\(ctx, in, out, v, dims\)\) goto fail;", source))
    return defined, called


def test_a_long_function_runs_in_parts(monkeypatch):
    import aotsym.emit_c.emitter as emitter
    monkeypatch.setattr(emitter, "PART_LINES", 40)
    x, y = T.vector("x"), T.vector("y")
    chain = _chain(x, 30)
    out = [chain, chain + y, (chain * y).sum()]
    loaded = build_module([FunctionSpec("parts", lower_program(FunctionGraph([x, y], out)))],
                          BuildOptions.from_config(cflags="-O1"))
    defined, called = _parts(loaded.emitted.source)
    assert len(defined) >= 4 and defined == called
    f = loaded.entries[0]
    a, b = np.linspace(-2, 2, 7), np.arange(7.0)
    for got, want in zip(f(a, b), evaluate(out, {x: a, y: b})):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    # a failure in the last part (the shapes of chain + y) after the first parts made
    # their values: an exception naming the op; the next call is whole again
    with pytest.raises(ValueError, match="add"):
        f(a, np.arange(5.0))
    for _ in range(3):
        np.testing.assert_allclose(f(a, b)[1], evaluate(out, {x: a, y: b})[1], rtol=1e-12)


def test_short_functions_stay_in_one(monkeypatch):
    x = T.vector("x")
    loaded = build_module([FunctionSpec("short", lower_program(FunctionGraph(
        [x], [_chain(x, 3)])))], BuildOptions.from_config(cflags="-O1"))
    assert _parts(loaded.emitted.source) == (set(), set())


def test_parts_of_a_training_step_commit_after_every_step(monkeypatch):
    """State writes in parts too: an update of W by gemm and of b in place, one failure
    among the steps leaves both shared values as they were."""
    import aotsym.emit_c.emitter as emitter
    monkeypatch.setattr(emitter, "PART_LINES", 30)
    rng = np.random.default_rng(0)
    W0, b0 = rng.normal(size=(5, 3)), rng.normal(size=3)
    W, b = aotsym.shared(W0.copy(), "W"), aotsym.shared(b0.copy(), "b")
    x, t = T.matrix("x"), T.matrix("t")
    h = _chain(T.dot(x, W) + b, 8)
    cost = ((h - t) ** 2).sum()
    gW, gb = aotsym.grad(cost, [W, b])
    step = aotsym.function([x, t], cost, updates=[(W, W - 0.1 * gW), (b, b - 0.1 * gb)],
                           mode=aotsym.Mode(optimizer="fast_compile"))
    xv, tv = rng.normal(size=(4, 5)), rng.normal(size=(4, 3))
    with pytest.raises(ValueError):
        step(xv, rng.normal(size=(4, 2)))
    np.testing.assert_array_equal(W.get_value(), W0)
    np.testing.assert_array_equal(b.get_value(), b0)
    want_cost, want_gW, want_gb = evaluate(
        [cost, gW, gb], {x: xv, t: tv, W: W0, b: b0})
    np.testing.assert_allclose(step(xv, tv), want_cost, rtol=1e-10)
    np.testing.assert_allclose(W.get_value(), W0 - 0.1 * want_gW, rtol=1e-10)
    np.testing.assert_allclose(b.get_value(), b0 - 0.1 * want_gb, rtol=1e-10)
