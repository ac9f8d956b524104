"""Theano's rule for a user's variables: an expression spelled twice is two variables, each
with its own name, tag and attributes (Keras keeps ``_keras_history`` on every layer's
output; Blocks keeps roles in ``tag``), and a gradient with respect to a second spelling is
disconnected from a cost built on the first.  The compiled function computes the expression
once: the optimizer's merge makes equal nodes one (aotsym/graph/basic.py ``interned``)."""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.gradient import DisconnectedInputError
from aotsym.graph.basic import interned


def test_an_expression_spelled_twice_is_two_variables():
    x = T.matrix("x")
    a = x + 1
    a.name = "a"
    a.tag.role = "first"
    a._keras_history = ("dense_1", 0, 0)
    b = x + 1
    b.name = "b"
    b._keras_history = ("dense_2", 0, 0)
    assert a is not b
    assert (a.name, b.name) == ("a", "b")
    assert a._keras_history[0] == "dense_1" and b._keras_history[0] == "dense_2"
    assert a.tag.role == "first" and not hasattr(b.tag, "role")
    (one, two), merged = interned([a, b])
    assert one is two and merged >= 1   # (the add, and the broadcast 1 it reads)


def test_the_compiled_function_computes_it_once():
    x = T.vector("x")
    a, b = T.exp(x) * 2, T.exp(x) * 2
    f = aotsym.function([x], [a, b, a - b])
    v = np.array([0.5, -1.0, np.inf, np.nan])
    got = f(v)
    np.testing.assert_allclose(got[0], np.exp(v) * 2, rtol=1e-15)
    np.testing.assert_array_equal(got[1], got[0])
    np.testing.assert_array_equal(got[2], [0.0, 0.0, np.nan, np.nan])   # inf - inf: nan
    ops = [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    exps = [n for n in f.maker.fgraph.toposort() if "exp" in str(n.op)]
    assert len(exps) <= 2, ops       # one exp node (alone or fused), not one per spelling


def test_a_gradient_with_respect_to_a_second_spelling_is_disconnected():
    x = T.vector("x")
    cost = T.tanh(x).sum()
    with pytest.raises(DisconnectedInputError):
        aotsym.grad(cost, T.tanh(x))
    h = T.tanh(x)
    g = aotsym.grad((h * 3).sum(), h)         # the variable itself: connected
    f = aotsym.function([x], g)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [3.0, 3.0])


def test_scan_step_with_two_spellings_of_a_reshape():
    """Two column reshapes in a step, each on its own shape vector: the loop keeps both
    shape vectors inside (a captured one would drop the column's broadcastable 1 and the
    addition of a column and a row would fail at run time)."""
    x = T.matrix("x")
    n, m = T.lscalar("n"), T.lscalar("m")
    out, _ = aotsym.scan(lambda r: r.reshape((n, 1)) + r.reshape((m, 1)).T, sequences=x)
    for mode in ("FAST_COMPILE", "FAST_RUN"):
        f = aotsym.function([x, n, m], out, mode=mode)
        v = np.arange(6.0).reshape(2, 3)
        np.testing.assert_array_equal(f(v, 3, 3), v[:, :, None] + v[:, None, :])


def test_is_same_graph_compares_structure():
    """Lasagne's tests: ``theano.gof.graph.is_same_graph(aggregate(x), x.mean())``."""
    from aotsym.gof import graph
    x, y = T.matrix("x"), T.matrix("y")
    assert graph.is_same_graph(x.mean(), x.mean())
    assert graph.is_same_graph((x * 2).sum(axis=0), (x * 2).sum(axis=0))
    assert not graph.is_same_graph(x.mean(), x.sum())
    assert graph.is_same_graph(y.mean(), x.mean(), givens={y: x})


def test_a_scan_step_spelling_a_value_twice_computes_it_once():
    """The step is interned when scan builds it: one reduction per step, not two (the
    exp is pushed out of the loop as one sequence, not two)."""
    x = T.matrix("x")
    out, _ = aotsym.scan(lambda r: T.exp(r).sum() + T.exp(r).sum(), sequences=x)
    f = aotsym.function([x], out)
    v = np.array([[0.5, -1.0, 2.0], [np.inf, 0.0, 1.0]])
    np.testing.assert_allclose(f(v), 2 * np.exp(v).sum(axis=1), rtol=1e-15)
    (scan,) = [n for n in f.maker.fgraph.toposort() if type(n.op).__name__ == "Scan"]
    step_ops = [str(n.op) for n in scan.op.inner.nodes()]
    assert sum("sum" in s for s in step_ops) == 1, step_ops
    assert len(scan.inputs) == len(set(map(id, scan.inputs))), scan.inputs


def test_work_on_constants_alone_stays_one_node():
    """``y * 0.5`` broadcasts the 0.5 each time it is spelled: one broadcast node, so a
    1,000-op chain's graph (its cache key, its merge) holds 3,000 nodes, not 5,000."""
    from aotsym.graph.basic import toposort
    x = T.vector("x")
    y = x
    for _ in range(100):
        y = T.sin(y * 0.5 + 1.0)
    assert len(toposort([y])) == 302
    p, q = x * 0.5, x * 0.5
    assert p is not q and p.owner.inputs[1] is q.owner.inputs[1]
