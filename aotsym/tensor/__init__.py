"""``aotsym.tensor`` (``T``): the Theano-compatible namespace of symbolic tensor functions.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  Variable constructors
are defined here; everything else is re-exported from the op modules of ``aotsym.graph.ops``
(resolved on first use through the table ``_EXPORTS``, so importing aotsym stays fast).
"""

from __future__ import annotations

import importlib

import numpy as np

from aotsym.graph.basic import Constant, Variable
from aotsym.graph.basic import constant as _constant
from aotsym.graph.types import INT_DTYPES, PREFIX_DTYPES, TensorType, check_dtype, floatx

# ---------------------------------------------------------------------------- variables

_SHAPES = {
    "scalar": (), "vector": (False,), "matrix": (False, False), "row": (True, False),
    "col": (False, True), "tensor3": (False,) * 3, "tensor4": (False,) * 4,
    "tensor5": (False,) * 5, "tensor6": (False,) * 6, "tensor7": (False,) * 7,
}


def tensor(dtype=None, broadcastable=None, name=None, shape=None):
    """A symbolic input: ``T.tensor('float32', (False, True), name='x')``.

    ``shape`` (a tuple of ints or None) may be given instead of ``broadcastable``: a 1 there
    means broadcastable, as in PyTensor.
    """
    if isinstance(broadcastable, str) and name is None:  # T.tensor(dtype, name) misuse guard
        raise TypeError("T.tensor(dtype, broadcastable, name): broadcastable must be a tuple")
    if broadcastable is None:
        if shape is None:
            raise TypeError("T.tensor needs broadcastable=(...) or shape=(...)")
        broadcastable = tuple(s == 1 for s in shape)
    return TensorType(check_dtype(dtype or floatx()), broadcastable)(name)


def _constructor(kind, dtype=None):
    pattern = _SHAPES[kind]

    def make(name=None, dtype=dtype):
        return TensorType(check_dtype(dtype or floatx()), pattern)(name)
    make.__name__ = kind
    make.__doc__ = f"A symbolic {kind} input (dtype defaults to aotsym.config.floatX)."
    return make


def _plural(single, name):
    def make(*names, dtype=None):
        """Theano's rule: ``T.matrices(3)`` three unnamed, ``T.matrices('a', 'b')`` one per
        name, and one string is one variable per character (``p, t = T.matrices('pt')``;
        a one-character string gives the variable itself, not a list).  A string with
        commas is split at them (``T.matrices('x, y')``)."""
        kw = {} if dtype is None else {"dtype": dtype}  # keep T.fvectors' own float32
        if len(names) == 1 and isinstance(names[0], int):
            return [single(**kw) for _ in range(names[0])]
        if len(names) == 1 and isinstance(names[0], str):
            if "," in names[0]:
                names = [n.strip() for n in names[0].split(",")]
            elif len(names[0]) == 1:
                return single(names[0], **kw)
            else:
                names = list(names[0])
        return [single(n, **kw) for n in names]
    make.__name__ = name
    return make


def _plural_name(kind):
    return "matrices" if kind == "matrix" else kind + "s"  # Theano: T.matrices, T.fmatrices


# T.matrix(name=None, dtype=None) is a function (floatX by default); T.dmatrix, T.fvector,
# T.iscalar ... are types, as in Theano: T.dmatrix('x') makes a variable (TensorType's call),
# T.dscalar prints as TensorType(float64, scalar), and T.dscalar('x').type is T.dscalar
for _kind in _SHAPES:
    globals()[_kind] = _constructor(_kind)
    globals()[_plural_name(_kind)] = _plural(globals()[_kind], _plural_name(_kind))
    for _p, _dt in PREFIX_DTYPES.items():
        globals()[_p + _kind] = TensorType(_dt, _SHAPES[_kind])
        globals()[_p + _plural_name(_kind)] = _plural(globals()[_p + _kind],
                                                      _p + _plural_name(_kind))


def constant(x, name=None, ndim=None, dtype=None):
    """Theano's ``T.constant(x, name=None, ndim=None, dtype=None)``.

    Without ``dtype``, Theano's autocast of Python numbers: an ``int`` is the smallest of
    int8 ... int64 that holds it, a ``float`` is ``floatX``.  Code relies on it: Lasagne's
    updates write ``one = T.constant(1)`` so that ``one - beta`` stays float32 under
    floatX=float32 (an int64 one would make it float64).  NumPy values keep their dtype.
    ``ndim``: the constant's number of dimensions, padded on the left with length-1 axes
    (a ValueError if it has more)."""
    python = not isinstance(x, (np.generic, bool))    # np.float64 is a float subclass
    if dtype is None and python and isinstance(x, int):
        fits = [d for d in INT_DTYPES if np.iinfo(d).min <= x <= np.iinfo(d).max]
        dtype = fits[0] if fits else "uint64"
    elif dtype is None and python and isinstance(x, float):
        dtype = floatx()
    if ndim is not None:
        arr = np.asarray(x, dtype=dtype)
        if arr.ndim > ndim:
            raise ValueError(f"T.constant: a value of {arr.ndim} dimensions for ndim={ndim}")
        x = arr.reshape((1,) * (ndim - arr.ndim) + arr.shape)
    return _constant(x, dtype=dtype, name=name)


