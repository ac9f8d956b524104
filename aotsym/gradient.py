"""``aotsym.gradient``: Jacobians, Hessians, the L- and R-operators, and checking symbolic
gradients against finite differences.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  ``verify_grad`` is
Theano's: the (possibly non-scalar) output of ``fun`` is reduced to a scalar by a random
projection, its gradient from :func:`aotsym.grad` is compared with central finite differences,
and both are computed with the NumPy reference evaluator (the oracle), so a gradient rule is
checked independently of any backend.  ``aotsym.grad`` itself is re-exported here.

``jacobian`` / ``hessian`` / ``Lop`` / ``Rop`` have Theano's signatures.  A full Jacobian is
one reverse pass vectorized over the rows of an identity seed
(:mod:`aotsym.frontend.vectorize`), not a scan of ``n`` gradients; ``Rop`` is the double
L-operator trick, so it needs no forward rules beyond the reverse ones.

The gradient stops ``zero_grad`` / ``consider_constant`` / ``disconnected_grad`` are
identities in the forward graph (:class:`GradientStop`, inlined away by the optimizer's first
stage) whose gradient is zeros or disconnected, as Theano defines them; ``grad_clip`` and
``grad_scale`` are the same kind of identity whose gradient is the incoming one clipped to
bounds or multiplied by a constant (Lasagne's recurrent layers clip with ``grad_clip``).
"""

from __future__ import annotations

import numpy as np

from aotsym.frontend.grad import grad  # noqa: F401  (Theano's aotsym.gradient.grad)
from aotsym.frontend.grad import DisconnectedInputError, NullTypeGradError  # noqa: F401
from aotsym.frontend.grad import (DisconnectedType, NullGradient,  # noqa: F401
                                  grad_not_implemented, grad_undefined)
from aotsym.graph.basic import Variable
from aotsym.graph.evaluate import evaluate
from aotsym.graph.ops.opfromgraph import OpFromGraph
from aotsym.graph.types import TensorType

class RopError(TypeError, ValueError):
    """``Rop`` refused its arguments: an eval point of the wrong ndim, an integer output
    (Theano raises ValueError; a TypeError too, the cause being a type)."""


class RopUndefinedError(NullTypeGradError, ValueError):
    """``Rop`` through an op with no derivative (Theano: a ValueError)."""


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

    # (Theano's as_tensor_variable(pt): a length-1 dimension is broadcastable)
    inputs = [TensorType(p.dtype, tuple(n == 1 for n in p.shape))(f"verify_grad_input_{i}")
              for i, p in enumerate(pt)]
    out = fun(*inputs)
    if isinstance(out, (list, tuple)):
        raise TypeError("verify_grad: fun must return a single variable")
    out = as_tensor_variable(out)
    if not isinstance(out, Variable) or out.dtype not in ("float32", "float64"):
        raise TypeError(f"verify_grad: fun must return a float variable, got {out!r}")

    projection = TensorType(out.dtype, (False,) * out.ndim)("verify_grad_projection")
    cost = tsum(m.mul(out, projection)) if out.ndim else m.mul(out, projection)
    grads = grad(cost, inputs, disconnected_inputs="ignore")
    # the shared variables fun reads take their values (Theano's verify_grad compiles them)
    from aotsym.graph.basic import graph_inputs
    givens = {v: v.get_value(borrow=True) for v in graph_inputs([out] + list(grads))
              if v.owner is None and getattr(type(v), "get_value", None) is not None}
    givens.update(zip(inputs, pt))
    (out_value,) = evaluate([out], givens)

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


# Theano's spelling: ``except theano.gradient.verify_grad.E_grad as e``
verify_grad.E_grad = GradientError


# ---------------------------------------------------------------------------- Jacobians


def _as_list(x):
    return (list(x), False) if isinstance(x, (list, tuple)) else ([x], True)


def _format_as(like, results):
    """``results`` (a list) shaped as ``like`` was given: one value, a tuple or a list
    (Theano's ``format_as``: ``jacobian(y, (x,))`` is a tuple)."""
    if isinstance(like, tuple):
        return tuple(results)
    if isinstance(like, list):
        return list(results)
    return results[0]


