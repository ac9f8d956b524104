"""Composite and FusedReduce: type rule, per-step dtypes, and values equal to unfused Elemwise."""

import numpy as np
import pytest

from aotsym.optimizer.testing import merged
from aotsym import tensor as T
from aotsym.graph.basic import apply
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.composite import Composite, FusedReduce


def _sigmoid_gt():
    # sigmoid(-((-i0) - i1)) > i2
    return Composite(
        program=(("neg", None, (("in", 0),)),
                 ("sub", None, (("step", 0), ("in", 1))),
                 ("neg", None, (("step", 1),)),
                 ("sigmoid", None, (("step", 2),)),
                 ("gt", None, (("step", 3), ("in", 2)))),
        n_inputs=3, outputs=(("step", 4),))


def test_composite_matches_unfused_and_is_interned():
    x, b, c = T.vector("x"), T.vector("b", dtype="float32"), T.vector("c")
    op = _sigmoid_gt()
    out = apply(op, [x, b, c]).outputs[0]
    assert out.dtype == "bool" and out.broadcastable == (False,)
    assert merged(apply(_sigmoid_gt(), [x, b, c]).outputs[0]) is merged(out)  # equal ops
    unfused = T.gt(T.sigmoid(-(-x - b)), c)
    vals = {x: np.linspace(-3, 3, 7), b: np.float32(0.5) * np.ones(7, "float32"),
            c: np.full(7, 0.4)}
    np.testing.assert_array_equal(evaluate([out], vals)[0], evaluate([unfused], vals)[0])
    assert "sigmoid" in str(op)


def test_steps_report_compute_dtypes():
    op = Composite(program=(("add", None, (("in", 0), ("const", 2, "int8"))),
                            ("cast", "float32", (("step", 0),)),
                            ("true_div", None, (("step", 1), ("in", 1)))),
                   n_inputs=2, outputs=(("step", 2),))
    steps = op.steps(["int8", "float32"])
    assert [s[0].name for s in steps] == ["add", "cast", "true_div"]
    assert steps[0][1:] == (("int8", "int8"), "int8")
    assert steps[1][2] == "float32"
    assert steps[2][1:] == (("float32", "float32"), "float32")


def test_memos_follow_the_op():
    """str, expression and steps are computed once per op; an in-place variant is the op
    made with ``inplace`` (same key, hash and text) and keeps no stale text; a pickled op
    carries no memo and gives the same answers."""
    import pickle
    op = _sigmoid_gt()
    text, steps = str(op), op.steps(["float64", "float32", "float64"])
    assert op.steps(["float64", "float32", "float64"]) is steps        # memoized
    assert op.steps(["float32", "float32", "float32"]) != steps        # per dtypes
    variant = op.with_inplace([(0, 0)])
    made = Composite(op.program, op.n_inputs, op.outputs, inplace=[(0, 0)])
    assert variant == made and hash(variant) == hash(made) and variant != op
    assert str(variant) == str(made) == text + "[(0, 0)]"
    assert variant.destroy_map == made.destroy_map == {0: [0]}
    assert str(op) == text and op.inplace == ()                        # the original unchanged
    back = pickle.loads(pickle.dumps(variant))
    assert "_memo" not in back.__dict__
    assert back == made and str(back) == str(made)
    assert back.steps(["float64", "float32", "float64"]) == steps


def test_constants_keep_sign_of_zero_in_identity():
    a = Composite((("mul", None, (("in", 0), ("const", 0.0, "float64"))),), 1, (("step", 0),))
    b = Composite((("mul", None, (("in", 0), ("const", -0.0, "float64"))),), 1, (("step", 0),))
    assert a != b


def test_multiple_outputs_and_broadcasting():
    x = T.matrix("x")
    r = T.row("r")
    op = Composite(program=(("exp", None, (("in", 1),)),
                            ("mul", None, (("in", 0), ("step", 0))),
                            ("add", None, (("step", 1), ("const", 1.0, "float64")))),
                   n_inputs=2, outputs=(("step", 1), ("step", 2)))
    o1, o2 = apply(op, [x, r]).outputs
    assert o1.broadcastable == (False, False)
    xv, rv = np.random.rand(3, 4), np.random.rand(1, 4)
    got = evaluate([o1, o2], {x: xv, r: rv})
    np.testing.assert_array_equal(got[0], xv * np.exp(rv))
    np.testing.assert_array_equal(got[1], xv * np.exp(rv) + 1.0)


def test_output_must_cover_loop():
    x, r = T.matrix("x"), T.row("r")
    op = Composite(program=(("exp", None, (("in", 1),)), ("mul", None, (("in", 0), ("in", 1)))),
                   n_inputs=2, outputs=(("step", 0), ("step", 1)))
    with pytest.raises(TypeError):
        apply(op, [x, r])


def test_inplace_writes_into_input():
    x = T.vector("x")
    op = Composite((("exp", None, (("in", 0),)),), 1, (("step", 0),), inplace=((0, 0),))
    assert op.destroy_map == {0: [0]}
    xv = np.zeros(3)
    (res,) = evaluate([apply(op, [x]).outputs[0]], {x: xv})
    assert res is xv or np.shares_memory(res, xv)
    np.testing.assert_array_equal(xv, np.ones(3))


def test_bad_programs_are_rejected():
    with pytest.raises(ValueError):
        Composite((("exp", None, (("step", 0),)),), 1, (("step", 0),))
    with pytest.raises(ValueError):
        Composite((("nope", None, (("in", 0),)),), 1, (("step", 0),))
    with pytest.raises(ValueError):
        Composite((("exp", None, (("in", 0),)),), 1, (("in", 0),))


def test_fused_reduce_is_composite_then_reduce():
    x, y = T.matrix("x"), T.matrix("y")
    comp = Composite((("sub", None, (("in", 0), ("in", 1))),
                      ("sqr", None, (("step", 0),))), 2, (("step", 1),))
    out = apply(FusedReduce("sum", (1,), comp), [x, y]).outputs[0]
    assert out.type == T.sum(T.sqr(x - y), axis=1).type
    xv, yv = np.random.rand(3, 4), np.random.rand(3, 4)
    np.testing.assert_array_equal(evaluate([out], {x: xv, y: yv})[0],
                                  evaluate([T.sum(T.sqr(x - y), axis=1)], {x: xv, y: yv})[0])
