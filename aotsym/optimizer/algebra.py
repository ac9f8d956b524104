"""Flattened sums and products: the algebra the canonicalizer, the stabilizer and the BLAS
pass share.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).  A :class:`Sum` is a
tree of add/sub/neg of one dtype seen as signed terms and a constant; a :class:`Product` a
tree of mul/true_div/reciprocal/neg as a coefficient, numerator and denominator factors.  A
``fill`` inside either only carries a shape: it is unwrapped into a shape *model* that the
rebuild restores where the result would otherwise be too broadcastable.  Both rebuild in one
canonical order (left folds, terms in order of appearance, constants last), and can tell
without building whether the rebuild would be the very node they came from.

Cancellation keeps NumPy's answers for every input: ``x - x`` is 0 only where ``x`` is
provably finite (``inf - inf`` and ``nan - nan`` are nan), ``x / x`` is 1 only where ``x`` is
provably finite and nonzero (:func:`surely_finite`, :func:`surely_finite_nonzero`).  Under
``fast_math`` (:mod:`aotsym.config`) both cancel for any ``x``.
"""

from __future__ import annotations

import weakref

import numpy as np

from aotsym.graph.basic import Constant, apply
from aotsym.graph.ops import math as m
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.types import dtype_kind
from aotsym.optimizer.utils import MEMO_SIZE, const_like, is_elemwise, scalar_constant, value_key


_OPS = {name: Elemwise(name) for name in ("add", "sub", "mul", "true_div", "neg")}


def _op2(name, a, b):
    """``a <name> b`` for operands of equal ndim, straight to the interning table (the
    builders' conversions and padding are not needed here, and this is the hot path)."""
    return apply(_OPS[name], (a, b)).outputs[0]


def _op1(name, a):
    return apply(_OPS[name], (a,)).outputs[0]


def same_dtype_elemwise(v, names, dtype) -> bool:
    """``v`` is an Elemwise in ``names`` whose inputs and output all have ``dtype``."""
    node = v.owner
    return (node is not None and type(node.op) is Elemwise and not node.op.inplace
            and node.op.scalar_op.name in names and v.dtype == dtype
            and all(i.dtype == dtype for i in node.inputs))


def _unfill(v, dtype):
    """``(model, value)`` when ``v`` is ``fill(model, value)`` of ``dtype``: inside a sum or
    a product the fill only carries a shape, which the rebuild restores where needed."""
    if v.dtype == dtype and is_elemwise(v, "second"):
        return tuple(v.owner.inputs)
    return None


def surely_finite(v) -> bool:
    """Whether every value ``v`` can take is finite, so ``v - v`` is exactly 0: an integer or
    bool (wrapping arithmetic is exact), a constant of finite values, or a cast of a narrow
    enough integer to a float (no integer overflows float32; int16 and wider overflow
    float16)."""
    kind = dtype_kind(v.dtype)
    if kind in "biu":
        return True
    if isinstance(v, Constant):
        with np.errstate(all="ignore"):
            return bool(np.all(np.isfinite(v.data)))
    if is_elemwise(v, "cast") and kind == "f":
        src = v.owner.inputs[0].dtype
        return dtype_kind(src) in "biu" and (
            v.dtype != "float16" or np.dtype(src).itemsize == 1)
    return False


def surely_finite_nonzero(v) -> bool:
    """Whether every value of ``v`` is finite and nonzero, so ``v / v`` is exactly 1: only a
    constant is known to be."""
    if not isinstance(v, Constant):
        return False
    with np.errstate(all="ignore"):
        return bool(np.all(np.isfinite(v.data)) and np.all(v.data != 0))


def any_value(v) -> bool:
    """The cancellation test of ``fast_math``: every value is assumed finite and nonzero."""
    return True


