"""C spellings of the IR's dtypes: storage types, compute types, NumPy type numbers, literals.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  One table per question, so
the templates never decide a type:

* ``storage``: how an element sits in memory (NumPy's layout; ``bool`` is one byte 0/1);
* ``compute``: the C type an expression computes in (``bool`` computes as ``_Bool`` so a
  conversion to it is ``!= 0``, as in NumPy);
* ``typenum``: NumPy's C type number, for argument checks and for wrapping results;
* :func:`literal`: an exact C literal of a value (hex floats, named limits, NaN/inf macros).
"""

from __future__ import annotations

import math

import numpy as np

STORAGE = {
    "bool": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
    "int64": "int64_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
    "uint64": "uint64_t", "float32": "float", "float64": "double",
    "complex64": "float _Complex", "complex128": "double _Complex",
}

COMPUTE = dict(STORAGE, bool="_Bool")

TYPENUM = {
    "bool": "NPY_BOOL", "int8": "NPY_INT8", "int16": "NPY_INT16", "int32": "NPY_INT32",
    "int64": "NPY_INT64", "uint8": "NPY_UINT8", "uint16": "NPY_UINT16",
    "uint32": "NPY_UINT32", "uint64": "NPY_UINT64", "float32": "NPY_FLOAT32",
    "float64": "NPY_FLOAT64", "complex64": "NPY_COMPLEX64", "complex128": "NPY_COMPLEX128",
}

# libm suffix ({f} in the scalar table): float32 and complex64 use the "f" functions.
LIBM_SUFFIX = {"float32": "f", "complex64": "f"}

# The suffix of the runtime's saturating float -> integer conversions (aot_f2i_*).
F2I = {"int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
       "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64"}


def itemsize(dtype: str) -> int:
    return np.dtype(dtype).itemsize


def kind(dtype: str) -> str:
    return np.dtype(dtype).kind


def _float_literal(x: float, dtype: str) -> str:
    suffix = "f" if dtype in ("float32", "complex64") else ""
    if math.isnan(x):
        return f"({COMPUTE[_real(dtype)]})NAN"
    if math.isinf(x):
        return f"({COMPUTE[_real(dtype)]})INFINITY" if x > 0 else \
            f"(-({COMPUTE[_real(dtype)]})INFINITY)"
    return float(x).hex() + suffix


def _real(dtype: str) -> str:
    return {"complex64": "float32", "complex128": "float64"}.get(dtype, dtype)


def literal(value, dtype: str) -> str:
    """An exact C expression of type ``COMPUTE[dtype]`` for one scalar ``value``."""
    v = np.asarray(value).astype(dtype)[()]
    k = kind(dtype)
    if k == "b":
        return "1" if bool(v) else "0"
    if k in "iu":
        info = np.iinfo(dtype)
        n = int(v)
        if n == info.min and k == "i":
            return f"INT{info.bits}_MIN"
        if k == "u":
            return f"(({STORAGE[dtype]}){n}ULL)"
        return f"(({STORAGE[dtype]}){n}LL)"
    if k == "f":
        return _float_literal(float(v), dtype)
    real = _float_literal(float(v.real), _real(dtype))
    imag = _float_literal(float(v.imag), _real(dtype))
    return f"__builtin_complex(({COMPUTE[_real(dtype)]}){real}, ({COMPUTE[_real(dtype)]}){imag})"


def array_initializer(data: np.ndarray) -> tuple[str, str, int]:
    """(C element type, brace initializer text, element count) of a constant's bytes.

    Floats are written as exact hex literals; complex values as interleaved real/imag
    floats; the C element type is the storage type of the real component.
    """
    flat = np.ascontiguousarray(data).reshape(-1)
    dtype = flat.dtype.name
    if kind(dtype) == "c":
        flat = flat.view(_real(dtype))
        dtype = _real(dtype)
    items = [literal(x, dtype) for x in flat.tolist()] if flat.size else ["0"]
    lines = []
    for i in range(0, len(items), 8):
        lines.append("    " + ", ".join(items[i:i + 8]) + ",")
    return STORAGE[dtype], "\n".join(lines), max(flat.size, 1)
