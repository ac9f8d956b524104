"""Theano's tensor functions of ``aotsym/tensor/special.py``: gradient stops, ``Print``,
sort / argsort, special functions, nnet extras.

Compiled results (FAST_RUN) are compared with the NumPy reference evaluator and with
NumPy / SciPy; gradients with finite differences.
"""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.gradient import GradientStop, consider_constant, disconnected_grad, zero_grad
from aotsym.graph.evaluate import evaluate
from aotsym.optimizer.testing import assert_graph, count_ops, rewrite

# ---------------------------------------------------------------------------- gradient stops


@pytest.mark.parametrize("stop", [zero_grad, consider_constant, disconnected_grad])
def test_a_gradient_stop_is_the_identity_forward_and_removed_by_the_optimizer(stop):
    x = T.vector("x")
    before = stop(x) * 2
    assert count_ops(before, GradientStop) == 1
    after = rewrite(before, stages=["inline"])
    assert_graph(after, x * 2)
    f = aotsym.function([x], before)
    xv = np.array([1.5, -0.0, np.nan, np.inf])
    np.testing.assert_array_equal(f(xv), xv * 2)
    assert count_ops(rewrite(before), GradientStop) == 0      # every mode inlines it
    assert count_ops(rewrite(before, mode="FAST_COMPILE"), GradientStop) == 0


@pytest.mark.parametrize("stop", [zero_grad, consider_constant])
def test_zero_grad_and_consider_constant_give_zeros_where_only_they_lead(stop):
    x = T.vector("x")
    cost = (stop(x) ** 2).sum() + (3 * x).sum()
    g = aotsym.grad(cost, x)
    f = aotsym.function([x], g)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0, -4.0])), [3.0, 3.0, 3.0])
    g_only = aotsym.grad((stop(x) ** 2).sum(), x)     # connected: zeros, no error
    np.testing.assert_array_equal(evaluate([g_only], {x: np.arange(3.0)})[0], np.zeros(3))


def test_disconnected_grad_disconnects():
    x, w = T.vector("x"), T.vector("w")
    cost = (disconnected_grad(x * w) * w).sum()
    gw = aotsym.grad(cost, w)           # only the direct path to w counts
    xv, wv = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    np.testing.assert_array_equal(aotsym.function([x, w], gw)(xv, wv), xv * wv)
    with pytest.raises(Exception, match="does not depend on x"):
        aotsym.grad(cost, x)
    gx = aotsym.grad(cost, x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(evaluate([gx], {x: xv, w: wv})[0], [0.0, 0.0])


def test_the_tensor_namespace_exports_the_stops():
    assert T.zero_grad is zero_grad and T.consider_constant is consider_constant
    assert aotsym.gradient.disconnected_grad is disconnected_grad


# ---------------------------------------------------------------------------- Print


def test_print_prints_from_the_compiled_function_and_returns_its_input(capsys):
    from aotsym.printing import Print
    x = T.vector("x")
    y = Print("x is")(x) * 2
    f = aotsym.function([x], y)
    capsys.readouterr()
    xv = np.array([1.5, -0.0, np.nan])
    np.testing.assert_array_equal(f(xv), xv * 2)
    assert capsys.readouterr().out == f"x is __str__ = {xv}\n"
    f(np.array([3.0]))
    assert capsys.readouterr().out == "x is __str__ = [3.]\n"


def test_print_attributes_strided_input_and_gil_released_run(capsys):
    from aotsym.printing import Print
    x = T.matrix("x")
    y = Print("m", attrs=("shape", "sum", "__str__"))(x.T) + 1
    f = aotsym.function([x], y)
    xv = np.arange(12.0).reshape(3, 4)[:, ::-2]          # strided, negative stride
    capsys.readouterr()
    np.testing.assert_array_equal(f(xv), xv.T + 1)
    out = capsys.readouterr().out
    assert out == f"m shape = (2, 3)\nm sum = {xv.sum()}\nm __str__ = {xv.T}\n", out
    big = np.ones((300, 300))                             # the entry releases the GIL
    np.testing.assert_array_equal(f(big), 2 * big)
    assert capsys.readouterr().out.startswith("m shape = (300, 300)\nm sum = 90000.0\n")


def test_print_is_kept_by_the_optimizer_and_in_fast_compile(capsys):
    from aotsym.graph.ops.debugprint import Print as PrintOp
    from aotsym.printing import Print
    x = T.scalar("x")
    y = Print("c")(T.constant(2.0)) + Print("v")(x)
    assert count_ops(rewrite(y), PrintOp) == 2          # not folded, not removed
    f = aotsym.function([x], y, mode="FAST_COMPILE")
    capsys.readouterr()
    assert f(1.0) == 3.0
    assert sorted(capsys.readouterr().out.splitlines()) == ["c __str__ = 2.0",
                                                           "v __str__ = 1.0"]


def test_print_gradient_passes_through_and_an_unknown_attribute_fails_clearly():
    from aotsym.printing import Print
    x = T.vector("x")
    g = aotsym.grad((Print("p")(x) ** 2).sum(), x)
    np.testing.assert_array_equal(evaluate([g], {x: np.array([1.0, 2.0])})[0], [2.0, 4.0])
    f = aotsym.function([x], Print("p", attrs=("no_such_attribute",))(x))
    with pytest.raises(Exception, match="no_such_attribute"):
        f(np.array([1.0]))


# ---------------------------------------------------------------------------- sort / argsort

SORT_VALUES = np.array([[3.0, np.nan, -0.0, 0.0, 1.0, 2.0],
                        [2.0, 2.0, -np.inf, np.inf, np.nan, -1.0],
                        [0.0, -0.0, 0.0, np.nan, np.nan, 5.0]])


def _same(got, expected):
    assert got.dtype == expected.dtype and got.shape == expected.shape, (got, expected)
    np.testing.assert_array_equal(got, expected)
    if got.dtype.kind == "f":      # -0.0 and 0.0 in the stable order
        np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "uint8", "bool"])
