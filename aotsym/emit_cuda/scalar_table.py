"""How CUDA device code spells each row of the scalar op table.

Part of the CUDA renderer (graph -> optimizer -> **emit_cuda** -> build).  The IR's table
(:mod:`aotsym.graph.scalar`) says what each scalar op computes; this table says how a CUDA
kernel writes it.  The layout and placeholders are those of the C table
(:mod:`aotsym.emit_c.scalar_table`), and so is most of the content: ``CUDA_SCALAR`` is the
C table with the rows of ``CUDA_OVERRIDES`` replaced.

``CUDA_SCALAR`` maps a row's name to an expression template, or to a dict of templates keyed
by the kind of the compute dtype (``b`` ``i`` ``u`` ``f`` ``c``) with ``*`` as the fallback;
``{0}`` ``{1}`` ``{2}`` are the inputs already in their compute dtype
(:data:`aotsym.emit_cuda.dtypes.COMPUTE`), ``{f}`` is ``f`` for float32 / complex64 (CUDA's
single-precision device functions ``expf``, ``logf``, ...), ``{T}`` the output's compute type.

Spelling choices:

* complex numbers are ``thrust::complex<float>`` / ``<double>`` (``<thrust/complex.h>``, in
  every CUDA toolkit): its operators and ``thrust::exp`` / ``log`` / ``sqrt`` / ``pow`` /
  ``sin`` / ``cos`` / ``tanh`` / ``abs`` / ``conj`` follow C99's Annex G, as the C backend's
  ``<complex.h>`` does;
* the ``aot_cu_*`` helpers are ``__device__`` functions of ``runtime/aotsym_cuda_scalar.cuh``,
  overloaded by type, and compute exactly what NumPy does where C's operators or CUDA's
  functions do not: integer and float ``//`` and ``%`` (floor semantics, 0 for an integer
  division by zero, no trap for INT_MIN // -1), NaN-propagating ``maximum`` / ``minimum`` /
  ``clip`` (CUDA's ``fmax`` drops the NaN), ``sign``, stable ``sigmoid`` / ``softplus``, the
  integer power (wrapping; a negative exponent sets the runtime's flag) and NumPy's order of
  complex numbers;
* ``round_half_to_even`` is ``rint`` (round half to even, as ``np.rint``).

Exactness: integer arithmetic, comparisons, max/min, ``//`` and ``%``, rounding and the
IEEE-exact operations (``+ - * /``, ``sqrt``) give NumPy's bits; the transcendental functions
agree within the CUDA Math API's documented ulp bounds, as the C backend's agree within libm's.
That holds only when the kernels are compiled without ``--use_fast_math``.

``tests/emit_cuda/test_cuda_tables.py`` names any row or dtype kind missing here and compiles
every spelling with ``nvcc``.
"""

from __future__ import annotations

from aotsym.emit_c.scalar_table import C_SCALAR, lookup

