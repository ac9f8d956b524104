"""aotsym.function's argument checking: Theano's rules, messages naming function and argument."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.frontend.function import In


@pytest.fixture
def fx():
    x = T.fmatrix("x")
    return aotsym.function([x], x * 2, name="double")


def test_float64_array_for_float32_input_says_how_to_fix(fx):
    with pytest.raises(TypeError) as info:
        fx(np.ones((2, 2)))
    msg = str(info.value)
    for word in ("double()", "argument 0", "(x)", "float32", "float64", "allow_input_downcast",
                 "np.asarray"):
        assert word in msg


def test_allow_input_downcast_accepts_float64():
    x = T.fmatrix("x")
    f = aotsym.function([x], x * 2, allow_input_downcast=True)
    out = f(np.full((2, 2), 1.5))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.full((2, 2), 3.0, dtype=np.float32))


def test_allow_input_downcast_false_refuses_python_floats():
    with aotsym.config.change_flags(floatX="float32"):
        s = T.scalar("s")
        assert aotsym.function([s], s + 1)(0.1).dtype == np.float32  # Theano's default
        f = aotsym.function([s], s + 1, allow_input_downcast=False, name="strict_f")
        with pytest.raises(TypeError, match="strict_f.*argument 0"):
            f(0.1)


def test_safe_conversions_are_accepted():
    x = T.dvector("x")
    f = aotsym.function([x], x + 1)
    np.testing.assert_array_equal(f(np.arange(3, dtype="int32")), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(f(np.ones(2, dtype="float32")), [2.0, 2.0])
    np.testing.assert_array_equal(f([1, 2]), [2.0, 3.0])
    i = T.ivector("i")
    g = aotsym.function([i], i + 1, name="g")
    np.testing.assert_array_equal(g([1, 2]), [2, 3])         # Python ints that fit
    with pytest.raises(TypeError, match="g().*argument 0.*int32"):
        g(np.array([1, 2], dtype="int64"))                   # an int64 array does not
    with pytest.raises(TypeError, match="g().*argument 0"):
        g([2 ** 40])                                         # nor a value that does not fit


def test_wrong_ndim(fx):
    with pytest.raises(TypeError) as info:
        fx(np.ones(3, dtype="float32"))
    msg = str(info.value)
    assert "double()" in msg and "(x)" in msg and "ndim" in msg and "(3,)" in msg


def test_broadcastable_dimension_must_have_length_one():
    r = T.drow("r")
    f = aotsym.function([r], r + 1, name="add_one")
    assert f(np.ones((1, 3))).shape == (1, 3)
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)))
    msg = str(info.value)
    assert "add_one()" in msg and "(r)" in msg and "dimension 0" in msg and "(2, 3)" in msg


@pytest.mark.parametrize("bad, kind", [({"a": 1}, "dict"), ("abc", "str"), (object(), "object"),
                                        ([[1, 2], [3]], "list"), (None, "NoneType")])
def test_non_array_objects(fx, bad, kind):
    with pytest.raises(TypeError) as info:
        fx(bad)
    msg = str(info.value)
    assert "double()" in msg and "(x)" in msg and kind in msg


def test_symbolic_value_as_argument(fx):
    with pytest.raises(TypeError, match="double().*symbolic"):
        fx(T.fmatrix("y"))


def test_too_many_arguments(fx):
    ok = np.ones((1, 1), dtype="float32")
    with pytest.raises(TypeError, match=r"double\(\) takes 1 argument, got 2"):
        fx(ok, ok)


def test_missing_argument():
    x, y = T.dvectors("x", "y")
    f = aotsym.function([x, y], x + y, name="plus")
    with pytest.raises(TypeError) as info:
        f(np.ones(2))
    msg = str(info.value)
    assert "plus()" in msg and "argument 1" in msg and "(y)" in msg and "missing" in msg


def test_keyword_arguments_by_input_name():
    x, y = T.dvectors("x", "y")
    f = aotsym.function([x, y], x - y, name="minus")
    np.testing.assert_array_equal(f(y=[1.0], x=[3.0]), [2.0])
    np.testing.assert_array_equal(f([3.0], y=[1.0]), [2.0])
    with pytest.raises(TypeError, match=r"minus\(\) got an unexpected keyword argument 'z'"):
        f([1.0], z=[1.0])
    with pytest.raises(TypeError, match=r"minus\(\) got multiple values for argument 'x'"):
        f([1.0], x=[1.0])


def test_unnamed_function_is_named_by_its_line():
    x = T.dvector("x")
    f = aotsym.function([x], x + 1)
    with pytest.raises(TypeError) as info:
        f(np.ones((2, 2)))
    assert "test_function_inputs.py:" in str(info.value) and "(x)" in str(info.value)


def test_In_default_value_name_and_strict():
    x, y = T.dvectors("x", "y")
    f = aotsym.function([x, In(y, value=np.array([10.0]), name="offset")], x + y)
    np.testing.assert_array_equal(f([1.0]), [11.0])
    np.testing.assert_array_equal(f([1.0], offset=[2.0]), [3.0])
    g = aotsym.function([In(x, strict=True)], x * 2, name="g")
    with pytest.raises(TypeError, match="g().*strict"):
        g(np.ones(2, dtype="float32"))


def test_In_allow_downcast_per_input():
    x, y = T.fvectors("x", "y")
    f = aotsym.function([In(x, allow_downcast=True), y], x + y, name="f")
    assert f(np.ones(2), np.ones(2, dtype="float32")).dtype == np.float32
    with pytest.raises(TypeError, match="f().*argument 1"):
        f(np.ones(2), np.ones(2))


def test_trust_input_skips_checks():
    x = T.dvector("x")
    f = aotsym.function([x], x * 2)
    f.trust_input = True
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])


def test_bad_function_arguments():
    x = T.dvector("x")
    with pytest.raises(TypeError, match="list"):
        aotsym.function(x, x)
    # an input computed from other variables cuts the graph there (Theano's rule), so here
    # it is unused, and x is missing
    with pytest.raises(aotsym.frontend.assemble.UnusedInputError, match="input 0"):
        aotsym.function([x + 1], x)
    with pytest.raises(ValueError, match="not among the function's inputs"):
        aotsym.function([x + 1], x, on_unused_input="ignore")
    with pytest.raises(TypeError, match="shared"):
        aotsym.function([aotsym.shared(np.ones(2))], x)
    with pytest.raises(ValueError, match="mode.*FAST_RUN"):
        aotsym.function([x], x, mode="FAST")
    with pytest.raises(ValueError, match="on_unused_input"):
        aotsym.function([x], x, on_unused_input="sometimes")
