"""Canonicalization: one spelling per expression (before graph, expected graph, values)."""

import numpy as np

import aotsym
from aotsym import tensor as T
from aotsym.graph.basic import Constant
from aotsym.graph.ops.elemwise import DimShuffle
from aotsym.optimizer.testing import assert_graph, assert_same_values, rewrite
from aotsym.optimizer.utils import const_like

STAGES = ["canonicalize"]


def canon(v):
    return rewrite(v, STAGES)


def c(value, like):
    return const_like(value, like)


def test_constant_folding():
    x = T.vector("x")
    before = x * (T.constant(2.0) + 3.0)
    assert_graph(canon(before), x * c(5.0, x))
    assert_same_values(before, canon(before))


def test_flatten_and_collect_sum_constants():
    x, y = T.vector("x"), T.vector("y")
    before = (x + 1) - (y - 2) + (-x)
    after = rewrite(before, STAGES, fast_math=True)   # x - x cancels only under fast_math
    assert_graph(after, c(3.0, x) - y)
    assert_same_values(before, after)
    assert_graph(canon(before), x - y - x + c(3.0, x))
    i, j = T.vector("i", dtype="int32"), T.vector("j", dtype="int32")
    assert_graph(canon((i + 1) - (j - 2) + (-i)), c(3, i) - j)   # integers: exact


def test_sum_keeps_order_and_is_idempotent():
    a, b, d = T.vector("a"), T.vector("b"), T.vector("d")
    assert_graph(canon(a + (b + d)), (a + b) + d)
    assert_graph(canon((a + b) + d), (a + b) + d)
    assert_graph(canon(-a + b), b - a)


def test_x_plus_zero_and_times_one_keep_type():
    x = T.vector("x")
    assert canon(x + (-0.0)) is x      # -0.0 is the floats' additive identity
    assert canon(x * 1) is x
    assert canon(x - 0) is x           # (-0.0 - 0.0 is -0.0)
    i = T.vector("i", dtype="int64")
    assert canon(i + 0) is i
    assert_graph(canon(0 - i), -i)
    row = T.row("r")
    zeros = T.constant(np.zeros((2, 3)))
    before = row + zeros                       # shape (2, 3): x + 0 must keep the shape
    after = canon(before)
    assert after.type == before.type
    assert_same_values(before, after, {row: np.ones((1, 3))})
    i8 = T.vector("i", dtype="int8")
    out = canon(i8 * 1.0)                       # float result: a cast, not i8 itself
    assert out.dtype == (i8 * 1.0).dtype and out.owner.op.scalar_op.name == "cast"


def test_an_added_positive_zero_is_kept_for_signed_zeros():
    """x + 0.0 is not x, nor 0.0 - x -x, at a zero x (IEEE 754: -0.0 + 0.0 = +0.0 and
    0.0 - 0.0 = +0.0): the constant stays, wherever the sum collects it."""
    x = T.vector("x")
    v = np.array([-0.0, 0.0, 1.5, -2.0, np.inf, np.nan])
    for before in (x + 0, 0.0 + x, 0 - x, (x + 0.0) * 2.0, (x + 2.0) + (-2.0), x - (-0.0),
                   (x * 3.0 + 0.0) + x):
        after = canon(before)
        f = aotsym.function([x], [before, after], mode="FAST_COMPILE")
        want, got = f(v)
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got[:2]), np.signbit(want[:2]))


def test_x_minus_x_and_double_negation():
    x = T.vector("x")
    after = rewrite(x - x, STAGES, fast_math=True)
    assert after.type == x.type and isinstance(after.owner.inputs[1], Constant)
    assert_same_values(x - x, after)
    assert canon(-(-x)) is x


def test_products_flatten_cancel_and_collect():
    x, y = T.vector("x"), T.vector("y")
    before = (2 * x) * (y / x) / 4
    fast = rewrite(before, STAGES, fast_math=True)
    assert_graph(fast, y * c(0.5, x))
    assert_same_values(before, fast, {x: np.array([1.0, 2.0, 3.0])})
    assert_graph(canon(before), x * y * c(0.5, x) / x)
    assert_graph(canon(-(x * -3)), x * c(3.0, x))
    assert canon(1 / (1 / x)) is x
    assert canon(x / x).owner is not None and canon(x / x).type == x.type


def test_integer_products_do_not_divide():
    i = T.vector("i", dtype="int32")
    before = (i * 2) * 3
    assert_graph(canon(before), i * c(6, i))


def test_double_transpose_and_dimshuffle_merge():
    m = T.matrix("m")
    assert canon(m.T.T) is m
    r = T.row("r")
    before = r.dimshuffle(1).dimshuffle("x", 0)
    assert canon(before) is r
    v = T.vector("v")
    merged = canon(v.dimshuffle(0, "x").dimshuffle(1, 0))
    assert_graph(merged, DimShuffle(v.broadcastable, ("x", 0))(v))


def test_useless_switch_cast_fill():
    a, b = T.vector("a"), T.vector("b")
    assert canon(T.switch(T.constant(True), a, b)) is a
    assert canon(T.switch(T.gt(a, 0), b, b)) is b
    i8 = T.vector("i", dtype="int8")
    before = T.cast(T.cast(i8, "int32"), "float64")
    assert_graph(canon(before), T.cast(i8, "float64"))
    assert canon(T.fill(a, b)) is b
    assert_graph(canon(T.fill(a ** 2, 0.5)), T.fill(a, c(0.5, a)))


def test_exp_log_pairs():
    x = T.vector("x")
    assert canon(T.log(T.exp(x))) is x
    after = canon(T.exp(T.log(x)))
    assert_same_values(T.exp(T.log(x)), after, {x: np.array([-1.0, 0.0, 2.0])})
    assert canon(T.log1p(T.expm1(x))) is x


def test_pow_neutral_and_shape_of_computed():
    x = T.vector("x")
    assert canon(x ** 1) is x
    before = T.exp(x).shape[0]
    assert_graph(canon(before), x.shape[0])


def test_useless_reduce_over_broadcastable():
    r = T.row("r")
    assert_graph(canon(T.sum(r, axis=0)), DimShuffle(r.broadcastable, (1,))(r))


def test_reshape_chains_and_useless_reshape():
    from aotsym.graph.ops.reshape import Reshape
    x = T.matrix("x")
    before = x.reshape((6,)).reshape((2, 3))
    after = canon(before)
    assert after.owner.inputs[0] is x and isinstance(after.owner.op, Reshape)
    assert_same_values(before, after, {x: np.arange(6.0).reshape(3, 2)})
    assert canon(x.reshape(x.shape)) is x


def test_useless_alloc():
    x = T.matrix("x")
    assert canon(T.alloc(x, x.shape[0], x.shape[1])) is x


def test_subtensor_of_subtensor():
    x = T.vector("x")
    assert_graph(canon(x[2:][1:5]), x[3:7])
    m = T.matrix("m")
    assert_graph(canon(m[1:, :][0]), m[1])
    vals = {x: np.arange(10.0)}
    assert_same_values(x[2:][1:5], canon(x[2:][1:5]), vals)
    before = x[-3:][1:]          # negative bounds: left alone
    assert canon(before).owner.inputs[0].owner is not None