# The rows CUDA spells differently from C (the C renderer's table is the base: the CUDA
# renderer is the C renderer plus these overrides, as tinygrad's is).  A row overridden here
# is replaced whole, every dtype kind of it.
CUDA_OVERRIDES: dict[str, str | dict[str, str]] = {
    "int_div": {"i": "aot_cu_floordiv({0}, {1})", "u": "({1} ? {0} / {1} : 0)",
                "b": "({0} && {1})", "f": "aot_cu_floordiv({0}, {1})"},
    "mod": {"i": "aot_cu_mod({0}, {1})", "u": "({1} ? {0} % {1} : 0)", "b": "0",
            "f": "aot_cu_mod({0}, {1})"},
    "pow": {"i": "aot_cu_ipow({0}, {1})", "u": "aot_cu_ipow({0}, {1})", "f": "pow{f}({0}, {1})",
            "c": "thrust::pow({0}, {1})"},
    "maximum": {"f": "aot_cu_fmax({0}, {1})", "*": "(({0}) > ({1}) ? ({0}) : ({1}))"},
    "minimum": {"f": "aot_cu_fmin({0}, {1})", "*": "(({0}) < ({1}) ? ({0}) : ({1}))"},
    "abs": {"f": "fabs{f}({0})", "i": "(({0}) < 0 ? -({0}) : ({0}))", "u": "{0}", "b": "{0}",
            "c": "thrust::abs({0})"},
    "sgn": {"f": "aot_cu_sign({0})", "i": "((({0}) > 0) - (({0}) < 0))", "u": "(({0}) > 0)",
            "b": "{0}"},
    "sqrt": {"f": "sqrt{f}({0})", "c": "thrust::sqrt({0})"},
    "exp": {"f": "exp{f}({0})", "c": "thrust::exp({0})"},
    "log": {"f": "log{f}({0})", "c": "thrust::log({0})"},
    "sin": {"f": "sin{f}({0})", "c": "thrust::sin({0})"},
    "cos": {"f": "cos{f}({0})", "c": "thrust::cos({0})"},
    "tanh": {"f": "tanh{f}({0})", "c": "thrust::tanh({0})"},
    # CUDA's math library has lgamma, tgamma, erfinv, erfcinv; psi and tri_gamma have no
    # spelling (CUDA_UNSPELLED): building them for the GPU is a build-time CudaEmitError
    "gammaln": "(isinf({0}) && {0} < 0 ? {0} : lgamma{f}({0}))",
    "gamma": "tgamma{f}({0})",
    "psi": {},
    "tri_gamma": {},
    "erfinv": "erfinv{f}({0})",
    "erfcinv": "erfcinv{f}({0})",
    # runtime/aotsym_special.h's (host and device there), through the .cuh's aot_cu_*
    "erfcx": "aot_cu_erfcx({0})",
    "j0": "aot_cu_j0({0})",
    "j1": "aot_cu_j1({0})",
    "jv": "aot_cu_jv({0}, {1})",
    "i0": "aot_cu_i0({0})",
    "i1": "aot_cu_i1({0})",
    "iv": "aot_cu_iv({0}, {1})",
    "gammainc": "aot_cu_gammainc({0}, {1})",
    "gammaincc": "aot_cu_gammaincc({0}, {1})",
    "gammal": "aot_cu_gammal({0}, {1})",
    "gammau": "aot_cu_gammau({0}, {1})",
    "chi2sf": "aot_cu_chi2sf({0}, {1})",
    "switch": "({0} ? {1} : {2})",   # (C's AOT_SELECT is for its vectorizer's sake)
    "sigmoid": "aot_cu_sigmoid({0})",
    "softplus": "aot_cu_softplus({0})",
    "round_half_to_even": {"f": "rint{f}({0})"},
    "conj": {"c": "thrust::conj({0})", "*": "{0}"},
    "lt": {"c": "aot_cu_clt({0}, {1})", "*": "({0} < {1})"},
    "le": {"c": "aot_cu_cle({0}, {1})", "*": "({0} <= {1})"},
    "gt": {"c": "aot_cu_clt({1}, {0})", "*": "({0} > {1})"},
    "ge": {"c": "aot_cu_cle({1}, {0})", "*": "({0} >= {1})"},
    "isnan": {"f": "isnan({0})", "c": "aot_cu_isnan({0})", "*": "false"},
    "isinf": {"f": "isinf({0})", "c": "aot_cu_isinf({0})", "*": "false"},
    "clip": {"f": "aot_cu_fmin(aot_cu_fmax({0}, {1}), {2})",
             "*": "aot_cu_imin(aot_cu_imax({0}, {1}), {2})"},
}

CUDA_SCALAR: dict[str, str | dict[str, str]] = {**C_SCALAR, **CUDA_OVERRIDES}

# Rows with no CUDA spelling yet (their entry above is empty), and what one would take: a
# graph using them is refused when it is built for the GPU (CudaEmitError naming the row).
CUDA_UNSPELLED = {
    "psi": "an aot_cu_psi device function (runtime/aotsym_special.h's AOT_PSI) in the .cuh",
    "tri_gamma": "an aot_cu_trigamma device function (AOT_TRIGAMMA) in the .cuh",
}


def cuda_spelling(name: str, kind: str) -> str | None:
    """The CUDA template of row ``name`` for a compute dtype of ``kind`` (None: not spelled)."""
    return lookup(CUDA_SCALAR, name, kind)
