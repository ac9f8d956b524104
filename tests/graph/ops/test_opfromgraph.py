"""OpFromGraph: applying, reference values, gradients, shapes, pruning, compiled functions."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.opfromgraph import OpFromGraph
from aotsym.gradient import verify_grad
from aotsym.optimizer.pipeline import optimize
from aotsym.optimizer.testing import count_ops
from aotsym.printing import debugprint, pprint


def axpy():
    x, y = T.vector("x"), T.vector("y")
    return OpFromGraph([x, y], [2.0 * x + y], name="axpy")


def two_outputs():
    x, y = T.vector("x"), T.vector("y")
    return OpFromGraph([x, y], [T.exp(x) * y, T.tanh(y)])


def test_exported_where_theano_users_look():
    import aotsym.compile.builders
    assert aotsym.OpFromGraph is OpFromGraph
    assert aotsym.compile.builders.OpFromGraph is OpFromGraph
    assert aotsym.compile.OpFromGraph is OpFromGraph


def test_call_applies_and_perform_evaluates_the_body():
    a, b = T.vector("a"), T.vector("b")
    z = axpy()(a, b)
    assert isinstance(z.owner.op, OpFromGraph) and z.owner.inputs == (a, b)
    va, vb = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.5, 0.5])
    np.testing.assert_allclose(evaluate([z], {a: va, b: vb})[0], 2 * va + vb)
    outs = two_outputs()(a, b)
    assert isinstance(outs, list) and len(outs) == 2
    got = evaluate(outs, {a: va, b: vb})
    np.testing.assert_allclose(got[0], np.exp(va) * vb)
    np.testing.assert_allclose(got[1], np.tanh(vb))


def test_perform_never_returns_an_input_buffer():
    x, y = T.matrix("x"), T.matrix("y")
    op = OpFromGraph([x, y], [x, x.T, y])
    a = np.ones((2, 3))
    node = op(T.matrix("a"), T.matrix("b"))[0].owner
    results = op.perform(node, [a, a])
    assert all(not np.may_share_memory(r, a) for r in results)
    assert not np.may_share_memory(results[0], results[2])


def test_bad_arguments_are_type_errors():
    op = axpy()
    with pytest.raises(TypeError, match="takes 2"):
        op(T.vector("a"))
    with pytest.raises(TypeError, match="argument 1 is"):
        op(T.vector("a"), T.matrix("m"))
    with pytest.raises(TypeError, match="argument 0 is"):
        op(T.fvector("f"), T.vector("b"))
    # Python values become constants of the declared dtype
    z = op(T.vector("a"), [1, 2])
    assert z.owner.inputs[1].dtype == "float64"


def test_gradient_matches_finite_differences():
    x, y = T.vector("x"), T.vector("y")
    op = OpFromGraph([x, y], [T.exp(x) * y + T.sin(x * y), T.tanh(y) * x])
    pt = [np.array([0.3, -0.7, 1.2]), np.array([1.1, 0.4, -0.9])]
    verify_grad(lambda a, b: op(a, b)[0], pt)
    verify_grad(lambda a, b: op(a, b)[1], pt)
    verify_grad(lambda a, b: op(a, b)[0] * op(a, b)[1], pt)


def test_gradient_through_nested_ops_and_identity_outputs():
    u = T.matrix("u")
    inner = OpFromGraph([u], [T.tanh(u) * u])
    x, y = T.matrix("x"), T.matrix("y")
    outer = OpFromGraph([x, y], [T.dot(inner(x), y), x])  # output 1 is the input itself
    pt = [np.array([[0.2, -0.5], [1.0, 0.3]]), np.array([[0.7], [-1.3]])]
    verify_grad(lambda a, b: outer(a, b)[0], pt)
    verify_grad(lambda a, b: outer(a, b)[1] * 3.0 + outer(a, b)[0].sum(), pt)


def test_gradient_is_an_op_from_graph_and_an_integer_input_gets_none():
    x, k = T.vector("x"), T.lscalar("k")
    op = OpFromGraph([x, k], [x * T.cast(k, "float64")])
    a, n = T.vector("a"), T.lscalar("n")
    g = aotsym.grad(op(a, n).sum(), a)
    assert isinstance(g.owner.op, OpFromGraph)       # the body's gradient, packaged
    assert g.owner.inputs[:2] == (a, n) and len(g.owner.inputs) == 3   # + output gradient
    np.testing.assert_allclose(evaluate([g], {a: np.ones(3), n: np.array(4)})[0], [4.0] * 3)
    node = op(a, n).owner
    assert op.grad(node, list(node.inputs), [T.vector("g")])[1] is None


def test_infer_shape_comes_from_the_body():
    x, y = T.matrix("x"), T.matrix("y")
    op = OpFromGraph([x, y], [T.dot(x, y)])
    a, b = T.matrix("a"), T.matrix("b")
    n_rows = op(a, b).shape[0]
    fg = optimize(FunctionGraph([a, b], [n_rows, op(a, b).shape[1]]), stages=["canonicalize"])
    assert count_ops(list(fg.outputs), OpFromGraph) == 0   # the op need not run for its shape
    got = evaluate(list(fg.outputs), {a: np.ones((5, 2)), b: np.ones((2, 7))})
    assert [int(v) for v in got] == [5, 7]


def test_prune_outputs_drops_unused_outputs_and_inputs():
    x, y = T.vector("x"), T.vector("y")
    op = OpFromGraph([x, y], [T.exp(x), T.log(y), x + 1])
    a, b = T.vector("a"), T.vector("b")
    outs = op(a, b)
    node = outs[0].owner
    pruned = op.prune_outputs(node, {0, 2})
    assert len(pruned.outputs) == 2 and pruned.inputs == (a,)   # y fed only log(y)
    assert op.prune_outputs(node, {0, 1, 2}) is None
    fg = optimize(FunctionGraph([a, b], [outs[2] * outs[0]]), stages=["prune_outputs"])
    (kept,) = [n for n in fg.toposort() if isinstance(n.op, OpFromGraph)]
    assert len(kept.outputs) == 2 and kept.inputs == (a,)
    assert fg.meta["optimizer_stats"].fired("prune_outputs") == 1
    va = np.array([0.5, 2.0])
    np.testing.assert_allclose(evaluate(list(fg.outputs), {a: va})[0], (va + 1) * np.exp(va))


def test_pprint_and_debugprint_show_the_op_and_its_body():
    a, b = T.vector("a"), T.vector("b")
    z = T.exp(axpy()(a, b))
    assert pprint(z) == "exp(axpy(a, b))"
    text = debugprint(z, file="str")
    assert text == (
        "Elemwise{exp} [id A] ''\n"
        " |axpy [id B] ''\n"
        "   |a [id C]\n"
        "   |b [id D]\n"
        "\n"
        "Inner graphs:\n"
        "\n"
        "axpy [id B] ''\n"
        " >Elemwise{add} [id E] ''\n"
        " > |Elemwise{mul} [id F] ''\n"
        " > | |DimShuffle{x} [id G] ''\n"
        " > | | |TensorConstant{2.0} [id H]\n"
        " > | |x [id I]\n"
        " > |y [id J]\n")
    # with nothing inside, the text is what it always was
    assert "Inner graphs" not in debugprint(T.exp(a), file="str")


def test_debugprint_shows_nested_inner_graphs():
    u = T.vector("u")
    inner = OpFromGraph([u], [T.exp(u)], name="Inner")
    x = T.vector("x")
    outer = OpFromGraph([x], [inner(x) + 1], name="Outer")
    text = debugprint(outer(T.vector("a")), file="str")
    sections = text.split("\n\n")
    assert sections[1] == "Inner graphs:"
    assert sections[2].startswith("Outer [id A] ''\n >Elemwise{add}")
    assert " > |Inner [id" in sections[2]
    assert sections[3].startswith("Inner [id") and " >Elemwise{exp}" in sections[3]


# ---------------------------------------------------------------------------- compiled


def body_graph():
    x, y = T.vector("x"), T.vector("y")
    op = OpFromGraph([x, y], [T.log(1 + T.exp(x)) * y, T.sqrt(y) - x])
    a, b = T.vector("a"), T.vector("b")
    o0, o1 = op(a, b)
    return [a, b], [o0 + o1, o1 * 2.0]


VALUES = [
    (np.array([0.5, -1.0, 3.0]), np.array([1.0, 4.0, 0.25])),
    (np.array([np.nan, np.inf, -np.inf, 0.0]), np.array([1.0, -1.0, np.inf, np.nan])),
    (np.zeros(0), np.zeros(0)),
]


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE", "DEBUG_MODE"])
def test_compiled_function_matches_the_reference_evaluator(mode):
    inputs, outputs = body_graph()
    f = aotsym.function(inputs, outputs, mode=mode)
    assert count_ops(list(f.maker.fgraph.outputs), OpFromGraph) == 0   # inlined
    for va, vb in VALUES:
        with np.errstate(all="ignore"):
            expected = evaluate(outputs, dict(zip(inputs, (va, vb))))
            got = f(va, vb)
        for e, g in zip(expected, got):
            np.testing.assert_allclose(g, e, rtol=1e-12, equal_nan=True)
            assert g.shape == e.shape and g.dtype == e.dtype


def test_single_output_function_returns_an_array():
    a, b = T.vector("a"), T.vector("b")
    f = aotsym.function([a, b], axpy()(a, b))
    np.testing.assert_allclose(f(np.arange(3.0), np.ones(3)), [1.0, 3.0, 5.0])


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_shared_variables_in_the_body_are_implicit_inputs(mode):
    """Theano's OpFromGraph example 2: the body reads a shared variable; each call reads its
    current value, and the gradient reaches it."""
    import aotsym
    x, y, z = T.scalars("xyz")
    s = aotsym.shared(np.random.rand(2, 2))
    op = OpFromGraph([x, y, z], [x + y * z + s])
    e2 = op(x, y, z) + op(z, y, x)
    fn = aotsym.function([x, y, z], [e2], mode=mode)
    sv = s.get_value()
    np.testing.assert_allclose(fn(1.0, 2.0, 3.0)[0], (1 + 6 + sv) + (3 + 2 + sv))
    s.set_value(np.zeros((2, 2)))
    np.testing.assert_allclose(fn(1.0, 2.0, 3.0)[0], np.full((2, 2), 12.0))
    gx, gs = aotsym.function([x, y, z], aotsym.grad(e2.sum(), [x, s]), mode=mode)(1.0, 2.0, 3.0)
    assert gx == 4 * (1 + 2.0)                      # d/dx of x + 2x + ..., summed over 4
    np.testing.assert_allclose(gs, np.full((2, 2), 2.0))
    with pytest.raises(TypeError, match="takes 4"):
        op(x, y)