def _identity(n, dtype):
    """The ``n`` x ``n`` identity (``n`` symbolic) from ``arange`` and a comparison."""
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.alloc import arange
    i = arange(n)
    return m.cast(m.eq(i.dimshuffle(0, "x"), i.dimshuffle("x", 0)), dtype)


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Jacobian of ``expression`` with respect to ``wrt`` (a variable or a list):
    ``J[i..., j...] = d expression[i...] / d wrt[j...]``, of shape ``expression.shape +
    wrt.shape`` (Theano's ``theano.gradient.jacobian``; a scalar expression gives its
    gradient).

    Computed in one batched reverse pass: the gradient of ``sum(expression * u)`` is built
    once for a symbolic seed ``u``, then vectorized (:mod:`aotsym.frontend.vectorize`) over
    the rows of the identity, so the forward values are computed once and every row of the
    Jacobian comes out of the same backward graph — not a loop of ``n`` gradients.
    """
    from aotsym.frontend.vectorize import batched, vectorize
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops.reshape import flatten, reshape
    from aotsym.graph.ops.shape import shape_i
    expression = as_tensor_variable(expression)
    wrt_list, _ = _as_list(wrt)
    if expression.ndim == 0:
        gs = grad(expression, wrt_list, consider_constant=consider_constant,
                  disconnected_inputs=disconnected_inputs)
        return _format_as(wrt, gs)
    flat = expression if expression.ndim == 1 else flatten(expression, 1)
    seed = TensorType(flat.dtype, (False,))("jacobian_seed")
    gs = grad(None, wrt_list, consider_constant=consider_constant,
              disconnected_inputs=disconnected_inputs, known_grads={flat: seed})
    n = shape_i(flat, 0)
    rows = vectorize(gs, {seed: _identity(n, flat.dtype)}, batch_size=n)
    result = []
    for (g, is_batched), w in zip(rows, wrt_list):
        j = batched(g, is_batched, n)
        if expression.ndim != 1:
            shape = ([shape_i(expression, d) for d in range(expression.ndim)]
                     + [shape_i(w, d) for d in range(w.ndim)])
            j = reshape(j, shape)
        result.append(j)
    return _format_as(wrt, result)


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The Hessian of the scalar ``cost`` with respect to each of ``wrt`` (a variable or a
    list; Theano's ``theano.gradient.hessian``): the Jacobian of its gradient, of shape
    ``w.shape + w.shape``, one batched pass each (:func:`jacobian`)."""
    from aotsym.graph.convert import as_tensor_variable
    cost = as_tensor_variable(cost)
    if cost.ndim != 0:
        raise TypeError(f"hessian: the cost must be a scalar, got {cost.type.describe()}")
    wrt_list, _ = _as_list(wrt)
    result = []
    for w in wrt_list:
        g = grad(cost, w, consider_constant=consider_constant,
                 disconnected_inputs=disconnected_inputs)
        result.append(jacobian(g, w, consider_constant=consider_constant,
                               disconnected_inputs="ignore"))
    return _format_as(wrt, result)


def Lop(f, wrt, eval_points, consider_constant=None,  # noqa: N802 (Theano's name)
        disconnected_inputs="raise"):
    """The L-operator (Theano's): ``eval_points`` times the Jacobian of ``f`` with respect
    to ``wrt``, i.e. the gradient with ``eval_points`` as the output gradients of ``f``.
    ``f`` and ``eval_points``: a variable each or equal-length lists; the result follows
    ``wrt`` (a variable or a list)."""
    from aotsym.graph.convert import as_tensor_variable
    fs, _ = _as_list(f)
    vs, _ = _as_list(eval_points)
    if len(fs) != len(vs):
        raise ValueError(f"Lop: {len(vs)} eval_points for {len(fs)} outputs f")
    known = {}
    for k, (out, v) in enumerate(zip(fs, vs)):
        out, v = as_tensor_variable(out), as_tensor_variable(v)
        if v.ndim != out.ndim:
            raise TypeError(f"Lop: eval_points[{k}] is {v.type.describe()} for an output f of "
                            f"ndim {out.ndim}; they must have the same shape")
        known[out] = v
    wrt_list, _ = _as_list(wrt)
    gs = grad(None, wrt_list, consider_constant=consider_constant,
              disconnected_inputs=disconnected_inputs, known_grads=known)
    return _format_as(wrt, gs)


