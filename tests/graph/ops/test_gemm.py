"""Gemm / Gemv / Ger: BLAS type rules, NumPy values, honest in-place behaviour."""

import numpy as np
import pytest

from aotsym import tensor as T
from aotsym.graph.basic import constant
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.gemm import Gemm, Gemv, Ger


def test_gemm_value_and_type():
    z, x, y = T.matrix("z"), T.matrix("x"), T.matrix("y")
    out = Gemm()(z, constant(0.5), x, y, constant(2.0))
    assert out.type == z.type
    zv, xv, yv = np.random.rand(2, 3), np.random.rand(2, 4), np.random.rand(4, 3)
    (got,) = evaluate([out], {z: zv, x: xv, y: yv})
    np.testing.assert_allclose(got, 0.5 * xv @ yv + 2.0 * zv)
    assert not np.shares_memory(got, zv)


def test_gemv_inplace_overwrites_y_and_beta_zero_ignores_it():
    y, a, x = T.vector("y"), T.matrix("a"), T.vector("x")
    op = Gemv(inplace=True)
    assert op.destroy_map == {0: [0]} and Gemv().destroy_map == {}
    out = op(y, constant(1.0), a, x, constant(0.0))
    yv, av, xv = np.full(2, np.nan), np.random.rand(2, 3), np.random.rand(3)
    (got,) = evaluate([out], {y: yv, a: av, x: xv})
    np.testing.assert_allclose(got, av @ xv)
    assert np.shares_memory(got, yv)


def test_ger():
    a, x, y = T.matrix("a"), T.vector("x"), T.vector("y")
    out = Ger()(a, constant(-0.1), x, y)
    av, xv, yv = np.random.rand(2, 3), np.random.rand(2), np.random.rand(3)
    np.testing.assert_allclose(evaluate([out], {a: av, x: xv, y: yv})[0],
                               av - 0.1 * np.outer(xv, yv))


def test_type_errors():
    z, x, y = T.matrix("z"), T.matrix("x"), T.matrix("y")
    with pytest.raises(TypeError):
        Gemm()(z, constant(1.0), x, T.fmatrix("f"), constant(1.0))
    with pytest.raises(TypeError):
        Gemm()(z, constant(np.ones(2)), x, y, constant(1.0))
    with pytest.raises(TypeError):
        Gemm()(T.imatrix(), constant(1, "int32"), T.imatrix(), T.imatrix(), constant(1, "int32"))
    with pytest.raises(TypeError):
        Gemv()(T.vector(), constant(1.0), T.vector(), T.vector(), constant(1.0))


def test_shape_mismatch_names_node():
    z, x, y = T.matrix("z"), T.matrix("x"), T.matrix("y")
    out = Gemm()(z, constant(1.0), x, y, constant(1.0))
    with pytest.raises(ValueError, match="Gemm"):
        evaluate([out], {z: np.ones((2, 2)), x: np.ones((2, 3)), y: np.ones((2, 2))})
