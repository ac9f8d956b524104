"""Every node of an optimized graph names the user's line it stands for: a rewrite's result
the line of the expression it replaces, a fused node the line of its output (and lists the
lines of all it fuses), a gradient node the line of the expression it differentiates — never
the line that called the optimizer."""

import inspect

import numpy as np

import aotsym
from aotsym import tensor as T
from aotsym.graph.basic import trace_of
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.gemm import Gemv
from aotsym.graph.ops.gemv_pair import FusedGemvPair
from aotsym.graph.ops.composite import Composite, FusedReduce
from aotsym.optimizer import optimize
from aotsym.optimizer.testing import optimized_graph


def here() -> int:
    """The caller's line number."""
    return inspect.currentframe().f_back.f_lineno


def fused(fgraph):
    """The one fused node of ``fgraph``."""
    (node,) = [n for n in fgraph.toposort() if isinstance(n.op, (Composite, FusedReduce))]
    return node


def lines(fgraph) -> dict:
    """{node: its trace's line} for every node of ``fgraph`` (None: no trace)."""
    return {n: (trace_of(n).lineno if trace_of(n) else None) for n in fgraph.toposort()}


def test_a_rewritten_node_keeps_the_line_of_what_it_replaces():
    x = T.vector("x")
    line = here() + 1
    y = T.log(1 + T.exp(x))                        # -> softplus(x)
    call = here() + 1
    fg = optimize(FunctionGraph([x], [y]), stages=["canonicalize", "stabilize"])
    (node,) = fg.toposort()
    assert node.op.scalar_op.name == "softplus"
    assert trace_of(node).filename == __file__ and trace_of(node).lineno == line != call


def test_optimizer_made_nodes_never_take_the_calling_line():
    a, b = T.vector("a"), T.matrix("B")
    first = here() + 1
    y = T.exp(T.dot(b, a) * 2 + a)
    z = T.log(1 - T.nnet.sigmoid(y)).sum()
    last = here() - 1
    fg = optimized_graph([y, z])                    # this line is never a node's
    found = lines(fg)
    assert found and all(first <= v <= last for v in found.values()), found


def test_a_fused_node_lists_the_lines_it_fuses():
    a, b = T.vector("a"), T.vector("b")
    first = here() + 1
    s = a + b
    t = T.exp(s) * 2
    node = fused(optimized_graph([t], stages=["fuse_elementwise"]))
    assert trace_of(node).lineno == first + 1
    assert [t.lineno for t in node.outputs[0].tag.fused_traces] == [first, first + 1]


def test_an_exported_fused_output_keeps_its_own_line():
    a = T.vector("a")
    line = here() + 1
    inner = T.exp(a) + 1
    outer = T.tanh(inner) * 3
    node = fused(optimized_graph([outer, inner], stages=["fuse_elementwise"]))
    assert len(node.outputs) == 2
    assert [o.tag.trace.lineno for o in node.outputs] == [line + 1, line]


def test_a_fused_reduction_lists_its_producer():
    a = T.matrix("a")
    line = here() + 1
    sq = (a - 1) ** 2
    total = sq.sum(axis=0)
    node = fused(optimized_graph([total], stages=["fuse_elementwise", "fuse_reductions"]))
    assert trace_of(node).lineno == line + 1
    assert {t.lineno for t in node.outputs[0].tag.fused_traces} == {line, line + 1}


def test_logistic_regression_every_node_names_this_file():
    """The seed's model: the forward Gemv names the T.dot line, the gradient's nodes that line
    too, noting where grad was taken; the Gemv that absorbed ``w``'s update the update's."""
    rng = np.random.default_rng(0)
    x, y = T.matrix("x"), T.vector("y")
    w = aotsym.shared(rng.standard_normal(5), name="w")
    b = aotsym.shared(0.0, name="b")
    dot_line = here() + 1
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    grad_line = here() + 1
    gw, gb = aotsym.grad(cost, [w, b])
    update_line = here() + 1
    updates = {w: w - 0.1 * gw, b: b - 0.1 * gb}
    call = here() + 1
    f = aotsym.function([x, y], [p_1 > 0.5, xent], updates=updates, name="train")
    nodes = f.maker.fgraph.toposort()
    assert all(trace_of(n) is not None and trace_of(n).filename == __file__
               and dot_line <= trace_of(n).lineno < call for n in nodes), lines(f.maker.fgraph)
    # X @ w: a Gemv, or the FusedGemvPair that also computes X.T @ d for w's update
    (forward,) = [n for n in nodes if isinstance(n.op, (Gemv, FusedGemvPair)) and x in n.inputs]
    (update,) = [n for n in nodes if isinstance(n.op, Gemv) and x not in n.inputs]
    assert trace_of(forward).lineno == dot_line and trace_of(update).lineno == update_line
    noted = [n for n in nodes if trace_of(n).note]
    assert noted and all(trace_of(n).note == "in the gradient taken at "
                         f"test_source_lines.py:{grad_line}" for n in noted)