def Rop(f, wrt, eval_points, disconnected_outputs="raise",  # noqa: N802 (Theano's name)
        return_disconnected="zero"):
    """The R-operator (Theano's): the Jacobian of ``f`` with respect to ``wrt`` times
    ``eval_points`` (one per ``wrt``, same shapes) — a directional derivative, of ``f``'s
    shape.  Built by the double-L-operator trick: ``g(u) = Lop(f, wrt, u)`` is linear in
    a dummy ``u``, and ``Rop = d(sum_j g_j(u) . v_j) / du``; the result does not depend on
    ``u``'s value.  ``disconnected_outputs``: 'raise' (default), 'warn' or 'ignore' when an
    output does not depend on ``wrt``; its result is then zeros (``return_disconnected=
    'zero'``) or None."""
    import warnings

    from aotsym.graph.basic import ancestors, clone_replace
    from aotsym.graph.convert import as_tensor_variable
    from aotsym.graph.ops import math as m
    from aotsym.graph.ops.reduce import sum as tsum
    fs, _ = _as_list(f)
    fs = [as_tensor_variable(out) for out in fs]
    wrt_list, _ = _as_list(wrt)
    vs, _ = _as_list(eval_points)
    if len(vs) != len(wrt_list):
        raise ValueError(f"Rop: {len(vs)} eval_points for {len(wrt_list)} variables in wrt")
    vs = [as_tensor_variable(v) for v in vs]
    for k, (w, v) in enumerate(zip(wrt_list, vs)):
        if v.ndim != w.ndim:
            raise RopError(f"Rop: eval_points[{k}] is {v.type.describe()} for wrt[{k}], "
                           f"{w.type.describe()}; they must have the same shape")
    wanted = {id(w) for w in wrt_list}
    connected = [any(id(a) in wanted for a in ancestors([out])) for out in fs]
    for out, ok in zip(fs, connected):
        if not ok and disconnected_outputs != "ignore":
            msg = f"Rop: the output {out!r} does not depend on any variable in wrt"
            if disconnected_outputs == "raise":
                raise ValueError(msg + "; pass disconnected_outputs='ignore' to get zeros")
            warnings.warn(msg, stacklevel=2)
    for out in fs:
        if np.dtype(out.dtype).kind not in "fc":
            raise RopError(f"Rop: the output {out!r} is {out.type.describe()}; it has no "
                           "derivative (the outputs must be float)")
    us = [out.type(f"rop_u{k}") for k, out in enumerate(fs)]
    try:
        gs = grad(None, wrt_list, disconnected_inputs="ignore",
                  known_grads={out: u for out, u, ok in zip(fs, us, connected) if ok})
        inner = m.add(*[tsum(m.mul(g, v)) if g.ndim else m.mul(g, v) for g, v in zip(gs, vs)])
        if np.dtype(inner.dtype).kind not in "fc":
            raise RopError("Rop: the outputs must be float")
        results = grad(inner, us, disconnected_inputs="ignore")
    except NullTypeGradError as exc:
        raise RopUndefinedError(f"Rop: {exc}") from exc
    results = clone_replace(results, dict(zip(us, fs)))   # (u's value plays no part)
    out = [r if ok or return_disconnected == "zero" else None
           for r, ok in zip(results, connected)]
    return _format_as(f, out)


def subgraph_grad(wrt, end, start=None, cost=None, details=False):
    """Theano's ``subgraph_grad``: the gradients of a sub-graph, for backpropagating one
    piece at a time.  ``wrt`` and ``end``: lists of variables; ``start``: ``{variable:
    gradient}`` flowing in from above (known gradients), and/or ``cost``: a scalar.
    Returns ``(wrt_grads, end_grads)``: the gradients with respect to ``wrt`` not flowing
    through ``end`` (the ends are held constant), and those with respect to ``end``, to pass
    as the next call's ``start``.  ``details=True`` adds the gradients from ``start`` alone
    and from ``cost`` alone (None where not given), each over ``wrt + end``."""
    if cost is None and start is None:
        raise TypeError("subgraph_grad: give start (known gradients), cost, or both")
    if not isinstance(wrt, list) or not isinstance(end, list):
        raise TypeError("subgraph_grad: wrt and end must be lists of variables")
    if start is not None and not isinstance(start, dict):
        raise TypeError("subgraph_grad: start must be a dict {variable: gradient}")

    def grads_from(cost_, known):
        local = grad(cost_, list(wrt), consider_constant=end, known_grads=known,
                     disconnected_inputs="ignore")
        ends = grad(cost_, list(end), known_grads=known, disconnected_inputs="ignore")
        return list(local) + list(ends)

    start_grads = grads_from(None, start) if start is not None else None
    cost_grads = grads_from(cost, None) if cost is not None else None
    if start_grads is None:
        grads = cost_grads
    elif cost_grads is None:
        grads = start_grads
    else:
        grads = [a + b for a, b in zip(start_grads, cost_grads)]
    n = len(wrt)
    if details:
        return grads[:n], grads[n:], start_grads, cost_grads
    return grads[:n], grads[n:]


