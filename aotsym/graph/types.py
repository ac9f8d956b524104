"""Tensor types: the static half of every value in the IR.

Sits at the bottom of the pipeline (frontend -> **graph** -> optimizer -> emitters): every
variable carries a :class:`TensorType` ``(dtype, broadcastable)``.  ``ndim`` is
``len(broadcastable)``; a dimension marked broadcastable is known to have length 1 and is the
*only* kind of dimension that broadcasts (Theano's rule: broadcasting is decided statically, so
kernels and gradients know it at compile time).

Dtype promotion, written down once and used by every layer:

* tensor with tensor: NumPy's ``np.result_type`` of the two dtypes (there is no float16);
* a Python ``bool``/``int``/``float``/``complex`` is *weak*: it takes the other operand's dtype
  when that dtype can hold its kind (``int`` into any integer or float tensor, ``float`` into
  any float tensor), so ``float32 * 2.0`` stays float32; an ``int`` or ``bool`` tensor with a
  Python ``float`` becomes ``floatX``; a Python value alone becomes int64 / floatX / bool;
  an ``int`` the integer tensor's dtype cannot hold counts as the smallest of int8 ... int64
  (uint64) that holds it, Theano's constant rule (and NumPy 1's), where NumPy 2 raises
  OverflowError: ``int8 + 300`` is int16, ``uint8 + (-1)`` int16, ``int32 * 2**34`` int64;
* NumPy scalars and arrays are strong: their dtype counts like a tensor's;
* functions that need a float (``exp``, ``/``, ``mean`` ...) lift integers with
  :func:`upgrade_to_float`: int8/uint8/int16/uint16/bool -> float32, wider -> float64.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

INT_DTYPES = ("int8", "int16", "int32", "int64")
UINT_DTYPES = ("uint8", "uint16", "uint32", "uint64")
FLOAT_DTYPES = ("float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
DTYPES = ("bool",) + INT_DTYPES + UINT_DTYPES + FLOAT_DTYPES + COMPLEX_DTYPES

# Theano's one-letter prefixes for T.fscalar, T.dvector, T.imatrix, ...
PREFIX_DTYPES = {
    "b": "int8", "w": "int16", "i": "int32", "l": "int64",
    "f": "float32", "d": "float64", "c": "complex64", "z": "complex128",
}


@lru_cache(maxsize=None)
def dtype_kind(dtype: str) -> str:
    """'b' bool, 'i' signed, 'u' unsigned, 'f' float, 'c' complex."""
    return np.dtype(dtype).kind


class BadArgumentError(TypeError, ValueError):
    """An argument of the wrong kind where NumPy raises a ValueError and Theano a TypeError
    (or the other way round): ``except TypeError`` and ``except ValueError`` both catch it."""


def check_dtype(dtype) -> str:
    """Normalise a dtype spelling (``'float32'``, ``np.float32``, ``float``, Theano's
    ``'floatX'`` for ``config.floatX``) or raise."""
    if dtype in _DTYPE_SET:
        return dtype
    if isinstance(dtype, str) and dtype == "floatX":
        return floatx()
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in DTYPES:
        raise TypeError(f"unsupported dtype {dtype!r}; aotsym supports {', '.join(DTYPES)}")
    return name


_DTYPE_SET = frozenset(DTYPES)


@lru_cache(maxsize=4096)
def upcast(*dtypes: str) -> str:
    """The dtype of a NumPy operation mixing tensors of these dtypes."""
    return np.result_type(*dtypes).name


@lru_cache(maxsize=None)
def upgrade_to_float(dtype: str) -> str:
    """The float dtype a float-only function computes in for an input of ``dtype``."""
    if dtype_kind(dtype) in "fc":
        return dtype
    if dtype in ("bool", "int8", "uint8", "int16", "uint16"):
        return "float32"
    return "float64"


def floatx() -> str:
    from aotsym.config import config  # config sits beside the graph, read at call time
    return config.floatX


def weak_scalar_dtype(value, other_dtypes) -> str:
    """The dtype a Python scalar takes beside tensors of ``other_dtypes`` (module docstring)."""
    kinds = [dtype_kind(d) for d in other_dtypes]
    if isinstance(value, bool):
        return upcast(*other_dtypes) if other_dtypes else "bool"
    if isinstance(value, int):
        if not other_dtypes or all(k == "b" for k in kinds):
            return "int64" if -2**63 <= value < 2**63 else "uint64"
        dtype = upcast(*[d for d in other_dtypes if d != "bool"])
        if dtype_kind(dtype) in "iu" and not _holds(dtype, value):
            dtype = upcast(dtype, _smallest_int(value))
        return dtype
    if isinstance(value, float):
        floats = [d for d, k in zip(other_dtypes, kinds) if k in "fc"]
        return upcast(*floats) if floats else floatx()
    if isinstance(value, complex):
        cplx = [d for d, k in zip(other_dtypes, kinds) if k == "c"]
        if cplx:
            return upcast(*cplx)
        floats = [d for d, k in zip(other_dtypes, kinds) if k == "f"]
        return "complex64" if floats and upcast(*floats) == "float32" else "complex128"
    raise TypeError(f"not a Python scalar: {value!r}")


def _holds(dtype, value) -> bool:
    low, high = _int_range(dtype)
    return low <= value <= high


@lru_cache(maxsize=None)
def _int_range(dtype) -> tuple:
    """(min, max) of an integer dtype, as Python ints (asked while tracing: np.iinfo once)."""
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _smallest_int(value) -> str:
    """Theano's autocast of a Python int: the first of int8 ... int64 that holds it (uint64
    past int64; beyond that NumPy's OverflowError when the constant is made)."""
    return next((d for d in INT_DTYPES if _holds(d, value)), "uint64")


