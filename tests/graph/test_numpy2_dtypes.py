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
