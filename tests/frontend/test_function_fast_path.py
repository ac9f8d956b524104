"""aotsym.function's fast path (the module's exact C entry) against its checked path: the same
results, the same errors, fresh outputs, updates all or nothing; what it refuses goes the
checked way."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.frontend.shared import SharedVariable


class Spy:
    """Wraps a Function's exact entry: counts the calls it answered (a result or an error)
    and the ones it refused."""

    def __init__(self, f):
        self.exact, self.answered, self.refused = f._exact, 0, 0
        f._exact = self

    def __call__(self, *values):
        self.answered += 1
        result = self.exact(*values)
        if result is NotImplemented:
            self.answered -= 1
            self.refused += 1
        return result


def checked(f, *args, **kwargs):
    """The call without the fast path."""
    return f._call_checked(args, kwargs)


def outcome(call):
    try:
        return "ok", call()
    except Exception as exc:  # noqa: BLE001 - the exception is the result compared
        return type(exc), str(exc)


def same_outcome(fast, slow):
    assert fast[0] == slow[0], (fast, slow)
    if fast[0] != "ok":
        assert fast[1] == slow[1]
        return
    got, want = fast[1], slow[1]
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
    else:
        got, want = [got], [want]
    for g, w in zip(got, want):
        assert type(g) is np.ndarray and g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


@pytest.fixture(scope="module")
def fx():
    x = T.fmatrix("x")
    r = T.drow("r")
    return aotsym.function([x, r], [x * 2, (r + 1).sum()], name="pair")


def test_fast_path_answers_exact_arguments(fx):
    spy = Spy(fx)
    a, row = np.ones((2, 3), dtype="float32"), np.arange(3.0)[None]
    same_outcome(outcome(lambda: fx(a, row)), outcome(lambda: checked(fx, a, row)))
    assert spy.answered == 1 and spy.refused == 0


GOOD_X = np.ones((2, 3), dtype="float32")
GOOD_R = np.ones((1, 3))
BAD_CALLS = [
    (np.ones((2, 3)), GOOD_R),                            # float64 for float32
    (np.ones(3, dtype="float32"), GOOD_R),                # wrong ndim
    (GOOD_X, np.ones((2, 3))),                            # broadcastable dimension
    ("abc", GOOD_R), (None, GOOD_R), ({"a": 1}, GOOD_R),  # not arrays
    ([[1, 2], [3]], GOOD_R),                              # ragged
    (T.fmatrix("y"), GOOD_R),                             # symbolic
    (GOOD_X,),                                            # missing
    (GOOD_X, GOOD_R, GOOD_R),                             # too many
    (GOOD_X, np.ones((1, 4))),                            # fine for both, fails at run time
    (GOOD_X.astype(">f4"), GOOD_R),                       # byte-swapped: converted
    (GOOD_X.tolist(), [[1.0, 2.0, 3.0]]),                 # lists: converted
    (np.ones((2, 3), dtype="int8"), GOOD_R),              # safe cast
]


@pytest.mark.parametrize("args", BAD_CALLS, ids=range(len(BAD_CALLS)))
def test_unusual_arguments_give_what_the_checked_path_gives(fx, args):
    spy = Spy(fx)
    same_outcome(outcome(lambda: fx(*args)), outcome(lambda: checked(fx, *args)))
    assert spy.answered + spy.refused <= 1


def test_run_time_errors_name_the_node_on_both_paths():
    a, b = T.dvectors("a", "b")
    f = aotsym.function([a, b], a * b, name="prod")
    spy = Spy(f)
    fast = outcome(lambda: f(np.ones(3), np.ones(4)))
    slow = outcome(lambda: checked(f, np.ones(3), np.ones(4)))
    same_outcome(fast, slow)
    assert fast[0] is ValueError and "Elemwise{mul}" in fast[1] and "in prod()" in fast[1]
    assert spy.answered == 1


def test_keywords_and_defaults_take_the_checked_path():
    x, y = T.dvectors("x", "y")
    f = aotsym.function([x, aotsym.In(y, value=np.array([10.0]))], x + y, name="f")
    spy = Spy(f)
    np.testing.assert_array_equal(f([1.0]), [11.0])
    np.testing.assert_array_equal(f(x=np.ones(1), y=np.ones(1)), [2.0])
    assert spy.answered == spy.refused == 0
    np.testing.assert_array_equal(f(np.ones(1), np.ones(1)), [2.0])
    assert spy.answered == 1


def test_strict_and_downcast_inputs_keep_their_rules():
    x = T.fvector("x")
    strict = aotsym.function([aotsym.In(x, strict=True)], x + 1, name="strict")
    loose = aotsym.function([x], x + 1, allow_input_downcast=True, name="loose")
    for f in (strict, loose):
        for arg in (np.ones(2, dtype="float32"), np.ones(2), [1.0, 2.0]):
            same_outcome(outcome(lambda: f(arg)), outcome(lambda: checked(f, arg)))
    with pytest.raises(TypeError, match="strict"):
        strict(np.ones(2))
    assert loose(np.ones(2)).dtype == np.float32


# ---------------------------------------------------------------------------- ownership


def test_an_output_that_is_the_input_is_a_copy():
    x = T.dvector("x")
    ident = aotsym.function([x], x)
    twice = aotsym.function([x], [x, x, x[1:], x[::-1] * 1])
    spy = Spy(ident)
    a = np.arange(4.0)
    out = ident(a)
    assert spy.answered == 1
    assert not np.shares_memory(out, a)
    out[:] = -1
    np.testing.assert_array_equal(a, np.arange(4.0))
    outs = twice(a)
    for k, o in enumerate(outs):
        assert not np.shares_memory(o, a)
        assert o.flags.writeable
        for other in outs[k + 1:]:
            assert not np.shares_memory(o, other)


def test_outputs_never_alias_shared_values_or_new_states():
    w = aotsym.shared(np.arange(3.0), name="w")
    f = aotsym.function([], [w, w + 1], updates={w: w + 1})
    spy = Spy(f)
    old, new = f()
    assert spy.answered == 1
    state = w.get_value(borrow=True)
    np.testing.assert_array_equal(state, [1, 2, 3])
    assert not np.shares_memory(old, state) and not np.shares_memory(new, state)
    np.testing.assert_array_equal(old, [0, 1, 2])
    keep = aotsym.function([], w, updates={w: w})   # the identity update
    out = keep()
    assert not np.shares_memory(out, w.get_value(borrow=True))


def test_single_output_with_updates_returns_the_array():
    w = aotsym.shared(np.zeros(2), name="w")
    x = T.dvector("x")
    f = aotsym.function([x], (w + x).sum(), updates=[(w, w + x)])
    spy = Spy(f)
    assert f(np.ones(2)) == 2.0 and spy.answered == 1
    assert isinstance(f(np.ones(2)), np.ndarray)
    np.testing.assert_array_equal(w.get_value(), [2, 2])
    g = aotsym.function([x], [], updates=[(w, w - x)])
    assert g(np.ones(2)) == []
    np.testing.assert_array_equal(w.get_value(), [1, 1])


# ---------------------------------------------------------------------------- updates


def test_updates_all_or_nothing_when_the_fast_call_fails():
    x = T.dvector("x")
    a = aotsym.shared(np.zeros(3), name="a")
    b = aotsym.shared(np.zeros(2), name="b")
    f = aotsym.function([x], x.sum(), updates={a: a + x, b: b + x}, name="step")
    spy = Spy(f)
    with pytest.raises(ValueError, match=r"in step\(\)"):
        f(np.ones(3))
    assert spy.answered == 1
    np.testing.assert_array_equal(a.get_value(), np.zeros(3))
    np.testing.assert_array_equal(b.get_value(), np.zeros(2))


def test_updates_all_or_nothing_when_a_new_value_does_not_fit():
    x = T.dvector("x")
    a = aotsym.shared(np.zeros(3), name="a")
    c = aotsym.shared(np.zeros((1,)), name="c", broadcastable=(True,))
    f = aotsym.function([x], [], updates=[(a, a + 1), (c, x)])
    spy = Spy(f)
    fast = outcome(lambda: f(np.ones(3)))
    assert spy.answered == 1                  # computed, then refused when storing
    slow = outcome(lambda: checked(f, np.ones(3)))
    assert fast[0] is ValueError and fast == slow and "shared variable c" in fast[1]
    np.testing.assert_array_equal(a.get_value(), np.zeros(3))
    np.testing.assert_array_equal(c.get_value(), np.zeros(1))
    f(np.ones(1))
    np.testing.assert_array_equal(a.get_value(), np.ones(3))
    np.testing.assert_array_equal(c.get_value(), np.ones(1))


def test_unusual_shared_values_take_the_checked_path():
    w = aotsym.shared(np.arange(3.0).astype(">f8"), name="w", borrow=True)
    assert not w.get_value(borrow=True).dtype.isnative
    f = aotsym.function([], w * 2, updates={w: w + 1})
    spy = Spy(f)
    np.testing.assert_array_equal(f(), [0, 2, 4])
    assert spy.refused == 1
    np.testing.assert_array_equal(f(), [2, 4, 6])   # the new value is native: fast again
    assert spy.answered == 1


def test_shared_variable_subclasses_are_not_read_behind_their_back():
    class Counting(SharedVariable):
        __slots__ = ("reads",)

        def get_value(self, borrow=False, return_internal_type=False):
            self.reads = getattr(self, "reads", 0) + 1
            return super().get_value(borrow, return_internal_type)

    w = Counting(np.ones(2), name="w")
    f = aotsym.function([], w + 1, updates={w: w * 2})
    assert f._exact is None
    np.testing.assert_array_equal(f(), [2, 2])
    np.testing.assert_array_equal(w.get_value(), [2, 2])
    assert w.reads >= 2


def test_reference_modes_have_no_fast_path():
    x = T.dvector("x")
    for mode in ("FAST_COMPILE", "DEBUG_MODE"):
        f = aotsym.function([x], x * 2 + 1, mode=mode)
        assert f._exact is None
        np.testing.assert_array_equal(f(np.ones(2)), [3, 3])