MAX_FLATTEN = 16  # nested nodes one flattening looks through: keeps long chains linear
_PRODUCTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class Sum:
    """A flattened sum: signed terms in order of appearance, a constant, shape models.

    At most ``MAX_FLATTEN`` nested nodes are opened; deeper ones stay terms, so a chain of
    n additions costs O(n) to canonicalize, not O(n^2).  A term and its negation cancel
    where ``may_cancel(term)`` (default :func:`surely_finite`).
    """

    NAMES = ("add", "sub", "neg")

    def __init__(self, root, may_cancel=surely_finite):
        self.root = root
        self.may_cancel = may_cancel
        dtype = root.dtype
        self.terms: list = []     # (sign, var)
        self.const = 0
        self.n_const = 0
        self.models: list = []    # fill models whose shape a collected constant carried
        budget = MAX_FLATTEN
        stack = [(1, root)]
        while stack:
            sign, v = stack.pop()
            if v is not root:
                filled = _unfill(v, dtype)
                if filled is not None:
                    self.models.append(filled[0])
                    stack.append((sign, filled[1]))
                    continue
                val = scalar_constant(v)
                if val is not None:
                    self.const = self.const + sign * val if self.n_const else sign * val
                    self.n_const += 1
                    continue
                if budget <= 0 or not same_dtype_elemwise(v, self.NAMES, dtype):
                    self.add_term(sign, v)
                    continue
                budget -= 1
            node = v.owner
            name = node.op.scalar_op.name
            if name == "add":
                stack.extend([(sign, node.inputs[1]), (sign, node.inputs[0])])
            elif name == "sub":
                stack.extend([(-sign, node.inputs[1]), (sign, node.inputs[0])])
            else:
                stack.append((-sign, node.inputs[0]))

    def add_term(self, sign, v):
        for k, (s2, v2) in enumerate(self.terms):
            if v2 is v and s2 == -sign and self.may_cancel(v):
                del self.terms[k]
                return
        self.terms.append((sign, v))

    def plan(self, like=None):
        """The sum as a left fold of add/sub in the terms' order (the first positive term
        moved to the front), the constant last (subtracted when negative): ``(first,
        [(op, operand)...])``.  Rebuilding a built sum gives the same nodes, also when
        flattening stopped at ``MAX_FLATTEN``."""
        out = like if like is not None else self.root
        const = as_dtype(self.const, out.dtype)
        terms = list(self.terms)
        # a float +0.0 collected is kept: -0.0 + 0.0 is +0.0, so x + 0.0 is not x at -0.0
        # (an added -0.0 is neutral, and x - 0.0 collects -0.0)
        if const != 0 or not terms or (self.n_const and np.asarray(const).dtype.kind == "f"
                                        and not np.signbit(const)):
            if _is_real(const) and const < 0 and terms:
                terms.append((-1, const_like(-const, out)))
            else:
                terms.append((1, const_like(const, out)))
        first = next((k for k, (s, _) in enumerate(terms) if s > 0), None)
        if first:
            terms.insert(0, terms.pop(first))
        sign, start = terms[0]
        steps = [("add" if s == sign else "sub", v) for s, v in terms[1:]]
        if sign < 0:  # only negative terms: -(a + b + ...)
            steps.append(("neg", None))
        return start, steps

    def build(self, like=None):
        out = like if like is not None else self.root
        return with_models(build_plan(self.plan(like)), out, self.models)

    def unchanged(self) -> bool:
        """Whether :meth:`build` would give the root itself (checked without building)."""
        return not self.models and plan_matches(self.root, self.plan())


def build_plan(plan):
    acc, steps = plan
    for name, v in steps:
        acc = _op1(name, acc) if v is None else _op2(name, acc, v)
    return acc


def plan_matches(v, plan) -> bool:
    """Whether ``v`` is the left fold ``plan`` describes (no node is built)."""
    start, steps = plan
    for name, operand in reversed(steps):
        node = v.owner
        if node is None or type(node.op) is not Elemwise or node.op.inplace or \
                node.op.scalar_op.name != name or (operand is not None and
                                                   node.inputs[1] is not operand):
            return False
        v = node.inputs[0]
    return v is start


def with_models(v, like, models):
    """``v`` broadcast (``fill``) over the shape models it lost, to ``like``'s pattern."""
    for model in models:
        if v.broadcastable == like.broadcastable:
            break
        if model.ndim == v.ndim and any(vb and not mb for vb, mb in
                                        zip(v.broadcastable, model.broadcastable)):
            v = m.second(model, v)
    return v


def _is_real(value):
    return not isinstance(value, complex)


def as_dtype(value, dtype):
    """``value`` converted to ``dtype`` (NumPy's wrapping and rounding) as a Python scalar;
    remembered per (value, dtype): a sum or product of every node asks it."""
    key = value_key(value)
    if key is not None:
        key = (key, dtype)
        found = _AS_DTYPE.get(key)
        if found is not None:
            return found[0]
    with np.errstate(all="ignore"):
        got = np.asarray(value).astype(dtype).item()
    if key is not None:
        if len(_AS_DTYPE) >= MEMO_SIZE:
            _AS_DTYPE.clear()
        _AS_DTYPE[key] = (got,)
    return got


_AS_DTYPE: dict = {}


