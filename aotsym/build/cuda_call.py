"""Calling one function of a built CUDA module: NumPy arrays in, fresh NumPy arrays out.

Part of the build stage (emit_cuda -> **build** -> module.so).  Imports nothing of aotsym, so
that a standalone CUDA package (``aotsym build --target cuda``, :mod:`.standalone`) carries a
copy of it in its ``__init__.py``; in-process, :class:`aotsym.build.cuda.CudaRunner` uses
:class:`CudaCall`.  The entry's C side is ``runtime/aotsym_cuda_api.h``: arguments as
C-contiguous host arrays (copied to the device by the module), results in malloc'd host
buffers this side owns (freed by ``aotcu_host_free`` when the array is collected: no copy).

In a package, :class:`CudaEntries` stands where a C package has the functions its extension
registers (:func:`aotsym.build.pyruntime.register`): the same ``_exact_entries()`` /
``_set_slowpath()`` protocol, so the package's argument checking is the slow path of
:func:`aotsym.build.pyruntime.make_slowpath` (Theano's rules and messages, naming the
function, the argument and the user's line), run before any CUDA call.
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
            arr = np.asarray(value, dtype=dtype, order="C")   # (0-d stays 0-d)
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



class CudaEntries:
    """The exported functions of a standalone CUDA package, as attributes named after them.

    ``functions``: per export a dict ``{"name", "c_name", "in", "out", "single", "doc"}``
    (dtype names of the C entry's inputs and outputs; ``single``: the entry returns its one
    output itself, not a list); ``node_names``: per export the description of each step.
    ``_exact_entries()`` are the calls themselves (arguments already converted);
    ``_set_slowpath(slowpath)`` defines ``entries.NAME(*args)``, which converts and checks
    every argument through ``slowpath`` (no CUDA call is made for a rejected one) before the
    call.  ``check_device()``, and the first call of any function on a machine that cannot
    run it, raise the RuntimeError that says what is missing (driver, device,
    architecture)."""

    def __init__(self, ext, functions, node_names):
        self._functions = list(functions)
        self._calls = [CudaCall(ext, f["c_name"], f["in"], f["out"], names, f["name"])
                       for f, names in zip(self._functions, node_names)]

    def _exact_entries(self):
        return [self._exact(call, f["single"]) for call, f in zip(self._calls, self._functions)]

    @staticmethod
    def _exact(call, single):
        def run(*values):
            results = call(values)
            return results[0] if single else results
        return run

    def _set_slowpath(self, slowpath):
        for index, f in enumerate(self._functions):
            setattr(self, f["name"], self._entry(slowpath, index, f["name"], f["doc"]))

    @staticmethod
    def _entry(slowpath, index, name, doc):
        def entry(*args):
            return slowpath(index, args)
        entry.__name__ = entry.__qualname__ = name
        entry.__doc__ = doc
        return entry

    def _profile_reset(self):
        """Nothing to reset: a CUDA package is not a profile build."""

    def check_device(self):
        """Raise the RuntimeError naming what is missing when no usable GPU is here."""
        self._calls[0].check_device()
