"""The scalar op table: every elementwise operation is one row.

Part of the IR (frontend -> **graph** -> optimizer -> emitters).  A row says, once, everything
each layer needs about one scalar function:

``name``      the op's name (``Elemwise{name}`` in printed graphs)
``nin``       number of inputs
``numpy``     the reference implementation on arrays already converted to the compute dtype
``dtypes``    type rule ``(input dtypes) -> (compute dtypes per input, output dtype)``; it
              raises ``TypeError`` for the dtypes the op does not accept
``grad``      ``grad(m, inputs, output, gz) -> [gradient per input or None]`` where ``m`` is
              :mod:`aotsym.graph.ops.math` (the symbolic builders); ``None`` marks an input
              with no gradient (integer, or piecewise constant)
``commutative`` / ``associative``   facts the canonicalizer uses
``symbol``    the infix operator ``pprint`` writes (``+``), or ``None``

A row holds semantics only.  How a backend writes it is that backend's business: each spells
the rows in its own table beside its renderer (:mod:`aotsym.emit_c.scalar_table`,
:mod:`aotsym.emit_cuda.scalar_table`), computing exactly what ``numpy`` does, corners
included (NaN, signed zeros, division by zero, ``lo > hi``).  Adding an elementwise op is
adding a row here plus a spelling in each backend's table; the coverage tests
(``tests/emit_c/test_emit_tables.py``, ``tests/emit_cuda/test_cuda_tables.py``) say which
spelling is missing, for which dtype kind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from aotsym.graph import special_ref
from aotsym.graph.types import dtype_kind, upcast, upgrade_to_float


# ---------------------------------------------------------------------------- type rules


def same(*dts):
    """Arithmetic: compute and return in the NumPy result dtype (bool + bool stays bool)."""
    out = upcast(*dts)
    return [out] * len(dts), out


def arith(*dts):
    """Like ``same`` but bool arithmetic is done in int8 as NumPy does for ``**``."""
    out = upcast(*dts)
    if out == "bool":
        out = "int8"
    return [out] * len(dts), out


def subtract(*dts):
    """``arith``, but ``bool - bool`` is a TypeError, as in NumPy (use ``^`` or xor)."""
    if upcast(*dts) == "bool":
        raise TypeError("bool - bool is not supported (NumPy refuses it too); use the ^ "
                        "operator or logical_xor")
    return arith(*dts)


def floating(*dts):
    out = upgrade_to_float(upcast(*dts))
    return [out] * len(dts), out


def true_div_rule(*dts):
    """NumPy's ``true_divide``: integers (and bools) divide in float64 (``int8 / int8`` too,
    where ``floating`` would give float32); else ``floating``.  Theano's floatX=float32
    result for integers is the builder's cast (:func:`aotsym.graph.ops.math.elemwise`)."""
    if all(dtype_kind(d) in "biu" for d in dts):
        return ["float64"] * len(dts), "float64"
    return floating(*dts)


def real_floating(*dts):
    out = upgrade_to_float(upcast(*dts))
    if dtype_kind(out) == "c":
        raise TypeError("this function is not defined for complex numbers")
    return [out] * len(dts), out


def float_each(*dts):
    """Theano's ``upgrade_to_float`` of several inputs: each to its float (ints of 16 bits or
    fewer to float32, wider ones to float64), then the upcast (int16, uint16 -> float32);
    complex refused (the special functions are real)."""
    out = upcast(*[upgrade_to_float(d) for d in dts])
    if dtype_kind(out) == "c":
        raise TypeError("this function is not defined for complex numbers")
    return [out] * len(dts), out


def to_float64(*dts):
    """Theano's ``upgrade_to_float64`` (``chi2sf``): float64 whatever the inputs."""
    if any(dtype_kind(d) == "c" for d in dts):
        raise TypeError("this function is not defined for complex numbers")
    return ["float64"] * len(dts), "float64"


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
    """``rint``: integers are computed as floats (NumPy's ``rint`` of an int is a float)."""
    if dtype_kind(dt) == "c":
        raise TypeError("rounding is not defined for complex numbers")
    out = dt if dtype_kind(dt) in "fc" else upgrade_to_float(dt)
    return [out], out


def floor_rule(dt):
    """``floor``/``ceil``/``trunc``: NumPy 2 keeps an integer's (or bool's) dtype."""
    if dtype_kind(dt) == "c":
        raise TypeError("rounding is not defined for complex numbers")
    return [dt], dt


# ---------------------------------------------------------------------------- numpy refs


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x))).astype(x.dtype)


