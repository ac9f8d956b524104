"""Helpers the rewrite sets share: type fitting, constants, printing.

Part of the optimizer (frontend -> graph -> **optimizer** -> emitters).
"""

from __future__ import annotations

import math

import numpy as np

from aotsym.graph.basic import Constant, Variable
from aotsym.graph.ops import math as m
from aotsym.graph.ops.elemwise import Elemwise
from aotsym.graph.types import TensorType
from aotsym.optimizer.pattern import constant_value


def is_elemwise(v: Variable, name: str | None = None) -> bool:
    """Whether ``v`` is computed by a (non-inplace) Elemwise, of scalar op ``name`` if given."""
    node = v.owner
    return (node is not None and type(node.op) is Elemwise and not node.op.inplace
            and (name is None or node.op.scalar_op.name == name))


def fit_type(old: Variable, new: Variable, node=None):
    """``new`` cast and broadcast to ``old``'s type, or None when that is impossible.

    Broadcasting uses the inputs of ``node`` as shape models (``second``), so ``x + 0 -> x``
    keeps the output's shape when ``x`` is a row and ``0`` a matrix.
    """
    if new.type == old.type:
        return new
    if new.ndim != old.ndim:
        return None
    v = new
    if v.dtype != old.dtype:
        v = m.cast(v, old.dtype)
    if v.broadcastable == old.broadcastable:
        return v
    if any(ob and not vb for ob, vb in zip(old.broadcastable, v.broadcastable)):
        return None
    if node is None:
        return None
    for model in node.inputs:
        if model.ndim != old.ndim:
            continue
        if any(vb and not mb and not ob for vb, mb, ob in
               zip(v.broadcastable, model.broadcastable, old.broadcastable)):
            v = m.second(model, v)
            if v.broadcastable == old.broadcastable:
                return v
    return None


def const_like(value, like: Variable) -> Variable:
    """A constant ``value`` of ``like``'s dtype and ndim, every dimension broadcastable.

    This is the form constant folding gives a padded scalar (``DimShuffle{x,x}(1)``), so a
    rule that rebuilds an unchanged expression rebuilds the very same node.  Remembered per
    (value, dtype, ndim) (:func:`value_key`): the canonicalizer asks for the same few
    constants on every node, and a constant is interned, so this is the object it would get.
    """
    key = value_key(value)
    if key is not None:
        key = (key, like.dtype, like.ndim)
        found = _CONST_LIKE.get(key)
        if found is not None:
            return found
    with np.errstate(all="ignore"):
        data = np.full((1,) * like.ndim, value, dtype=like.dtype)
    c = Constant(TensorType(like.dtype, (True,) * like.ndim), data)
    if key is not None:
        if len(_CONST_LIKE) >= MEMO_SIZE:
            _CONST_LIKE.clear()
        _CONST_LIKE[key] = c
    return c


MEMO_SIZE = 4096  # entries a scalar memo keeps before it starts again
_CONST_LIKE: dict = {}


def value_key(value):
    """A dict key that tells apart every Python int, bool and float value (``0.0`` from
    ``-0.0``, ``1`` from ``1.0`` and ``True``), for memos of functions of a scalar; None for
    NaN and other types (not remembered)."""
    t = type(value)
    if t is float:
        if value != value:
            return None
        return (t, value, math.copysign(1.0, value))
    if t is int or t is bool:
        return (t, value)
    return None


def scalar_constant(v: Variable):
    """The value of a constant whose every dimension is broadcastable and whose elements are
    all equal (seen through DimShuffles), else None."""
    if not all(v.broadcastable):
        return None
    return constant_value(v)


def fill_like(like: Variable, value) -> Variable:
    """``value`` with exactly ``like``'s type (shape taken from ``like`` at run time)."""
    c = const_like(value, like)
    if c.broadcastable == like.broadcastable:
        return c
    return m.second(like, c)


# ---------------------------------------------------------------------------- printing


def format_graph(outputs, max_lines=40) -> str:
    """A compact debugprint of ``outputs`` for error messages (shared nodes shown once)."""
    lines: list[str] = []
    names: dict = {}
    stack = [(v, 0) for v in reversed(list(outputs))]
    while stack and len(lines) < max_lines:
        v, depth = stack.pop()
        pad = " |" * depth
        if v.owner is None:
            label = repr(v) if not isinstance(v, Constant) or v.data.size <= 4 else \
                f"Constant{{{v.type}}}"
            lines.append(f"{pad}{label} [{v.type}]")
            continue
        if v in names:
            lines.append(f"{pad}{names[v]} (shown above)")
            continue
        names[v] = f"@{len(names)}"
        out = f".{v.index}" if len(v.owner.outputs) > 1 else ""
        lines.append(f"{pad}{v.owner.op}{out} {names[v]} [{v.type}]")
        for inp in reversed(v.owner.inputs):
            stack.append((inp, depth + 1))
    if stack:
        lines.append(" ...")
    return "\n".join(lines)

