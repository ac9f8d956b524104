"""aotsym.function: updates, output ownership, shared copy semantics, givens, Theano's API."""

import warnings

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.frontend.function import Mode, UnusedInputError


# ---------------------------------------------------------------------------- updates


def test_updates_are_all_or_nothing_when_evaluation_fails():
    """Two updates; the second one's expression fails (shape mismatch) at run time."""
    x = T.dvector("x")
    a = aotsym.shared(np.zeros(3), name="a")
    b = aotsym.shared(np.zeros(2), name="b")
    f = aotsym.function([x], x.sum(), updates={a: a + x, b: b + x}, name="step")
    with pytest.raises(ValueError):
        f(np.ones(3))                    # fine for a, wrong length for b
    np.testing.assert_array_equal(a.get_value(), np.zeros(3))
    np.testing.assert_array_equal(b.get_value(), np.zeros(2))
    g = aotsym.function([x], x.sum(), updates={a: a + x})
    g(np.ones(3))
    np.testing.assert_array_equal(a.get_value(), np.ones(3))


def test_updates_are_all_or_nothing_when_storing_fails():
    """The evaluation succeeds but the second new value does not fit its variable."""
    x = T.dvector("x")
    a = aotsym.shared(np.zeros(3), name="a")
    c = aotsym.shared(np.zeros((1,)), name="c", broadcastable=(True,))
    f = aotsym.function([x], [], updates=[(a, a + 1), (c, x)])
    with pytest.raises(ValueError, match="shared variable c"):
        f(np.ones(3))                    # c is broadcastable: length 3 does not fit
    np.testing.assert_array_equal(a.get_value(), np.zeros(3))
    np.testing.assert_array_equal(c.get_value(), np.zeros(1))


def test_updates_read_old_values():
    """All new values are computed from the state before the call (simultaneous update)."""
    a = aotsym.shared(1.0, name="a")
    b = aotsym.shared(2.0, name="b")
    swap = aotsym.function([], [], updates={a: b, b: a})
    swap()
    assert (a.get_value(), b.get_value()) == (2.0, 1.0)


def test_update_errors():
    x = T.dvector("x")
    a = aotsym.shared(np.zeros(3), name="a")
    f32 = aotsym.shared(np.zeros(3, dtype="float32"), name="f32")
    with pytest.raises(TypeError, match="not a shared variable"):
        aotsym.function([x], x, updates={x: x + 1})
    with pytest.raises(ValueError, match="twice"):
        aotsym.function([x], x, updates=[(a, x), (a, x)])
    with pytest.raises(TypeError, match="f32.*float64.*cast"):
        aotsym.function([x], x, updates={f32: f32 + x})
    with pytest.raises(TypeError, match="ndim"):
        aotsym.function([x], x, updates={a: a.sum()})


# ---------------------------------------------------------------------------- ownership


def test_outputs_are_fresh_arrays_the_caller_owns():
    w = aotsym.shared(np.arange(3.0), name="w")
    x = T.dvector("x")
    f = aotsym.function([x], [w, x, w * 1, x + 0])
    inp = np.ones(3)
    out_w, out_x, _, _ = f(inp)
    assert not np.shares_memory(out_x, inp)       # an output that is an input is a copy
    out_w[:] = -1
    out_x[:] = -1
    np.testing.assert_array_equal(w.get_value(), np.arange(3.0))
    np.testing.assert_array_equal(inp, np.ones(3))
    again = f(inp)
    np.testing.assert_array_equal(again[0], np.arange(3.0))
    np.testing.assert_array_equal(again[1], np.ones(3))
    for k, a in enumerate(again):
        for b in again[k + 1:]:
            assert not np.shares_memory(a, b)
        assert a.flags.writeable


def test_same_output_twice_gives_two_arrays():
    x = T.dvector("x")
    y = x * 2
    a, b = aotsym.function([x], [y, y])(np.ones(2))
    assert not np.shares_memory(a, b)


