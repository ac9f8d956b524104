"""BLAS: ``dot`` and the scaling and accumulation around it become one Gemm / Gemv / Ger.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Runs after
specialize.  The rule ``gemm_from_sum`` reads a sum the way BLAS does: it expands the
expression into scaled terms ``sum_k alpha_k * t_k`` (distributing scalar factors over nested
sums, merging equal terms), finds a ``dot`` term and a term ``Z`` of the dot's type, and
builds::

    Z * beta + alpha * dot(A, B)  ->  Gemm(Z, alpha, A, B, beta)    (matrix . matrix)
                                      Gemv(Z, alpha, A, b, beta)    (matrix . vector;
                                                                     vector . matrix via A.T)
                                      Ger(Z, alpha, x, y)           (column . row, beta 1)

So the seed's update ``w - 0.01 * (dot(x.T, d) + 0.02 * w)`` is
``Gemv(w, -0.01, x.T, d, 0.9998)``, made in place on ``w`` by the inplace pass.  Scales are
0-d: constants or scalar variables (a learning rate).  float32/float64 only; a ``dot`` whose
operands have other dtypes is left to the emitter's generic product.

No answer changes, NaN and infinities included (BLAS reads neither operand when alpha is 0,
nor the accumulated input when beta is 0; NumPy's ``0 * v`` is NaN where ``v`` is NaN or
infinite): a term whose scale is the number 0 (``0 * dot(A, x)``, ``y * 0``, ``d - d``)
becomes neither alpha nor beta and stays elementwise; a beta that is a run-time value (which
may be 0) is not passed to BLAS — ``z * beta`` is computed elementwise and accumulated with
beta 1::

    y * b + a * dot(A, x)  ->  Gemv(y * b, a, A, x, 1)      (b a scalar variable)

A run-time alpha stays BLAS's alpha: the emitted call runs a plain loop when it is 0
(:mod:`aotsym.emit_c.blas`).
"""

from __future__ import annotations

import numpy as np

from aotsym.graph.basic import Constant
from aotsym.graph.ops import math as m
from aotsym.graph.ops.blas import Dot
from aotsym.graph.ops.elemwise import DimShuffle, Elemwise
from aotsym.graph.ops.gemm import BLAS_DTYPES, Gemm, Gemv, Ger
from aotsym.graph.types import TensorType
from aotsym.optimizer.algebra import Product, Sum, same_dtype_elemwise
from aotsym.optimizer.pattern import RuleSet, rule
from aotsym.optimizer.utils import scalar_constant

MAX_TERMS = 16


class Scale:
    """A scalar coefficient: a Python number times a product of 0-d variables."""

    def __init__(self, const=1.0, factors=(), divisors=()):
        self.const = const
        self.factors = tuple(factors)
        self.divisors = tuple(divisors)

    def times(self, other: "Scale") -> "Scale":
        return Scale(self.const * other.const, self.factors + other.factors,
                     self.divisors + other.divisors)

    def key(self):
        return (self.factors, self.divisors)

    def variable(self, dtype):
        """The scale as a 0-d variable of ``dtype``."""
        parts = list(self.factors)
        if self.const != 1 or not parts:
            parts.insert(0, Constant(TensorType(dtype, ()), np.asarray(self.const, dtype=dtype)))
        v = parts[0]
        for f in parts[1:]:
            v = m.mul(v, f)
        for d in self.divisors:
            v = m.true_div(v, d)
        return v

    def applied(self, v, dtype):
        """``v`` times the scale, elementwise (factors multiplied, divisors divided)."""
        if self.const != 1 or not (self.factors or self.divisors):
            v = m.mul(v, Constant(TensorType(dtype, (True,) * v.ndim),
                                  np.full((1,) * v.ndim, self.const, dtype=dtype)))
        for f in self.factors:
            v = m.mul(v, m.pad_ndim(f, v.ndim))
        for d in self.divisors:
            v = m.true_div(v, m.pad_ndim(d, v.ndim))
        return v


def _as_scalar(v):
    """The 0-d variable behind an all-broadcastable ``v`` (undoing padding), else None."""
    if not all(v.broadcastable):
        return None
    while v.owner is not None and isinstance(v.owner.op, DimShuffle) and v.ndim > 0:
        v = v.owner.inputs[0]
    if v.ndim == 0:
        return v
    return DimShuffle(v.broadcastable, [])(v)


