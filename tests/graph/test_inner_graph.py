"""Inner graphs: structural identity, closedness, traversals that enter them or not."""

import sys

import numpy as np
import pytest

from aotsym.optimizer.testing import merged
from aotsym import tensor as T
from aotsym.graph.basic import (ancestors, clients, clone_replace, graph_inputs, toposort,
                                traced_as)
from aotsym.graph.inner import (ClosednessError, HasInnerGraphs, InnerGraph,
                                inner_graphs_of)
from aotsym.graph.ops import math as m
from aotsym.graph.ops.opfromgraph import OpFromGraph


def trace_step(const=2.0, swap=False):
    """A fresh trace of the same step function each call (new placeholder variables)."""
    x, y = T.vector("x"), T.vector("y")
    inputs = [y, x] if swap else [x, y]
    return inputs, [T.exp(x) * const - y]


def test_two_traces_are_one_inner_graph_one_op_one_apply():
    g1, g2 = InnerGraph(*trace_step()), InnerGraph(*trace_step())
    assert g1.inputs[0] is not g2.inputs[0]
    assert g1 == g2 and hash(g1) == hash(g2)
    a, b = T.vector("a"), T.vector("b")
    op1, op2 = OpFromGraph(*trace_step()), OpFromGraph(*trace_step())
    assert op1 is not op2 and op1 == op2
    n1, n2 = op1(a, b).owner, op2(a, b).owner
    assert n1 is not n2 and merged(n1.outputs[0]).owner is merged(n2.outputs[0]).owner
    assert op1(b, a).owner is not n1   # other arguments: another node


def test_one_constant_or_the_input_order_makes_another_graph():
    base = InnerGraph(*trace_step())
    other_const = InnerGraph(*trace_step(const=3.0))
    other_order = InnerGraph(*trace_step(swap=True))
    assert base != other_const and base != other_order
    assert hash(base) != hash(other_const)
    a, b = T.vector("a"), T.vector("b")
    node = OpFromGraph(*trace_step())(a, b).owner
    assert OpFromGraph(*trace_step(const=3.0))(a, b).owner is not node
    assert OpFromGraph(*trace_step(swap=True))(a, b).owner is not node


def test_hash_ignores_placeholder_objects_and_names_but_not_types():
    x, u = T.vector("x"), T.vector("completely_different_name")
    assert hash(InnerGraph([x], [T.tanh(x)])) == hash(InnerGraph([u], [T.tanh(u)]))
    f = T.fvector("x")
    assert InnerGraph([x], [T.tanh(x)]) != InnerGraph([f], [T.tanh(f)])
    # which variables are the outputs, and in what order, is part of the structure
    y = T.vector("y")
    assert InnerGraph([x, y], [x + y, x]) != InnerGraph([x, y], [x, x + y])


def test_inner_graph_has_its_own_placeholders():
    x = T.vector("x")
    g = InnerGraph([x], [x + 1])
    assert g.inputs[0] is not x and g.inputs[0].name == "x"
    free = [v for v in graph_inputs(g.outputs) if v.owner is None and not hasattr(v, "data")]
    assert free == [g.inputs[0]]


def test_closedness_error_names_the_free_variable_and_its_line():
    x, y = T.vector("x"), T.vector("free_y")
    with pytest.raises(ClosednessError) as info:
        InnerGraph([x], [x + y])
    msg = str(info.value)
    assert "free_y" in msg and "test_inner_graph.py" in msg and "not among its inputs" in msg
    with pytest.raises(ValueError, match="free_y"):   # a ValueError, as Theano's would be
        OpFromGraph([x], [T.exp(y)])
    with pytest.raises(ClosednessError, match="an output"):
        InnerGraph([x], [y])


def test_constants_are_allowed_and_compared_by_value():
    x = T.vector("x")
    g = InnerGraph([x], [x * np.array([1.0, 2.0])])
    u = T.vector("u")
    assert g == InnerGraph([u], [u * np.array([1.0, 2.0])])
    assert g != InnerGraph([u], [u * np.array([1.0, 2.5])])
    np.testing.assert_allclose(g.evaluate([np.array([3.0, 4.0])])[0], [3.0, 8.0])


def test_evaluate_with_outputs_select_and_infer_shape():
    x, y = T.matrix("x"), T.matrix("y")
    g = InnerGraph([x, y], [T.dot(x, y), x.T])
    a, b = np.arange(6.0).reshape(2, 3), np.ones((3, 4))
    got = g.evaluate([a, b])
    np.testing.assert_allclose(got[0], a @ b)
    np.testing.assert_allclose(got[1], a.T)
    only = g.select_outputs([1])
    assert len(only.outputs) == 1 and only.outputs[0] is g.outputs[1]
    assert g.rebuilt(g.outputs) is g
    assert g.with_outputs([g.outputs[1], g.outputs[0]]) != g
    assert g.infer_shape([(2, 3), (3, 4)]) == [(2, 4), (3, 2)]
    assert g.fgraph().inputs == g.inputs and len(g.fgraph()) == 2