def _softplus(x):
    return np.logaddexp(np.zeros((), x.dtype), x).astype(x.dtype)


def _vectorize(fn):
    """A Python function of floats applied elementwise, in the (common) dtype of its array
    arguments, which broadcast."""
    vec = np.vectorize(fn, otypes=[float])

    def run(*args):
        dtype = args[-1].dtype
        if not all(a.size for a in args):
            return np.empty(np.broadcast_shapes(*[a.shape for a in args]), dtype)
        return vec(*args).astype(dtype)
    run.__name__ = getattr(fn, "__name__", "fn")
    return run


def _scipy(name, *first):
    """``scipy.special.<name>`` (with leading arguments ``first``), in the input's dtype;
    SciPy is imported when a graph is first evaluated."""
    def run(x):
        import scipy.special
        return np.asarray(getattr(scipy.special, name)(*first, x)).astype(x.dtype)
    run.__name__ = name
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
    grad: Callable | None = field(default=None, compare=False, hash=False)
    commutative: bool = field(default=False, compare=False, hash=False)
    associative: bool = field(default=False, compare=False, hash=False)
    symbol: str | None = field(default=None, compare=False, hash=False)  # infix for pprint

    def __str__(self):
        return self.name

    def __reduce__(self):
        """A row pickles (and deep-copies) by name: the same row of this table on load (its
        functions are lambdas and wrappers, which pickle cannot store)."""
        return (scalar_op, (self.name,))


SCALAR_OPS: dict[str, ScalarOp] = {}


def scalar_op(name: str) -> ScalarOp:
    """The row called ``name``."""
    try:
        return SCALAR_OPS[name]
    except KeyError:
        raise ValueError(f"no scalar op {name!r} in aotsym's table") from None


def accepted_signatures(row: ScalarOp) -> dict:
    """What ``row``'s type rule accepts, asked about every dtype in turn (a ``TypeError`` or
    ``ValueError`` is a refusal): ``{compute kind: [(compute dtypes, output dtype), ...]}``,
    keyed by the kind (``biufc``) of the last compute dtype.  The backends' coverage tests
    check a spelling exists for each kind."""
    from aotsym.graph.types import DTYPES
    kinds: dict = {}
    for dt in DTYPES:
        try:
            compute, out = row.dtypes(*([dt] * row.nin))
        except (TypeError, ValueError):
            continue
        pairs = kinds.setdefault(dtype_kind(compute[-1]), [])
        if (tuple(compute), out) not in pairs:
            pairs.append((tuple(compute), out))
    return kinds


def row(name, nin, numpy, dtypes, grad=None, **kw) -> ScalarOp:
    op = ScalarOp(name, nin, _errors_ignored(numpy), dtypes, grad, **kw)
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


row("add", 2, np.add, same, grad=_g_add, commutative=True, associative=True, symbol="+")
row("sub", 2, np.subtract, subtract, grad=lambda m, ins, z, gz: [gz, -gz], symbol="-")
row("mul", 2, np.multiply, same, grad=_g_mul, commutative=True, associative=True, symbol="*")
row("true_div", 2, np.true_divide, true_div_rule,
    grad=lambda m, ins, z, gz: [gz / ins[1], -gz * z / ins[1]], symbol="/")
# float // is NumPy's npy_floor_divide, through fmod: 1.0 // 0.1 == 9.0, not floor(1 / 0.1);
# integer // and % by zero give 0, never an error
row("int_div", 2, _int_div, real_arith, grad=_nograd, symbol="//")
row("mod", 2, _mod, real_arith,
    grad=lambda m, ins, z, gz: [gz, -gz * m.int_div(ins[0], ins[1])], symbol="%")
row("pow", 2, _pow, arith, grad=_g_pow, symbol="**")
# np.maximum / np.minimum propagate NaN (C's fmax / fmin do not)
row("maximum", 2, np.maximum, real_same,
    grad=lambda m, ins, z, gz: [gz * m.eq(z, ins[0]), gz * m.neq(z, ins[0])], commutative=True)
row("minimum", 2, np.minimum, real_same,
    grad=lambda m, ins, z, gz: [gz * m.eq(z, ins[0]), gz * m.neq(z, ins[0])], commutative=True)
row("arctan2", 2, np.arctan2, real_floating,
    grad=lambda m, ins, z, gz: [gz * ins[1] / (m.sqr(ins[0]) + m.sqr(ins[1])),
                                -gz * ins[0] / (m.sqr(ins[0]) + m.sqr(ins[1]))])

