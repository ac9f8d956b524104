"""The C lowering of the random draws (aotsym/emit_c/random.py + runtime/aotsym_random.h)
agrees bit for bit with the NumPy reference (aotsym/graph/philox.py): every distribution,
float32 and float64, scalar and array parameters, draws large enough to use the thread pool,
and the advanced state; run-time errors are clear exceptions."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.frontend.random import RandomStreams


def both(outputs, inputs=(), args=(), updates=None):
    """Values from the C module and from the reference evaluator, with the states reset to
    the same value before each, and the states after."""
    results = []
    srng_states = None
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        f = aotsym.function(list(inputs), outputs, mode=mode, updates=updates)
        if srng_states is None:
            srng_states = [(v, v.get_value()) for v in f.shared_vars]
        for v, val in srng_states:
            v.set_value(val)
        out = f(*args)
        results.append((out, [v.get_value() for v, _ in srng_states]))
    return results


def assert_bits(c, ref):
    (co, cs), (ro, rs) = c, ref
    for a, b in zip(co, ro):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes(), np.flatnonzero(a != b)[:10]
    for a, b in zip(cs, rs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_uniform_and_normal_bits(dtype):
    s = RandomStreams(7)
    low = T.vector("low", dtype=dtype)
    outs = [s.uniform((3, 5)), s.uniform((4, 5), low=low, high=low + 2, dtype=dtype),
            s.normal((7,), dtype=dtype), s.normal((2, 5), avg=low, std=3.0, dtype=dtype),
            s.uniform((100_003,), dtype=dtype), s.normal((70_001,), dtype=dtype)]
    x = np.linspace(-1, 1, 5).astype(dtype)
    assert_bits(*both(outs, [low], [x]))


def test_discrete_bits():
    s = RandomStreams(11)
    p = T.dvector("p")
    outs = [s.binomial((4, 6), p=0.3), s.binomial((5,), n=[1, 5, 20, 0, 3], p=p),
            s.binomial((50_001,), n=3, p=0.5),
            s.choice((9,), a=20), s.choice((3, 2), a=[5.0, 6.0, 7.0], p=[0.2, 0.3, 0.5]),
            s.choice((6,), a=6, replace=False), s.choice((3,), a=5, replace=False, p=p),
            s.permutation((2,), n=9), s.permutation(n=5),
            s.multinomial(size=(4,), n=10, pvals=[0.1, 0.2, 0.7]),
            s.multinomial(n=[3, 7], pvals=[[0.5, 0.5, 0.0], [0.2, 0.2, 0.6]])]
    assert_bits(*both(outs, [p], [np.array([0.1, 0.5, 0.9, 0.2, 0.3])]))


def test_symbolic_size_and_dropout_mask():
    s = RandomStreams(3)
    x = T.matrix("x")
    y = s.binomial(size=x.shape, p=0.5) * x
    xv = np.ones((33, 17))
    c, ref = both([y], [x], [xv])
    assert_bits(c, ref)
    assert set(np.unique(c[0][0])) == {0.0, 1.0}


def test_c_state_advances_and_without_updates_repeats():
    s = RandomStreams(5)
    u = s.uniform((10,))
    f = aotsym.function([], u)
    g = aotsym.function([], u, no_default_updates=True)
    a, b = f(), f()
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(g(), g())
    (state, new), = s.updates()
    assert state.get_value()[2] == 10   # 2 draws of 10 float64: 10 blocks read


def test_run_time_errors_are_exceptions():
    s = RandomStreams(1)
    n = T.lscalar("n")
    f = aotsym.function([n], s.uniform((n, 2)))
    with pytest.raises(ValueError, match="negative"):
        f(-3)
    k = T.lscalar("k")
    g = aotsym.function([k], s.choice((k,), a=4, replace=False))
    assert sorted(g(4)) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="without replacement"):
        g(5)
    h = aotsym.function([k], s.binomial((2,), n=k, p=0.5))
    with pytest.raises(ValueError, match="trials"):
        h(-1)


def test_draws_inside_a_c_scan_match_the_reference():
    s = RandomStreams(9)

    def step(acc):
        return acc + s.normal((3,))

    out, upd = aotsym.scan(step, outputs_info=T.zeros((3,)), n_steps=6)
    assert_bits(*both([out], updates=upd))