def test_sort_and_argsort_are_numpys_stable_sort(dtype):
    x = T.tensor3("x", dtype=dtype)
    outs, refs = [], []
    for axis in (0, 1, 2, -1, None):
        outs += [T.sort(x, axis=axis), T.argsort(x, axis=axis)]
        refs += [lambda a, axis=axis: np.sort(a, axis=axis, kind="stable"),
                 lambda a, axis=axis: np.argsort(a, axis=axis, kind="stable")]
    f = aotsym.function([x], outs)
    rng = np.random.default_rng(1)
    base = np.concatenate([SORT_VALUES, rng.integers(-3, 4, (3, 6)).astype(float)])
    if dtype == "bool":
        base = np.nan_to_num(base) > 0
    with np.errstate(invalid="ignore"):
        values = np.stack([base, base[::-1]]).astype(dtype)
    for a in (values, values[:, ::-1, ::-2], np.zeros((2, 0, 3), dtype),
              np.broadcast_to(values[:1], (3,) + values.shape[1:])):
        got = f(a)
        for g, ref, out in zip(got, refs, outs):
            _same(g, ref(a).astype(out.dtype))
            _same(g, evaluate([out], {x: a})[0])


def test_sort_long_rows_take_the_merge_path_and_ties_stay_in_order():
    x = T.vector("x")
    f = aotsym.function([x], [T.sort(x), T.argsort(x)])
    a = np.random.default_rng(2).integers(0, 50, 5000).astype(float)
    a[::97] = np.nan
    a[::89] = -0.0
    s, i = f(a)
    _same(s, np.sort(a, kind="stable"))
    _same(i, np.argsort(a, kind="stable"))
    _same(f(a[::-3])[1], np.argsort(a[::-3], kind="stable"))


def test_sort_gradient_goes_back_through_the_permutation():
    aotsym.gradient.verify_grad(lambda a: T.sort(a, axis=0),
                                [np.array([[0.3, -1.2], [2.5, 0.1], [-0.7, 4.0]])])
    aotsym.gradient.verify_grad(lambda a: T.sort(a, axis=None) * np.arange(6.0),
                                [np.array([[0.3, -1.2, 7.0], [2.5, 0.1, -3.0]])])
    x = T.vector("x")
    g = aotsym.grad((T.sort(x) * np.arange(4.0)).sum(), x)
    xv = np.array([3.0, -1.0, 2.0, 0.5])
    np.testing.assert_array_equal(aotsym.function([x], g)(xv), [3.0, 0.0, 2.0, 1.0])


def test_sort_refuses_what_numpy_refuses():
    with pytest.raises(ValueError, match="axis"):
        T.sort(T.vector(), axis=1)
    with pytest.raises(TypeError, match="complex"):
        T.argsort(T.cvector())
