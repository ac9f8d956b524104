"""Theano names that ported programs use, beyond the tensor functions: ``theano.clone``,
``Out``, ``Param``, ``ProfileMode`` with ``print_summary()``, ``f.profile.summary()``,
``theano.gof``'s linkers, the top-level ``dot``/``Rop``/``Lop``, and the tensor methods
(``x.norm``, ``x.size``, ``x.cumsum()`` ...) — each checked against NumPy."""

import io

import numpy as np
import pytest

import aotsym as theano
import aotsym.tensor as T


def test_clone_substitutes_and_checks_types():
    x = T.dvector("x")
    y = T.exp(x) * 2
    z = theano.clone(y, replace={x: x + 1})
    f = theano.function([x], [y, z])
    v = np.array([0.0, -1.0, np.nan])
    a, b = f(v)
    np.testing.assert_allclose(a, np.exp(v) * 2, rtol=1e-15)
    np.testing.assert_allclose(b, np.exp(v + 1) * 2, rtol=1e-15)
    both = theano.clone([y, x], replace=[(x, T.dvector("w"))])
    assert isinstance(both, list) and both[1].name == "w"
    with pytest.raises(TypeError, match="clone"):
        theano.clone(y, replace={x: T.fvector()})
    loose = theano.clone(y, replace={x: T.fvector("f")}, strict=False)
    assert loose.dtype == "float64"


def test_out_and_param_are_accepted():
    x = T.dvector("x")
    f = theano.function([theano.Param(x, value=np.ones(2))], theano.Out(x * 3, borrow=True))
    np.testing.assert_array_equal(f(), [3.0, 3.0])
    g = theano.function([x], [theano.Out(x + 1), x - 1])
    np.testing.assert_array_equal(g(np.zeros(1))[0], [1.0])


def test_profile_mode_prints_the_summary_of_its_functions():
    profmode = theano.ProfileMode(optimizer="fast_run", linker=theano.gof.OpWiseCLinker())
    x = T.dmatrix("x")
    f = theano.function([x], T.exp(x).sum(axis=1), mode=profmode)
    g = theano.function([x], x.T + 1, mode=profmode)
    never = theano.function([x], x * 5, mode=profmode)
    np.testing.assert_allclose(f(np.zeros((2, 3))), [3.0, 3.0])
    g(np.ones((2, 2)))
    out = io.StringIO()
    profmode.print_summary(out)
    text = out.getvalue()
    assert text.count("Function profiling") == 2 and "Sum" in text
    del never
    empty = io.StringIO()
    theano.ProfileMode().print_summary(empty)
    assert "no function" in empty.getvalue()


def test_a_profiled_functions_profile_is_a_report_and_has_summary(capsys):
    x = T.dvector("x")
    f = theano.function([x], T.sin(x), profile=True)
    f(np.zeros(4))
    report = f.profile()
    assert isinstance(report, dict) and report["functions"]
    f.profile.summary()
    assert "Function profiling" in capsys.readouterr().out


def test_top_level_names():
    x, y = T.dvector("x"), T.dvector("y")
    f = theano.function([x, y], [theano.dot(x, y), theano.Rop(x * y, x, y),
                                 theano.Lop(x * y, x, y)])
    v, w = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    d, r, l_ = f(v, w)
    assert d == 1.0
    np.testing.assert_array_equal(r, w * w)
    np.testing.assert_array_equal(l_, w * w)
    assert theano.compile.function is theano.function
    assert theano.gof.Op is theano.Op and theano.gof.Apply is theano.Apply


def test_tensor_methods_match_numpy():
    x = T.dmatrix("x")
    outs = [x.norm(2), x.norm(1, axis=0), x.norm(3, axis=1), x.size, x.ravel(),
            x.ptp(axis=0), x.fill(3.0), x.zeros_like(), x.ones_like(dtype="int32"),
            x.cumsum(axis=1), x.cumprod(), x.repeat(2, axis=0), x.take([0, 2], axis=1),
            x.dimshuffle(0, "x", 1).squeeze()]
    f = theano.function([x], outs)
    for v in (np.array([[1.0, -2.0, 3.0], [4.0, np.inf, -0.0]]), np.zeros((0, 3))):
        if not v.size:   # NumPy's max of an empty axis raises, and so does ptp's
            with pytest.raises(ValueError, match="zero-size"):
                f(v)
            f = theano.function([x], outs[:5] + outs[6:])
        got = f(v)
        with np.errstate(all="ignore"):
            want = [np.linalg.norm(v), np.abs(v).sum(0), (np.abs(v) ** 3).sum(1) ** (1 / 3),
                    v.size, v.ravel(), np.ptp(v, axis=0) if v.size else None,
                    np.full_like(v, 3.0), np.zeros_like(v), np.ones_like(v, dtype="int32"),
                    v.cumsum(1), v.cumprod(), v.repeat(2, 0), v.take([0, 2], 1), v]
        if not v.size:
            del want[5]
        assert len(got) == len(want)
        for k, (g, w) in enumerate(zip(got, want)):
            assert np.shape(g) == np.shape(w), k
            np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=str(k))
    with pytest.raises(NotImplementedError, match="norm"):
        x.norm(0)


