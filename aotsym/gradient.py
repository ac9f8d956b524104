"""``aotsym.gradient``: checking symbolic gradients against finite differences.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  ``verify_grad`` is
Theano's: the (possibly non-scalar) output of ``fun`` is reduced to a scalar by a random
projection, its gradient from :func:`aotsym.grad` is compared with central finite differences,
and both are computed with the NumPy reference evaluator (the oracle), so a gradient rule is
checked independently of any backend.  ``aotsym.grad`` itself is re-exported here.
"""

from __future__ import annotations

import numpy as np

from aotsym.frontend.grad import grad  # noqa: F401  (Theano's aotsym.gradient.grad)
from aotsym.graph.basic import Variable
from aotsym.graph.evaluate import evaluate
from aotsym.graph.types import TensorType

# Central differences: truncation error ~eps**2, rounding error ~ulp/eps.
DEFAULT_EPS = {"float64": 1e-6, "float32": 1e-3}
DEFAULT_ABS_TOL = {"float64": 1e-4, "float32": 1e-2}
DEFAULT_REL_TOL = {"float64": 1e-4, "float32": 1e-2}


class GradientError(AssertionError):
    """The symbolic gradient and the finite-difference estimate disagree."""

    def __init__(self, arg, index, analytic, numeric, abs_err, rel_err, abs_tol, rel_tol):
        self.arg, self.index = arg, index
        self.analytic, self.numeric = analytic, numeric
        self.abs_err, self.rel_err = abs_err, rel_err
        super().__init__(
            f"verify_grad: the gradient with respect to input {arg} disagrees with finite "
            f"differences at index {index}: symbolic {analytic!r}, numeric {numeric!r} "
            f"(absolute error {abs_err:.3g} > {abs_tol:g} and relative error {rel_err:.3g} > "
            f"{rel_tol:g})")


def _float_dtype(dtypes):
    return "float32" if all(d == "float32" for d in dtypes) else "float64"


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, abs_tol=None, rel_tol=None,
                out_type=None, mode=None, cast_to_output_type=False):
    """Check ``aotsym.grad`` of ``fun`` at the point ``pt`` against finite differences.

    ``fun`` takes one symbolic variable per entry of ``pt`` (a list of arrays; all float) and
    returns one symbolic variable.  Each of ``n_tests`` rounds draws a random projection
    ``r`` (values in [0.5, 1.5)), and compares the gradient of ``sum(fun(*x) * r)`` with
    central differences of step ``eps``.  Raises :class:`GradientError` where an element's
    absolute *and* relative errors both exceed their tolerances.  ``mode``,
    ``out_type`` and ``cast_to_output_type`` are accepted for Theano compatibility.
    """
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.reduce import sum as tsum
    if not isinstance(pt, (list, tuple)):
        raise TypeError("verify_grad: pt must be a list of arrays, one per input of fun")
    # Python numbers and lists become float64; arrays keep their dtype (it must be float).
    pt = [np.array(p) if isinstance(p, (np.ndarray, np.generic)) else np.array(p, "float64")
          for p in pt]
    for i, p in enumerate(pt):
        if p.dtype.name not in ("float32", "float64"):
            raise TypeError(f"verify_grad: input {i} has dtype {p.dtype}; gradients are "
                            "checked for float32/float64 inputs")
    if rng is None:
        rng = np.random.default_rng(0)
    elif isinstance(rng, (int, np.integer)):
        rng = np.random.default_rng(int(rng))
    dtype = _float_dtype([p.dtype.name for p in pt])
    eps = DEFAULT_EPS[dtype] if eps is None else eps
    abs_tol = DEFAULT_ABS_TOL[dtype] if abs_tol is None else abs_tol
    rel_tol = DEFAULT_REL_TOL[dtype] if rel_tol is None else rel_tol

    inputs = [TensorType(p.dtype, (False,) * p.ndim)(f"verify_grad_input_{i}")
              for i, p in enumerate(pt)]
    out = fun(*inputs)
    if isinstance(out, (list, tuple)):
        raise TypeError("verify_grad: fun must return a single variable")
    out = as_tensor_variable(out)
    if not isinstance(out, Variable) or out.dtype not in ("float32", "float64"):
        raise TypeError(f"verify_grad: fun must return a float variable, got {out!r}")

    givens = dict(zip(inputs, pt))
    (out_value,) = evaluate([out], givens)
    projection = TensorType(out.dtype, (False,) * out.ndim)("verify_grad_projection")
    cost = tsum(m.mul(out, projection)) if out.ndim else m.mul(out, projection)
    grads = grad(cost, inputs, disconnected_inputs="ignore")

    # The finite differences of the output itself (a Jacobian, one column per input element)
    # serve every random projection.
    jacobians = []
    for i, p in enumerate(pt):
        columns = np.zeros(p.shape + out_value.shape, dtype="float64")
        for idx in np.ndindex(*p.shape):
            plus, minus = p.copy(), p.copy()
            plus[idx] += eps
            minus[idx] -= eps
            (f_plus,) = evaluate([out], {**givens, inputs[i]: plus})
            (f_minus,) = evaluate([out], {**givens, inputs[i]: minus})
            columns[idx] = (np.asarray(f_plus, "float64") - np.asarray(f_minus, "float64")) / (
                2 * eps)
        jacobians.append(columns)

    for _ in range(n_tests):
        proj = (rng.random(out_value.shape) + 0.5).astype(out.dtype)
        analytic = evaluate(grads, {**givens, projection: proj})
        for i, p in enumerate(pt):
            axes = tuple(range(p.ndim, p.ndim + out_value.ndim))
            numeric = np.sum(jacobians[i] * np.asarray(proj, "float64"), axis=axes)
            a = np.asarray(analytic[i], dtype="float64")
            if a.shape != p.shape:
                raise GradientError(i, (), f"shape {a.shape}", f"shape {p.shape}",
                                    np.inf, np.inf, abs_tol, rel_tol)
            abs_err = np.abs(a - numeric)
            rel_err = abs_err / np.maximum(np.abs(a) + np.abs(numeric), 1e-8)
            bad = ((abs_err > abs_tol) & (rel_err > rel_tol)) | ~np.isfinite(abs_err)
            if np.any(bad):
                idx = tuple(int(k) for k in np.argwhere(bad)[0])
                raise GradientError(i, idx, a[idx], numeric[idx], abs_err[idx], rel_err[idx],
                                    abs_tol, rel_tol)
