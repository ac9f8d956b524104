"""CUDA spellings of the IR's dtypes: the storage type and the compute type of each.

Part of the CUDA renderer (graph -> optimizer -> **emit_cuda** -> build).  The same questions
as :mod:`aotsym.emit_c.dtypes`, answered for CUDA C++ device code:

* ``STORAGE``: how an element sits in device memory, byte for byte NumPy's layout (``bool``
  is one byte 0/1; ``complex64`` is two float32, real then imaginary).  ``thrust::complex``
  is aligned to its full size (8 / 16 bytes) where NumPy asks only for its part's; device
  buffers come from ``cudaMalloc`` (256-byte aligned) with element-sized strides, so every
  element is aligned;
* ``COMPUTE``: the type an expression computes in (``bool`` computes as C++ ``bool``, so a
  conversion to it is ``!= 0``, as in NumPy);
* ``LIBM_SUFFIX``: the ``{f}`` of the scalar table: float32 uses CUDA's ``f`` device
  functions (``expf``, ``logf``, ...);
* ``F2I``: the suffix of the runtime's float -> integer conversions (``aot_cu_f2i_*``).

There is no float16: it is not a dtype of the IR.
"""

from __future__ import annotations

STORAGE = {
    "bool": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
    "int64": "int64_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
    "uint64": "uint64_t", "float32": "float", "float64": "double",
    "complex64": "thrust::complex<float>", "complex128": "thrust::complex<double>",
}

COMPUTE = dict(STORAGE, bool="bool")

LIBM_SUFFIX = {"float32": "f", "complex64": "f"}

F2I = {"int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
       "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64"}
