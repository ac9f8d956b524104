"""The BLAS rule never changes an answer through a zero scale (aotsym.optimizer.blas).

BLAS reads neither operand when alpha is 0, nor the accumulated input when beta is 0; the
user's ``0 * v`` is NaN wherever ``v`` is NaN or infinite.  A literal-zero scale stays
elementwise, a run-time beta is applied elementwise (beta 1 for BLAS), a run-time alpha is
BLAS's alpha with a plain loop behind it when it is 0 (aotsym.emit_c.blas).  Compiled
(FAST_RUN and DEBUG_MODE) against the reference evaluator on the user's graph, with NaN, inf
and -0 in the operands, float32 and float64."""

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.graph.basic import Constant, toposort
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.gemm import Gemm, Gemv, Ger
from aotsym.optimizer.testing import rewrite

STAGES = ["canonicalize", "stabilize", "specialize", "blas"]


def _blas_nodes(outputs):
    outs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [n for n in toposort(outs) if isinstance(n.op, (Gemm, Gemv, Ger))]


def _scale_is_zero(v):
    return isinstance(v, Constant) and float(v.data) == 0


def _no_skipping_blas_call(outputs):
    """No Gemm/Gemv/Ger of the optimized graph skips a read the graph makes: alpha is never
    the literal 0, and beta is the literal 0 only over a fresh Alloc (nothing to read)."""
    for node in _blas_nodes(outputs):
        assert not _scale_is_zero(node.inputs[1]), node
        if not isinstance(node.op, Ger):
            beta = node.inputs[4]
            assert isinstance(beta, Constant), f"run-time beta given to BLAS: {node}"
            if _scale_is_zero(beta):
                assert type(node.inputs[0].owner.op).__name__ == "Alloc", node


def _graphs(dtype):
    A, B, Z = (T.matrix(n, dtype=dtype) for n in ("A", "B", "Z"))
    x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
    al, be = T.scalar("al", dtype=dtype), T.scalar("be", dtype=dtype)
    inputs = [A, B, Z, x, y, al, be]
    outputs = {
        "gemv alpha literal 0": 0 * T.dot(A, x) + y,
        "gemv beta literal 0": y * 0 + T.dot(A, x),
        "gemv dot - dot": y + T.dot(A, x) - T.dot(A, x),
        "gemv run-time scales": al * T.dot(A, x) + be * y,
        "gemv run-time beta divisor": y / be - T.dot(A, x),
        "gemv vector.matrix": be * x + al * T.dot(y, A),
        "gemm alpha literal 0": Z + 0 * T.dot(A, B),
        "gemm beta literal 0": 0 * Z - 2 * T.dot(A, B),
        "gemm run-time scales": al * T.dot(A, B) - be * Z,
        "ger run-time alpha": Z + al * T.outer(y, x[:4]),
        "ger alpha literal 0": Z + 0 * T.outer(y, x[:4]),
    }
    return inputs, outputs


def _values(dtype, rng, hostile, al, be):
    shapes = {"A": (3, 4), "B": (4, 4), "Z": (3, 4), "x": (4,), "y": (3,)}
    vals = {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}
    if hostile != "none":
        flat = vals[hostile].reshape(-1)
        flat[0], flat[-1] = np.nan, np.inf
        if flat.size > 2:
            flat[1] = -0.0
    return [vals["A"], vals["B"], vals["Z"], vals["x"], vals["y"], np.array(al, dtype),
            np.array(be, dtype)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_no_blas_call_skips_a_read_the_graph_makes(dtype):
    _, outputs = _graphs(dtype)
    for name, out in outputs.items():
        after = rewrite(out, STAGES)
        _no_skipping_blas_call(after)
    # the ordinary cases still become BLAS calls
    assert _blas_nodes(rewrite(outputs["gemv run-time scales"], STAGES))
    assert _blas_nodes(rewrite(outputs["gemm run-time scales"], STAGES))
    assert _blas_nodes(rewrite(outputs["ger run-time alpha"], STAGES))


@pytest.fixture(scope="module", params=["float64", "float32"])
def compiled(request):
    dtype = request.param
    inputs, outputs = _graphs(dtype)
    names = list(outputs)
    f = aotsym.function(inputs, [outputs[n] for n in names], on_unused_input="ignore")
    return dtype, inputs, names, [outputs[n] for n in names], f


@pytest.mark.parametrize("hostile", ["A", "B", "Z", "x", "y", "none"])
@pytest.mark.parametrize("al, be", [(0.0, 0.0), (-0.0, 1.0), (0.0, 0.5), (1.5, 0.0),
                                    (1.5, -0.0), (0.5, 2.0)])
def test_compiled_equals_the_reference_on_hostile_inputs(compiled, hostile, al, be):
    dtype, inputs, names, outs, f = compiled
    rng = np.random.default_rng(len(hostile) * 7 + int(al * 10) + int(be * 100))
    vals = _values(dtype, rng, hostile, al, be)
    with np.errstate(all="ignore"):
        want = evaluate(outs, dict(zip(inputs, vals)))
    got = f(*vals)
    rtol = 1e-4 if dtype == "float32" else 1e-10
    for name, g, w in zip(names, got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol, equal_nan=True,
                                   err_msg=f"{name} (al={al}, be={be}, {hostile} hostile)")


@pytest.mark.filterwarnings("ignore:DEBUG_MODE")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_debug_mode_checks_the_rule_with_zero_scales():
    x, y, A = T.vector("x"), T.vector("y"), T.matrix("A")
    al, be = T.scalar("al"), T.scalar("be")
    for out in (0 * T.dot(A, x) + y, y * 0 + T.dot(A, x), al * T.dot(A, x) + be * y):
        f = aotsym.function([A, x, y, al, be], out, mode="DEBUG_MODE",
                            on_unused_input="ignore")
        Av = np.ones((2, 3))
        Av[0, 0] = np.inf
        xv, yv = np.array([1.0, np.nan, 2.0]), np.array([np.nan, 3.0])
        with np.errstate(all="ignore"):
            want = evaluate([out], {A: Av, x: xv, y: yv, al: np.array(0.0),
                                    be: np.array(0.0)})[0]
        np.testing.assert_allclose(f(Av, xv, yv, 0.0, 0.0), want, equal_nan=True)