def test_data_dependent_methods():
    v = T.dvector("v")
    f = theano.function([v], [v.nonzero_values(), v.nonzero()[0], v[v > 0], v.sort()])
    a = np.array([0.0, 2.0, -0.0, np.nan, -3.0])
    got = f(a)
    want = [a[a != 0], np.flatnonzero(a), a[a > 0], np.sort(a, kind="stable")]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_typed_constructors_are_types_that_print_as_theano_does():
    """Theano's "Baby Steps" tutorial, as a user types it: ``T.dscalar`` is a type,
    ``x.type is T.dscalar``, types and unnamed variables print as Theano printed them (the
    debugging FAQ's ``<TensorType(float32, matrix)>``)."""
    x = T.dscalar("x")
    assert x.type is T.dscalar and repr(x.type) == repr(T.dscalar) == "TensorType(float64, scalar)"
    assert repr(T.fmatrix) == "TensorType(float32, matrix)" and T.fmatrix("m").dtype == "float32"
    assert [repr(t) for t in (T.lvector, T.drow, T.dcol, T.btensor3)] == [
        "TensorType(int64, vector)", "TensorType(float64, row)", "TensorType(float64, col)",
        "TensorType(int8, 3D)"]
    assert repr(T.TensorType("float64", (True, False, True))) == \
        "TensorType(float64, (True, False, True))"
    assert repr(T.dmatrix()) == "<TensorType(float64, matrix)>"
    assert repr(T.dmatrix("w")) == "w"
    a, b = T.fvectors("ab")
    assert (a.name, b.name, a.type) == ("a", "b", T.fvector)
    assert [v.type for v in T.iscalars(2)] == [T.iscalar, T.iscalar]
    y = T.dscalar("y")
    f = theano.function([x, y], x + y)           # the tutorial's first function
    assert f(2, 3) == 5.0 and f(16.3, 12.1) == np.float64(16.3) + np.float64(12.1)


def test_any_attribute_may_be_set_on_a_variable():
    """Theano's variables take any attribute; Keras keeps ``_keras_shape`` and
    ``_keras_history`` on every tensor it makes (Keras 2's Theano backend)."""
    x = T.matrix("x")
    y = T.tanh(x) * 2
    y._keras_shape = (None, 3)
    y._uses_learning_phase = False
    assert y._keras_shape == (None, 3) and y._uses_learning_phase is False
    assert not hasattr(T.tanh(x) * 3, "_keras_shape")      # per variable, not per class
    s = theano.shared(np.zeros(3), name="s")
    s._keras_shape = (3,)
    assert s._keras_shape == (3,) and s.get_value().shape == (3,)
    f = theano.function([x], y)
    np.testing.assert_allclose(f(np.ones((2, 3))), 2 * np.tanh(np.ones((2, 3))), rtol=1e-15)


def test_clone_keeps_a_replacement_whose_ancestors_are_replaced_too():
    """Theano's ``clone(d, replace={x: x2, c: c2})`` with ``c = x * 2``: d reads c2 (the
    replacement of c is not undone by rebuilding c from x2); scan's captures rely on it
    (a step reading an outer c and a value computed from c, as Keras's ctc_batch_cost)."""
    x, x2, c2 = T.dvector("x"), T.dvector("x2"), T.dvector("c2")
    c = x * 2
    d = (c + 1) * x
    r = theano.clone(d, replace={x: x2, c: c2})
    f = theano.function([x2, c2], r)
    a, b = np.array([1.0, -2.0]), np.array([10.0, 20.0])
    np.testing.assert_array_equal(f(a, b), (b + 1) * a)
    # the order of the replacements does not matter
    r2 = theano.clone(d, replace=[(c, c2), (x, x2)])
    np.testing.assert_array_equal(theano.function([x2, c2], r2)(a, b), (b + 1) * a)
