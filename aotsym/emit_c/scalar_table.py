"""How the C backend spells each row of the scalar op table.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  The IR's table
(:mod:`aotsym.graph.scalar`) says what each scalar op computes; this table says how C writes
it, and :mod:`aotsym.emit_c.scalar_code` is its only reader.  It decides nothing: it spells.

``C_SCALAR`` maps a row's name to its C expression template, or to a dict of templates keyed
by the *kind* of the compute dtype (``b`` bool, ``i`` signed, ``u`` unsigned, ``f`` float,
``c`` complex) with ``*`` as the fallback for the kinds not named.  Placeholders:

``{0}`` ``{1}`` ``{2}``  the inputs, already converted to their compute dtype;
``{f}``                 libm's float suffix: ``f`` for float32 and complex64 (``expf``,
                        ``cexpf``), empty for float64 and complex128;
``{T}``                 the C compute type of the output (``double``, ``int8_t``, ...).

An expression must compute what the row's ``numpy`` reference does, corners included (NaN,
signed zeros, division by zero, ``lo > hi``); the emitter uses it as written, with no
exceptions of its own.  The ``AOT_*`` helpers it names live in ``runtime/aotsym_scalar.h``
(the special functions' in ``runtime/aotsym_special.h``).
``cast`` is spelled by :func:`aotsym.emit_c.scalar_code.convert` (NumPy's conversion rules
need more than a cast); its entry here is the plain cast that the coverage test sees.

Adding a row to the IR's table means adding its spelling here (and in
:mod:`aotsym.emit_cuda.scalar_table`); ``tests/emit_c/test_emit_tables.py`` names any row or
dtype kind that is missing.
"""

from __future__ import annotations

