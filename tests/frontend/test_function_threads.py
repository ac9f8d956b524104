"""``aotsym.function`` called from several threads: calls that update shared state are
serialized per shared variable (no update is lost); calls without state run in parallel."""

import threading

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T


def _hammer(fn, threads=8, calls=200):
    def work():
        for _ in range(calls):
            fn()
    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_concurrent_updates_lose_nothing(mode):
    p = aotsym.shared(np.zeros(3), name="p")
    c = aotsym.shared(np.int64(0), name="c")
    x = T.vector("x")
    f = aotsym.function([x], [], updates={p: p + x, c: c + 1}, mode=mode)
    one = np.ones(3)
    _hammer(lambda: f(one))
    assert int(c.get_value()) == 1600
    assert p.get_value().tolist() == [1600.0] * 3


def test_two_functions_sharing_state_lose_nothing():
    """Locks are per variable, taken in one order: functions sharing some of their state
    serialize on it and cannot deadlock."""
    a = aotsym.shared(np.int64(0), name="a")
    b = aotsym.shared(np.int64(0), name="b")
    f = aotsym.function([], [], updates={a: a + 1, b: b + 1})
    g = aotsym.function([], [], updates={b: b + 2, a: a + 2})
    h = aotsym.function([], [], updates={b: b + 1})
    ts = [threading.Thread(target=lambda fn=fn: [fn() for _ in range(300)])
          for fn in (f, g, h, f, g, h)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert int(a.get_value()) == 2 * 300 * 3
    assert int(b.get_value()) == 2 * 300 * 4


def test_a_call_made_while_converting_an_argument_works():
    """The locks are re-entrant: an argument whose ``__array__`` calls the same function."""
    s = aotsym.shared(np.int64(0), name="s")
    x = T.vector("x")
    f = aotsym.function([x], x + s, updates={s: s + 1})

    class Calls:
        def __array__(self, dtype=None, copy=None):
            return f(np.zeros(2)).astype(dtype or "float64")

    assert f(Calls()).tolist() == [1.0, 1.0]
    assert int(s.get_value()) == 2


def test_pure_functions_take_no_lock():
    x = T.vector("x")
    f = aotsym.function([x], x * 2)
    assert not f.shared_vars
    _hammer(lambda: f(np.ones(4)), threads=4, calls=50)
