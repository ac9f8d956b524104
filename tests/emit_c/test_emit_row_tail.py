"""A unit-stride row's last elements in an elementwise kernel with an expensive program
(``aotsym.emit_c.elementwise``, ``elemwise_kernel.c.j2``): fewer than a group, they are padded
in local buffers with copies of the last one and computed by the same vectorized loop as the
row's first elements.  So an element gets the same bits wherever it sits -- in a row's first
multiple of a group, among its last elements, or gathered from a strided row -- and matches
the reference evaluator (NaN, inf, ±0 among the last elements).  Built at -O3 -march=native:
the vectorized loops (libmvec's tanh and exp) are the ones under test; a last element
computed by the scalar libm call instead gets other bits for some of these values."""

import numpy as np
import pytest
from emit_helpers import Case, build

from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.graph.types import TensorType

FLAGS = "-O3 -march=native"
SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0]


def _vec(dt, name):
    return TensorType(dt, (False,))(name)


def _cases():
    """(case, input dtypes, group): the group is 64 bytes of the narrowest operand."""
    x64, x32, xc = _vec("float64", "x"), _vec("float32", "x"), _vec("complex128", "x")
    i8, y64 = _vec("int8", "i"), _vec("float64", "y")
    return [
        (Case("tanh_f64", [x64], [Elemwise(SCALAR_OPS["tanh"])(x64)]), ("float64",), 8),
        (Case("exp_f32", [x32], [Elemwise(SCALAR_OPS["exp"])(x32)]), ("float32",), 16),
        (Case("exp_c128", [xc], [Elemwise(SCALAR_OPS["exp"])(xc)]), ("complex128",), 4),
        (Case("div_i8_f64", [i8, y64], [Elemwise(SCALAR_OPS["true_div"])(i8, y64)]),
         ("int8", "float64"), 64),
    ]


@pytest.fixture(scope="module")
def built():
    cases = _cases()
    entries = build([c for c, _, _ in cases], cflags=FLAGS)
    return [(c, dts, group, entries[c.name]) for c, dts, group in cases]


def _values(dt, n, rng):
    kind = np.dtype(dt).kind
    if kind == "i":
        return rng.integers(-100, 100, n).astype(dt)       # (zeros among them)
    v = rng.uniform(-4, 4, n)
    if kind == "c":
        return (v + 1j * rng.uniform(-4, 4, n)).astype(dt)
    special = rng.random(n) < 0.05
    v[special] = rng.choice(SPECIAL, int(special.sum()))
    return v.astype(dt)


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view(np.uint8).reshape(a.shape + (-1,)) if a.size else a.view(np.uint8)


def _same_bits(a, b, where):
    assert a.dtype == b.dtype and a.shape == b.shape, where
    assert np.array_equal(_bits(a), _bits(b)), f"{where}: {a} != {b}"


def test_last_elements_have_the_bits_of_the_row_body(built):
    """Each row length whose last elements are 1 .. group-1 (and none), many rows each: the
    last elements against the same values computed among a row's first elements (the
    vectorized loop itself) and gathered from a strided row, and against the reference."""
    rng = np.random.default_rng(7)
    for case, dts, group, entry in built:
        for n in list(range(1, 2 * group + 1)) + [3 * group + 1, 5 * group - 1]:
            m = n % group
            for trial in range(40 if m else 2):
                values = [_values(dt, n, rng) for dt in dts]
                if trial == 0 and np.dtype(dts[-1]).kind == "f":
                    values[-1][-min(n, len(SPECIAL)):] = SPECIAL[:min(n, len(SPECIAL))]
                (got,) = entry(*values)
                where = f"{case.name}, length {n}, last {m}"
                with np.errstate(all="ignore"):
                    (want,) = evaluate(case.outputs, dict(zip(case.inputs, values)))
                tol = 2e-5 if got.dtype in (np.float32, np.complex64) else 1e-12
                np.testing.assert_allclose(got, want, rtol=tol, atol=tol, equal_nan=True,
                                           err_msg=where)
                if got.dtype.kind == "f":
                    zero = (got == 0) & (want == 0)
                    assert np.array_equal(np.signbit(got[zero]), np.signbit(want[zero])), where
                if not m:
                    continue
                # the last m values first in a row of two groups: the vectorized loop's
                head = [np.resize(np.concatenate([v[n - m:], v]), 2 * group) for v in values]
                (body,) = entry(*head)
                _same_bits(got[n - m:], body[:m], f"{where}: last elements vs row body")
                # the same row, strided: every element gathered into padded blocks
                spread = [np.repeat(v, 2)[::2] for v in values]
                (gathered,) = entry(*spread)
                _same_bits(got, gathered, f"{where}: contiguous vs strided")
