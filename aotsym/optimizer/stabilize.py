"""Stabilization: numerically safe forms of expressions that overflow or lose precision.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  Runs after
canonicalize, with the canonical rules kept on (its patterns are written for canonical
forms: constants last, ``a - b`` kept as ``sub``).  Every rule here is exact in real
arithmetic; it changes results only where the naive form overflows, underflows or cancels.

The logistic sigmoid is the centre of it: ``1 + exp(t)`` is ``1 / sigmoid(-t)`` wherever it
stands in a product, ``1 - sigmoid(t)`` is ``sigmoid(-t)``, and ``exp(t) * sigmoid(-t)`` is
``sigmoid(t)``.  Written that way, the gradient of a naive ``1 / (1 + exp(-z))`` cross-entropy
reduces (with :func:`distribute_to_cancel`) to sums of products of sigmoids, finite for any
logit — as the forward cost is, through ``log(sigmoid(z)) -> -softplus(-z)``.
"""

from __future__ import annotations

from aotsym.graph.ops import math as m
from aotsym.graph.ops.elemwise import DimShuffle
from aotsym.graph.ops.reduce import Reduce
from aotsym.optimizer.algebra import (Product, Sum, any_value, product_root_ok,
                                      same_dtype_elemwise, surely_finite_nonzero)
from aotsym.optimizer.pattern import P, Rule, RuleSet, rule
from aotsym.optimizer.utils import const_like, is_elemwise, scalar_constant

x, y = P.var("x"), P.var("y")


def _real(v):
    return v.dtype in ("float32", "float64")


def stable_factor(v) -> bool:
    """Whether the stabilizing rules may cancel ``v / v``: a finite nonzero constant, or an
    exp, sigmoid or softmax, a sum of one or a DimShuffle of one: positive and finite for
    finite inputs, 0 or inf only where it
    underflows or overflows (the naive ``v / v`` is then nan; making that finite is what
    stabilizing is for).  Any other variable may be 0, inf or nan for ordinary inputs
    (NumPy's ``v / v`` is nan there), so it stays unless ``fast_math``.

    before: (a / s - b / t) * s * t    (s = sigmoid(z), t = sigmoid(-z))   after: a*t - b*s
    before: (c - y / e) * e            (e a plain variable)                after: unchanged
    """
    from aotsym.graph.ops.nnet import Softmax
    if surely_finite_nonzero(v):
        return True
    for _ in range(8):
        if is_elemwise(v, "sigmoid") or is_elemwise(v, "exp") or (
                v.owner is not None and type(v.owner.op) is Softmax):
            return True
        node = v.owner
        if node is None or not (isinstance(node.op, DimShuffle) or (
                isinstance(node.op, Reduce) and node.op.kind == "sum")):
            return False
        v = node.inputs[0]
    return False


def _may_cancel(ctx):
    return any_value if getattr(ctx, "fast_math", False) else stable_factor


def negation(a, b) -> bool:
    """Whether ``a == -b`` structurally (one is ``neg`` of the other)."""
    return (is_elemwise(a, "neg") and a.owner.inputs[0] is b) or \
        (is_elemwise(b, "neg") and b.owner.inputs[0] is a)


def neg(v):
    """``-v`` without a double negation."""
    return v.owner.inputs[0] if is_elemwise(v, "neg") else m.neg(v)


# ---------------------------------------------------------------------------- pattern rules

PATTERN_RULES = [
    Rule("log1p_from_log", P.log(P.add(1, x)), lambda x: m.log1p(x) if _real(x) else None,
         doc="log(1 + x) -> log1p(x)"),
    Rule("log1p_from_log_sub", P.log(P.sub(1, x)),
         lambda x: m.log1p(neg(x)) if _real(x) else None,
         doc="log(1 - x) -> log1p(-x)"),
    Rule("expm1_from_exp", P.sub(P.exp(x), 1), lambda x: m.expm1(x) if _real(x) else None,
         doc="exp(x) - 1 -> expm1(x)"),
    Rule("one_minus_sigmoid", P.sub(1, P.sigmoid(x)), lambda x: m.sigmoid(neg(x)),
         doc="1 - sigmoid(x) -> sigmoid(-x)"),
    Rule("sigmoid_from_exp", P.true_div(1, P.add(1, P.exp(x))),
         lambda x: m.sigmoid(neg(x)) if _real(x) else None,
         doc="1 / (1 + exp(x)) -> sigmoid(-x)   (so 1 / (1 + exp(-x)) -> sigmoid(x))"),
    Rule("log_sigmoid", P.log(P.sigmoid(x)), lambda x: m.neg(m.softplus(neg(x))),
         doc="log(sigmoid(x)) -> -softplus(-x)   (so log(1 - sigmoid(x)) -> -softplus(x))"),
    Rule("softplus_from_log1p_exp", P.log1p(P.exp(x)), lambda x: m.softplus(x),
         doc="log1p(exp(x)) -> softplus(x)   (so log(1 + exp(x)) -> softplus(x))"),
    Rule("log1p_neg_sigmoid", P.log1p(P.neg(P.sigmoid(x))),
         lambda x: m.neg(m.softplus(x)),
         doc="log1p(-sigmoid(x)) -> -softplus(x)"),
]