C_SCALAR: dict[str, str | dict[str, str]] = {
    "add": {"b": "({0} || {1})", "*": "({0} + {1})"},
    "sub": "({0} - {1})",
    "mul": {"b": "({0} && {1})", "*": "({0} * {1})"},
    "true_div": "({0} / {1})",
    # float // is NumPy's npy_floor_divide, through fmod: 1.0 // 0.1 == 9.0, not floor(1 / 0.1)
    "int_div": {"i": "AOT_FLOORDIV_INT({0}, {1})", "u": "({1} ? {0} / {1} : 0)",
                "b": "({0} && {1})", "f": "AOT_FLOORDIV_FLOAT{f}({0}, {1})"},
    "mod": {"i": "AOT_MOD_INT({0}, {1})", "u": "({1} ? {0} % {1} : 0)", "b": "0",
            "f": "AOT_MOD_FLOAT{f}({0}, {1})"},
    "pow": {"i": "AOT_IPOW({0}, {1})", "u": "AOT_IPOW({0}, {1})", "f": "pow{f}({0}, {1})",
            "c": "cpow{f}({0}, {1})"},
    # NaN-propagating, as np.maximum / np.minimum (C's fmax / fmin drop the NaN)
    "maximum": {"f": "AOT_FMAX({0}, {1})", "*": "(({0}) > ({1}) ? ({0}) : ({1}))"},
    "minimum": {"f": "AOT_FMIN({0}, {1})", "*": "(({0}) < ({1}) ? ({0}) : ({1}))"},
    "arctan2": "atan2{f}({0}, {1})",

    "neg": {"b": "(!{0})", "*": "(-{0})"},
    "abs": {"f": "fabs{f}({0})", "i": "(({0}) < 0 ? -({0}) : ({0}))", "u": "{0}", "b": "{0}",
            "c": "cabs{f}({0})"},
    "sgn": {"f": "AOT_SIGN({0})", "i": "(({0}) > 0) - (({0}) < 0)", "u": "(({0}) > 0)",
            "b": "{0}"},
    "sqr": {"b": "{0}", "*": "({0} * {0})"},
    "sqrt": {"f": "sqrt{f}({0})", "c": "csqrt{f}({0})"},
    "reciprocal": "(({T})1 / {0})",
    "exp": {"f": "exp{f}({0})", "c": "cexp{f}({0})"},
    "exp2": "exp2{f}({0})",
    "expm1": "expm1{f}({0})",
    "log": {"f": "log{f}({0})", "c": "clog{f}({0})"},
    "log2": "log2{f}({0})",
    "log10": "log10{f}({0})",
    "log1p": "log1p{f}({0})",
    "sin": {"f": "sin{f}({0})", "c": "csin{f}({0})"},
    "cos": {"f": "cos{f}({0})", "c": "ccos{f}({0})"},
    "tan": "tan{f}({0})",
    "arcsin": "asin{f}({0})",
    "arccos": "acos{f}({0})",
    "arctan": "atan{f}({0})",
    "sinh": "sinh{f}({0})",
    "cosh": "cosh{f}({0})",
    "tanh": {"f": "AOT_TANH{f}({0})", "c": "ctanh{f}({0})"},
    "arcsinh": "asinh{f}({0})",
    "arccosh": "acosh{f}({0})",
    "arctanh": "atanh{f}({0})",
    "erf": "erf{f}({0})",
    "erfc": "erfc{f}({0})",
    # runtime/aotsym_special.h
    "gammaln": "AOT_GAMMALN{f}({0})",
    "gamma": "AOT_GAMMA{f}({0})",
    "psi": "AOT_PSI{f}({0})",
    "tri_gamma": "AOT_TRIGAMMA{f}({0})",
    "erfinv": "AOT_ERFINV{f}({0})",
    "erfcinv": "AOT_ERFCINV{f}({0})",
    "erfcx": "AOT_ERFCX{f}({0})",
    "j0": "AOT_J0{f}({0})",
    "j1": "AOT_J1{f}({0})",
    "jv": "AOT_JV{f}({0}, {1})",
    "i0": "AOT_I0{f}({0})",
    "i1": "AOT_I1{f}({0})",
    "iv": "AOT_IV{f}({0}, {1})",
    "gammainc": "AOT_GAMMAINC{f}({0}, {1})",
    "gammaincc": "AOT_GAMMAINCC{f}({0}, {1})",
    "gammal": "AOT_GAMMAL{f}({0}, {1})",
    "gammau": "AOT_GAMMAU{f}({0}, {1})",
    "chi2sf": "AOT_CHI2SF({0}, {1})",
    "sigmoid": "AOT_SIGMOID{f}({0})",
    "softplus": "AOT_SOFTPLUS{f}({0})",
    "floor": {"f": "floor{f}({0})", "*": "({0})"},
    "ceil": {"f": "ceil{f}({0})", "*": "({0})"},
    "trunc": {"f": "trunc{f}({0})", "*": "({0})"},
    "round_half_to_even": {"f": "nearbyint{f}({0})"},
    "identity": "{0}",
    "conj": {"c": "conj{f}({0})", "*": "{0}"},

    # NumPy orders complex numbers by real part, then imaginary part; C cannot compare them.
    "lt": {"c": "AOT_CLT({0}, {1})", "*": "({0} < {1})"},
    "le": {"c": "AOT_CLE({0}, {1})", "*": "({0} <= {1})"},
    "gt": {"c": "AOT_CLT({1}, {0})", "*": "({0} > {1})"},
    "ge": {"c": "AOT_CLE({1}, {0})", "*": "({0} >= {1})"},
    "eq": "({0} == {1})",
    "neq": "({0} != {1})",
    # a complex number is NaN (infinite) when either part is
    "isnan": {"f": "isnan({0})", "c": "(isnan(__real__ {0}) || isnan(__imag__ {0}))",
              "*": "0"},
    "isinf": {"f": "isinf({0})", "c": "(isinf(__real__ {0}) || isinf(__imag__ {0}))",
              "*": "0"},

    "and_": {"b": "({0} && {1})", "*": "({0} & {1})"},
    "or_": {"b": "({0} || {1})", "*": "({0} | {1})"},
    "xor": {"b": "({0} != {1})", "*": "({0} ^ {1})"},
    "invert": {"b": "(!{0})", "*": "(~{0})"},

    "switch": "AOT_SELECT({0}, {1}, {2})",   # branch-free for floats (aotsym_scalar.h)
    # clip is minimum(maximum(x, lo), hi), as NumPy: when lo > hi, hi wins
    "clip": {"f": "AOT_FMIN(AOT_FMAX({0}, {1}), {2})",
             "*": "AOT_IMIN(AOT_IMAX({0}, {1}), {2})"},
    "second": "{1}",
    "cast": "(({T}){0})",
}


def lookup(table: dict, name: str, kind: str) -> str | None:
    """The template ``table`` gives row ``name`` for a compute dtype of ``kind``, or None."""
    entry = table.get(name)
    if isinstance(entry, dict):
        return entry.get(kind, entry.get("*"))
    return entry


def c_spelling(name: str, kind: str) -> str | None:
    """The C template of row ``name`` for a compute dtype of ``kind`` (None: not spelled)."""
    return lookup(C_SCALAR, name, kind)
