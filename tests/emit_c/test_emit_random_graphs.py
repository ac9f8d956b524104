"""Random graphs from the scalar table (elementwise chains with broadcasting, reductions,
transposes and slices), compiled and compared with the reference evaluator."""

import numpy as np
import pytest
from emit_helpers import Case, assert_matches, build

from aotsym import tensor as T
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.scalar import SCALAR_OPS

# rows safe on any finite input (no domain errors that would make the comparison all-NaN)
UNARY = ["neg", "abs", "sqr", "exp", "tanh", "sin", "cos", "arctan", "sigmoid", "softplus",
         "floor", "ceil", "sgn", "identity", "expm1", "log1p"]
BINARY = ["add", "sub", "mul", "true_div", "maximum", "minimum", "arctan2", "pow", "mod",
          "int_div", "lt", "ge", "eq"]
N_GRAPHS = 40


def random_graph(seed):
    rng = np.random.default_rng(seed)
    dtype = ["float64", "float32"][int(rng.integers(2))]
    x = T.tensor(dtype, (False, False), name="x")
    r = T.tensor(dtype, (True, False), name="r")
    c = T.tensor(dtype, (False, True), name="c")
    s = T.tensor(dtype, (), name="s")
    pool = [x, r, c, s]
    for _ in range(rng.integers(3, 12)):
        kind = rng.random()
        if kind < 0.45:
            op = SCALAR_OPS[UNARY[rng.integers(len(UNARY))]]
            a = pool[rng.integers(len(pool))]
            new = Elemwise(op)(a)
        elif kind < 0.85:
            op = SCALAR_OPS[BINARY[rng.integers(len(BINARY))]]
            a, b = pool[rng.integers(len(pool))], pool[rng.integers(len(pool))]
            new = T.elemwise(op.name, a, b)
        elif kind < 0.92:
            a = pool[rng.integers(len(pool))]
            new = a.T if a.ndim == 2 else a
        else:
            a = pool[rng.integers(len(pool))]
            new = a.sum(axis=int(rng.integers(2)), keepdims=True) if a.ndim == 2 else a
        if new.dtype == "bool":
            new = T.cast(new, dtype)
        if new.dtype in ("float32", "float64"):
            pool.append(new)
    outs = pool[-2:] + [pool[-1].sum()] if pool[-1].ndim else pool[-2:]
    return Case(f"g{seed}", [x, r, c, s], outs)


CASES = [random_graph(seed) for seed in range(N_GRAPHS)]


@pytest.fixture(scope="module")
def entries():
    return build(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_random_graph_matches_reference(entries, case):
    rng = np.random.default_rng(int(case.name[1:]))
    dt = case.inputs[0].dtype
    values = [rng.uniform(-2, 2, (5, 7)).astype(dt), rng.uniform(-2, 2, (1, 7)).astype(dt),
              rng.uniform(-2, 2, (5, 1)).astype(dt), np.asarray(rng.uniform(0.5, 2), dt)]
    strided = [values[0][::-1, ::-1], values[1][:, ::-1], values[2][::-1], values[3]]
    for vals in (values, strided):
        try:
            evaluate(case.outputs, dict(zip(case.inputs, vals)))
        except ValueError:  # shapes that do not fit (a transpose): both backends refuse
            with pytest.raises(ValueError, match="do not match"):
                entries[case.name](*vals)
            continue
        assert_matches(case, entries[case.name], vals, rtol=2e-4 if dt == "float32" else 1e-9,
                       atol=1e-6)