def test_interface_found_generically():
    x = T.vector("x")
    op = OpFromGraph([x], [x * 2])
    assert isinstance(op, HasInnerGraphs)
    assert inner_graphs_of(op) == (op.inner,)
    assert inner_graphs_of(T.exp(x).owner.op) == ()
    new = op.with_inner_graphs([op.inner.with_outputs([op.inner.inputs[0] * 3])])
    assert new != op and inner_graphs_of(new)[0].outputs[0].owner is not None


def _nested():
    """outer: log(Outer(a)); Outer's body: Inner(x) + 1; Inner's body: exp(u)."""
    u = T.vector("u")
    inner_op = OpFromGraph([u], [T.exp(u)], name="Inner")
    x = T.vector("x")
    outer_op = OpFromGraph([x], [inner_op(x) + 1], name="Outer")
    a = T.vector("a")
    return a, outer_op, T.log(outer_op(a))


def test_toposort_enters_inner_graphs_only_when_asked():
    a, outer_op, out = _nested()
    plain = toposort([out])
    assert [str(n.op) for n in plain] == ["Outer", "Elemwise{log}"]
    entered = toposort([out], enter_inner=True)
    names = [str(n.op) for n in entered]
    assert names[-2:] == ["Outer", "Elemwise{log}"]
    assert "Inner" in names and "Elemwise{exp}" in names
    # every node after the nodes it reads, inner nodes before the node holding them
    pos = {id(n): k for k, n in enumerate(entered)}
    for n in entered:
        for v in n.inputs:
            if v.owner is not None:
                assert pos[id(v.owner)] < pos[id(n)]
    assert names.index("Elemwise{exp}") < names.index("Inner") < names.index("Outer")
    assert len(entered) == len(toposort([out], enter_inner=True))   # deterministic
    # the other traversals take the same switch
    assert graph_inputs([out]) == [a]
    inner_ins = graph_inputs([out], enter_inner=True)
    assert a in inner_ins and outer_op.inner.inputs[0] in inner_ins
    assert len(ancestors([out], enter_inner=True)) > len(ancestors([out]))
    x_inner = outer_op.inner.inputs[0]
    assert id(x_inner) not in clients([out])
    assert [str(n.op) for n, _ in clients([out], enter_inner=True)[id(x_inner)]] == ["Inner"]


def test_clone_replace_substitutes_outside_and_keeps_the_op():
    a, outer_op, out = _nested()
    b = T.vector("b")
    (new,) = clone_replace([out], {a: b})
    node = new.owner.inputs[0].owner
    assert node.op is outer_op and node.inputs == (b,)
    assert merged(new) is merged(T.log(outer_op(b)))
    # nothing inside moved: the placeholders are still the body's inputs
    assert outer_op.inner.inputs[0] in graph_inputs(outer_op.inner.outputs)


def test_hundred_thousand_node_inner_graph_hashes_without_recursion():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        graphs = []
        for _ in range(2):
            x = T.scalar("x")
            v = x
            with traced_as(None):   # (spares a stack walk per node)
                for k in range(100_000):
                    v = v * 1.5 if k % 2 else T.sin(v)
            # built on x already: no copy onto fresh placeholders (that is timed elsewhere)
            graphs.append(InnerGraph([x], [v], fresh_inputs=False))
        g1, g2 = graphs
        assert len(g1.nodes()) == 100_000
        assert hash(g1) == hash(g2) and g1 == g2
        assert g1 != g2.with_outputs([T.sin(g2.outputs[0])])
        a = T.scalar("a")
        out = OpFromGraph.from_inner(g1)(a)
        assert merged(out) is merged(OpFromGraph.from_inner(g2)(a))
        assert len(toposort([out], enter_inner=True)) == 100_001
    finally:
        sys.setrecursionlimit(limit)


def test_op_with_inner_graph_needs_no_entering_to_merge():
    a, b = T.vector("a"), T.vector("b")
    outs = [OpFromGraph(*trace_step())(a, b) for _ in range(3)]
    assert merged(outs[0]) is merged(outs[1]) is merged(outs[2])
    first, second = merged(m.add(outs[0], outs[1])), merged(m.add(outs[2], outs[2]))
    assert first.owner.inputs[0] is second.owner.inputs[0]
