"""Result dtypes as NumPy 2 (issue 15, item 4): the mean of small integers and bools is
float64, floor/ceil/trunc keep an integer's dtype, bool - bool is a TypeError; the same in
FAST_RUN (compiled) and FAST_COMPILE (the reference evaluator)."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T

VALUES = {"int8": [127, 126, 1], "int16": [32767, 32766, 1], "uint8": [255, 254, 1],
          "bool": [True, False, True], "int64": [2 ** 62, 3, -7], "uint16": [65535, 1, 2]}


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_mean_floor_ceil_trunc_dtypes_are_numpys(mode):
    ins, outs, want = [], [], []
    for dtype, vals in VALUES.items():
        v = T.vector(dtype, dtype=dtype)
        a = np.array(vals, dtype=dtype)
        ins.append(v)
        outs += [T.mean(v), T.var(v), T.floor(v), T.ceil(v), T.trunc(v)]
        want += [np.mean(a), np.var(a), np.floor(a), np.ceil(a), np.trunc(a)]
    f = aotsym.function(ins, outs, mode=mode)
    got = f(*[np.array(v, dtype=d) for d, v in VALUES.items()])
    for g, w in zip(got, want):
        assert g.dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_bool_minus_bool_raises_as_numpy():
    a, b = T.vector("a", dtype="bool"), T.vector("b", dtype="bool")
    with pytest.raises(TypeError, match="bool - bool"):
        a - b
    with pytest.raises(TypeError):
        np.subtract(np.array([True]), np.array([False]))
    assert (a - 1).dtype == "int64" and (a ^ b).dtype == "bool"



def test_a_uint64_index_beyond_int64_is_out_of_bounds_in_every_mode():
    """NumPy refuses x[np.uint64(2**64 - 1)] (an OverflowError: no such index); compiled code
    once wrapped it to x[-1].  Both modes now saturate the index and raise IndexError."""
    import aotsym
    from aotsym import tensor as T
    x, i = T.vector("x"), T.scalar("i", dtype="uint64")
    for mode in ("FAST_COMPILE", "FAST_RUN"):
        f = aotsym.function([x, i], x[i] * 2, mode=mode)
        assert float(f(np.arange(3.0), np.uint64(2))) == 4.0
        with pytest.raises(IndexError):
            f(np.arange(3.0), np.uint64(2 ** 64 - 1))
    with pytest.raises((IndexError, OverflowError)):
        np.arange(3.0)[np.uint64(2 ** 64 - 1)]
