"""Specialization: cheaper forms of the same computation.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Runs after stabilize
(so it never hides a pattern stabilize needs) and before BLAS and fusion.
"""

from __future__ import annotations

import math

import numpy as np

from aotsym.graph.ops import math as m
from aotsym.graph.ops.reduce import Reduce
from aotsym.graph.types import dtype_kind
from aotsym.optimizer.pattern import RuleSet, rule
from aotsym.optimizer.utils import const_like, is_elemwise, scalar_constant

MAX_SQUARING_EXPONENT = 64  # larger integer powers stay pow(): squaring loses accuracy


def power_by_squaring(x, n: int):
    """``x ** n`` for an integer ``n >= 1`` as sqr/mul (binary exponentiation).

    ``x ** 10`` is ``sqr(x) * sqr(sqr(sqr(x)))``: three squarings and one multiply.
    """
    result = None
    power = x
    while n:
        if n & 1:
            result = power if result is None else m.mul(result, power)
        n >>= 1
        if n:
            power = m.sqr(power)
    return result


@rule("pow_specialize", root="pow")
def pow_specialize(node):
    """Powers with a constant exponent become cheaper ops.

    before: x ** 2      after: sqr(x)
    before: x ** 0.5    after: sqrt(x)          (NumPy's own fast path: sqrt(-inf) is nan)
    before: x ** -0.5   after: switch(x == -inf, 0, 1 / sqrt(x + 0))   (real floats;
                               pow(-0, -0.5) is +inf, pow(-inf, -0.5) is +0, and
                               1 / sqrt(x) gave -inf and nan there; complex: 1 / sqrt(x))
    before: x ** -1     after: 1 / x
    before: x ** 10     after: sqr(x) * sqr(sqr(sqr(x)))   (integer exponents up to 64;
                                                            negative ones for floats)
    """
    base, e = node.inputs
    out = node.outputs[0]
    val = scalar_constant(e)
    if val is None or isinstance(val, complex) or not math.isfinite(val):
        return None
    kind = dtype_kind(out.dtype)
    if kind == "b":
        return None
    if base.dtype != out.dtype:
        base = m.cast(base, out.dtype)
    floating = kind in "fc"
    if val == 0.5 and floating:
        return m.sqrt(base)
    if val == -0.5 and floating:
        if kind == "c":
            return m.true_div(const_like(1, out), m.sqrt(base))
        rsqrt = m.true_div(const_like(1, out), m.sqrt(m.add(base, const_like(0, out))))
        return m.switch(m.eq(base, const_like(-math.inf, out)), const_like(0, out), rsqrt)
    if val != int(val):
        return None
    n = int(val)
    if n in (0, 1):
        return None  # pow_neutral (canonicalize)
    if abs(n) > MAX_SQUARING_EXPONENT or (n < 0 and not floating):
        return None
    positive = power_by_squaring(base, abs(n))
    return positive if n > 0 else m.true_div(const_like(1, out), positive)


@rule("div_by_constant", root="true_div")
def div_by_constant(node):
    """Division by a constant is multiplication by its reciprocal (floats only).

    before: x / 4       after: x * 0.25
    """
    num, den = node.inputs
    out = node.outputs[0]
    val = scalar_constant(den)
    if val is None or dtype_kind(out.dtype) != "f" or val == 0:
        return None
    if scalar_constant(num) is not None:
        return None  # constant folding's job
    with np.errstate(all="ignore"):
        recip = np.asarray(1, out.dtype) / np.asarray(val, out.dtype)
    if not np.isfinite(recip):
        return None
    if num.dtype != out.dtype:
        num = m.cast(num, out.dtype)
    return m.mul(num, const_like(recip.item(), out))


@rule("sum_of_product_to_dot", root=Reduce)
def sum_of_product_to_dot(node):
    """The sum of an elementwise product of two vectors is their dot product (BLAS).

    before: sum(x * y)          after: dot(x, y)       (x, y float vectors, same dtype)
    """
    op = node.op
    (p,) = node.inputs
    out = node.outputs[0]
    if op.kind != "sum" or p.ndim != 1 or op.axis != (0,) or not is_elemwise(p, "mul"):
        return None
    a, b = p.owner.inputs
    if a.broadcastable != (False,) or b.broadcastable != (False,):
        return None
    if not (a.dtype == b.dtype == p.dtype == out.dtype) or a.dtype not in ("float32",
                                                                          "float64"):
        return None
    from aotsym.graph.ops.blas import Dot
    return Dot()(a, b)


SPECIALIZE_RULES = RuleSet("specialize", [
    pow_specialize,
    div_by_constant,
    sum_of_product_to_dot,
])
