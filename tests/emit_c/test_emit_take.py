"""Integer-array indexing along axis 0 compiled (``x[idx]``: AdvancedSubtensor1,
runtime/aotsym_ops.c ``aot_take_rows``): the element path (one load and store each), the
contiguous-row path (one memcpy a row) and the general path (any row strides) against
NumPy, with negative, repeated and out-of-bounds indices, every item size, strided and
negative-stride arrays and index vectors, and empty ones."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T

DTYPES = ["bool", "int8", "int16", "float32", "float64", "complex128"]


def _values(dtype, shape, rng):
    v = rng.standard_normal(shape) * 10
    if dtype == "complex128":
        return (v + 1j * rng.standard_normal(shape)).astype(dtype)
    return v.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_take_matches_numpy_on_every_path(dtype):
    rng = np.random.default_rng(3)
    i = T.lvector("i")
    x1, x2, x3 = (T.tensor(dtype, (False,) * d, name=f"x{d}") for d in (1, 2, 3))
    f = aotsym.function([x1, x2, x3, i], [x1[i], x2[i], x3[i]])
    a1, a2, a3 = _values(dtype, (50,), rng), _values(dtype, (50, 7), rng), \
        _values(dtype, (50, 3, 4), rng)
    idx = np.array([0, 49, -1, -50, 3, 3, 17, -7], dtype=np.int64)
    for xs, ix in [((a1, a2, a3), idx),
                   ((a1[::-1], a2[::-1, ::2], a3[:, ::-1, 1:]), idx[::-1]),   # strided
                   ((a1, a2, a3), np.arange(-40, 40, dtype=np.int64)[::3]),   # strided idx
                   ((a1, a2, a3), np.zeros(0, np.int64))]:                  # empty
        got = f(*xs, ix)
        for g, x in zip(got, xs):
            w = x[ix]
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g, w)


def test_transposed_rows_take_the_general_path():
    rng = np.random.default_rng(4)
    i = T.lvector("i")
    x = T.dmatrix("x")
    f = aotsym.function([x, i], x.T[i])            # rows of x.T: strided, not contiguous
    a = rng.standard_normal((6, 9))
    idx = np.array([8, -9, 0, 4, 4], dtype=np.int64)
    np.testing.assert_array_equal(f(a, idx), a.T[idx])


@pytest.mark.parametrize("bad", [50, -51, 10**12])
def test_an_index_out_of_bounds_is_an_index_error_naming_the_step(bad):
    i = T.lvector("i")
    x, m = T.dvector("x"), T.dmatrix("m")
    f = aotsym.function([x, i], x[i] * 2)
    g = aotsym.function([m, i], m[i] + 1)
    for fn, arg in ((f, np.zeros(50)), (g, np.zeros((50, 3)))):
        with pytest.raises(IndexError, match=f"index {bad} is out of bounds for dimension 0 "
                                             "of length 50"):
            fn(arg, np.array([1, bad, 2], dtype=np.int64))