# ---------------------------------------------------------------------------- products


def _sigmoid_denominator(v):
    """``t`` when ``v`` is ``1 + exp(t)`` (a real float), else None."""
    if not (is_elemwise(v, "add") and _real(v)):
        return None
    a, b = v.owner.inputs
    for one, e in ((a, b), (b, a)):
        if scalar_constant(one) == 1 and is_elemwise(e, "exp") and e.type == v.type:
            return e.owner.inputs[0]
    return None


@rule("sigmoid_in_product", root=("mul", "true_div", "reciprocal", "neg"))
def sigmoid_in_product(node, ctx=None):
    """Sigmoid identities inside a product (any place of numerator or denominator).

    before: a / (1 + exp(-z))            after: a * sigmoid(z)
    before: a * (1 + exp(t))             after: a / sigmoid(-t)
    before: exp(t) * sigmoid(-t) * a     after: sigmoid(t) * a
    before: exp(t) / (1 + exp(t))        after: sigmoid(t)
    """
    if not product_root_ok(node) or not _real(node.outputs[0]):
        return None
    p = Product.of(node.outputs[0])
    changed = False
    for side, other in ((p.num, p.den), (p.den, p.num)):
        for k, v in enumerate(side):
            t = _sigmoid_denominator(v)
            if t is not None:
                del side[k]
                other.append(m.sigmoid(neg(t)))
                changed = True
                break
    # exp(t) * sigmoid(-t) -> sigmoid(t)
    for k, e in enumerate(p.num):
        if not is_elemwise(e, "exp"):
            continue
        t = e.owner.inputs[0]
        for j, s in enumerate(p.num):
            if is_elemwise(s, "sigmoid") and negation(s.owner.inputs[0], t):
                p.num[k] = m.sigmoid(t)
                del p.num[j]
                changed = True
                break
        if changed:
            break
    if not changed:
        return None
    p.cancel(_may_cancel(ctx))
    return p.build()


@rule("cancel_stable_factors", root=("mul", "true_div", "reciprocal", "neg"))
def cancel_stable_factors(node, ctx=None):
    """``v / v`` cancels in a product where ``v`` is a :func:`stable_factor` (canonicalize
    cancels only finite nonzero constants).

    before: (y * exp(x)) / exp(x)        after: y
    before: (y * w) / w                  after: unchanged (w may be 0, inf or nan)
    """
    if not product_root_ok(node) or not _real(node.outputs[0]):
        return None
    p = Product.of(node.outputs[0])
    if not p.cancel(_may_cancel(ctx)):
        return None
    return p.build()


@rule("distribute_to_cancel", root=("mul", "true_div", "neg"))
def distribute_to_cancel(node, ctx=None):
    """Multiply a sum (of at most ``MAX_DISTRIBUTED_TERMS`` terms) into a product when that
    cancels a factor against a denominator.

    before: (a / s - b / t) * s * t      after: a * t - b * s
    before: (c - y / e) * e              after: c * e - y    (only where e may cancel:
                                                              :func:`stable_factor`)

    The gradient of a naive logistic cross-entropy has this form with ``s = sigmoid(z)``,
    ``t = sigmoid(-z)``: distributed, nothing divides by an underflowed sigmoid.
    """
    if not product_root_ok(node):
        return None
    out = node.outputs[0]
    p = Product.of(out)
    for k, s in enumerate(p.num):
        if not same_dtype_elemwise(s, Sum.NAMES, out.dtype):
            continue
        rest = p.num[:k] + p.num[k + 1:]
        total = Sum(s)
        if total.n_const or not total.terms:
            continue
        if len(total.terms) > MAX_DISTRIBUTED_TERMS:
            continue
        parts = []
        cancels = False
        for sign, term in total.terms:
            tp = Product.of(term) if same_dtype_elemwise(term, Product.NAMES, out.dtype) \
                else Product(term, num=[term])
            merged = Product(out, coeff=tp.coeff * p.coeff * sign, num=rest + tp.num,
                             den=p.den + tp.den, models=p.models + tp.models + total.models)
            cancels |= merged.cancel(_may_cancel(ctx))
            parts.append(merged.build())
        if cancels:
            acc = parts[0]
            for v in parts[1:]:
                acc = m.add(acc, v)
            return acc
    return None


MAX_DISTRIBUTED_TERMS = 4


# ---------------------------------------------------------------------------- reductions


