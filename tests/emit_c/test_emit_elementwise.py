"""Every row of the scalar op table, compiled for every dtype its type rule accepts, against
the reference evaluator (one module holds all of them: the compiler runs once)."""

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build

from aotsym.graph.ops.composite import Composite
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.graph.types import DTYPES, TensorType

N = 64
# ops whose integer versions get their own inputs (negative exponents raise)
_SEPARATE = {"pow"}


def _values(dtype, rng, role):
    kind = np.dtype(dtype).kind
    if kind == "b":
        return rng.integers(0, 2, N).astype(bool)
    if kind in "iu":
        info = np.iinfo(dtype)
        lo = max(info.min, -20)
        vals = rng.integers(lo, min(info.max, 20), N).astype(dtype)
        vals[:4] = [0, 1, info.max, info.min if kind == "i" else 7]
        if role == 1:  # divisors: zero, -1 and INT_MIN // -1 must not trap
            vals[:4] = [0, 0 if kind == "u" else -1, 3, 0 if kind == "u" else -1]
        return vals
    if kind == "f":
        vals = (rng.standard_normal(N) * 3).astype(dtype)
        vals[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 0.5]
        if role == 1:
            vals[:6] = [2.0, 0.0, 0.0, -1.5, 1.0, -0.5]
        return vals
    re, im = rng.standard_normal(N), rng.standard_normal(N)
    return (re + 1j * im).astype(dtype)


def _op_cases():
    cases = []
    for dt in DTYPES:
        x, y, z = [TensorType(dt, (False,))(n) for n in "xyz"]
        outs, separate = [], []
        for name, row in SCALAR_OPS.items():
            if name == "cast":
                continue
            try:
                out = Elemwise(row)(*[x, y, z][:row.nin])
            except (TypeError, ValueError):
                continue  # the type rule rejects this dtype
            (separate if name in _SEPARATE and np.dtype(dt).kind in "iub" else outs).append(out)
        cases.append(Case(dt, [x, y, z], outs))
        if separate:
            cases.append(Case(dt + "_pow", [x, y], separate))
    # conversions between every pair of dtypes
    for src in DTYPES:
        x = TensorType(src, (False,))("x")
        outs = [Elemwise("cast", dtype=dst)(x) for dst in DTYPES if dst != src]
        cases.append(Case("cast_" + src, [x], outs))
    # mixed dtypes: the upcast happens inside the kernel
    pairs = [("int8", "float32"), ("uint8", "int8"), ("int32", "float64"), ("bool", "int16"),
             ("uint64", "int64"), ("float32", "float64"), ("float32", "complex128"),
             ("int64", "complex64")]
    for a, b in pairs:
        x, y = TensorType(a, (False,))("x"), TensorType(b, (False,))("y")
        outs = [Elemwise(SCALAR_OPS[n])(x, y) for n in ("add", "sub", "mul", "true_div", "eq")]
        cases.append(Case(f"mixed_{a}_{b}", [x, y], outs))
    return cases


CASES = _op_cases()


@pytest.fixture(scope="module")
def entries():
    return build(CASES, cflags="-O0")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_scalar_ops_match_reference(entries, case):
    rng = np.random.default_rng(abs(hash(case.name)) % 2**32)
    values = [_values(v.dtype, rng, k) for k, v in enumerate(case.inputs)]
    if case.name.endswith("_pow"):
        values[1] = np.abs(values[1]) % 5 if values[1].dtype != bool else values[1]
        values[1] = values[1].astype(case.inputs[1].dtype)
    if case.name.startswith("cast_"):
        kind = np.dtype(case.inputs[0].dtype).kind
        if kind in "fc":  # out-of-range float -> int conversions are platform-defined
            values[0] = np.clip(values[0].real if kind == "c" else values[0], -100, 100)
            values[0] = np.where(np.isnan(values[0]), 1.5, values[0]).astype(case.inputs[0].dtype)
    tol = 2e-5 if any(v.dtype in ("float32", "complex64") for v in case.inputs) else 1e-9
    assert_matches(case, entries[case.name], values, rtol=tol, atol=tol)


def test_negative_integer_power_raises_like_numpy(entries):
    pow_case = next(c for c in CASES if c.name == "int32_pow")
    x = np.array([2, 3], dtype="int32")
    with pytest.raises(ValueError, match="integers to negative integer powers"):
        entries[pow_case.name](x, np.array([1, -1], dtype="int32"))


def test_composite_program_with_constants_and_casts():
    x = TensorType("float32", (False, False))("x")
    y = TensorType("int16", (True, False))("y")
    comp = Composite(
        [("mul", None, [("in", 0), ("const", 2.0, "float32")]),
         ("cast", "float32", [("in", 1)]),
         ("add", None, [("step", 0), ("step", 1)]),
         ("exp", None, [("step", 2)]),
         ("gt", None, [("step", 3), ("const", 1.5, "float32")])],
        2, [("step", 3), ("step", 4)])
    outs = comp(x, y)
    case = Case("composite", [x, y], outs)
    # -O3 (the vectorized paths) and streaming stores for rows of 256 bytes and more
    for flags in ("-O3 -march=native", "-O3 -march=native -DAOT_STREAM_MIN_BYTES=256"):
        entry = build([case], cflags=flags)["composite"]
        rng = np.random.default_rng(1)
        for shape in [(3, 5), (0, 5), (1000, 33), (3, 1001)]:
            xv = rng.standard_normal(shape).astype("float32")
            yv = rng.integers(-3, 3, (1, shape[1])).astype("int16")
            assert_matches(case, entry, [xv, yv], rtol=1e-5)
            assert_matches(case, entry, [xv[::-1, ::2], yv[:, ::2]], rtol=1e-5)
