"""Symbolic builders for elementwise math: ``add``, ``exp``, ``switch``, ``cast`` ...

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  Each builder converts its
operands with the weak-scalar rule (:func:`aotsym.graph.convert.as_tensor_variables`), pads
lower-ndim operands with broadcastable leading dimensions (NumPy's alignment), and applies
one :class:`~aotsym.graph.ops.elemwise.Elemwise`.  These are the functions ``aotsym.tensor``
exports and the gradients in the scalar table are written with.
"""

from __future__ import annotations

from functools import reduce as _fold

import numpy as np

from aotsym.graph.basic import Variable
from aotsym.graph.convert import as_tensor_variable, as_tensor_variables
from aotsym.graph.ops.elemwise import DimShuffle, Elemwise
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.graph.types import check_dtype, dtype_kind, floatx

_ELEMWISE = {name: Elemwise(op) for name, op in SCALAR_OPS.items() if name != "cast"}


def as_var(x) -> Variable:
    return as_tensor_variable(x)


_PAD_OPS: dict = {}


def pad_ndim(x: Variable, ndim: int) -> Variable:
    """``x`` with broadcastable leading dimensions added up to ``ndim`` (NumPy alignment)."""
    if x.ndim >= ndim:
        return x
    key = (x.broadcastable, ndim)
    op = _PAD_OPS.get(key)
    if op is None:
        op = _PAD_OPS[key] = DimShuffle(x.broadcastable,
                                        ["x"] * (ndim - x.ndim) + list(range(x.ndim)))
    return op(x)


def elemwise(name: str, *args) -> Variable:
    """Apply the scalar op ``name`` with NumPy's alignment of dimensions.

    Theano's ``TrueDiv`` rule: integers divide to ``floatX``; the row divides them in
    float64 (NumPy's), so under floatX=float32 the quotient is cast, here, when the graph is
    built (the rows' type rules stay functions of the dtypes alone)."""
    vars_ = as_tensor_variables(args)
    ndim = max(v.ndim for v in vars_)
    out = _ELEMWISE[name](*[pad_ndim(v, ndim) for v in vars_])
    if name == "true_div" and out.dtype == "float64" and floatx() == "float32" and all(
            dtype_kind(v.dtype) in "biu" for v in vars_):
        return cast(out, "float32")
    return out


def _unary(name):
    def build(x):
        return elemwise(name, x)
    build.__name__ = name
    build.__doc__ = f"Elementwise ``{name}``."
    return build


def _binary(name):
    def build(x, y):
        return elemwise(name, x, y)
    build.__name__ = name
    build.__doc__ = f"Elementwise ``{name}`` with broadcasting."
    return build


for _name, _op in SCALAR_OPS.items():
    if _name in ("cast", "add", "mul"):
        continue
    globals()[_name] = (_unary if _op.nin == 1 else _binary)(_name) if _op.nin < 3 else None


def add(*terms) -> Variable:
    """Sum of any number of terms (a left fold of binary adds)."""
    return _fold(lambda a, b: elemwise("add", a, b), terms)


def mul(*factors) -> Variable:
    return _fold(lambda a, b: elemwise("mul", a, b), factors)


def switch(cond, a, b) -> Variable:
    """Elementwise ``a if cond else b``; both branches are computed (see ``aotsym.ifelse``)."""
    cond = as_tensor_variable(cond)
    if cond.dtype != "bool":
        cond = neq(cond, 0)  # noqa: F821 - defined by the table loop above
    return elemwise("switch", cond, a, b)


def clip(x, lo, hi) -> Variable:
    return elemwise("clip", x, lo, hi)


def cast(x, dtype) -> Variable:
    x = as_tensor_variable(x)
    dtype = check_dtype(dtype)
    if x.dtype == dtype:
        return x
    return Elemwise("cast", dtype=dtype)(x)


def fill(model, value) -> Variable:
    """``value`` broadcast to the shape of ``model`` (Theano's ``fill``/``second``)."""
    return elemwise("second", model, value)


def sub(x, y):
    return elemwise("sub", x, y)


def round_half_away_from_zero(x) -> Variable:
    """Round to the nearest integer, halves away from zero (C's ``round``): the integer part
    plus the sign where the exact fractional part ``x - trunc(x)`` is at least one half
    (``trunc(x) + 0.5`` could round up where ``x`` is just below a half).  NaN and inf stay."""
    x = as_tensor_variable(x)
    if dtype_kind(x.dtype) not in "fc":
        return round_half_to_even(x)  # noqa: F821 (integers: themselves)
    t = trunc(x)  # noqa: F821
    half = as_tensor_variable(np.asarray(0.5, dtype=x.dtype))
    return switch(ge(abs(x - t), half), t + sgn(x), t)  # noqa: F821 (t keeps -0.0)


def round(a, mode=None) -> Variable:  # noqa: A001
    """Theano 1.0's ``T.round(a, mode=None)``: ``mode`` 'half_to_even' (the default, as NumPy)
    or 'half_away_from_zero'."""
    if mode is None or mode == "half_to_even":
        return round_half_to_even(a)  # noqa: F821
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(a)
    raise ValueError(f"round: mode must be 'half_to_even' or 'half_away_from_zero', "
                     f"got {mode!r}")


# Theano / NumPy spellings of the same functions.
abs_ = abs  # noqa: F821
sgn = sgn  # noqa: F821,PLW0127
sign = sgn
inv = reciprocal  # noqa: F821
and_ = and_  # noqa: F821,PLW0127
bitwise_and, bitwise_or, bitwise_xor = and_, or_, xor  # noqa: F821
bitwise_not = invert  # noqa: F821
where = switch
second = fill
