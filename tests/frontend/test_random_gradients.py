"""Gradients through random draws, as Theano has them: RandomStreams' samples are not
differentiable in their distribution's parameters (NullTypeGradError, Theano's
RandomFunction); MRG_RandomStreams' uniform and normal are (they are elementwise functions of
a uniform draw in Theano's MRG), with the same numbers as draws with constant parameters;
MRG's discrete draws pass no gradient to p / pvals."""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.frontend.grad import NullTypeGradError
from aotsym.sandbox.rng_mrg import MRG_RandomStreams
from aotsym.tensor.shared_randomstreams import RandomStreams


def fixed(inputs, output):
    """A function that draws the same numbers every call (the state is not advanced)."""
    return aotsym.function(inputs, output, no_default_updates=True)


@pytest.mark.parametrize("kind", ["normal", "uniform"])
def test_mrg_draws_are_differentiable_in_their_parameters(kind):
    p = T.vector("p")
    rng = MRG_RandomStreams(7)
    if kind == "normal":
        sample = rng.normal(size=p.shape, avg=p * 3, std=T.exp(p))
    else:
        sample = rng.uniform(size=p.shape, low=p - 1, high=p ** 2 + 2)
    cost = (sample * np.array([1.0, -2.0, 0.5, 4.0])).sum()
    f = fixed([p], cost)
    g = fixed([p], T.grad(cost, p))
    at = np.array([0.3, -0.7, 1.1, 0.05])
    numeric = np.array([(f(at + h) - f(at - h)) / 2e-6 for h in np.eye(4) * 1e-6])
    np.testing.assert_allclose(g(at), numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mrg_draws_with_symbolic_parameters_give_the_same_numbers(dtype):
    a = T.vector("a", dtype=dtype)
    avg = np.arange(5, dtype=dtype)
    for kind in ("normal", "uniform"):
        r1, r2 = MRG_RandomStreams(11), MRG_RandomStreams(11)
        if kind == "normal":
            sym = r1.normal(size=(5,), avg=a, std=a * 0 + 3, dtype=dtype)
            const = r2.normal(size=(5,), avg=avg, std=3.0, dtype=dtype)
        else:
            sym = r1.uniform(size=(5,), low=a, high=a + 2, dtype=dtype)
            const = r2.uniform(size=(5,), low=avg, high=avg + 2, dtype=dtype)
        got = aotsym.function([a], sym)(avg)
        want = aotsym.function([], const)()
        assert got.dtype == want.dtype == dtype
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", ["normal", "uniform"])
def test_random_streams_samples_have_no_gradient_in_their_parameters(kind):
    p = T.vector("p")
    rng = RandomStreams(3)
    sample = rng.normal(size=p.shape, avg=p) if kind == "normal" else \
        rng.uniform(size=p.shape, low=p, high=p + 1)
    with pytest.raises(NullTypeGradError, match="not differentiable in its distribution"):
        T.grad(sample.sum(), p)


@pytest.mark.parametrize("streams", [RandomStreams, MRG_RandomStreams])
def test_dropout_masks_pass_the_gradient_to_the_input(streams):
    """The mask's size comes from the input (x.shape): no parameter of the draw is on the
    path, so the gradient is the mask itself."""
    x = T.matrix("x")
    mask = streams(5).binomial(size=x.shape, p=0.5, dtype="float64")
    y = (x * mask).sum()
    f = fixed([x], [T.grad(y, x), mask])
    g, m = f(np.ones((3, 4)))
    np.testing.assert_array_equal(g, m)
    assert set(np.unique(m)) <= {0.0, 1.0}


def test_mrg_discrete_draws_pass_no_gradient_to_their_probabilities():
    w = T.vector("w")
    p = T.nnet.sigmoid(w)
    rng = MRG_RandomStreams(2)
    h = rng.binomial(size=p.shape, p=p, dtype="float64")
    cost = (h * w).sum()              # w reaches the cost directly and through h's p
    g = fixed([w], [T.grad(cost, w), h])
    gw, hv = g(np.array([0.0, 3.0, -3.0]))
    np.testing.assert_array_equal(gw, hv)
    with pytest.raises(aotsym.gradient.DisconnectedInputError):
        T.grad(h.sum(), w)             # the sample is the only path