row("neg", 1, np.negative, arith, grad=lambda m, ins, z, gz: [-gz], symbol="-")
row("abs", 1, np.abs, abs_rule, grad=lambda m, ins, z, gz: [gz * m.sgn(ins[0])])
row("sgn", 1, _sign, real_same, grad=_nograd)
row("sqr", 1, np.square, arith, grad=lambda m, ins, z, gz: [gz * 2 * ins[0]])
row("sqrt", 1, np.sqrt, floating, grad=lambda m, ins, z, gz: [gz * 0.5 / z])
row("reciprocal", 1, np.reciprocal, floating, grad=lambda m, ins, z, gz: [-gz * m.sqr(z)])
row("exp", 1, np.exp, floating, grad=lambda m, ins, z, gz: [gz * z])
row("exp2", 1, np.exp2, real_floating, grad=lambda m, ins, z, gz: [gz * z * math.log(2.0)])
row("expm1", 1, np.expm1, real_floating, grad=lambda m, ins, z, gz: [gz * (z + 1)])
row("log", 1, np.log, floating, grad=lambda m, ins, z, gz: [gz / ins[0]])
row("log2", 1, np.log2, real_floating,
    grad=lambda m, ins, z, gz: [gz / (ins[0] * math.log(2.0))])
row("log10", 1, np.log10, real_floating,
    grad=lambda m, ins, z, gz: [gz / (ins[0] * math.log(10.0))])
row("log1p", 1, np.log1p, real_floating, grad=lambda m, ins, z, gz: [gz / (1 + ins[0])])
row("sin", 1, np.sin, floating, grad=lambda m, ins, z, gz: [gz * m.cos(ins[0])])
row("cos", 1, np.cos, floating, grad=lambda m, ins, z, gz: [-gz * m.sin(ins[0])])
row("tan", 1, np.tan, real_floating, grad=lambda m, ins, z, gz: [gz * (1 + m.sqr(z))])
row("arcsin", 1, np.arcsin, real_floating,
    grad=lambda m, ins, z, gz: [gz / m.sqrt(1 - m.sqr(ins[0]))])
row("arccos", 1, np.arccos, real_floating,
    grad=lambda m, ins, z, gz: [-gz / m.sqrt(1 - m.sqr(ins[0]))])
row("arctan", 1, np.arctan, real_floating,
    grad=lambda m, ins, z, gz: [gz / (1 + m.sqr(ins[0]))])
row("sinh", 1, np.sinh, real_floating, grad=lambda m, ins, z, gz: [gz * m.cosh(ins[0])])
row("cosh", 1, np.cosh, real_floating, grad=lambda m, ins, z, gz: [gz * m.sinh(ins[0])])
row("tanh", 1, np.tanh, floating, grad=lambda m, ins, z, gz: [gz * (1 - m.sqr(z))])
row("arcsinh", 1, np.arcsinh, real_floating,
    grad=lambda m, ins, z, gz: [gz / m.sqrt(m.sqr(ins[0]) + 1)])
row("arccosh", 1, np.arccosh, real_floating,
    grad=lambda m, ins, z, gz: [gz / m.sqrt(m.sqr(ins[0]) - 1)])
row("arctanh", 1, np.arctanh, real_floating,
    grad=lambda m, ins, z, gz: [gz / (1 - m.sqr(ins[0]))])
row("erf", 1, _vectorize(math.erf), real_floating,
    grad=lambda m, ins, z, gz: [gz * (2 / math.sqrt(math.pi)) * m.exp(-m.sqr(ins[0]))])
row("erfc", 1, _vectorize(math.erfc), real_floating,
    grad=lambda m, ins, z, gz: [-gz * (2 / math.sqrt(math.pi)) * m.exp(-m.sqr(ins[0]))])
# Special functions (scipy.special's; the C runtime's runtime/aotsym_special.h).  psi's
# derivative is tri_gamma (Theano's TriGamma), whose own derivative is not defined here.
row("gammaln", 1, _scipy("gammaln"), real_floating,
    grad=lambda m, ins, z, gz: [gz * m.psi(ins[0])])
row("gamma", 1, _scipy("gamma"), real_floating,
    grad=lambda m, ins, z, gz: [gz * z * m.psi(ins[0])])
row("psi", 1, _scipy("psi"), real_floating,
    grad=lambda m, ins, z, gz: [gz * m.tri_gamma(ins[0])])
row("tri_gamma", 1, _scipy("polygamma", 1), real_floating)
row("erfinv", 1, _scipy("erfinv"), real_floating,
    grad=lambda m, ins, z, gz: [gz * (math.sqrt(math.pi) / 2) * m.exp(m.sqr(z))])
