"""Structured steps: an op holding an inner graph (OpFromGraph) lowered to a BLOCK step whose
body, a nested program, is emitted inline in the same C frame — the entry scan and ifelse
build on.  Values against the reference evaluator (NaN, inf, empty), step ids of failures
inside a body, a body used twice, nesting."""

import numpy as np
import pytest
from emit_helpers import TEST_CFLAGS

from aotsym import tensor as T
from aotsym.build import BuildOptions, build_module
from aotsym.emit_c import FunctionSpec
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.opfromgraph import OpFromGraph
from aotsym.optimizer.lower import lower_program
from aotsym.optimizer.program import BLOCK


def _build(fg):
    program = lower_program(fg)
    loaded = build_module([FunctionSpec("f", program)],
                          BuildOptions.from_config(cflags=TEST_CFLAGS))
    return program, loaded.entries[0]


def _check(fg, entry, *values):
    got = entry(*values)
    ref = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.dtype == r.dtype and g.shape == r.shape
        np.testing.assert_allclose(g, r, equal_nan=True)
    return got


@pytest.fixture(scope="module")
def body_graph():
    a, b = T.vectors("a", "b")
    e = T.exp(a)
    ofg = OpFromGraph([a, b], [e * b + 1, a, e[::-1], e])
    x, y = T.vectors("x", "y")
    o0, o1, o2, o3 = ofg(x, T.sin(y))
    fg = FunctionGraph([x, y], [o0 + o2 * o3, o1, o0, o2])
    program, entry = _build(fg)
    return fg, program, entry


def test_the_op_becomes_a_block_with_a_nested_program(body_graph):
    fg, program, _ = body_graph
    (block,) = [s for s in program.steps if s.kind == BLOCK]
    (body,) = block.body
    assert block.node.op.inner.nodes() == [s.node for s in body.steps]
    assert [s.id.path[:2] for s in body.steps] == [(block.id.path[0], 0)] * len(body.steps)
    numbers = [s.id.number for s in program.walk()]
    assert numbers == sorted(numbers) == list(range(len(numbers)))
    # the body's argument output is a copy; e[::-1] takes e's buffer first, so e is copied
    assert [h.how for h in body.outputs] == ["move", "copy", "move", "copy"]
    assert "body 0" in program.describe()


@pytest.mark.parametrize("values", [
    ([0.5, -1.0, 2.0], [1.0, 2.0, 3.0]),
    ([np.nan, np.inf, -np.inf], [0.0, -0.0, np.nan]),
    ([], []),
])
def test_values_match_the_reference(body_graph, values):
    fg, _, entry = body_graph
    x, y = (np.array(v, dtype="float64") for v in values)
    got = _check(fg, entry, x, y)
    assert not np.shares_memory(got[1], x)          # the argument handed out is a copy
    assert not np.shares_memory(got[2], got[3])


def test_strided_arguments(body_graph):
    fg, _, entry = body_graph
    base = np.arange(12.0) / 7
    _check(fg, entry, base[::-3], base[1::3][::-1])


def test_a_body_used_twice_gets_its_own_slots():
    a = T.vector("a")
    ofg = OpFromGraph([a], [T.exp(a) * 2])
    x, y = T.vectors("x", "y")
    ox, oy = ofg(x), ofg(y)
    fg = FunctionGraph([x, y], [ox + oy, ox - oy])
    program, entry = _build(fg)
    blocks = [s for s in program.steps if s.kind == BLOCK]
    assert len(blocks) == 2                         # ofg(x) and ofg(y): two nodes
    slots = [set(b.body[0].slot_of.values()) for b in blocks]
    assert not slots[0] & slots[1]
    _check(fg, entry, np.array([1.0, 2.0]), np.array([-3.0, 0.5]))


def test_nested_blocks():
    a = T.vector("a")
    inner = OpFromGraph([a], [T.exp(a) + 1])
    b = T.vector("b")
    outer = OpFromGraph([b], [inner(b * 2) * 3, inner(b)])
    x = T.vector("x")
    r0, r1 = outer(x)
    fg = FunctionGraph([x], [r0 + r1])
    program, entry = _build(fg)
    paths = [s.id.path for s in program.walk()]
    assert max(len(p) for p in paths) == 5        # (outer, body, inner step, body, step)
    _check(fg, entry, np.linspace(-2, 2, 7))


def test_a_failure_inside_a_body_names_the_inner_node():
    a, i = T.vector("a"), T.lscalar("i")
    ofg = OpFromGraph([a, i], [a[i] * 2])
    x, k = T.vector("x"), T.lscalar("k")
    fg = FunctionGraph([x, k], [ofg(x, k)])
    program, entry = _build(fg)
    np.testing.assert_allclose(entry(np.array([1.0, 2.0]), np.int64(1)), 4.0)
    with pytest.raises(IndexError) as info:
        entry(np.array([1.0, 2.0]), np.int64(5))
    assert "Subtensor" in str(info.value)
