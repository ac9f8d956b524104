"""``Function.copy``: Theano's ``copy(share_memory, swap, delete_updates, name, profile)``
(the tutorial's "Copying functions" section, run as written there)."""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.tensor.shared_randomstreams import RandomStreams


def test_the_tutorials_accumulator_copies():
    state = aotsym.shared(0)
    inc = T.iscalar("inc")
    accumulator = aotsym.function([inc], state, updates=[(state, state + inc)])
    assert accumulator(10) == 0 and state.get_value() == 10

    new_state = aotsym.shared(0)
    new_accumulator = accumulator.copy(swap={state: new_state})
    out = new_accumulator(100)
    assert isinstance(out, np.ndarray) and out == 0       # what f returns (PyTensor's)
    assert new_state.get_value() == 100
    assert state.get_value() == 10                        # the first state untouched

    null_accumulator = accumulator.copy(delete_updates=True)
    assert null_accumulator(9000) == 10
    assert state.get_value() == 10


def test_a_plain_copy_updates_the_same_shared_variables():
    """Theano and PyTensor: the copy's shared variables are f's (share_memory is about
    intermediate storage); deepcopy is the way to get a function over copies of them."""
    w = aotsym.shared(np.float64(1.0), name="w")
    x = T.scalar("x")
    f = aotsym.function([x], w * x, updates=[(w, w + 1)])
    for share in (False, True):
        g = f.copy(share_memory=share)
        before = w.get_value()
        assert g(2.0) == 2.0 * before
        assert w.get_value() == before + 1
    assert f.copy(name="renamed").name == "renamed"


def test_swap_reaches_shared_variables_read_inside_scan_and_in_givens():
    w = aotsym.shared(np.arange(3.0), name="w")
    k = aotsym.shared(np.float64(2.0), name="k")
    x = T.vector("x")
    y = T.vector("y")
    out, _ = aotsym.scan(lambda xt, acc: acc + xt * w, sequences=x,
                         outputs_info=T.zeros_like(w))
    f = aotsym.function([x], [out[-1], y.sum()], givens={y: w * k})
    w2 = aotsym.shared(np.array([10.0, 20.0, 30.0]), name="w2")
    k2 = aotsym.shared(np.float64(-1.0), name="k2")
    g = f.copy(swap={w: w2, k: k2})
    xv = np.array([1.0, 2.0])
    last, total = g(xv)
    np.testing.assert_allclose(last, 3.0 * np.array([10.0, 20.0, 30.0]))
    assert total == -60.0
    last, total = f(xv)                                   # f still reads w and k
    np.testing.assert_allclose(last, 3.0 * np.arange(3.0))
    assert total == 6.0


def test_swap_of_an_update_target_and_value():
    a = aotsym.shared(np.zeros(2), name="a")
    b = aotsym.shared(np.ones(2), name="b")
    f = aotsym.function([], [], updates=[(a, a + b)])
    a2 = aotsym.shared(np.full(2, 5.0), name="a2")
    g = f.copy(swap={a: a2})
    g()
    np.testing.assert_array_equal(a2.get_value(), [6.0, 6.0])
    np.testing.assert_array_equal(a.get_value(), [0.0, 0.0])


def test_delete_updates_drops_the_random_streams_default_updates():
    srng = RandomStreams(seed=234)
    u = srng.uniform((3,))
    f = aotsym.function([], u)
    g = f.copy(delete_updates=True)
    first = g()
    np.testing.assert_array_equal(g(), first)             # the state does not move
    np.testing.assert_array_equal(f(), first)             # f draws the same, then moves
    assert not np.array_equal(f(), first)


def test_bad_swaps_are_refused_before_anything_is_built():
    state = aotsym.shared(0)
    inc = T.iscalar("inc")
    f = aotsym.function([inc], state, updates=[(state, state + inc)])
    with pytest.raises(TypeError, match=r"copy: swap maps .* the types differ"):
        f.copy(swap={state: aotsym.shared(0.0)})
    with pytest.raises(ValueError, match="not a shared variable of this function"):
        f.copy(swap={aotsym.shared(0): aotsym.shared(0)})
    with pytest.raises(TypeError, match="not a shared variable"):
        f.copy(swap={state: 3})
    with pytest.raises(TypeError, match="swap must be a dict"):
        f.copy(swap=[(state, aotsym.shared(0))])
    assert f(1) == 0 and state.get_value() == 1           # f unchanged by the attempts