# ---------------------------------------------------------------------------- gradient stops


class GradientStop(OpFromGraph):
    """An identity whose gradient is zeros (kind ``"zero"``, ``"constant"``) or disconnected
    (``"disconnected"``): Theano's ``ZeroGrad`` / ``ConsiderConstant`` / ``DisconnectedGrad``;
    or the incoming gradient clipped to ``params = (lower, upper)`` (kind ``"clip"``,
    Theano's ``GradClip``) or times ``params = (multiplier,)`` (kind ``"scale"``,
    Theano's ``GradScale``).

    An ``OpFromGraph`` whose body is its input, so the optimizer's first stage (``inline``,
    every mode) removes it as it inlines any ``OpFromGraph``::

        before: mul(ZeroGrad(x), 2)          after: mul(x, 2)

    Only the gradient walk (:func:`aotsym.grad`), which runs before compilation, sees it.
    """

    def __init__(self, x, kind, params=()):
        super().__init__([x], [x], name=_STOP_NAMES[kind])
        self.kind = kind
        self.params = tuple(params)

    def __eq__(self, other):
        return (OpFromGraph.__eq__(self, other) and self.kind == other.kind
                and self.params == getattr(other, "params", ()))

    def __hash__(self):
        return hash((OpFromGraph.__hash__(self), self.kind, self.params))

    def grad(self, node, inputs, output_grads):
        from aotsym.graph.ops import math as m
        if self.kind == "disconnected":
            return [None]
        if self.kind == "clip":
            return [m.clip(output_grads[0], *self.params)]
        if self.kind == "scale":
            return [output_grads[0] * self.params[0]]
        from aotsym.graph.ops.alloc import zeros_like
        return [zeros_like(inputs[0])]


_STOP_NAMES = {"zero": "ZeroGrad", "constant": "ConsiderConstant",
               "disconnected": "DisconnectedGrad", "clip": "GradClip", "scale": "GradScale"}


def _stop(x, kind, params=()):
    from aotsym.graph.convert import as_tensor_variable
    x = as_tensor_variable(x)
    placeholder = x.type("x")
    return GradientStop(placeholder, kind, params)(x)


def _python_number(value, what):
    if isinstance(value, Variable):
        raise TypeError(f"{what} must be a Python number (Theano's rule), got a symbolic "
                        f"{value.type.describe()}")
    return float(value)


def grad_clip(x, lower_bound, upper_bound):
    """``x`` in the forward graph; the gradient flowing back through it is clipped to
    ``[lower_bound, upper_bound]`` (Theano's ``theano.gradient.grad_clip``)."""
    lower = _python_number(lower_bound, "grad_clip: lower_bound")
    upper = _python_number(upper_bound, "grad_clip: upper_bound")
    if lower > upper:
        raise ValueError(f"grad_clip: lower_bound {lower} is above upper_bound {upper}")
    return _stop(x, "clip", (lower, upper))


def grad_scale(x, multiplier):
    """``x`` in the forward graph; the gradient flowing back through it is multiplied by
    ``multiplier`` (Theano's ``theano.gradient.grad_scale``)."""
    return _stop(x, "scale", (_python_number(multiplier, "grad_scale: multiplier"),))


def zero_grad(x):
    """``x`` in the forward graph; its gradient is zeros (Theano's ``zero_grad``): the cost
    stays connected to what ``x`` depends on, and no gradient flows through ``x``."""
    return _stop(x, "zero")


def consider_constant(x):
    """``x`` in the forward graph, treated as a constant by :func:`aotsym.grad` (Theano 1.0's
    ``consider_constant``: its gradient is zeros, like :func:`zero_grad`)."""
    return _stop(x, "constant")


def disconnected_grad(x):
    """``x`` in the forward graph; for :func:`aotsym.grad` the cost does not depend on what
    ``x`` is made of through ``x`` (Theano's ``disconnected_grad``): a variable reached only
    through it is disconnected (``grad`` raises unless ``disconnected_inputs`` says
    otherwise)."""
    return _stop(x, "disconnected")
