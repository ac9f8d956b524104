"""The IfElse op (aotsym.graph.ops.ifelse): layout, type rules, errors naming the user's
line, reference evaluation of only the taken branch, gradients (finite differences), shapes,
pruning, nesting, inside OpFromGraph, and both spellings of the user API."""

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

import aotsym
from aotsym.optimizer.testing import merged
from aotsym import tensor as T
from aotsym.gradient import verify_grad
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.ifelse import IfElse, ifelse
from aotsym.graph.ops.opfromgraph import OpFromGraph
from aotsym.graph.op import Op

THIS_FILE = os.path.basename(__file__)


def here() -> int:
    return inspect.currentframe().f_back.f_lineno


class Counted(Op):
    """``x * 1`` that counts its reference runs (to prove a branch did not run)."""

    __props__ = ("tag",)
    runs = 0

    def __init__(self, tag="c"):
        self.tag = tag

    def output_types(self, inputs):
        return [inputs[0].type]

    def perform(self, node, inputs):
        type(self).runs += 1
        return [np.array(inputs[0], copy=True)]

    def grad(self, node, inputs, output_grads):
        return [output_grads[0]]


def test_layout_identity_branches_and_params():
    c, x, y = T.iscalar("c"), T.vector("x"), T.vector("y")
    z = ifelse(c, x * 2, y)
    node = z.owner
    assert isinstance(node.op, IfElse) and node.op.structured_kind == "branch"
    assert node.inputs[0] is c and [merged(v) for v in node.inputs[1:]] == [merged(x * 2), y]
    then_graph, else_graph = node.op.inner_graphs
    assert then_graph.nodes() == [] and else_graph.nodes() == []       # identities
    assert then_graph.outputs[0] is then_graph.inputs[0]
    assert else_graph.outputs[0] is else_graph.inputs[1]
    assert node.op.structured_params(node) == {"condition": 0, "body_inputs": ((1, 2), (1, 2))}
    assert z.type == x.type


def test_equal_ifelses_are_one_node():
    c, x, y = T.bscalar("c"), T.vector("x"), T.vector("y")
    assert ifelse(c, x, y) is ifelse(c, x, y)


@pytest.mark.parametrize("cond_dtype", ["bool", "int8", "int32", "int64", "uint8", "uint64"])
@pytest.mark.parametrize("taken", [True, False])
def test_values_of_the_taken_branch(cond_dtype, taken):
    c = T.scalar("c", dtype=cond_dtype)
    x, y = T.vectors("x", "y")
    z = ifelse(c, T.exp(x), y - 1)
    cv = np.array(2 if taken and cond_dtype != "bool" else taken, dtype=cond_dtype)
    for xv, yv in [([0.5, np.nan, np.inf], [-np.inf, 0.0, 2.0]), ([], [])]:
        xv, yv = np.array(xv), np.array(yv)
        (got,) = evaluate([z], {c: cv, x: xv, y: yv})
        np.testing.assert_array_equal(got, np.exp(xv) if taken else yv - 1)


def test_list_of_outputs():
    c = T.bscalar("c")
    x, y = T.vectors("x", "y")
    outs = ifelse(c, [x, x.sum(), y], [y, y.sum(), x])
    assert isinstance(outs, list) and len(outs) == 3
    assert len({o.owner for o in outs}) == 1
    xv, yv = np.array([1.0, 2.0]), np.array([5.0, 7.0])
    got = evaluate(outs, {c: np.int8(0), x: xv, y: yv})
    np.testing.assert_array_equal(got[0], yv)
    assert got[1] == 12.0
    np.testing.assert_array_equal(got[2], xv)
    assert not np.shares_memory(got[0], yv)          # outputs are fresh arrays


def test_python_numbers_take_the_other_branch_dtype():
    c, x = T.iscalar("c"), T.fscalar("x")
    z = ifelse(c, x, 0)
    assert z.dtype == "float32"
    assert evaluate([z], {c: np.int32(0), x: np.float32(3)})[0] == 0
    assert ifelse(c, 1.5, 2).dtype == "float64"


