"""``aotsym.gradient.verify_grad``: accepts correct gradients, catches wrong ones."""

import numpy as np
import pytest

import aotsym.gradient
from aotsym import tensor as T
from aotsym.graph.op import Op
from aotsym.graph.types import TensorType
from aotsym.gradient import GradientError, verify_grad


class _Cube(Op):
    """x**3 with a gradient that is right (``wrong=False``) or off by a factor."""

    __props__ = ("wrong",)

    def __init__(self, wrong):
        self.wrong = wrong

    def output_types(self, inputs):
        return [inputs[0].type]

    def perform(self, node, inputs):
        return [inputs[0] ** 3]

    def grad(self, node, inputs, output_grads):
        factor = 3.3 if self.wrong else 3.0
        return [output_grads[0] * factor * inputs[0] ** 2]


def test_correct_gradient_passes_and_wrong_gradient_fails():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]])
    verify_grad(lambda a: _Cube(False)(a), [x])
    with pytest.raises(GradientError, match="input 0 disagrees with finite differences"):
        verify_grad(lambda a: _Cube(True)(a), [x])


def test_wrong_gradient_of_one_input_among_several_is_reported():
    x, y = np.array([1.0, 2.0]), np.array([0.5, 0.25])
    with pytest.raises(GradientError) as info:
        verify_grad(lambda a, b: a * 2 + _Cube(True)(b), [x, y])
    assert info.value.arg == 1


def test_scalar_output_float32_and_seeds():
    verify_grad(lambda a: (a ** 2).sum(), [np.array([1.0, 2.0, 3.0])], rng=3)
    verify_grad(lambda a: T.tanh(a), [np.array([0.1, 0.5], dtype="float32")],
                rng=np.random.default_rng(1))
    verify_grad(lambda a, b: a * b, [2.0, [1.0, 3.0]])  # Python values become float64 arrays
    assert T.verify_grad is verify_grad
    assert aotsym.gradient.grad is aotsym.grad


def test_bad_arguments():
    with pytest.raises(TypeError, match="list of arrays"):
        verify_grad(lambda a: a, np.ones(3))
    with pytest.raises(TypeError, match="dtype int64"):
        verify_grad(lambda a: a, [np.arange(3)])
    with pytest.raises(TypeError, match="single variable"):
        verify_grad(lambda a: [a, a], [np.ones(3)])
    with pytest.raises(TypeError, match="float variable"):
        verify_grad(lambda a: a > 0, [np.ones(3)])


def test_inputs_are_broadcastable_where_the_point_has_length_one():
    """Theano's verify_grad builds its inputs as ``as_tensor_variable(pt)`` does: a length-1
    axis is broadcastable (so a (1, n) point broadcasts against an (m, n) one)."""
    seen = []

    def fun(a):
        seen.append(a.type)
        return a * 2

    verify_grad(fun, [np.ones((1, 3))])
    assert seen == [TensorType("float64", (True, False))]
    verify_grad(lambda a, b: a * b, [np.random.rand(2, 3), np.random.rand(1, 1)])


def test_shared_variables_the_function_reads_take_their_values():
    import aotsym
    from aotsym import tensor as T
    W = aotsym.shared(np.random.rand(3, 2), name="W")
    idx = aotsym.shared(np.array([0, 2, 2]))
    verify_grad(lambda x: T.tanh(T.dot(x, W)), [np.random.rand(4, 3)])
    verify_grad(lambda t: T.sum(T.exp(t[idx])), [np.random.rand(4)])