MAX_NDIM = 64   # NumPy's NPY_MAXDIMS (since NumPy 2)


_THEANO_SHAPE_NAMES = {(): "scalar", (False,): "vector", (False, True): "col", (True, False): "row",
                       (False, False): "matrix"}


class TensorType:
    """The static type of a tensor: dtype and broadcastable pattern.  Immutable, hashable."""

    __slots__ = ("dtype", "broadcastable", "_hash")
    _cache: dict = {}

    def __new__(cls, dtype, broadcastable=(), name=None, sparse_grad=False):
        # name / sparse_grad: Theano's TensorType arguments, accepted (types are interned by
        # dtype and broadcastable; a type's name is not kept)
        key = (dtype, broadcastable if type(broadcastable) is tuple else tuple(broadcastable))
        found = cls._cache.get(key)
        if found is not None:
            return found
        if len(key[1]) > MAX_NDIM:
            raise ValueError(f"a tensor of {len(key[1])} dimensions: aotsym, like NumPy, "
                             f"supports at most {MAX_NDIM}")
        self = object.__new__(cls)
        object.__setattr__(self, "dtype", check_dtype(dtype))
        object.__setattr__(self, "broadcastable", tuple(bool(b) for b in key[1]))
        object.__setattr__(self, "_hash", hash((self.dtype, self.broadcastable)))
        if all(type(b) is bool for b in key[1]) and isinstance(dtype, str):
            cls._cache[key] = self
        return self

    def __init__(self, dtype, broadcastable=(), name=None, sparse_grad=False):
        pass  # built (and cached) in __new__

    def __reduce__(self):
        return (TensorType, (self.dtype, self.broadcastable))

    def __setattr__(self, name, value):
        raise AttributeError("TensorType is immutable")

    @property
    def ndim(self) -> int:
        return len(self.broadcastable)

    def __eq__(self, other):
        return (type(other) is TensorType and self.dtype == other.dtype
                and self.broadcastable == other.broadcastable)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        """Theano's text: ``TensorType(float64, matrix)``, ``TensorType(float32, row)``,
        ``TensorType(int8, 3D)``, ``TensorType(float64, (True, False, False))``."""
        b = self.broadcastable
        shape = _THEANO_SHAPE_NAMES.get(b) or (str(b) if any(b) else f"{len(b)}D")
        return f"TensorType({self.dtype}, {shape})"

    def __str__(self):
        shape = ", ".join("1" if b else "?" for b in self.broadcastable)
        return f"{self.dtype}[{shape}]" if self.ndim else self.dtype

    def clone(self, dtype=None, broadcastable=None) -> "TensorType":
        return TensorType(self.dtype if dtype is None else dtype,
                          self.broadcastable if broadcastable is None else broadcastable)

    def __call__(self, name=None):
        """Theano spelling: ``TensorType('float64', (False,))('x')`` makes an input variable."""
        from aotsym.graph.basic import Variable
        return Variable(self, name=name)

    def describe(self) -> str:
        """Words for error messages: 'a float32 matrix'."""
        names = {0: "scalar", 1: "vector", 2: "matrix"}
        shape = names.get(self.ndim, f"{self.ndim}-d tensor")
        if self.ndim == 2 and self.broadcastable == (True, False):
            shape = "row"
        elif self.ndim == 2 and self.broadcastable == (False, True):
            shape = "col"
        return f"a {self.dtype} {shape}"
