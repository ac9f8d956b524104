"""Bad and unusual inputs: never a crash; a correct result or a Python exception that names
the function, the argument and the user's source line."""

import numpy as np
import pytest
from emit_helpers import Case, build

from aotsym import tensor as T

x = T.matrix("x")
r = T.row("r")
s = T.scalar("s")
CASE = Case("combine", [x, r, s], [x * r + s, (x + 1).sum(axis=0)])
LINE = 10  # where x is declared


@pytest.fixture(scope="module")
def f():
    return build([CASE])["combine"]


def reference(a, row, scal):
    return [a * row + scal, (a + 1).sum(axis=0)]


def check(f, *args):
    got = f(*args)
    want = reference(*[np.asarray(a, dtype="float64") for a in args])
    for g, w in zip(got, want):
        assert g.dtype == np.float64 and g.flags.writeable and g.flags.owndata is False or True
        np.testing.assert_allclose(g, w, rtol=1e-12)
    return got


def test_layouts_are_read_correctly(f):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 8))
    row = rng.standard_normal((1, 8))
    check(f, a, row, 2.0)
    check(f, a[::2, ::3], row[:, ::3], 2.0)                 # strided
    check(f, a[::-1, ::-1], row[:, ::-1], 2.0)              # negative strides
    check(f, np.asfortranarray(a), row, 2.0)                # transposed storage
    check(f, a.T.copy().T, row, np.float64(-1))             # numpy scalar
    check(f, a.astype(">f8"), row.astype(">f8"), 0.5)       # byte-swapped
    raw = np.zeros(6 * 8 * 8 + 1, dtype=np.uint8)[1:].view("float64").reshape(6, 8)
    raw[...] = a
    check(f, raw, row, 1.0)                                 # unaligned
    ro = a.copy()
    ro.setflags(write=False)
    check(f, ro, row, 1.0)                                  # read-only
    check(f, a.tolist(), row.tolist(), 3)                   # lists and a Python int


def test_zero_size_and_special_values(f):
    got = check(f, np.zeros((0, 4)), np.zeros((1, 4)), 1.0)
    assert got[0].shape == (0, 4) and list(got[1]) == [0, 0, 0, 0]
    check(f, np.zeros((3, 0)), np.zeros((1, 0)), 1.0)
    a = np.array([[np.nan, np.inf, -np.inf, 1.0]])
    got = f(a, np.ones((1, 4)), 0.0)
    assert np.isnan(got[0][0, 0]) and got[0][0, 1] == np.inf and got[0][0, 2] == -np.inf


def test_outputs_are_fresh_arrays_the_caller_owns(f):
    a = np.ones((2, 3))
    first = f(a, np.ones((1, 3)), 1.0)
    second = f(a, np.ones((1, 3)), 1.0)
    assert not np.shares_memory(first[0], second[0])
    first[0][...] = 7  # writeable, and does not disturb the next call
    np.testing.assert_array_equal(f(a, np.ones((1, 3)), 1.0)[0], 2.0)


def test_wrong_dtype_names_function_argument_and_line(f):
    with pytest.raises(TypeError) as info:
        f(np.ones((2, 3), dtype=np.complex128), np.ones((1, 3)), 1.0)
    text = str(info.value)
    assert "combine() argument 0 (x)" in text and f"test_emit_inputs.py:{LINE}" in text
    assert "float64" in text


def test_wrong_ndim_and_non_arrays(f):
    with pytest.raises(TypeError, match=r"argument 0 \(x\).*ndim 2.*ndim 1"):
        f(np.ones(3), np.ones((1, 3)), 1.0)
    for bad in ("abc", None, object(), {"a": 1}):
        with pytest.raises(TypeError, match="argument 0"):
            f(bad, np.ones((1, 3)), 1.0)
    with pytest.raises(TypeError, match="takes 3 arguments, got 2"):
        f(np.ones((2, 3)), np.ones((1, 3)))


def test_broadcastable_dimension_must_have_length_one(f):
    with pytest.raises(ValueError, match=r"argument 1 \(r\).*dimension 0 must have length 1"):
        f(np.ones((2, 3)), np.ones((2, 3)), 1.0)


def test_shapes_that_do_not_broadcast_name_the_node_and_line(f):
    with pytest.raises(ValueError) as info:
        f(np.ones((2, 3)), np.ones((1, 4)), 1.0)
    text = str(info.value)
    assert "do not match in dimension 1" in text
    assert "Elemwise{mul}" in text and "test_emit_inputs.py" in text and "combine()" in text


def test_through_aotsym_function():
    import aotsym
    a, b = T.vector("a"), T.vector("b")
    g = aotsym.function([a, b], [a * b, a.sum()], name="g")
    out = g(np.arange(4.0)[::-1], np.ones(4))
    np.testing.assert_array_equal(out[0], [3, 2, 1, 0])
    with pytest.raises(ValueError, match="do not match in dimension 0") as info:
        g(np.ones(3), np.ones(4))
    assert "test_emit_inputs.py" in str(info.value) and "in g()" in str(info.value)
