"""Limits and corners where the compiled code and the reference evaluator must agree with
NumPy (or refuse the same way): many dimensions, complex max/min and their arg forms, masked
arrays and other ndarray subclasses."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T

MODES = ("FAST_RUN", "FAST_COMPILE")


@pytest.mark.parametrize("ndim", [33, 64])
@pytest.mark.parametrize("mode", MODES)
def test_many_dimensions(ndim, mode):
    """NumPy 2 supports 64 dimensions; the optimizer once used ``.flat`` (32 at most)."""
    t = T.TensorType("float64", (False,) * ndim)("t")
    f = aotsym.function([t], [t.sum(axis=ndim - 1), (t * 2 + 1).max(),
                              t.dimshuffle(*reversed(range(ndim))) + 1], mode=mode)
    a = np.arange(6.0).reshape((1,) * (ndim - 2) + (2, 3))
    total, top, flipped = f(a)
    np.testing.assert_array_equal(total, a.sum(axis=ndim - 1))
    assert top == 11.0
    np.testing.assert_array_equal(flipped, a.transpose() + 1)


def test_more_dimensions_than_numpy_is_a_graph_building_error():
    with pytest.raises(ValueError, match="65 dimensions.*at most 64"):
        T.TensorType("float64", (False,) * 65)
    t = T.TensorType("float64", (False,) * 64)("t")
    with pytest.raises(ValueError, match="at most 64"):
        t.dimshuffle("x", *range(64))


NAN = float("nan")
COMPLEX_CASES = [[1 + 2j, 3 - 1j, 3 + 0j], [1 + 2j, complex(NAN, 0), 3, complex(0, NAN)],
                 [complex(1, -np.inf), complex(1, np.inf), -2 + 5j], [5 + 0j], [2 + 1j, 2 + 1j]]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("fn", ["max", "min", "argmax", "argmin"])
def test_complex_max_min_agree_with_numpy_in_every_mode(dtype, fn):
    """NumPy orders complex numbers by (real, imag), a NaN in either part winning; FAST_RUN
    was a build error where FAST_COMPILE worked."""
    z = T.TensorType(dtype, (False,))("z")
    m = T.TensorType(dtype, (False, False))("m")
    for mode in MODES:
        f = aotsym.function([z], getattr(T, fn)(z), mode=mode)
        for case in COMPLEX_CASES:
            value = np.array(case, dtype=dtype)
            np.testing.assert_array_equal(f(value), getattr(np, fn)(value), err_msg=str(case))
        g = aotsym.function([m], getattr(T, fn)(m, axis=1), mode=mode)
        M = np.array([COMPLEX_CASES[0], COMPLEX_CASES[0][::-1]], dtype=dtype)
        np.testing.assert_array_equal(g(M), getattr(np, fn)(M, axis=1))


@pytest.mark.parametrize("mode", MODES)
def test_masked_arrays_are_refused(mode):
    """A masked array would silently lose its mask: refused, with what to do instead."""
    x = T.vector("x")
    f = aotsym.function([x], x * 2, mode=mode)
    masked = np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 0])
    with pytest.raises(TypeError, match=r"argument 0 \(x\).*masked array.*filled"):
        f(masked)
    assert f(masked.filled(0.0)).tolist() == [2.0, 0.0, 6.0]
    s = aotsym.shared(np.zeros(3))
    with pytest.raises(TypeError, match="masked array"):
        s.set_value(masked)


@pytest.mark.parametrize("mode", MODES)
def test_other_subclasses_are_computed_as_plain_arrays(mode):
    class Tagged(np.ndarray):
        pass

    x = T.vector("x")
    f = aotsym.function([x], x * 2, mode=mode)
    out = f(np.arange(3.0).view(Tagged))
    assert type(out) is np.ndarray and out.tolist() == [0.0, 2.0, 4.0]