def test_output_and_update_do_not_alias():
    x = T.dvector("x")
    s = aotsym.shared(np.zeros(2), name="s")
    y = x * 2
    f = aotsym.function([x], y, updates={s: y})
    out = f(np.ones(2))
    out[:] = 100
    np.testing.assert_array_equal(s.get_value(), [2.0, 2.0])


def test_inputs_are_never_modified():
    x = T.dvector("x")
    s = aotsym.shared(np.zeros(2), name="s")
    f = aotsym.function([x], x * 3, updates={s: x})
    inp = np.array([1.0, 2.0])
    f(inp)
    inp[:] = 7
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0])


def test_shared_values_are_copied_in_and_out():
    data = np.arange(3.0)
    s = aotsym.shared(data, name="s")
    data[0] = 99
    assert s.get_value()[0] == 0.0                # copied on the way in
    got = s.get_value()
    got[1] = 99
    assert s.get_value()[1] == 1.0                # copied on the way out
    new = np.zeros(3)
    s.set_value(new)
    new[:] = 5
    np.testing.assert_array_equal(s.get_value(), np.zeros(3))
    b = np.ones(3)
    s.set_value(b, borrow=True)
    assert s.get_value(borrow=True) is b          # borrow=True: the caller's own array


def test_shared_value_checks():
    s = aotsym.shared(np.zeros(3, dtype="float32"), name="s")
    with pytest.raises(TypeError, match="shared variable s.*float64"):
        s.set_value(np.zeros(3))
    with pytest.raises(TypeError, match="shared variable s.*ndim"):
        s.set_value(np.zeros((3, 1), dtype="float32"))
    with pytest.raises(TypeError, match="symbolic"):
        aotsym.shared(T.dvector())
    assert aotsym.shared(3).dtype == "int64"
    assert aotsym.shared(0.5).dtype == aotsym.config.floatX


# ---------------------------------------------------------------------------- Theano API


def test_single_output_versus_list():
    x = T.dvector("x")
    assert isinstance(aotsym.function([x], x + 1)(np.ones(1)), np.ndarray)
    out = aotsym.function([x], [x + 1])(np.ones(1))
    assert isinstance(out, list) and len(out) == 1
    out = aotsym.function([x], (x + 1, x - 1))(np.ones(1))
    assert isinstance(out, list) and len(out) == 2
    assert aotsym.function([x], [], on_unused_input="ignore")(np.ones(1)) == []
    assert aotsym.function([x], None, on_unused_input="ignore")(np.ones(1)) == []


def test_givens():
    x, y = T.dvectors("x", "y")
    s = aotsym.shared(np.array([1.0, 2.0]), name="s")
    f = aotsym.function([x], x + y, givens={y: s * 10})
    np.testing.assert_array_equal(f([1.0, 1.0]), [11.0, 21.0])
    z = T.dscalar("z")
    g = aotsym.function([z], s * 2, givens=[(s, z + np.zeros(2))])   # replace a shared variable
    np.testing.assert_array_equal(g(3.0), [6.0, 6.0])
    with pytest.raises(TypeError, match="givens.*types must match"):
        aotsym.function([x], x + y, givens={y: T.fvector()})