# ---------------------------------------------------------------------------- functions

_EXPORTS = {
    "aotsym.graph.ops.math": (
        "add mul sub neg abs abs_ sgn sign sqr sqrt reciprocal inv exp exp2 expm1 log log2 log10 "
        "log1p sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh arccosh arctanh "
        "erf erfc sigmoid softplus floor ceil trunc round round_half_to_even "
        "round_half_away_from_zero identity conj "
        "true_div int_div mod pow maximum minimum lt le gt ge eq neq isnan isinf and_ or_ xor "
        "invert bitwise_and bitwise_or bitwise_xor bitwise_not switch where clip cast fill "
        "second elemwise"),
    "aotsym.graph.ops.reduce": "sum prod mean var std max min all any argmax argmin",
    "aotsym.graph.ops.shape": "shape shape_i specify_shape",
    "aotsym.graph.ops.elemwise": "dimshuffle",
    "aotsym.graph.ops.blas": "dot tensordot batched_dot batched_tensordot matmul outer",
    "aotsym.graph.ops.reshape": "reshape flatten transpose",
    "aotsym.graph.ops.subtensor": "set_subtensor inc_subtensor take",
    "aotsym.graph.ops.join": "concatenate stack join",
    "aotsym.graph.ops.alloc": (
        "alloc zeros ones zeros_like ones_like arange eye full identity_like"),
    "aotsym.graph.ops.nnet": (
        "softmax log_softmax logsumexp binary_crossentropy categorical_crossentropy relu"),
    "aotsym.gradient": "verify_grad jacobian hessian Lop Rop",
    "aotsym.tensor.extra_ops": (
        "cumsum cumprod diff repeat bincount squeeze fill_diagonal to_one_hot"),
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names.split()}
# Modules whose ``__all__`` is part of this namespace too (read when a name is not above).
_MORE = ("aotsym.tensor.basic", "aotsym.tensor.special", "aotsym.tensor.elemwise",
         "aotsym.tensor.sort")
_ALIASES = {"true_divide": "true_div", "floor_div": "int_div", "power": "pow",
            "argmax_": "argmax", "concat": "concatenate"}


def __getattr__(name):
    name_ = _ALIASES.get(name, name)
    if name_ == "nnet":
        return importlib.import_module("aotsym.nnet")
    if name_ == "signal":
        return importlib.import_module("aotsym.tensor.signal")
    if name_ in ("xlogx", "extra_ops", "nlinalg", "slinalg", "shared_randomstreams",
                 "sharedvar", "elemwise", "var", "sort", "type", "fft"):   # Theano's submodules
        # (var, sort and elemwise are callable as the functions of their names: T.var(x) is
        # the variance, T.var.TensorVariable Theano's class, as in Theano)
        return importlib.import_module(f"aotsym.tensor.{name_}")
    if name_ == "TensorSharedVariable":
        return importlib.import_module("aotsym.frontend.shared").SharedVariable
    if name_ == "_shared":   # Theano's tensor shared constructor (its tests' self.shared)
        return importlib.import_module("aotsym.frontend.shared").shared
    if name_ in ("grad",):
        from aotsym.frontend.grad import grad
        return grad
    if name_ in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name_]), name_)
        globals()[name] = value
        return value
    for module in _more():
        if name_ in getattr(module, "__all__", ()):
            value = globals()[name] = getattr(module, name_)
            return value
    raise AttributeError(f"aotsym.tensor has no attribute {name!r}")


def _more():
    for name in _MORE:
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def __dir__():
    more = [n for module in _more() for n in getattr(module, "__all__", ())]
    return sorted(set(list(globals()) + list(_WHERE) + more + ["nnet", "grad"]))


as_tensor_variable = importlib.import_module("aotsym.graph.convert").as_tensor_variable

# Theano's variable classes: one Variable class here (isinstance(x, T.TensorVariable) is
# Lasagne's check for a symbolic value); TensorSharedVariable resolves in __getattr__.
TensorVariable = Variable
TensorConstant = Constant
as_tensor = as_tensor_variable
