"""The scalar op table: every elementwise operation is one row.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  A row says, once, everything
each layer needs about one scalar function:

``name``      the op's name (``Elemwise{name}`` in printed graphs)
``nin``       number of inputs
``numpy``     the reference implementation on arrays already converted to the compute dtype
``dtypes``    type rule ``(input dtypes) -> (compute dtypes per input, output dtype)``
``c``         C expression; ``{0}`` ``{1}`` ``{2}`` are the inputs (already in their compute
              dtype), ``{f}`` is libm's float suffix (``f`` for float32, empty for float64),
              ``{T}`` the output's C type.  A dict keys the expression by the compute dtype's
              kind (``b`` ``i`` ``u`` ``f`` ``c``) with ``*`` as the fallback.  It must
              compute what ``numpy`` does, corners included (NaN, signed zeros, ``lo > hi``);
              the emitters use it as written, with no exceptions of their own.
``cuda``      the same for CUDA device code (``None``: same as ``c``)
``grad``      ``grad(m, inputs, output, gz) -> [gradient per input or None]`` where ``m`` is
              :mod:`aotsym.graph.ops.math` (the symbolic builders); ``None`` marks an input
              with no gradient (integer, or piecewise constant)
``commutative`` / ``associative``   facts the canonicalizer uses

Adding an elementwise op is adding a row; a test checks every row has a C and CUDA entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from aotsym.graph.types import dtype_kind, upcast, upgrade_to_float


# ---------------------------------------------------------------------------- type rules


def same(*dts):
    """Arithmetic: compute and return in the NumPy result dtype (bool + bool stays bool)."""
    out = upcast(*dts)
    return [out] * len(dts), out


def arith(*dts):
    """Like ``same`` but bool arithmetic is done in int8 as NumPy does for ``-`` and ``**``."""
    out = upcast(*dts)
    if out == "bool":
        out = "int8"
    return [out] * len(dts), out


def floating(*dts):
    out = upgrade_to_float(upcast(*dts))
    return [out] * len(dts), out


def real_floating(*dts):
    out = upgrade_to_float(upcast(*dts))
    if dtype_kind(out) == "c":
        raise TypeError("this function is not defined for complex numbers")
    return [out] * len(dts), out


def compare(*dts):
    c = upcast(*dts)
    return [c] * len(dts), "bool"


def predicate(*dts):
    return list(dts), "bool"


def integral(*dts):
    out = upcast(*dts)
    if dtype_kind(out) not in "biu":
        raise TypeError("bitwise operations need integer or bool inputs, got " + ", ".join(dts))
    return [out] * len(dts), out


def real_same(*dts):
    out = upcast(*dts)
    if dtype_kind(out) == "c":
        raise TypeError("this function is not defined for complex numbers")
    return [out] * len(dts), out


def real_arith(*dts):
    """``real_same`` with bool computed in int8, as NumPy's ``//`` and ``%`` do."""
    ins, out = real_same(*dts)
    if out == "bool":
        return ["int8"] * len(dts), "int8"
    return ins, out


def switch_rule(cond, a, b):
    out = upcast(a, b)
    return ["bool", out, out], out


def real_of(dt):
    return {"complex64": "float32", "complex128": "float64"}.get(dt, dt)


def abs_rule(dt):
    return [dt], real_of(dt)


def round_rule(dt):
    if dtype_kind(dt) == "c":
        raise TypeError("rounding is not defined for complex numbers")
    out = dt if dtype_kind(dt) in "fc" else upgrade_to_float(dt)
    return [out], out


# ---------------------------------------------------------------------------- numpy refs


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x))).astype(x.dtype)


def _softplus(x):
    return np.logaddexp(np.zeros((), x.dtype), x).astype(x.dtype)


def _vectorize(fn):
    vec = np.vectorize(fn, otypes=[float])

    def run(x):
        return vec(x).astype(x.dtype) if x.size else np.empty(x.shape, x.dtype)
    return run