def test_on_unused_input():
    x, y = T.dvectors("x", "y")
    with pytest.raises(UnusedInputError, match="input 1 \\(y\\).*on_unused_input"):
        aotsym.function([x, y], x * 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = aotsym.function([x, y], x * 2, on_unused_input="warn")
    assert any("not used" in str(w.message) for w in caught)
    np.testing.assert_array_equal(f([1.0], [5.0]), [2.0])
    f = aotsym.function([x, y], x * 2, on_unused_input="ignore")
    np.testing.assert_array_equal(f([1.0], [5.0]), [2.0])


def test_maker_fgraph_and_modes():
    x = T.dvector("x")
    f = aotsym.function([x], T.exp(x), name="e")
    assert f.maker.fgraph is f.fgraph
    assert f.maker.fgraph.toposort()
    assert list(f.maker.fgraph.inputs)[0] is x
    for mode in ["FAST_COMPILE", "FAST_RUN", "DEBUG_MODE", "DebugMode", Mode("FAST_COMPILE")]:
        g = aotsym.function([x], T.exp(x), mode=mode)
        np.testing.assert_allclose(g([0.0, 1.0]), [1.0, np.e])
    with aotsym.config.change_flags(mode="FAST_COMPILE"):
        assert aotsym.function([x], x + 1).mode == "FAST_COMPILE"
    assert aotsym.Mode is Mode


def test_missing_input_names_the_variable():
    x, y = T.dvectors("x", "y")
    with pytest.raises(ValueError, match="(?s)input y.*inputs list"):
        aotsym.function([x], x + y)


def test_eval_shortcut():
    x = T.dvector("x")
    np.testing.assert_array_equal((x * 2).eval({x: np.array([1.0, 2.0])}), [2.0, 4.0])


def test_a_lapack_failure_raises_numpys_linalg_error_compiled_and_evaluated():
    """NumPy reports a singular matrix as numpy.linalg.LinAlgError (a ValueError): so does
    the compiled step (the runtime's AOT_ERR_LINALG), naming the op and the user's line."""
    x = T.dmatrix("x")
    y = T.nlinalg.matrix_inverse(x) * 2   # the line the error names
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        f = aotsym.function([x], y, mode=mode)
        with pytest.raises(np.linalg.LinAlgError, match="Singular matrix") as info:
            f(np.zeros((3, 3)))
        assert "y = T.nlinalg.matrix_inverse(x) * 2" in str(info.value)
        np.testing.assert_allclose(f(np.eye(3) * 4), np.eye(3) / 2)


def test_x_shape_as_the_output_is_one_int64_vector():
    """Theano's shape tutorial: function([x], x.shape) returns array([8, 4]), not a list of
    scalars (x.shape is indexable like a tuple, but it is the shape vector)."""
    x, y = T.matrix("x"), T.matrix("y")
    f = aotsym.function([x, y], T.join(0, x, y).shape)
    got = f(np.ones((5, 4)), np.ones((3, 4)))
    assert isinstance(got, np.ndarray) and got.dtype == np.int64 and got.tolist() == [8, 4]
    g = aotsym.function([x], [x.shape, x.shape[1]])
    shape, cols = g(np.ones((2, 3)))
    assert shape.tolist() == [2, 3] and cols == 3


def test_a_default_update_reading_a_missing_input_is_an_error_not_a_lost_update():
    """Theano's test_default_updates_input: y's default update reads the input a; a function
    without a must say so (MissingInputError), not skip y's update."""
    from aotsym.graph.fgraph import MissingInputError
    x, y = aotsym.shared(0, name="x"), aotsym.shared(1, name="y")
    a = T.lscalar("a")
    x.default_update = y
    y.default_update = y + a
    aotsym.function([], x, no_default_updates=[y])()
    assert (x.get_value(), y.get_value()) == (1, 1)
    aotsym.function([a], x)(2)
    assert (x.get_value(), y.get_value()) == (1, 3)
    aotsym.function([], x, updates={y: y - 1})()           # y's update given: fine
    assert (x.get_value(), y.get_value()) == (3, 2)
    with pytest.raises(MissingInputError, match="default update of the shared variable y"):
        aotsym.function([], x)


def test_a_default_update_may_read_what_givens_replace():
    """The dA tutorial: a random draw sized by x.shape (its state's default update reads x)
    and x given through givens: not a missing input."""
    from aotsym.tensor.shared_randomstreams import RandomStreams
    data = aotsym.shared(np.arange(12.0).reshape(6, 2))
    x, index = T.matrix("x"), T.lscalar("index")
    mask = RandomStreams(1).binomial(size=x.shape, n=1, p=0.5, dtype="float64")
    f = aotsym.function([index], (mask * x).sum(), givens={x: data[index * 2:index * 2 + 2]})
    draws = {float(f(0)) for _ in range(30)}      # the mask changes: the state advances
    assert draws <= {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0} and len(draws) > 1