row("erfcinv", 1, _scipy("erfcinv"), real_floating,
    grad=lambda m, ins, z, gz: [-gz * (math.sqrt(math.pi) / 2) * m.exp(m.sqr(z))])
# Theano 1.0's erfcx, Bessel and incomplete gamma functions: NumPy-free Python in
# aotsym/graph/special_ref.py (the reference), C in runtime/aotsym_special.h.  Theano has no
# gradient with respect to a Bessel function's order or the gamma functions' shape k
# (grad_not_implemented), nor of chi2sf at all.
def _not_implemented(name, pos, var):
    from aotsym.frontend.grad import grad_not_implemented
    return grad_not_implemented(name, pos, var)


def _g_gamma_inc(name, sign, regularized):
    """d/dx of gammainc / gammaincc (regularized) or gammal / gammau: +-x^(k-1) e^-x, over
    gamma(k) when regularized."""
    def grad(m, ins, z, gz):
        k, x = ins
        log_density = (k - 1) * m.log(x) - x
        if regularized:
            log_density = log_density - m.gammaln(k)
        return [_not_implemented(name, 0, k), sign * gz * m.exp(log_density)]
    return grad


row("erfcx", 1, _vectorize(special_ref.erfcx), real_floating,
    grad=lambda m, ins, z, gz: [gz * (2 * ins[0] * z - 2 / math.sqrt(math.pi))])
row("j0", 1, _vectorize(special_ref.j0), float_each,
    grad=lambda m, ins, z, gz: [-gz * m.j1(ins[0])])
row("j1", 1, _vectorize(special_ref.j1), float_each,
    grad=lambda m, ins, z, gz: [gz * (m.j0(ins[0]) - m.jv(2, ins[0])) / 2])
row("jv", 2, _vectorize(special_ref.jv), float_each,
    grad=lambda m, ins, z, gz: [_not_implemented("jv", 0, ins[0]),
                                gz * (m.jv(ins[0] - 1, ins[1]) - m.jv(ins[0] + 1, ins[1])) / 2])
row("i0", 1, _vectorize(special_ref.i0), float_each,
    grad=lambda m, ins, z, gz: [gz * m.i1(ins[0])])
row("i1", 1, _vectorize(special_ref.i1), float_each,
    grad=lambda m, ins, z, gz: [gz * (m.i0(ins[0]) + m.iv(2, ins[0])) / 2])
row("iv", 2, _vectorize(special_ref.iv), float_each,
    grad=lambda m, ins, z, gz: [_not_implemented("iv", 0, ins[0]),
                                gz * (m.iv(ins[0] - 1, ins[1]) + m.iv(ins[0] + 1, ins[1])) / 2])
row("gammainc", 2, _vectorize(special_ref.gammainc), float_each,
    grad=_g_gamma_inc("gammainc", 1, True))
row("gammaincc", 2, _vectorize(special_ref.gammaincc), float_each,
    grad=_g_gamma_inc("gammaincc", -1, True))
row("gammal", 2, _vectorize(special_ref.gammal), float_each,
    grad=_g_gamma_inc("gammal", 1, False))
row("gammau", 2, _vectorize(special_ref.gammau), float_each,
    grad=_g_gamma_inc("gammau", -1, False))
row("chi2sf", 2, _vectorize(special_ref.chi2sf), to_float64)
row("sigmoid", 1, _sigmoid, real_floating, grad=lambda m, ins, z, gz: [gz * z * (1 - z)])
row("softplus", 1, _softplus, real_floating,
    grad=lambda m, ins, z, gz: [gz * m.sigmoid(ins[0])])
row("floor", 1, np.floor, floor_rule, grad=_nograd)
row("ceil", 1, np.ceil, floor_rule, grad=_nograd)
row("trunc", 1, np.trunc, floor_rule, grad=_nograd)
row("round_half_to_even", 1, np.rint, round_rule, grad=_nograd)
row("identity", 1, lambda x: np.array(x, copy=True), same, grad=lambda m, ins, z, gz: [gz])
row("conj", 1, np.conj, same, grad=lambda m, ins, z, gz: [m.conj(gz)])