def scaled_terms(root, dtype):
    """``[(Scale, term, origin)]`` with ``root == sum(scale * term)``; None if not
    expressible.  ``origin`` is the BLAS node a term was read out of (or None)."""
    out: list = []
    stack = [(Scale(), root, None)]
    while stack:
        scale, v, origin = stack.pop()
        if len(out) + len(stack) > MAX_TERMS:
            return None
        if same_dtype_elemwise(v, Sum.NAMES, dtype):
            s = Sum(v)
            for sign, t in reversed(s.terms):
                stack.append((scale.times(Scale(float(sign))), t, None))
            if s.const != 0 or s.models:
                return None  # a constant term has no buffer to accumulate into
            continue
        blas = _blas_parts(v, dtype)
        if blas is not None:
            for sc, t in reversed(blas):
                stack.append((scale.times(sc), t, v))
            continue
        if same_dtype_elemwise(v, Product.NAMES, dtype):
            p = Product.of(v)
            scalars = [_as_scalar(f) for f in p.num]
            big = [f for f, sc in zip(p.num, scalars) if sc is None]
            den = [_as_scalar(f) for f in p.den]
            if len(big) == 1 and all(d is not None for d in den) and not p.models:
                factors = [sc for sc in scalars if sc is not None]
                stack.append((scale.times(Scale(p.coeff, factors, den)), big[0], origin))
                continue
        out.append((scale, v, origin))
    return out


_BLAS_OPS = (Dot, Gemm, Gemv, Ger)
_THROUGH = frozenset(Sum.NAMES + Product.NAMES + ("second",))


def _reaches_blas(node, limit=4 * MAX_TERMS) -> bool:
    """Whether a Dot, Gemm, Gemv or Ger computes one of the variables the sums and products
    under ``node`` are made of: a superset of the terms :func:`scaled_terms` can find (every
    dtype, any depth), so False means ``gemm_from_sum`` cannot fire; True also when the search
    stops at ``limit`` nodes.  Most nodes it is tried on hold no product at all, and this test
    is a fraction of the cost of expanding their terms."""
    stack = list(node.inputs)
    seen = 0
    while stack:
        p = stack.pop().owner
        if p is None:
            continue
        op = p.op
        if isinstance(op, _BLAS_OPS):
            return True
        if type(op) is Elemwise and op.scalar_op.name in _THROUGH:
            seen += 1
            if seen > limit:
                return True
            stack.extend(p.inputs)
    return False


def _scale_of(v) -> Scale:
    val = scalar_constant(v)
    return Scale(val) if val is not None else Scale(1.0, [v])


def _blas_parts(v, dtype):
    """A (non-inplace) Gemm/Gemv/Ger of ``dtype`` as its two scaled terms, else None."""
    node = v.owner
    if node is None or v.dtype != dtype or getattr(node.op, "inplace", True):
        return None
    op = node.op
    if isinstance(op, (Gemm, Gemv)):
        z, alpha, a, b, beta = node.inputs
        parts = [(_scale_of(alpha), Dot()(a, b))]
        if scalar_constant(beta) != 0:  # beta 0: z is not read
            parts.append((_scale_of(beta), z))
        return parts
    if isinstance(op, Ger):
        z, alpha, x, y = node.inputs
        col = DimShuffle(x.broadcastable, (0, "x"))(x)
        row = DimShuffle(y.broadcastable, ("x", 0))(y)
        return [(_scale_of(alpha), Dot()(col, row)), (Scale(), z)]
    return None


def _merge(terms):
    """Add the scales of equal terms (same variable, same symbolic factors)."""
    merged: list = []
    for scale, t, origin in terms:
        for k, (s2, t2, o2) in enumerate(merged):
            if t2 is t and s2.key() == scale.key():
                merged[k] = (Scale(s2.const + scale.const, s2.factors, s2.divisors), t, "merged")
                break
        else:
            merged.append((scale, t, origin))
    return merged


def _blas_call(dot_var, z, alpha, beta, beta_is_one):
    a, b = dot_var.owner.inputs
    if a.ndim == 2 and b.ndim == 2:
        if a.broadcastable[1] and b.broadcastable[0] and beta_is_one and \
                a.owner is not None and isinstance(a.owner.op, DimShuffle) and \
                a.owner.op.new_order == (0, "x") and b.owner is not None and \
                isinstance(b.owner.op, DimShuffle) and b.owner.op.new_order == ("x", 0):
            return Ger()(z, alpha, a.owner.inputs[0], b.owner.inputs[0])
        return Gemm()(z, alpha, a, b, beta)
    if a.ndim == 2 and b.ndim == 1:
        return Gemv()(z, alpha, a, b, beta)
    if a.ndim == 1 and b.ndim == 2:
        return Gemv()(z, alpha, DimShuffle(b.broadcastable, (1, 0))(b), a, beta)
    return None


