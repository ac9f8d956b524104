"""``aotsym.gradient.jacobian`` / ``hessian`` / ``Lop`` / ``Rop`` against central finite
differences (the reference evaluator, and the compiled module for a few), and the batched
pass: a Jacobian of ordinary ops holds no scan (one reverse pass, vectorized).
"""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.frontend.vectorize import vectorize
from aotsym.gradient import Lop, Rop, hessian, jacobian
from aotsym.graph.basic import toposort

RNG = np.random.default_rng(7)


def numeric_jacobian(fn, x, eps=1e-6):
    """d fn(x)[i...] / d x[j...], shape fn(x).shape + x.shape, central differences."""
    y0 = np.asarray(fn(x))
    out = np.zeros(y0.shape + x.shape)
    for idx in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[idx] += eps
        minus[idx] -= eps
        out[(Ellipsis,) + idx] = (np.asarray(fn(plus)) - np.asarray(fn(minus))) / (2 * eps)
    return out


def compile_(inputs, outputs, mode="FAST_COMPILE"):
    return aotsym.function(inputs, outputs, mode=mode, on_unused_input="ignore")


def has_scan(var):
    return any(type(n.op).__name__ == "Scan" for n in toposort([var]))


W = RNG.standard_normal((4, 3))
CASES = {
    "elementwise": (lambda x: T.exp(x) * T.tanh(x) + x ** 2, (5,)),
    "reduction": (lambda x: T.exp(x) * x.sum() - T.max(x), (4,)),
    "dot": (lambda x: T.tanh(T.dot(W, x)), (3,)),
    "dot_left": (lambda x: T.nnet.sigmoid(T.dot(x, W.T)), (3,)),
    "softmax": (lambda x: T.softmax(x), (4,)),
    "log_softmax": (lambda x: T.log_softmax(x * 2), (4,)),
    "slices": (lambda x: x[1:] * x[:-1] + x[::-1][:4], (5,)),
    "advanced_index": (lambda x: x[[0, 2, 2, 1]] ** 3, (3,)),
    "concatenate": (lambda x: T.concatenate([x * 2, T.sin(x)]), (3,)),
    "reshape": (lambda x: (T.reshape(x, (2, 3)) * [[1.0], [2.0]]).sum(axis=0), (6,)),
    "matrix_in": (lambda x: T.dot(x, W[:3]).sum(axis=1) ** 2, (2, 3)),
    "matrix_out": (lambda x: T.outer(x, T.sin(x)), (3,)),
    "set_subtensor": (lambda x: T.set_subtensor(x[1:3], T.exp(x[:2])) * x, (4,)),
    "logistic_row": (lambda x: T.nnet.softmax(T.dot(x, W.T) + 0.5)[0], (3,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_jacobian_matches_finite_differences(name):
    build, shape = CASES[name]
    x = T.tensor("float64", (False,) * len(shape), name="x")
    y = build(x)
    j = jacobian(y, x)
    assert not has_scan(j), "the Jacobian should be one batched pass, not a scan"
    xv = RNG.standard_normal(shape) * 0.5
    f_y = compile_([x], y)
    got = compile_([x], j)(xv)
    expected = numeric_jacobian(f_y, xv)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_jacobian_compiled_with_the_c_backend():
    x = T.vector("x")
    A = T.matrix("A")
    y = T.tanh(T.dot(A, x)) * T.exp(x).sum()
    jx, ja = jacobian(y, [x, A])
    f = compile_([x, A], [jx, ja], mode="FAST_RUN")
    xv, av = RNG.standard_normal(3), RNG.standard_normal((2, 3))
    gx, ga = f(xv, av)
    f_y = compile_([x, A], y)
    np.testing.assert_allclose(gx, numeric_jacobian(lambda v: f_y(v, av), xv), rtol=1e-5)
    np.testing.assert_allclose(ga, numeric_jacobian(lambda v: f_y(xv, v), av), rtol=1e-5)


def test_jacobian_of_a_scalar_is_the_gradient_and_disconnected_inputs():
    x, z = T.vectors("x", "z")
    c = (x ** 2).sum()
    np.testing.assert_allclose(compile_([x], jacobian(c, x))(np.array([1.0, 2.0])), [2, 4])
    with pytest.raises(ValueError):
        jacobian(x * 2, z)
    jz = jacobian(x * 2, z, disconnected_inputs="ignore")
    np.testing.assert_array_equal(compile_([x, z], jz)(np.ones(2), np.ones(3)),
                                  np.zeros((2, 3)))


def test_hessian_matches_finite_differences_and_scipy_style_quadratic():
    x = T.vector("x")
    A = RNG.standard_normal((3, 3))
    cost = 0.5 * T.dot(x, T.dot(A, x)) + T.log(1 + T.exp(x)).sum() + (x[0] * x[1]) ** 2
    h = hessian(cost, x)
    assert not has_scan(h)
    xv = RNG.standard_normal(3)
    g = compile_([x], aotsym.grad(cost, x))
    np.testing.assert_allclose(compile_([x], h)(xv), numeric_jacobian(g, xv), rtol=1e-5,
                               atol=1e-7)
    # the quadratic part alone: (A + A.T) / 2, exactly
    hq = compile_([x], hessian(0.5 * T.dot(x, T.dot(A, x)), x))(xv)
    np.testing.assert_allclose(hq, (A + A.T) / 2, rtol=1e-12)


def test_hessian_of_logistic_regression_weights():
    # the seed's "vector x Hessian" example, as the full Hessian
    x, y = T.matrix("x"), T.vector("y")
    w = T.vector("w")
    p = T.nnet.sigmoid(T.dot(x, w))
    cost = T.nnet.binary_crossentropy(p, y).mean()
    h = hessian(cost, w)
    xv, yv = RNG.standard_normal((8, 3)), (RNG.random(8) > 0.5).astype(float)
    wv = RNG.standard_normal(3) * 0.3
    pv = 1 / (1 + np.exp(-xv @ wv))
    expected = (xv.T * (pv * (1 - pv))) @ xv / 8
    np.testing.assert_allclose(compile_([x, y, w], h)(xv, yv, wv), expected, rtol=1e-8)
    np.testing.assert_allclose(compile_([x, y, w], h, mode="FAST_RUN")(xv, yv, wv), expected,
                               rtol=1e-8)


def test_lop_is_eval_points_times_the_jacobian():
    x, v = T.vectors("x", "v")
    y = T.tanh(T.dot(W, x))
    xv, vv = RNG.standard_normal(3), RNG.standard_normal(4)
    got = compile_([x, v], Lop(y, x, v))(xv, vv)
    J = numeric_jacobian(compile_([x], y), xv)
    np.testing.assert_allclose(got, vv @ J, rtol=1e-6)
    (got_list,) = Lop([y], [x], [v])
    np.testing.assert_allclose(compile_([x, v], got_list)(xv, vv), vv @ J, rtol=1e-6)


def test_rop_is_the_jacobian_times_eval_points():
    x, v = T.vectors("x", "v")
    M, V = T.matrices("M", "V")
    y = T.tanh(T.dot(M, x)) * T.exp(x).sum()
    r = Rop(y, [x, M], [v, V])
    xv, vv = RNG.standard_normal(3), RNG.standard_normal(3)
    mv, mvv = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    f_y = compile_([x, M], y)
    Jx = numeric_jacobian(lambda a: f_y(a, mv), xv)
    JM = numeric_jacobian(lambda a: f_y(xv, a), mv)
    expected = Jx @ vv + np.tensordot(JM, mvv, axes=2)
    np.testing.assert_allclose(compile_([x, M, v, V], r)(xv, mv, vv, mvv), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(compile_([x, M, v, V], r, mode="FAST_RUN")(xv, mv, vv, mvv),
                               expected, rtol=1e-6)


def test_rop_hessian_vector_product_and_disconnected_outputs():
    x, v = T.vectors("x", "v")
    cost = (T.sin(x) * x).sum() ** 2
    hv = Rop(aotsym.grad(cost, x), x, v)
    xv, vv = RNG.standard_normal(3), RNG.standard_normal(3)
    H = compile_([x], hessian(cost, x))(xv)
    np.testing.assert_allclose(compile_([x, v], hv)(xv, vv), H @ vv, rtol=1e-8)
    z = T.vector("z")
    with pytest.raises(ValueError, match="does not depend"):
        Rop(z * 2, x, v)
    zero = Rop(z * 2, x, v, disconnected_outputs="ignore")
    np.testing.assert_array_equal(compile_([z, x, v], zero)(np.ones(2), xv, vv), [0, 0])


def test_vectorize_maps_an_op_without_a_rule_over_the_batch():
    # ArgReduce has no rule: the batch is mapped with scan (correct, one step per row)
    x = T.vector("x")
    y = T.argmax(x * 2)
    X = T.matrix("X")
    ((out, batched),) = vectorize([y], {x: X})
    assert batched and has_scan(out)
    xv = RNG.standard_normal((4, 5))
    np.testing.assert_array_equal(compile_([X], out)(xv), xv.argmax(axis=1))
