"""Corners where C's obvious spelling is not NumPy's, compiled and compared with NumPy itself
(bit for bit, signed zeros included): float floor division (fmod-based, 1.0 // 0.1 == 9.0),
integer clip with lo > hi (hi wins), isnan / isinf of complex numbers (either part), and the
order of complex numbers.  The C backend's scalar table (aotsym/emit_c/scalar_table.py)
is the only place these are spelled in C."""

import itertools

import numpy as np
import pytest
from emit_helpers import Case, build

from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.graph.types import TensorType

FLOATS = ("float32", "float64")
CLIP_DTYPES = ("bool", "int8", "uint8", "int32", "int64", "uint64", "float32", "float64")
COMPLEX = ("complex64", "complex128")
INF, NAN = np.inf, np.nan


def _vec(dtype, name):
    return TensorType(dtype, (False,))(name)


def _op(name, *inputs):
    return Elemwise(SCALAR_OPS[name])(*inputs)


def _cases():
    cases = []
    for dt in FLOATS:
        a, b = _vec(dt, "a"), _vec(dt, "b")
        cases.append(Case(f"floordiv_{dt}", [a, b], [_op("int_div", a, b), _op("mod", a, b)]))
    for dt in CLIP_DTYPES:
        x, lo, hi = _vec(dt, "x"), _vec(dt, "lo"), _vec(dt, "hi")
        cases.append(Case(f"clip_{dt}", [x, lo, hi], [_op("clip", x, lo, hi)]))
    for dt in COMPLEX:
        z, w = _vec(dt, "z"), _vec(dt, "w")
        cases.append(Case(f"complex_{dt}", [z, w],
                          [_op("isnan", z), _op("isinf", z)]
                          + [_op(n, z, w) for n in ("lt", "le", "gt", "ge", "eq", "neq")]))
    return cases


CASES = {c.name: c for c in _cases()}


@pytest.fixture(scope="module")
def entries():
    return build(list(CASES.values()))


def assert_same_as_numpy(got, expected, what):
    """Equal values, NaN where NumPy has NaN, and the same sign of zero."""
    assert got.dtype == expected.dtype, what
    np.testing.assert_array_equal(got, expected, err_msg=what)
    if got.dtype.kind == "f":
        zero = expected == 0
        np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(expected[zero]),
                                      err_msg=f"{what}: sign of zero")


def check(entries, name, values, numpy_fns):
    """The compiled outputs and the reference evaluator's are NumPy's, bit for bit."""
    case = CASES[name]
    compiled = entries[name](*values)
    reference = evaluate(case.outputs, dict(zip(case.inputs, values)))
    with np.errstate(all="ignore"):
        expected = [fn(*values) for fn in numpy_fns]
    for k, (c, r, e) in enumerate(zip(compiled, reference, expected)):
        assert_same_as_numpy(c, e, f"{name} output {k} compiled")
        assert_same_as_numpy(r, e, f"{name} output {k} reference evaluator")


@pytest.mark.parametrize("dtype", FLOATS)
def test_float_floor_division_is_numpys(entries, dtype):
    tops = [1.0, -1.0, 0.0, -0.0, 7.5, -7.5, 5.0, 0.3, 2.0, 1e30, -1e-30, INF, -INF, NAN]
    bottoms = [0.1, -0.1, 0.0, -0.0, 3.0, -3.0, 2.5, 0.7, 1e-30, INF, -INF, NAN]
    a, b = (np.array(v, dtype=dtype) for v in zip(*itertools.product(tops, bottoms)))
    check(entries, f"floordiv_{dtype}", [a, b], [np.floor_divide, np.mod])
    one = np.array([1.0], dtype)
    got = entries[f"floordiv_{dtype}"](one, np.array([0.1], dtype))[0]
    assert got[0] == 9.0                        # not floor(1.0 / 0.1) == 10.0


@pytest.mark.parametrize("dtype", CLIP_DTYPES)
def test_clip_lets_hi_win_when_lo_exceeds_hi(entries, dtype):
    if dtype == "bool":
        x, lo, hi = (np.array(v, dtype=bool)
                     for v in zip(*itertools.product([False, True], repeat=3)))
    else:
        grid = [0, 1, 3, 5, 9] if np.dtype(dtype).kind == "u" else [-7, -1, 0, 2, 5]
        x, lo, hi = (np.array(v, dtype=dtype) for v in zip(*itertools.product(grid, repeat=3)))
    assert np.any(lo > hi)
    check(entries, f"clip_{dtype}", [x, lo, hi],
          [lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi)])


@pytest.mark.parametrize("dtype", COMPLEX)
def test_complex_isnan_isinf_and_order(entries, dtype):
    parts = [0.0, 1.0, -2.0, INF, -INF, NAN]
    z = np.array([complex(r, i) for r, i in itertools.product(parts, parts)], dtype=dtype)
    w = np.array([complex(r, i) for r, i in itertools.product([1.0, 0.0, NAN], repeat=2)],
                 dtype=dtype)
    z, w = (np.array(v, dtype=dtype) for v in zip(*itertools.product(z, w)))
    assert np.isnan(z).sum() and np.isinf(z).sum() and np.isnan(z.imag).sum()
    check(entries, f"complex_{dtype}", [z, w],
          [lambda z, w: np.isnan(z), lambda z, w: np.isinf(z), np.less, np.less_equal,
           np.greater, np.greater_equal, np.equal, np.not_equal])
