"""The BRANCH step (aotsym.emit_c.control): an IfElse lowered to a structured step whose two
bodies are nested programs, rendered as a C ``if`` that runs only the taken body.  Values
against the reference evaluator (NaN, inf, empty, both branches, every condition dtype), a
failing node in the branch not taken that never runs, in-place writes that never reach the
outer values, nesting, and failures inside a body naming the inner node."""

import numpy as np
import pytest
from emit_helpers import TEST_CFLAGS

from aotsym import tensor as T
from aotsym.build import BuildOptions, build_module
from aotsym.emit_c import FunctionSpec
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.ifelse import ifelse
from aotsym.optimizer import lower_program, optimize
from aotsym.optimizer.program import BRANCH, INPLACE, INPUT


def _build(fg, optimized=True):
    if optimized:
        fg = optimize(fg, "FAST_RUN")
    program = lower_program(fg)
    loaded = build_module([FunctionSpec("f", program)],
                          BuildOptions.from_config(cflags=TEST_CFLAGS))
    return fg, program, loaded.entries[0]


def _check(fg, entry, *values):
    got = entry(*values)
    got = got if isinstance(got, (list, tuple)) else [got]
    ref = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
    for g, r in zip(got, ref):
        assert g.dtype == r.dtype and g.shape == r.shape
        np.testing.assert_allclose(g, r, equal_nan=True)
    return got


@pytest.fixture(scope="module")
def branch_graph():
    c = T.iscalar("c")
    x, y = T.vectors("x", "y")
    outs = ifelse(c, [T.exp(x) * 2, x, x.sum()], [y - 1, T.sin(y), (y * x).sum()])
    return _build(FunctionGraph([c, x, y], outs))


def test_the_ifelse_is_a_branch_step_with_two_bodies(branch_graph):
    _, program, _ = branch_graph
    (step,) = [s for s in program.steps if s.kind == BRANCH]
    assert len(step.body) == 2
    assert step.params["condition"] == 0
    assert [len(b) for b in step.params["body_inputs"]] == [len(step.inputs) - 1] * 2
    for body in step.body:
        assert all(program.slots[s].role == INPUT for s in body.inputs)   # borrowed
    numbers = [s.id.number for s in program.walk()]
    assert numbers == sorted(numbers) == list(range(len(numbers)))
    assert "body 1" in program.describe()


@pytest.mark.parametrize("c", [1, 0, -3])
@pytest.mark.parametrize("values", [
    ([0.5, -1.0, 2.0], [1.0, 2.0, 3.0]),
    ([np.nan, np.inf, -np.inf], [0.0, -0.0, np.nan]),
    ([], []),
])
def test_values_match_the_reference(branch_graph, c, values):
    fg, _, entry = branch_graph
    x, y = (np.array(v, dtype="float64") for v in values)
    got = _check(fg, entry, np.int32(c), x, y)
    if c:
        assert not np.shares_memory(got[1], x)          # an argument handed out: a copy


def test_strided_arguments(branch_graph):
    fg, _, entry = branch_graph
    base = np.arange(12.0) / 7
    for c in (0, 1):
        _check(fg, entry, np.int32(c), base[::-3], base[1::3][::-1])


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "uint32", "int64",
                                   "uint64"])
def test_every_condition_dtype(dtype):
    c = T.scalar("c", dtype=dtype)
    x = T.vector("x")
    fg, _, entry = _build(FunctionGraph([c, x], [ifelse(c, x * 2, x - 1)]))
    for cv in ([True, False] if dtype == "bool" else [0, 1, 255 if "u" in dtype else -1]):
        _check(fg, entry, np.array(cv, dtype=dtype), np.array([1.0, 2.0]))


def test_the_branch_not_taken_never_runs_even_when_it_would_fail():
    c, i = T.iscalar("c"), T.lscalar("i")
    v = T.vector("v")
    fg, program, entry = _build(FunctionGraph([c, v, i], [ifelse(c, T.exp(v)[i], v.sum())]))
    (step,) = [s for s in program.steps if s.kind == BRANCH]
    assert any("Subtensor" in str(s.node.op) for s in step.body[0].walk())
    vals = np.array([1.0, 2.0])
    assert entry(np.int32(0), vals, np.int64(100))[0] == 3.0        # out of bounds: not run
    assert entry(np.int32(1), vals, np.int64(1))[0] == pytest.approx(np.exp(2.0))
    with pytest.raises(IndexError) as info:                         # taken: it fails
        entry(np.int32(1), vals, np.int64(100))
    assert "Subtensor" in str(info.value)


def test_in_place_writes_stay_inside_the_body():
    c = T.iscalar("c")
    x, y = T.vectors("x", "y")
    # exp(x) * 2 + x: the fused kernel may write over its own intermediate, never over x
    fg, program, entry = _build(FunctionGraph([c, x, y], [ifelse(c, T.exp(x) * 2 + x, y),
                                                          x * 3]))
    (step,) = [s for s in program.steps if s.kind == BRANCH]
    for body in step.body:
        for s in body.walk():
            for plan in s.outputs:
                if plan.storage == INPLACE:
                    root = program.slots[s.inputs[plan.source]].root
                    assert program.slots[root].role not in (INPUT, "const")
    xv, yv = np.array([1.0, 2.0]), np.array([5.0, 6.0])
    keep_x, keep_y = xv.copy(), yv.copy()
    for cv in (1, 0):
        _check(fg, entry, np.int32(cv), xv, yv)
        assert np.array_equal(xv, keep_x) and np.array_equal(yv, keep_y)


def test_nested_branches():
    c1, c2 = T.iscalars("c1", "c2")
    x = T.vector("x")
    z = ifelse(c1, ifelse(c2, T.exp(x), T.cos(x)) + 1, T.sin(x) * 3)
    fg, program, entry = _build(FunctionGraph([c1, c2, x], [z]))
    depth = max(len(s.id.path) for s in program.walk())
    assert depth >= 5                                   # (step, body, step, body, step)
    for a in (0, 1):
        for b in (0, 1):
            _check(fg, entry, np.int32(a), np.int32(b), np.linspace(-2, 2, 5))


def test_generated_c_reads_the_condition_once():
    from aotsym.emit_c import emit_module
    c = T.bscalar("c")
    x = T.vector("x")
    fg = optimize(FunctionGraph([c, x], [ifelse(c, T.exp(x), T.log(x))]), "FAST_RUN")
    source = emit_module([FunctionSpec("f", lower_program(fg))]).source
    assert source.count("if (aot_read_int(") == 1 and "} else {" in source
