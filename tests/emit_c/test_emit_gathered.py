"""Elementwise kernels whose strided rows and rows' last elements go through gathered blocks
(``aotsym.emit_c.elementwise``: a program of at least GATHER_MIN_WORK, the unit-stride loop
run over a multiple of its group, the rest gathered into padded L1 buffers), against the
reference evaluator: every row length around the group and the block, contiguous, strided,
negative-stride, broadcast (stride 0) and 0-d operands, item sizes 1 to 16 mixed in one
kernel, NaN/inf/±0 (signs of zero compared), and a shared variable written in place.  Built
at -O3 -march=native: the vectorized loops are the ones under test."""

import numpy as np
import pytest
from emit_helpers import Case, build

import aotsym
from aotsym import tensor as T
from aotsym.emit_c.elementwise import GATHER_MIN_WORK, work_estimate
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.graph.types import TensorType

FLAGS = "-O3 -march=native"
LENGTHS = [0, 1, 3, 7, 8, 9, 16, 63, 64, 65, 127, 255, 256, 257, 600]


def _v(dt, bc):
    return TensorType(dt, bc)


def _cases():
    """(case, input dtypes): each output's program is one expensive op (work 8), so every
    kernel here takes the gathered path."""
    cases = []
    for dt in ("float64", "float32", "complex128", "complex64"):
        x, y = _v(dt, (False,))("x"), _v(dt, (False,))("y")
        cases.append((Case(f"exp_{dt}", [x, y], [Elemwise(SCALAR_OPS["exp"])(x),
                                                 Elemwise(SCALAR_OPS["true_div"])(x, y)]),
                      (dt, dt)))
    for dt in ("int8", "int16", "int32", "int64", "uint8"):
        x, y = _v(dt, (False,))("x"), _v(dt, (False,))("y")
        cases.append((Case(f"div_{dt}", [x, y], [Elemwise(SCALAR_OPS["int_div"])(x, y),
                                                 Elemwise(SCALAR_OPS["mod"])(x, y)]),
                      (dt, dt)))
    # item sizes 1 and 8 in one kernel (group 64), and bool
    x, y = _v("int8", (False,))("x"), _v("float64", (False,))("y")
    cases.append((Case("mixed", [x, y], [Elemwise(SCALAR_OPS["true_div"])(x, y)]),
                  ("int8", "float64")))
    x, y = _v("bool", (False,))("x"), _v("float32", (False,))("y")
    cases.append((Case("bool_f32", [x, y], [Elemwise(SCALAR_OPS["pow"])(y, x)]),
                  ("bool", "float32")))
    return cases


def _values(dt, n, rng, role):
    kind = np.dtype(dt).kind
    if kind == "b":
        return rng.integers(0, 2, n).astype(bool)
    if kind in "iu":
        info = np.iinfo(dt)
        v = rng.integers(max(info.min, -50), min(info.max, 50), n).astype(dt)
        special = [0, 1, info.max, info.min] if role == 0 else [0, 3, -1 if kind == "i" else 1, 7]
        v[:min(n, 4)] = special[:min(n, 4)]
        return v
    v = (rng.standard_normal(n) * 3).astype(dt)
    if kind == "c":
        v = v + 1j * rng.standard_normal(n).astype(dt)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 0.5]
    if kind == "c" and role == 1:
        # a complex divisor of -0: the C spelling's infinities differ in sign from NumPy's,
        # in every kernel (a known gap of the complex division, not of the loops here)
        special[1] = 0.0
    v[:min(n, 6)] = special[:min(n, 6)]
    if role == 1 and n > 7 and kind == "f":
        v[6:8] = [-0.0, 0.0]
    return v


