"""Calling one function of a built CUDA module: NumPy arrays in, fresh NumPy arrays out.

Part of the build stage (emit_cuda -> **build** -> module.so).  Imports nothing of aotsym, so
that a standalone CUDA package (not built yet: ``aotsym build --target cuda`` refuses) can
carry a copy of it; in-process, :class:`aotsym.build.cuda.CudaRunner` uses it.  The entry's C
side is ``runtime/aotsym_cuda_api.h``: arguments as C-contiguous host arrays (copied to the
device by the module), results in malloc'd host buffers this side owns (freed by
``aotcu_host_free`` when the array is collected: no copy).
"""

import numpy as np

# aot_cu_error.code -> the exception raised (AOT_CU_ERR_*)
ERRORS = {1: RuntimeError, 2: ValueError, 3: MemoryError, 4: RuntimeError, 5: IndexError}
DEVICE_MISSING = 4


class CudaCall:
    """``call(values) -> list of arrays`` for the C entry ``c_name`` of the cffi extension
    ``ext``; ``in_dtypes`` / ``out_dtypes`` are dtype names, ``descriptions`` the failing
    step's text per step number, ``name`` the function's name in messages."""

    def __init__(self, ext, c_name, in_dtypes, out_dtypes, descriptions, name):
        self.ext = ext
        self.entry = getattr(ext.lib, c_name)
        self.in_dtypes = [np.dtype(d) for d in in_dtypes]
        self.out_dtypes = [np.dtype(d) for d in out_dtypes]
        self.descriptions = list(descriptions)
        self.name = name

    def __call__(self, values):
        ffi, lib = self.ext.ffi, self.ext.lib
        ins = ffi.new("aot_cu_in[]", max(1, len(self.in_dtypes)))
        keep = []
        for k, (value, dtype) in enumerate(zip(values, self.in_dtypes)):
            arr = np.ascontiguousarray(value, dtype=dtype)
            keep.append(arr)
            ins[k].data = ffi.from_buffer(arr) if arr.size else ffi.NULL
            for d, n in enumerate(arr.shape):
                ins[k].shape[d] = n
        outs = ffi.new("aot_cu_out[]", max(1, len(self.out_dtypes)))
        err = ffi.new("aot_cu_error *")
        if self.entry(ins, outs, err):
            raise self.error(err)
        results = []
        for j, dtype in enumerate(self.out_dtypes):
            shape = tuple(outs[j].shape[d] for d in range(outs[j].ndim))
            owner = ffi.gc(outs[j].data, lib.aotcu_host_free)
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            arr = np.frombuffer(ffi.buffer(owner, nbytes), dtype=dtype) if nbytes else \
                np.empty(0, dtype)
            results.append(arr.reshape(shape))
        return results

    def error(self, err):
        """The exception of a failed call: what failed and, for a step, which op and line."""
        message = self.ext.ffi.string(err.message).decode(errors="replace")
        if err.code == DEVICE_MISSING:
            return RuntimeError(f"cannot run the CUDA function {self.name}(): {message}")
        if 0 <= err.step < len(self.descriptions):
            message += (f"\n  while computing {self.descriptions[err.step]}"
                        f"\n  in {self.name}()")
        return ERRORS.get(err.code, RuntimeError)(message)

    def check_device(self):
        """Raise the RuntimeError naming what is missing when no usable GPU is here."""
        err = self.ext.ffi.new("aot_cu_error *")
        if self.ext.lib.aotcu_init(err):
            raise self.error(err)

