"""``aotsym.tensor.inplace`` (Theano's ``theano.tensor.inplace``): ``exp_inplace(a)``,
``add_inplace(a, b)`` ... for code that imports them.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  Theano's versions
build the elementwise op marked to write its result over its first input; aotsym decides in
place writes itself (the optimizer's ``inplace`` stage, on intermediates only), so these are
the ordinary functions: the value is the same, and the first input is not overwritten (in
Theano its value is undefined after the call, so no program may read it).  Theano's type
rule is kept: the result must have the first input's dtype and broadcastable pattern (it is
written over it), else a TypeError, as Theano's ``Elemwise`` raised for an in-place pattern.
"""

from __future__ import annotations

from aotsym import tensor as _T

_NAMES = ("lt gt le ge eq neq and_ or_ xor invert abs_ exp exp2 expm1 neg inv log log1p log2 "
          "log10 sgn ceil floor trunc round_half_to_even round_half_away_from_zero sqr sqrt "
          "deg2rad rad2deg cos arccos sin arcsin tan arctan arctan2 cosh arccosh sinh arcsinh "
          "tanh arctanh erf erfc erfcx gamma gammaln psi tri_gamma chi2sf j0 j1 jv i0 i1 iv "
          "second maximum minimum add sub mul true_div int_div mod pow conj").split()


def _inplace(name):
    function = getattr(_T, name)

    def build(a, *rest):
        a = _T.as_tensor_variable(a)
        out = function(a, *rest)
        if out.dtype != a.dtype or out.broadcastable != a.broadcastable:
            raise TypeError(f"{name}_inplace: the result ({out.type}) cannot be written over "
                            f"its first input ({a.type}); use T.{name}")
        return out

    build.__name__ = build.__qualname__ = f"{name}_inplace"
    build.__doc__ = (f"Theano's ``{name}_inplace``: ``T.{name}`` with the result's type checked "
                     "to be its first input's (see the module docstring).")
    return build


for _name in _NAMES:
    globals()[f"{_name}_inplace"] = _inplace(_name)


def transpose_inplace(x):
    """Theano's ``transpose_inplace``: ``x.T`` (a view in aotsym as in Theano)."""
    return _T.as_tensor_variable(x).T


__all__ = [f"{n}_inplace" for n in _NAMES] + ["transpose_inplace"]