def _check(case, entry, values):
    got = entry(*values)
    with np.errstate(all="ignore"):
        ref = evaluate(case.outputs, dict(zip(case.inputs, values)))
    for k, (g, r) in enumerate(zip(got, ref)):
        where = f"{case.name} output {k}, shapes {[np.shape(v) for v in values]}"
        assert g.dtype == r.dtype and g.shape == r.shape, where
        if g.dtype.kind in "fc":
            tol = 2e-5 if g.dtype in (np.float32, np.complex64) else 1e-12
            np.testing.assert_allclose(g, r, rtol=tol, atol=tol, equal_nan=True, err_msg=where)
            if g.dtype.kind == "f":    # (complex division's zeros differ in sign from
                zero = (g == 0) & (r == 0)     # NumPy's in every kernel: a known gap)
                assert np.array_equal(np.signbit(g[zero]), np.signbit(r[zero])), where
        else:
            np.testing.assert_array_equal(g, r, err_msg=where)


@pytest.fixture(scope="module")
def built():
    cases = _cases()
    entries = build([c for c, _ in cases], cflags=FLAGS)
    return [(c, dts, entries[c.name]) for c, dts in cases]


def test_every_case_takes_the_gathered_path():
    for case, _ in _cases():
        for out in case.outputs:
            program = [(out.owner.op.scalar_op.name, None, [])]
            assert work_estimate(program) >= GATHER_MIN_WORK, case.name


@pytest.mark.parametrize("layout", ["contiguous", "strided", "reversed", "broadcast"])
def test_gathered_kernels_match_the_reference(built, layout):
    rng = np.random.default_rng(0)
    for case, dts, entry in built:
        for n in LENGTHS:
            x = _values(dts[0], 3 * n + 2, rng, 0)
            y = _values(dts[1], 3 * n + 2, rng, 1)
            if layout == "contiguous":
                values = [x[:n], y[:n]]
            elif layout == "strided":
                values = [x[1:3 * n + 1:3], y[:2 * n:2]]
            elif layout == "reversed":
                values = [x[n - 1::-1] if n else x[:0], y[2 * n:0:-2][:n]]
            else:                      # a one-element row read with stride 0
                values = [x[:n], np.broadcast_to(y[-1:], (n,))]
            _check(case, entry, values)


def test_two_d_broadcast_and_zero_d():
    """Rows with an operand broadcast along them (stride 0 inside the loop) and 0-d
    operands, which are loaded once."""
    x, y = T.matrix("x"), T.col("y")
    z = T.scalar("z")
    f = aotsym.function([x, y, z], T.exp(x) * y + T.sin(z))      # default flags: -O3
    rng = np.random.default_rng(2)
    for shape in [(3, 0), (1, 1), (5, 9), (4, 300), (300, 7)]:
        xv = rng.standard_normal(shape)
        yv = rng.standard_normal((shape[0], 1))
        zv = np.array(rng.standard_normal())
        want = np.exp(xv) * yv + np.sin(zv)
        np.testing.assert_allclose(f(xv, yv, zv), want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(f(xv.T.copy().T, yv, zv), want, rtol=1e-12, atol=1e-12)
        if shape[1] > 1:
            np.testing.assert_allclose(f(xv[:, ::-1], yv, zv), np.exp(xv[:, ::-1]) * yv
                                       + np.sin(zv), rtol=1e-12, atol=1e-12)


def test_shared_variable_written_in_place_through_gathered_blocks():
    """A Composite writing over a shared variable (the output is its input 0, element for
    element) with an expensive program: every length around the block."""
    for n in [1, 7, 9, 255, 257, 1000]:
        start = np.linspace(-2.0, 2.0, n)
        w = aotsym.shared(start.copy(), name="w")
        g = T.vector("g")
        step = aotsym.function([g], [], updates=[(w, w - 0.1 * T.exp(g) * T.tanh(w))])
        gv = np.linspace(1.0, -1.0, n)
        want = start.copy()
        for _ in range(3):
            step(gv)
            want = want - 0.1 * np.exp(gv) * np.tanh(want)
        np.testing.assert_allclose(w.get_value(), want, rtol=1e-12, atol=1e-14)