def _int_div(a, b):
    """NumPy's integer floor division: division by zero gives 0, never an error."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.floor_divide(a, b)


def _mod(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.mod(a, b)


def _pow(a, b):
    if dtype_kind(a.dtype.name) in "iu" and np.any(b < 0):
        raise ValueError("integers to negative integer powers are not allowed")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return np.power(a, b)


def _sign(x):
    return x.copy() if x.dtype == bool else np.sign(x)  # NumPy has no bool loop for sign


def _errors_ignored(fn):
    def run(*args):
        with np.errstate(all="ignore"):
            return fn(*args)
    run.__name__ = getattr(fn, "__name__", "fn")
    return run


# ---------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class ScalarOp:
    name: str
    nin: int
    numpy: Callable = field(compare=False, hash=False)
    dtypes: Callable = field(compare=False, hash=False)
    c: object = field(compare=False, hash=False)
    cuda: object = field(default=None, compare=False, hash=False)
    grad: Callable | None = field(default=None, compare=False, hash=False)
    commutative: bool = field(default=False, compare=False, hash=False)
    associative: bool = field(default=False, compare=False, hash=False)
    symbol: str | None = field(default=None, compare=False, hash=False)  # infix for pprint

    def __str__(self):
        return self.name

    def c_expr(self, kind: str, cuda: bool = False) -> str | None:
        """The C (or CUDA) expression template for a compute dtype of this ``kind``."""
        table = self.cuda if cuda and self.cuda is not None else self.c
        if isinstance(table, dict):
            return table.get(kind, table.get("*"))
        return table


SCALAR_OPS: dict[str, ScalarOp] = {}


def row(name, nin, numpy, dtypes, c, cuda=None, grad=None, **kw) -> ScalarOp:
    op = ScalarOp(name, nin, _errors_ignored(numpy), dtypes, c, cuda, grad, **kw)
    SCALAR_OPS[name] = op
    return op


def _nograd(m, inputs, out, gz):
    return [None] * len(inputs)


# Gradients.  ``m`` is aotsym.graph.ops.math; each returns one entry per input.
def _g_add(m, ins, z, gz):
    return [gz] * len(ins)


def _g_mul(m, ins, z, gz):
    if len(ins) == 2:
        return [gz * ins[1], gz * ins[0]]
    return [gz * m.mul(*[x for j, x in enumerate(ins) if j != i]) for i in range(len(ins))]


def _g_pow(m, ins, z, gz):
    x, y = ins
    gx = gz * y * m.pow(x, y - 1)
    gy = gz * z * m.log(m.switch(m.eq(x, 0), 1, x)) if dtype_kind(y.dtype) in "fc" else None
    return [gx, gy]


F = "f"  # kind key for floats
row("add", 2, np.add, same, {"b": "({0} || {1})", "*": "({0} + {1})"}, grad=_g_add,
    commutative=True, associative=True, symbol="+")
row("sub", 2, np.subtract, arith, "({0} - {1})",
    grad=lambda m, ins, z, gz: [gz, -gz], symbol="-")
row("mul", 2, np.multiply, same, {"b": "({0} && {1})", "*": "({0} * {1})"}, grad=_g_mul,
    commutative=True, associative=True, symbol="*")
row("true_div", 2, np.true_divide, floating, "({0} / {1})",
    grad=lambda m, ins, z, gz: [gz / ins[1], -gz * z / ins[1]], symbol="/")
# (float // is NumPy's npy_floor_divide, through fmod: 1.0 // 0.1 == 9.0, not floor(1 / 0.1))
row("int_div", 2, _int_div, real_arith,
    {"i": "AOT_FLOORDIV_INT({0}, {1})", "u": "({1} ? {0} / {1} : 0)",
     "b": "({0} && {1})", "f": "AOT_FLOORDIV_FLOAT{f}({0}, {1})"},
    grad=_nograd, symbol="//")
row("mod", 2, _mod, real_arith,
    {"i": "AOT_MOD_INT({0}, {1})", "u": "({1} ? {0} % {1} : 0)", "b": "0",
     "f": "AOT_MOD_FLOAT{f}({0}, {1})"},
    grad=lambda m, ins, z, gz: [gz, -gz * m.int_div(ins[0], ins[1])], symbol="%")
row("pow", 2, _pow, arith, {"i": "AOT_IPOW({0}, {1})", "u": "AOT_IPOW({0}, {1})",
                             "f": "pow{f}({0}, {1})", "c": "cpow{f}({0}, {1})"},
    grad=_g_pow, symbol="**")
row("maximum", 2, np.maximum, real_same,
    {"f": "AOT_FMAX({0}, {1})", "*": "(({0}) > ({1}) ? ({0}) : ({1}))"},
    grad=lambda m, ins, z, gz: [gz * m.eq(z, ins[0]), gz * m.neq(z, ins[0])], commutative=True)
row("minimum", 2, np.minimum, real_same,
    {"f": "AOT_FMIN({0}, {1})", "*": "(({0}) < ({1}) ? ({0}) : ({1}))"},
    grad=lambda m, ins, z, gz: [gz * m.eq(z, ins[0]), gz * m.neq(z, ins[0])], commutative=True)
row("arctan2", 2, np.arctan2, real_floating, "atan2{f}({0}, {1})",
    grad=lambda m, ins, z, gz: [gz * ins[1] / (m.sqr(ins[0]) + m.sqr(ins[1])),
                                -gz * ins[0] / (m.sqr(ins[0]) + m.sqr(ins[1]))])

row("neg", 1, np.negative, arith, {"b": "(!{0})", "*": "(-{0})"},
    grad=lambda m, ins, z, gz: [-gz], symbol="-")
row("abs", 1, np.abs, abs_rule,
    {"f": "fabs{f}({0})", "i": "(({0}) < 0 ? -({0}) : ({0}))", "u": "{0}", "b": "{0}",
     "c": "cabs{f}({0})"},
    grad=lambda m, ins, z, gz: [gz * m.sgn(ins[0])])
row("sgn", 1, _sign, real_same,
    {"f": "AOT_SIGN({0})", "i": "(({0}) > 0) - (({0}) < 0)", "u": "(({0}) > 0)", "b": "{0}"},
    grad=_nograd)
row("sqr", 1, np.square, arith, {"b": "{0}", "*": "({0} * {0})"},
    grad=lambda m, ins, z, gz: [gz * 2 * ins[0]])
row("sqrt", 1, np.sqrt, floating, {"f": "sqrt{f}({0})", "c": "csqrt{f}({0})"},
    grad=lambda m, ins, z, gz: [gz * 0.5 / z])
row("reciprocal", 1, np.reciprocal, floating, "(({T})1 / {0})",
    grad=lambda m, ins, z, gz: [-gz * m.sqr(z)])
row("exp", 1, np.exp, floating, {"f": "exp{f}({0})", "c": "cexp{f}({0})"},
    grad=lambda m, ins, z, gz: [gz * z])
row("exp2", 1, np.exp2, real_floating, "exp2{f}({0})",
    grad=lambda m, ins, z, gz: [gz * z * math.log(2.0)])
row("expm1", 1, np.expm1, real_floating, "expm1{f}({0})",
    grad=lambda m, ins, z, gz: [gz * (z + 1)])
row("log", 1, np.log, floating, {"f": "log{f}({0})", "c": "clog{f}({0})"},
    grad=lambda m, ins, z, gz: [gz / ins[0]])
row("log2", 1, np.log2, real_floating, "log2{f}({0})",
    grad=lambda m, ins, z, gz: [gz / (ins[0] * math.log(2.0))])
row("log10", 1, np.log10, real_floating, "log10{f}({0})",
    grad=lambda m, ins, z, gz: [gz / (ins[0] * math.log(10.0))])
row("log1p", 1, np.log1p, real_floating, "log1p{f}({0})",
    grad=lambda m, ins, z, gz: [gz / (1 + ins[0])])
row("sin", 1, np.sin, floating, {"f": "sin{f}({0})", "c": "csin{f}({0})"},
    grad=lambda m, ins, z, gz: [gz * m.cos(ins[0])])
row("cos", 1, np.cos, floating, {"f": "cos{f}({0})", "c": "ccos{f}({0})"},
    grad=lambda m, ins, z, gz: [-gz * m.sin(ins[0])])
row("tan", 1, np.tan, real_floating, "tan{f}({0})",
    grad=lambda m, ins, z, gz: [gz * (1 + m.sqr(z))])
row("arcsin", 1, np.arcsin, real_floating, "asin{f}({0})",
    grad=lambda m, ins, z, gz: [gz / m.sqrt(1 - m.sqr(ins[0]))])
row("arccos", 1, np.arccos, real_floating, "acos{f}({0})",
    grad=lambda m, ins, z, gz: [-gz / m.sqrt(1 - m.sqr(ins[0]))])
row("arctan", 1, np.arctan, real_floating, "atan{f}({0})",
    grad=lambda m, ins, z, gz: [gz / (1 + m.sqr(ins[0]))])
row("sinh", 1, np.sinh, real_floating, "sinh{f}({0})",
    grad=lambda m, ins, z, gz: [gz * m.cosh(ins[0])])
row("cosh", 1, np.cosh, real_floating, "cosh{f}({0})",
    grad=lambda m, ins, z, gz: [gz * m.sinh(ins[0])])
row("tanh", 1, np.tanh, floating, {"f": "tanh{f}({0})", "c": "ctanh{f}({0})"},
    grad=lambda m, ins, z, gz: [gz * (1 - m.sqr(z))])
row("arcsinh", 1, np.arcsinh, real_floating, "asinh{f}({0})",
    grad=lambda m, ins, z, gz: [gz / m.sqrt(m.sqr(ins[0]) + 1)])
row("arccosh", 1, np.arccosh, real_floating, "acosh{f}({0})",
    grad=lambda m, ins, z, gz: [gz / m.sqrt(m.sqr(ins[0]) - 1)])
row("arctanh", 1, np.arctanh, real_floating, "atanh{f}({0})",
    grad=lambda m, ins, z, gz: [gz / (1 - m.sqr(ins[0]))])
row("erf", 1, _vectorize(math.erf), real_floating, "erf{f}({0})",
    grad=lambda m, ins, z, gz: [gz * (2 / math.sqrt(math.pi)) * m.exp(-m.sqr(ins[0]))])
row("erfc", 1, _vectorize(math.erfc), real_floating, "erfc{f}({0})",
    grad=lambda m, ins, z, gz: [-gz * (2 / math.sqrt(math.pi)) * m.exp(-m.sqr(ins[0]))])
row("sigmoid", 1, _sigmoid, real_floating, "AOT_SIGMOID{f}({0})",
    grad=lambda m, ins, z, gz: [gz * z * (1 - z)])
row("softplus", 1, _softplus, real_floating, "AOT_SOFTPLUS{f}({0})",
    grad=lambda m, ins, z, gz: [gz * m.sigmoid(ins[0])])
row("floor", 1, np.floor, round_rule, {"f": "floor{f}({0})"}, grad=_nograd)
row("ceil", 1, np.ceil, round_rule, {"f": "ceil{f}({0})"}, grad=_nograd)
row("trunc", 1, np.trunc, round_rule, {"f": "trunc{f}({0})"}, grad=_nograd)
row("round_half_to_even", 1, np.rint, round_rule, {"f": "nearbyint{f}({0})"}, grad=_nograd)
row("identity", 1, lambda x: np.array(x, copy=True), same, "{0}",
    grad=lambda m, ins, z, gz: [gz])
row("conj", 1, np.conj, same, {"c": "conj{f}({0})", "*": "{0}"},
    grad=lambda m, ins, z, gz: [m.conj(gz)])

# NumPy orders complex numbers by real part, then imaginary part; C cannot compare them.
row("lt", 2, np.less, compare, {"c": "AOT_CLT({0}, {1})", "*": "({0} < {1})"},
    grad=_nograd, symbol="<")
row("le", 2, np.less_equal, compare, {"c": "AOT_CLE({0}, {1})", "*": "({0} <= {1})"},
    grad=_nograd, symbol="<=")
row("gt", 2, np.greater, compare, {"c": "AOT_CLT({1}, {0})", "*": "({0} > {1})"},
    grad=_nograd, symbol=">")
row("ge", 2, np.greater_equal, compare, {"c": "AOT_CLE({1}, {0})", "*": "({0} >= {1})"},
    grad=_nograd, symbol=">=")
row("eq", 2, np.equal, compare, "({0} == {1})", grad=_nograd, commutative=True, symbol="==")
row("neq", 2, np.not_equal, compare, "({0} != {1})", grad=_nograd, commutative=True,
    symbol="!=")
# a complex number is NaN (infinite) when either part is
row("isnan", 1, np.isnan, predicate,
    {"f": "isnan({0})", "c": "(isnan(__real__ {0}) || isnan(__imag__ {0}))", "*": "0"},
    grad=_nograd)
row("isinf", 1, np.isinf, predicate,
    {"f": "isinf({0})", "c": "(isinf(__real__ {0}) || isinf(__imag__ {0}))", "*": "0"},
    grad=_nograd)

row("and_", 2, np.bitwise_and, integral, {"b": "({0} && {1})", "*": "({0} & {1})"},
    grad=_nograd, commutative=True, associative=True, symbol="&")
row("or_", 2, np.bitwise_or, integral, {"b": "({0} || {1})", "*": "({0} | {1})"},
    grad=_nograd, commutative=True, associative=True, symbol="|")
row("xor", 2, np.bitwise_xor, integral, {"b": "({0} != {1})", "*": "({0} ^ {1})"},
    grad=_nograd, commutative=True, associative=True, symbol="^")
row("invert", 1, np.invert, integral, {"b": "(!{0})", "*": "(~{0})"}, grad=_nograd,
    symbol="~")

row("switch", 3, lambda c, a, b: np.where(c, a, b), switch_rule, "({0} ? {1} : {2})",
    grad=lambda m, ins, z, gz: [None, m.switch(ins[0], gz, 0), m.switch(ins[0], 0, gz)])
# clip is minimum(maximum(x, lo), hi), as NumPy: when lo > hi, hi wins
row("clip", 3, lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi), real_same,
    {"f": "AOT_FMIN(AOT_FMAX({0}, {1}), {2})", "*": "AOT_IMIN(AOT_IMAX({0}, {1}), {2})"},
    grad=lambda m, ins, z, gz: [gz * m.and_(m.ge(ins[0], ins[1]), m.le(ins[0], ins[2])),
                                gz * m.lt(ins[0], ins[1]), gz * m.gt(ins[0], ins[2])])
row("second", 2, lambda a, b: np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)).copy(),
    lambda a, b: ([a, b], b), "{1}", grad=lambda m, ins, z, gz: [None, gz])
# ``cast`` is special: its output dtype is a property of the Elemwise node (Elemwise.dtype).
row("cast", 1, lambda x: x, lambda dt: ([dt], dt), "(({T}){0})",
    grad=lambda m, ins, z, gz: [m.cast(gz, ins[0].dtype)
                                if dtype_kind(ins[0].dtype) in "fc" else None])
