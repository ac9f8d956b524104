"""Operators and methods installed on Variable (aotsym/graph/methods.py)."""

import numpy as np
import pytest

from aotsym import tensor as T


def test_setitem_points_to_set_subtensor():
    x = T.vector("x")
    with pytest.raises(TypeError, match="set_subtensor"):
        x[0] = 1.0


def test_equality_is_identity_and_eq_is_elementwise():
    x = T.vector("x")
    assert (x == x) is True and x != T.vector("y")
    assert T.eq(x, 1.0).dtype == "bool"


def test_methods_match_numpy():
    x = T.matrix("x")
    v = np.arange(6.0).reshape(2, 3) - 2.5
    got = {
        "T": x.T.eval({x: v}), "sum0": x.sum(axis=0).eval({x: v}),
        "abs": abs(x).eval({x: v}), "neg": (-x).eval({x: v}),
        "rpow": (2 ** x).eval({x: v}), "rsub": (1 - x).eval({x: v}),
        "clip": x.clip(-1, 1).eval({x: v}), "astype": x.astype("int32").eval({x: v}),
    }
    want = {
        "T": v.T, "sum0": v.sum(axis=0), "abs": np.abs(v), "neg": -v, "rpow": 2 ** v,
        "rsub": 1 - v, "clip": v.clip(-1, 1), "astype": v.astype("int32"),
    }
    for k in want:
        np.testing.assert_allclose(got[k], want[k], err_msg=k)
    assert got["astype"].dtype == np.int32