def _is_max_shift(v):
    """``v`` is ``x - f(max(x))`` (the already-stable form; ``f`` being broadcasting and the
    guard against infinite maxima, in whatever form earlier rules left them)."""
    if not is_elemwise(v, "sub"):
        return False
    a, b = v.owner.inputs
    stack, seen = [b], 0
    while stack and seen < 12:
        u = stack.pop()
        seen += 1
        node = u.owner
        if node is None:
            continue
        if isinstance(node.op, Reduce) and node.op.kind == "max" and node.inputs[0] is a:
            return True
        if isinstance(node.op, DimShuffle) or is_elemwise(u):
            stack.extend(node.inputs)
    return False


@rule("logsumexp", root="log")
def logsumexp(node):
    """``log(sum(exp(x)))`` computed as ``m + log(sum(exp(x - m)))``, ``m = max(x)``.

    before: log(sum(exp(x), axis))
    after:  m + log(sum(exp(x - expand(m)), axis)),  m = max(x, axis) (0 where m is inf)
    """
    (s,) = node.inputs
    if s.owner is None or not isinstance(s.owner.op, Reduce) or s.owner.op.kind != "sum":
        return None
    e = s.owner.inputs[0]
    if not is_elemwise(e, "exp") or not _real(e) or e.dtype != s.dtype:
        return None
    xv = e.owner.inputs[0]
    if _is_max_shift(xv):
        return None
    from aotsym.graph.ops.reduce import expand_reduced
    axis = s.owner.op.axis
    mx = Reduce("max", axis)(xv)
    mx = m.switch(m.isinf(mx), const_like(0, mx), mx)
    shifted = m.sub(xv, expand_reduced(mx, xv.ndim, axis))
    return m.add(mx, m.log(Reduce("sum", axis, s.owner.op.dtype)(m.exp(shifted))))


# ---------------------------------------------------------------------------- softmax


def _expanded_sum_of(v):
    """``(e, axis)`` when ``v`` is ``sum(e, axis)`` with the reduced axes put back as
    broadcastable dimensions (``keepdims``), else None."""
    if v.owner is None or not isinstance(v.owner.op, DimShuffle):
        return None
    s = v.owner.inputs[0]
    if s.owner is None or not isinstance(s.owner.op, Reduce) or s.owner.op.kind != "sum":
        return None
    e = s.owner.inputs[0]
    axis = s.owner.op.axis
    from aotsym.graph.ops.reduce import expand_reduced
    if expand_reduced(s, e.ndim, axis) is not v or s.dtype != e.dtype:
        return None
    return e, axis


def _softmax_axis(axis, ndim):
    if len(axis) == ndim:
        return None if ndim > 1 else 0
    if len(axis) == 1:
        return axis[0]
    return False


def _softmax_input(e):
    """The ``x`` of ``exp(x)``, with a subtracted max (``x - max(x)``) taken off."""
    t = e.owner.inputs[0]
    if _is_max_shift(t):
        return t.owner.inputs[0]
    return t


@rule("softmax_in_product", root=("mul", "true_div"))
def softmax_in_product(node, ctx=None):
    """``exp(x) / sum(exp(x), axis)`` is ``Softmax(x)`` wherever it stands in a product (the
    gradient of a naive softmax has it too, the other way up).

    before: exp(x) / expand(sum(exp(x), axis=1))              after: Softmax{axis=1}(x)
    before: exp(x - max(x)) / expand(sum(exp(x - max(x))))    after: Softmax(x)
    before: a * expand(sum(exp(x))) / exp(x)                  after: a / Softmax(x)
    """
    if not product_root_ok(node) or not _real(node.outputs[0]):
        return None
    p = Product.of(node.outputs[0])
    if not p.den:   # (an import per try cost as much as the rest, on a plain product)
        return None
    from aotsym.graph.ops.nnet import Softmax
    for top, bottom in ((p.num, p.den), (p.den, p.num)):
        for k, e in enumerate(top):
            if not is_elemwise(e, "exp"):
                continue
            for j, d in enumerate(bottom):
                found = _expanded_sum_of(d)
                if found is None or found[0] is not e:
                    continue
                ax = _softmax_axis(found[1], e.ndim)
                if ax is False:
                    continue
                top[k] = Softmax(ax)(_softmax_input(e))
                del bottom[j]
                p.cancel(_may_cancel(ctx))
                return p.build()
    return None


@rule("log_softmax", root="log")
def log_softmax(node):
    """``log(Softmax(x)) -> LogSoftmax(x)`` (no log of an underflowed zero).

    before: log(Softmax{axis=1}(x))       after: LogSoftmax{axis=1}(x)
    """
    from aotsym.graph.ops.nnet import LogSoftmax, Softmax
    (v,) = node.inputs
    if v.owner is None or type(v.owner.op) is not Softmax:
        return None
    return LogSoftmax(v.owner.op.axis)(v.owner.inputs[0])


STABILIZE_RULES = RuleSet("stabilize", [
    *PATTERN_RULES,
    sigmoid_in_product,
    cancel_stable_factors,
    distribute_to_cancel,
    softmax_in_product,
    log_softmax,
    logsumexp,
])