def test_perform_runs_only_the_taken_branch():
    Counted.runs = 0
    c = T.iscalar("c")
    x = T.vector("x")
    # branches with a counting op inside (what the optimizer makes of ifelse(c, f(x), g(x)))
    from aotsym.graph.inner import InnerGraph
    p = T.vector("p")
    op = IfElse(InnerGraph([p], [Counted("then")(p) * 2]), InnerGraph([p], [p - 1]))
    z = op(c, x)
    np.testing.assert_array_equal(evaluate([z], {c: np.int32(0), x: np.ones(2)})[0], [0, 0])
    assert Counted.runs == 0
    np.testing.assert_array_equal(evaluate([z], {c: np.int32(3), x: np.ones(2)})[0], [2, 2])
    assert Counted.runs == 1


def test_non_scalar_condition_is_a_type_error_naming_the_line():
    v, x = T.vector("v"), T.scalar("x")
    line = here() + 2
    with pytest.raises(TypeError) as info:
        ifelse(v > 0, x, x * 2)
    text = str(info.value)
    assert f'{THIS_FILE}", line {line}' in text and "T.switch" in text, text
    assert "vector" in text


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_float_condition_is_true_when_nonzero_as_in_theano(mode, dtype):
    """Theano takes a float scalar condition and tests it against zero (NaN is true)."""
    a, x = T.scalar("a", dtype=dtype), T.scalar("x")
    f = aotsym.function([a, x], ifelse(a, x * 2, x * 3), mode=mode)
    for value in [0.0, -0.0, 1.5, -1e-30, np.nan, np.inf, -np.inf]:
        assert f(np.asarray(value, dtype=dtype), 1.0) == (2.0 if bool(value) else 3.0), value


def test_mismatched_branches_are_refused():
    c = T.iscalar("c")
    x, v, f = T.matrix("x"), T.vector("v"), T.fmatrix("f")
    line = here() + 2
    with pytest.raises(TypeError) as info:
        ifelse(c, x, v)
    assert "same dtype and number of dimensions" in str(info.value)
    assert f'line {line}' in str(info.value)
    with pytest.raises(TypeError, match="T.cast"):
        ifelse(c, x, f)
    with pytest.raises(TypeError, match="broadcastable pattern"):
        ifelse(c, T.row("r"), x)                       # (True, False) vs (False, False)
    with pytest.raises(TypeError, match="gives 2 value"):
        ifelse(c, [x, x], [x])
    with pytest.raises(TypeError, match="gives 1 value"):
        ifelse(c, x, [x])


def test_a_constant_branch_takes_the_general_pattern():
    c, x = T.iscalar("c"), T.matrix("x")
    z = ifelse(c, x, np.zeros((1, 3)))                 # a constant (True, False) is retyped
    assert z.broadcastable == (False, False)
    got = evaluate([z], {c: np.int32(0), x: np.ones((2, 3))})[0]
    assert got.shape == (1, 3)


def test_gradients_against_finite_differences():
    def cost_of(cond):
        def fn(x, y):
            a, b = ifelse(cond, [T.exp(x) * y, x.sum()], [y ** 2, (x * y).sum()])
            return a.sum() + 3 * b
        return fn

    rng = np.random.default_rng(0)
    pt = [rng.standard_normal(4), rng.standard_normal(4)]
    verify_grad(cost_of(np.int8(1)), pt, rng=rng)
    verify_grad(cost_of(np.int8(0)), pt, rng=rng)


def test_gradient_is_an_ifelse_and_flows_to_the_taken_branch_only():
    c = T.iscalar("c")
    x, y = T.vectors("x", "y")
    z = ifelse(c, (x ** 2).sum(), (3 * y).sum())
    gx, gy = aotsym.grad(z, [x, y])
    from aotsym.graph.basic import toposort
    assert any(isinstance(n.op, IfElse) for n in toposort([gx]))   # the value's gradient
    xv, yv = np.array([1.0, -2.0]), np.array([4.0, 5.0])
    got = evaluate([gx, gy], {c: np.int32(1), x: xv, y: yv})
    np.testing.assert_allclose(got[0], 2 * xv)
    np.testing.assert_allclose(got[1], 0)
    got = evaluate([gx, gy], {c: np.int32(0), x: xv, y: yv})
    np.testing.assert_allclose(got[0], 0)
    np.testing.assert_allclose(got[1], 3)


def test_second_derivative_through_ifelse():
    c, x = T.iscalar("c"), T.scalar("x")
    z = ifelse(c, x ** 3, T.sin(x))
    g = aotsym.grad(z, x)
    h = aotsym.grad(g, x)
    assert evaluate([h], {c: np.int32(1), x: 2.0})[0] == pytest.approx(12.0)
    assert evaluate([h], {c: np.int32(0), x: 2.0})[0] == pytest.approx(-np.sin(2.0))