class Product:
    """A flattened product: coefficient, numerator and denominator factors, shape models."""

    NAMES = ("mul", "true_div", "reciprocal", "neg")

    def __init__(self, root, coeff=1, num=None, den=None, models=None):
        self.root = root
        self.coeff = coeff
        self.num: list = list(num or [])
        self.den: list = list(den or [])
        self.models: list = list(models or [])
        self.n_const = 0

    @classmethod
    def of(cls, root) -> "Product":
        """The flattened product rooted at ``root`` (memoized per variable: several rules
        look at every product, and nodes never change)."""
        cached = _PRODUCTS.get(root)
        if cached is None:
            cached = _PRODUCTS[root] = cls._flatten(root)
        coeff, num, den, models, n_const = cached
        self = cls(root, coeff, num, den, models)
        self.n_const = n_const
        return self

    @classmethod
    def _flatten(cls, root):
        self = cls(root)
        dtype = root.dtype
        budget = MAX_FLATTEN
        stack = [(False, root)]
        while stack:
            inverted, v = stack.pop()
            if v is not root:
                filled = _unfill(v, dtype)
                if filled is not None:
                    self.models.append(filled[0])
                    stack.append((inverted, filled[1]))
                    continue
                val = scalar_constant(v)
                if val is not None and not (inverted and val == 0):
                    self.coeff = self.coeff / val if inverted else self.coeff * val
                    self.n_const += 1
                    continue
                if val is not None:  # x / 0 stays a division (inf or nan at run time)
                    self.den.append(v)
                    continue
                if budget <= 0 or not same_dtype_elemwise(v, cls.NAMES, dtype):
                    (self.den if inverted else self.num).append(v)
                    continue
                budget -= 1
            node = v.owner
            name = node.op.scalar_op.name
            if name == "mul":
                stack.extend([(inverted, node.inputs[1]), (inverted, node.inputs[0])])
            elif name == "true_div":
                stack.extend([(not inverted, node.inputs[1]), (inverted, node.inputs[0])])
            elif name == "reciprocal":
                stack.append((not inverted, node.inputs[0]))
            else:
                self.coeff = -self.coeff
                stack.append((inverted, node.inputs[0]))
        return (self.coeff, tuple(self.num), tuple(self.den), tuple(self.models),
                self.n_const)

    def cancel(self, may_cancel=surely_finite_nonzero) -> bool:
        """Remove factors present in both numerator and denominator where
        ``may_cancel(factor)`` (default: the factor is a finite nonzero constant, the only
        case where ``v / v`` is 1 for every value); True if any were."""
        cancelled = False
        for v in list(self.den):
            if not may_cancel(v):
                continue
            for k, u in enumerate(self.num):
                if u is v:
                    del self.num[k]
                    self.den.remove(v)
                    cancelled = True
                    break
        return cancelled

    def plans(self, like=None):
        """``(numerator plan, denominator plan or None)``: ``num... * coeff / (den...)``
        as left folds; ``-x`` for a coefficient of -1, ``c / (den...)`` without numerator
        factors."""
        out = like if like is not None else self.root
        coeff = as_dtype(self.coeff, out.dtype)
        if self.num:
            steps = [("mul", v) for v in self.num[1:]]
            if coeff == -1:
                steps.append(("neg", None))
            elif coeff != 1:
                steps.append(("mul", const_like(coeff, out)))
            numer = (self.num[0], steps)
        else:
            numer = (const_like(coeff, out), [])
        denom = (self.den[0], [("mul", v) for v in self.den[1:]]) if self.den else None
        return numer, denom

    def build(self, like=None):
        out = like if like is not None else self.root
        numer, denom = self.plans(like)
        acc = build_plan(numer)
        if denom is not None:
            acc = _op2("true_div", acc, build_plan(denom))
        return with_models(acc, out, self.models)

    def unchanged(self) -> bool:
        """Whether :meth:`build` would give the root itself (checked without building)."""
        if self.models:
            return False
        numer, denom = self.plans()
        if denom is None:
            return plan_matches(self.root, numer)
        node = self.root.owner
        return (node.op.scalar_op.name == "true_div" and not node.op.inplace
                and plan_matches(node.inputs[0], numer) and plan_matches(node.inputs[1], denom))


def product_root_ok(node) -> bool:
    """Whether ``node`` (a mul/true_div/reciprocal/neg) can be flattened as a Product."""
    out = node.outputs[0]
    name = node.op.scalar_op.name
    kind = dtype_kind(out.dtype)
    if kind == "b" or not all(i.dtype == out.dtype for i in node.inputs):
        return False
    if kind not in "fc" and name in ("true_div", "reciprocal"):
        return False
    if name == "neg" and not same_dtype_elemwise(node.inputs[0], Product.NAMES, out.dtype):
        return False
    return True
