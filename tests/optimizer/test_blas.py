"""BLAS: dot with its scaling and accumulation becomes one Gemm / Gemv / Ger."""

import numpy as np

from aotsym import tensor as T
from aotsym.graph.basic import Constant
from aotsym.graph.ops.blas import Dot
from aotsym.graph.ops.elemwise import DimShuffle
from aotsym.graph.ops.gemm import Gemm, Gemv, Ger
from aotsym.optimizer.testing import assert_graph, assert_same_values, count_ops, rewrite

STAGES = ["canonicalize", "stabilize", "specialize", "blas"]


def blas(v):
    return rewrite(v, STAGES)


def scalar(value, dtype="float64"):
    return Constant(T.scalar().type.clone(dtype=dtype), np.asarray(value, dtype))


def test_gemm_absorbs_alpha_and_beta():
    z, x, y = T.matrix("z"), T.matrix("x"), T.matrix("y")
    before = 2.0 * z - 0.5 * T.dot(x, y)
    after = blas(before)
    assert_graph(after, Gemm()(z, scalar(-0.5), x, y, scalar(2.0)))
    assert_same_values(before, after)


def test_seed_update_is_one_gemv():
    """``w - 0.01 * (dot(x.T, d) + 0.02 * w)`` as in the seed's profile: one Gemv."""
    w, d, x = T.vector("w"), T.vector("d"), T.matrix("x")
    before = w - 0.01 * (T.dot(x.T, d) + 0.02 * w)
    after = blas(before)
    assert_graph(after, Gemv()(w, scalar(-0.01), DimShuffle((False, False), (1, 0))(x), d,
                                scalar(1 - 0.01 * 0.02)))
    assert_same_values(before, after)


def test_vector_matrix_uses_transposed_gemv():
    y, v, a = T.vector("y"), T.vector("v"), T.matrix("a")
    before = y + T.dot(v, a)
    after = blas(before)
    assert count_ops(after, Gemv) == 1
    assert_same_values(before, after)


def test_outer_product_is_ger():
    a, x, y = T.matrix("a"), T.vector("x"), T.vector("y")
    before = a + 0.1 * T.outer(x, y)
    after = blas(before)
    assert_graph(after, Ger()(a, scalar(0.1), x, y))
    assert_same_values(before, after)


def test_symbolic_learning_rate_is_alpha():
    w, d, x, lr = T.vector("w"), T.vector("d"), T.matrix("x"), T.scalar("lr")
    before = w - lr * T.dot(x, d)
    after = blas(before)
    assert count_ops(after, Gemv) == 1 and count_ops(after, "sub") == 0
    assert_same_values(before, after)


def test_shared_dot_is_not_computed_twice():
    w, x, y = T.vector("w"), T.matrix("x"), T.vector("y")
    p = T.dot(x, w)
    after = rewrite([p, y + p], STAGES)
    assert count_ops(after, Gemv) + count_ops(after, Dot) == 1
    assert count_ops(after, "add") == 1


def test_bare_matrix_vector_dot_is_gemv_with_beta_zero():
    x, w = T.matrix("x"), T.vector("w")
    after = blas(T.dot(x, w))
    assert isinstance(after.owner.op, Gemv)
    assert after.owner.inputs[4].data == 0
    assert_same_values(T.dot(x, w), after)
    assert count_ops(blas(T.dot(x, x)), Gemm) == 0  # matrix . matrix alone stays a Dot


def test_float32_and_int_dots():
    z, x, y = T.fmatrix("z"), T.fmatrix("x"), T.fmatrix("y")
    assert count_ops(blas(z + T.dot(x, y)), Gemm) == 1
    zi, xi, yi = T.imatrix("zi"), T.imatrix("xi"), T.imatrix("yi")
    assert count_ops(blas(zi + T.dot(xi, yi)), Gemm) == 0