def test_infer_shape_keeps_what_both_branches_agree_on():
    from aotsym.graph.ops.shape import shape_i
    c = T.iscalar("c")
    x, y = T.matrices("x", "y")
    from aotsym.graph.inner import InnerGraph
    p = T.matrix("p")
    z = IfElse(InnerGraph([p], [p * 2]), InnerGraph([p], [T.exp(p)]))(c, x)
    node = z.owner
    shapes = [()] + [tuple(shape_i(v, d) for d in range(v.ndim)) for v in node.inputs[1:]]
    (got,) = node.op.infer_shape(node, shapes)
    assert tuple(map(merged, got)) == (merged(shape_i(x, 0)), merged(shape_i(x, 1)))
    w = ifelse(c, x, y)
    node = w.owner
    shapes = [()] + [tuple(shape_i(v, d) for d in range(v.ndim)) for v in node.inputs[1:]]
    (got,) = node.op.infer_shape(node, shapes)
    # asks the result at run time
    assert tuple(map(merged, got)) == (merged(shape_i(w, 0)), merged(shape_i(w, 1)))


def test_prune_outputs_drops_outputs_and_the_values_only_they_read():
    c = T.iscalar("c")
    x, y, u = T.vectors("x", "y", "u")
    o0, o1 = ifelse(c, [x, u], [y, u])
    node = o0.owner
    pruned = node.op.prune_outputs(node, {0})
    assert len(pruned.outputs) == 1 and list(pruned.inputs) == [c, x, y]
    assert node.op.prune_outputs(node, {0, 1}) is None


def test_nested_ifelse():
    c1, c2 = T.iscalars("c1", "c2")
    x, y = T.vectors("x", "y")
    z = ifelse(c1, ifelse(c2, x, y * 2), T.exp(x))
    xv, yv = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    for a, b, want in [(1, 1, xv), (1, 0, yv * 2), (0, 1, np.exp(xv)), (0, 0, np.exp(xv))]:
        got = evaluate([z], {c1: np.int32(a), c2: np.int32(b), x: xv, y: yv})[0]
        np.testing.assert_allclose(got, want)


def test_ifelse_inside_op_from_graph():
    c, a = T.iscalar("c"), T.vector("a")
    ofg = OpFromGraph([c, a], [ifelse(c, a.sum(), a.max())])
    k, x = T.iscalar("k"), T.vector("x")
    z = ofg(k, x * 2)
    assert evaluate([z], {k: np.int32(1), x: np.array([1.0, 3.0])})[0] == 8.0
    assert evaluate([z], {k: np.int32(0), x: np.array([1.0, 3.0])})[0] == 6.0


def test_both_spellings_in_both_import_orders():
    code = {
        "package first": "import aotsym\nf = aotsym.ifelse\nimport aotsym.ifelse\n"
                         "from aotsym.ifelse import ifelse\n",
        "module first": "from aotsym.ifelse import ifelse\nimport aotsym\nf = aotsym.ifelse\n",
        "from package": "from aotsym import ifelse as f\nfrom aotsym.ifelse import ifelse\n",
    }
    check = ("from aotsym import tensor as T\n"
             "c, x, y = T.iscalar('c'), T.scalar('x'), T.scalar('y')\n"
             "z = ifelse(c, x, y)\n"
             "assert f(c, x, y) is z and aotsym.ifelse(c, [x], [y])[0] is z\n"
             "assert aotsym.ifelse.ifelse is ifelse and callable(aotsym.ifelse)\n"
             "import aotsym\nprint('ok')\n")
    for name, prelude in code.items():
        proc = subprocess.run([sys.executable, "-c", prelude + "import aotsym\n" + check],
                              capture_output=True, text=True, timeout=120)
        assert proc.stdout.strip() == "ok", (name, proc.stdout + proc.stderr)


def test_switch_stays_elementwise_and_eager():
    c, x, y = T.vector("c"), T.vector("x"), T.vector("y")
    z = T.switch(c > 0, x, y)
    assert not isinstance(z.owner.op, IfElse)
    got = evaluate([z], {c: np.array([1.0, -1.0]), x: np.array([1.0, 2.0]),
                         y: np.array([3.0, 4.0])})[0]
    np.testing.assert_array_equal(got, [1.0, 4.0])