# NumPy orders complex numbers by real part, then imaginary part (a NaN imaginary part makes
# the real parts' order count for nothing).
row("lt", 2, np.less, compare, grad=_nograd, symbol="<")
row("le", 2, np.less_equal, compare, grad=_nograd, symbol="<=")
row("gt", 2, np.greater, compare, grad=_nograd, symbol=">")
row("ge", 2, np.greater_equal, compare, grad=_nograd, symbol=">=")
row("eq", 2, np.equal, compare, grad=_nograd, commutative=True, symbol="==")
row("neq", 2, np.not_equal, compare, grad=_nograd, commutative=True, symbol="!=")
# a complex number is NaN (infinite) when either part is
row("isnan", 1, np.isnan, predicate, grad=_nograd)
row("isinf", 1, np.isinf, predicate, grad=_nograd)

row("and_", 2, np.bitwise_and, integral, grad=_nograd, commutative=True, associative=True,
    symbol="&")
row("or_", 2, np.bitwise_or, integral, grad=_nograd, commutative=True, associative=True,
    symbol="|")
row("xor", 2, np.bitwise_xor, integral, grad=_nograd, commutative=True, associative=True,
    symbol="^")
row("invert", 1, np.invert, integral, grad=_nograd, symbol="~")

row("switch", 3, lambda c, a, b: np.where(c, a, b), switch_rule,
    grad=lambda m, ins, z, gz: [None, m.switch(ins[0], gz, 0), m.switch(ins[0], 0, gz)])
# clip is minimum(maximum(x, lo), hi), as NumPy: when lo > hi, hi wins
def _g_clip(m, ins, z, gz):
    """The gradients of ``minimum(maximum(x, lo), hi)`` composed (ties as in those rows): a
    variable in two roles (``clip(x, 0, x)``) gets the sum, right also when ``lo > hi``."""
    x, lo, hi = ins
    low = m.maximum(x, lo)
    g_low = gz * m.eq(z, low)
    return [g_low * m.eq(low, x), g_low * m.neq(low, x), gz * m.neq(z, low)]


row("clip", 3, lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi), real_same, grad=_g_clip)
row("second", 2, lambda a, b: np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape)).copy(),
    lambda a, b: ([a, b], b), grad=lambda m, ins, z, gz: [None, gz])
# Float -> integer conversion, defined once (each backend's runtime spells the same table).
# NumPy on x86-64 (2.4, measured for float64 and float32 sources, contiguous arrays; NumPy's
# own strided and scalar paths differ for uint32) gives, with t the value truncated toward
# zero:
#   int32, int64        t if it fits, else (nan, +-inf, out of range) the type's minimum
#                       (x86's "integer indefinite"): int32(3e9) = int32(1e300) = -2**31;
#   int8, int16,        the int32 result's low bits: int8(300) = 44, int8(-129) = 127,
#   uint8, uint16       uint8(-1) = 255, int16(nan) = int16(3e9) = 0;
#   uint32, uint64      t if 0 <= t < 2**b; t's two's complement if -2**(b-1) <= t < 0
#   (b bits)            (uint64(-1) = 2**64 - 1); 0 if t >= 2**b or +inf (uint64(1e300) = 0);
#                       else (nan, -inf, t < -2**(b-1)) 2**(b-1);
#   bool                x != 0 (nan is True).
# Complex sources convert their real part.

def float_to_int(x, dtype) -> np.ndarray:
    """``x`` (a float array) converted to the integer ``dtype`` by the table above."""
    dt = np.dtype(dtype)
    x = np.asarray(x, dtype="float64")
    bits = dt.itemsize * 8
    with np.errstate(all="ignore"):
        t = np.trunc(x)
        if dt.kind == "i" and bits >= 32 or dt.kind == "u" and bits < 32:
            b = max(bits, 32)
            lo, hi = -2.0 ** (b - 1), 2.0 ** (b - 1)
            fits = (t >= lo) & (t < hi)
            signed = np.where(fits, t, lo).astype(f"int{b}")
            return signed.astype(dt)      # narrower types: the low bits (NumPy wraps)
        if dt.kind == "i":
            return float_to_int(x, "int32").astype(dt)
        top = 2.0 ** bits
        half = 2.0 ** (bits - 1)
        positive = (t >= 0) & (t < top)
        negative = (t >= -half) & (t < 0)
        out = np.where(t >= top, 0, half).astype(dt)
        out = np.where(positive, np.where(positive, t, 0).astype(dt), out)
        wrapped = np.where(negative, t, 0).astype(f"int{bits}").astype(dt)
        return np.where(negative, wrapped, out)


# ``cast`` is special: its output dtype is a property of the Elemwise node (Elemwise.dtype).
row("cast", 1, lambda x: x, lambda dt: ([dt], dt),
    grad=lambda m, ins, z, gz: [m.cast(gz, ins[0].dtype)
                                if dtype_kind(ins[0].dtype) in "fc" else None])