@rule("gemm_from_sum", root=("add", "sub", "mul", "neg"))
def gemm_from_sum(node, ctx=None):
    """``Z * beta + alpha * dot(A, B) + rest -> Gemm/Gemv/Ger(Z, alpha, A, B, beta) + rest``.

    A ``dot`` that other nodes read too is left alone (absorbing it would compute the
    product twice).

    before: w - 0.01 * (dot(x.T, d) + 0.02 * w)
    after:  Gemv(w, -0.01, x.T, d, 0.9998)
    """
    out = node.outputs[0]
    dtype = out.dtype
    if dtype not in BLAS_DTYPES or not _reaches_blas(node):
        return None
    terms = scaled_terms(out, dtype)
    if terms is None:
        return None
    terms = _merge(terms)
    dots = [k for k, (s, t, o) in enumerate(terms)
            if t.owner is not None and isinstance(t.owner.op, Dot) and t.type == out.type
            and all(i.dtype == dtype for i in t.owner.inputs) and not _literal_zero(s)
            and (ctx is None or ctx.n_readers(t if o is None else o) <= 1)]
    zs = [k for k, (s, t, _) in enumerate(terms)
          if t.type == out.type and k not in dots and not _literal_zero(s)]
    if not dots or not zs:
        return None
    kd, kz = dots[0], zs[0]
    (sa, d, od), (sb, z, oz) = terms[kd], terms[kz]
    if od is not None and od is oz:
        return None  # the same call again: nothing new to absorb
    if sb.factors or sb.divisors:
        # a run-time beta may be 0, and BLAS would then not read z (nor would the op):
        # scale z elementwise (0 * NaN stays NaN) and accumulate it with beta 1
        z, sb = sb.applied(z, dtype), Scale()
    beta_is_one = not sb.factors and not sb.divisors and sb.const == 1
    call = _blas_call(d, z, sa.variable(dtype), sb.variable(dtype), beta_is_one)
    if call is None:
        return None
    acc = call
    for k, (s, t, _) in enumerate(terms):
        if k in (kd, kz):
            continue
        if s.factors or s.divisors or s.const != 1:
            t = m.mul(t, _pad(s.variable(dtype), t.ndim))
        acc = m.add(acc, t)
    return acc


def _pad(scalar, ndim):
    return m.pad_ndim(scalar, ndim)


def _literal_zero(scale) -> bool:
    """A scale that is the number 0: as BLAS's alpha it skips reading the product's
    operands, as its beta the accumulated term, where the graph's ``0 * v`` is NaN wherever
    ``v`` is NaN or infinite (such a term stays an elementwise product)."""
    return not scale.factors and not scale.divisors and scale.const == 0


@rule("dot_to_gemv", root=Dot)
def dot_to_gemv(node):
    """A matrix-vector product is a Gemv with ``beta = 0`` (its accumulated input, a fresh
    buffer of the right length, is not read; the inplace pass writes into it).

    before: dot(x, w)                after: Gemv(Alloc(0, x.shape[0]), 1, x, w, 0)
    before: dot(v, a)                after: Gemv(Alloc(0, a.shape[1]), 1, a.T, v, 0)
    """
    a, b = node.inputs
    out = node.outputs[0]
    dtype = out.dtype
    if dtype not in BLAS_DTYPES or a.dtype != dtype or b.dtype != dtype:
        return None
    from aotsym.graph.ops.alloc import Alloc
    from aotsym.graph.ops.shape import shape_i
    if a.ndim == 2 and b.ndim == 1:
        mat, vec, rows = a, b, shape_i(a, 0)
    elif a.ndim == 1 and b.ndim == 2:
        mat, vec, rows = DimShuffle(b.broadcastable, (1, 0))(b), a, shape_i(b, 1)
    else:
        return None
    zero = Constant(TensorType(dtype, ()), np.zeros((), dtype))
    z = Alloc()(zero, rows)
    if z.type != out.type:
        return None
    return Gemv()(z, Constant(TensorType(dtype, ()), np.ones((), dtype)), mat, vec, zero)


BLAS_RULES = RuleSet("blas", [gemm_from_sum, dot_to_gemv])
