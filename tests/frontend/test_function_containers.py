"""Theano's containers on a compiled function: ``f[x]``, ``f[x] = v``, ``f.value[x]``,
``f.container[x].value`` (library/compile/io.txt's "Value: initial and default values",
run as written there), by variable, name or position, shared variables included."""

import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym import function
from aotsym.compile.io import In


def test_the_io_documents_inc_example():
    u, x, s = T.scalars("u", "x", "s")
    inc = function([u, In(x, value=3), In(s, update=(s + x * u), value=10.0)], [])
    assert inc(5) == []
    assert str(inc[s]) == "25.0"
    assert inc(3, 4) == []
    assert str(inc[s]) == "37.0"
    assert str(inc[x]) == "3.0"          # the override of 4 was for that call only
    inc(3, 4, 7)
    assert str(inc[s]) == "19.0"
    inc[s] = 10
    got = inc[s]
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got == 10.0
    inc(1)                               # the call starts from the value set
    assert inc[s] == 13.0


def test_the_same_container_by_name_position_value_and_container():
    u, x, s = T.scalars("u", "x", "s")
    inc = function([u, In(x, value=3), In(s, update=(s + x * u), value=10.0)], [])
    assert inc["s"] == inc[2] == inc[-1] == inc.value[s] == inc.container[s].value == 10.0
    inc.container["s"].value = 1.5
    assert inc[s] == 1.5
    inc.value[2] = 4.0
    assert inc["s"] == 4.0
    assert inc[u] is None                # a required argument has no value
    assert s in inc.value and "zz" not in inc.value


def test_a_shared_variable_through_the_function():
    w = aotsym.shared(1.5, name="w")
    u = T.scalar("u")
    f = function([u], u * w)
    assert f[w] == 1.5 and f["w"] == 1.5
    f[w] = 2.0
    assert w.get_value() == 2.0 and f(2.0) == 4.0


def test_bad_items_and_values_are_refused():
    u, x = T.scalars("u", "x")
    f = function([u, In(x, value=3)], u + x)
    with pytest.raises(TypeError, match="unknown input or state 'zz'"):
        f["zz"]
    with pytest.raises(TypeError, match="unknown input or state"):
        f[T.scalar("other")]
    with pytest.raises(IndexError, match="has 2 inputs, not an input 5"):
        f[5]
    with pytest.raises(TypeError, match=r"argument 1 \(x\).*expected a float64 scalar, "
                                        "got str"):
        f[x] = "abc"
    assert f[x] == 3.0 and f(1.0) == 4.0  # unchanged by the refused value
    with pytest.raises(TypeError, match="cannot be assigned"):
        f.container[x] = 1.0
    with pytest.raises(TypeError, match=r"the value of input 1 \(x\): expected a float64 "
                                        "scalar, got str"):
        function([u, In(x, value="a")], u)


def test_two_inputs_of_one_name_must_be_named_by_variable():
    a1, a2 = T.scalar("a"), T.scalar("a")
    f = function([In(a1, value=1.0), In(a2, value=2.0)], a1 - a2)
    with pytest.raises(TypeError, match="more than one input or state is named 'a'"):
        f["a"]
    assert f[a1] == 1.0 and f[a2] == 2.0
    with pytest.raises(TypeError, match="more than one input is named 'a'"):
        f(a=5.0)                         # (it took the first one, silently)
    assert f(5.0, 1.0) == 4.0


def test_setting_a_value_leaves_the_users_in_object_alone():
    u, x = T.scalars("u", "x")
    spec = In(x)                          # no value: the argument is required
    f = function([u, spec], u + x)
    g = function([u, spec], u * x)
    f[x] = 2.0
    assert f(1.0) == 3.0 and spec.value is None
    with pytest.raises(TypeError, match="missing"):
        g(1.0)                            # g's x is still required
