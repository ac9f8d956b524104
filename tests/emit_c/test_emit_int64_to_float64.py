"""int64 -> float64 in compiled loops: the vectorizable spelling (runtime/aotsym_scalar.h,
aot_i64_to_f64) gives C's (NumPy's) rounding for every int64, edges included."""

import numpy as np

import aotsym
from aotsym import tensor as T

EDGES = [0, 1, -1, 2**31 - 1, -2**31, 2**31, -2**31 - 1, 2**32 - 1, 2**32, -2**32,
         2**53, 2**53 + 1, -2**53 - 1, 2**62 + 123, -(2**62) - 321, 2**63 - 1, -2**63,
         2**63 - 1024, 2**63 - 513, 2**54 + 3, 12345678901234567]


def test_cast_and_mixed_arithmetic_round_as_numpy():
    k = T.vector("k", dtype="int64")
    x = T.scalar("x", dtype="float64")
    f = aotsym.function([k, x], [T.cast(k, "float64"), k * x, x ** (k % 7)])
    rng = np.random.default_rng(3)
    rand = rng.integers(-2**63, 2**63 - 1, 20000, dtype=np.int64, endpoint=True)
    shifted = rand >> rng.integers(0, 64, rand.size)          # every magnitude
    values = np.concatenate([np.array(EDGES, dtype=np.int64), rand, shifted])
    for arr in (values, values[::-3], values[:0]):            # strided, reversed, empty
        cast, scaled, powered = f(arr, 0.75)
        np.testing.assert_array_equal(cast, arr.astype(np.float64))
        np.testing.assert_array_equal(scaled, arr * 0.75)
        np.testing.assert_allclose(powered, 0.75 ** (arr % 7), rtol=4e-16 * 4)
