"""The CUDA toolchain and call path: a CUDA module built ahead of time with nvcc, loaded as a
Python extension.

Part of the build stage (emit_cuda -> **build** -> module.so).  The driver
(:mod:`.driver`) sends a ``target="cuda"`` build here after lowering:

    CudaModuleSource ─► nvcc -c (fatbin: sm_80, sm_90 + PTX compute_90) ─┐
    cffi glue (C)     ─► cc -c ──────────────────────────────────────────┴► nvcc -shared
                                                                             -cudart static
                                                                             ─► module.so

* the ``.cu`` file (:func:`aotsym.emit_cuda.renderer.emit_cuda_module`) holds the kernels
  and one ``extern "C"`` host function per exported graph; the cffi extension in API mode
  declares those functions (``CDEF``) and links the nvcc object, so the module is an ordinary
  CPython extension, cached by content like the C modules (:mod:`.cache`);
* cudart is linked statically: the module imports on a machine without a GPU or driver (the
  runtime loads ``libcuda.so.1`` only at the first CUDA call); the first call checks the
  driver, the device count and the compute capability (``aotcu_init``) and raises a
  RuntimeError that says what is missing;
* :class:`CudaRunner` is the runner ``aotsym.function`` gets: ``run(values) -> list of
  arrays``, NumPy arrays in (copied to the device as C-contiguous arrays) and fresh NumPy
  arrays out.  It has no exact entry: the frontend checks and converts the arguments first.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import threading
import time

import numpy as np

import aotsym
from aotsym.build import compiler
from aotsym.build.cache import Cache, cache_key
from aotsym.resources import runtime_dir

GENCODE = ["-gencode", "arch=compute_80,code=sm_80",
           "-gencode", "arch=compute_90,code=sm_90",
           "-gencode", "arch=compute_90,code=compute_90"]
NVCC_FLAGS = ["-std=c++17", "-O3", "-Xcompiler", "-fPIC"]
GLUE_FLAGS = ["-c", "-fPIC", "-O2", "-std=gnu11", "-D_CFFI_NO_LIMITED_API"]

ERRORS = {1: RuntimeError, 2: ValueError, 3: MemoryError, 4: RuntimeError, 5: IndexError}


class NvccError(compiler.CompileError):
    """nvcc (or the link) failed: the message holds the command line and output."""


def nvcc_path(nvcc: str = "nvcc") -> str | None:
    argv = shlex.split(nvcc)
    return shutil.which(argv[0]) if argv else None


def _run(argv, what):
    try:
        proc = subprocess.run(argv, capture_output=True, text=True)
    except FileNotFoundError:
        raise NvccError(f"{argv[0]!r} was not found: the CUDA target needs nvcc (the CUDA "
                        "toolkit, or pip install nvidia-cuda-nvcc); set aotsym.config.nvcc "
                        "/ AOTSYM_FLAGS=nvcc=...") from None
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()[-20000:]
        raise NvccError(f"{what} failed (exit {proc.returncode}):\n  "
                        f"{' '.join(shlex.quote(a) for a in argv)}\n{output}")


def compile_cuda_object(cu_path: str, obj_path: str, nvcc: str = "nvcc",
                        gencode=GENCODE) -> None:
    """nvcc ahead of time: the .cu file to a relocatable host object holding the fatbin."""
    _run(shlex.split(nvcc) + NVCC_FLAGS + list(gencode) + ["-I", runtime_dir(), "-c",
                                                          cu_path, "-o", obj_path],
         f"compiling {cu_path} with nvcc")


def link_extension(module_name: str, cdef: str, cu_obj: str, tmp: str, so_path: str,
                   cc: str = "cc", nvcc: str = "nvcc") -> None:
    """The cffi glue compiled with the C compiler, linked with the nvcc object and the static
    CUDA runtime into ``so_path``."""
    glue_c = os.path.join(tmp, "glue.c")
    compiler.write_cffi_source(module_name, '#include "aotsym_cuda_api.h"\n' + _prototypes(cdef),
                               cdef, glue_c)
    glue_o = os.path.join(tmp, "glue.o")
    _run(shlex.split(cc) + GLUE_FLAGS + [f"-I{d}" for d in compiler.include_dirs()]
         + ["-I", runtime_dir(), glue_c, "-o", glue_o], f"compiling the glue of {module_name}")
    _run(shlex.split(nvcc) + ["-shared", "-cudart", "static", glue_o, cu_obj, "-o", so_path],
         f"linking {so_path}")


def _prototypes(cdef: str) -> str:
    """The generated functions' prototypes (the glue calls them; the API header declares
    the runtime's)."""
    return "".join(line + "\n" for line in cdef.splitlines() if line.startswith("int aotcu_f"))


@functools.lru_cache(maxsize=None)
def nvcc_identity(nvcc: str) -> str:
    return compiler.compiler_identity(nvcc)


def _runtime_digest() -> str:
    import hashlib
    h = hashlib.sha256()
    for name in ("aotsym_cuda_runtime.cuh", "aotsym_cuda_api.h", "aotsym_cuda_scalar.cuh"):
        with open(os.path.join(runtime_dir(), name), "rb") as fh:
            h.update(fh.read())
    return h.hexdigest()


_LOADED: dict = {}
_LOCK = threading.Lock()


def build_cuda_module(specs, options, labels=None):
    """Render, compile (or find in the cache) and load one CUDA module exporting ``specs``;
    returns a :class:`CudaModule`."""
    from aotsym.build.driver import _default_cache_dir, load_extension
    from aotsym.emit_cuda.renderer import emit_cuda_module
    nvcc = getattr(options, "nvcc", None) or _config_nvcc()
    t = time.perf_counter()
    emitted = emit_cuda_module(specs)
    seconds = {"emit": time.perf_counter() - t}
    key = cache_key({"source": emitted.digest(), "cdef": emitted.cdef, "target": "cuda",
                     "flags": NVCC_FLAGS + GENCODE, "glue": GLUE_FLAGS,
                     "nvcc": nvcc_identity(nvcc), "cc": compiler.compiler_identity(options.cc),
                     "runtime": _runtime_digest(), "aotsym": aotsym.__version__,
                     "python": compiler.ext_suffix(), "numpy": np.__version__})
    with _LOCK:
        ext = _LOADED.get(key)
    from_cache = ext is not None
    if ext is None:
        name = f"aotsym_cu_{key[:24]}"
        so_name = name + compiler.ext_suffix()

        def build(tmp):
            cu = os.path.join(tmp, "module.cu")
            with open(cu, "w") as fh:
                fh.write(emitted.source)
            t0 = time.perf_counter()
            obj = os.path.join(tmp, "module.o")
            compile_cuda_object(cu, obj, nvcc)
            link_extension(name, emitted.cdef, obj, tmp, os.path.join(tmp, so_name),
                           options.cc, nvcc)
            seconds["compile"] = time.perf_counter() - t0
            return [so_name, "module.cu"]

        cache = Cache(options.cache_dir or _default_cache_dir())
        manifest, built = cache.get_or_build(key, build, {
            "module": name, "target": "cuda",
            "functions": [f.name for f in emitted.functions]})
        from_cache = not built
        ext = load_extension(os.path.join(manifest["dir"], so_name), name)
        with _LOCK:
            ext = _LOADED.setdefault(key, ext)
    return CudaModule(key, ext, emitted, list(specs), labels, from_cache, seconds)


def _config_nvcc() -> str:
    from aotsym.config import config
    return config.nvcc


class CudaModule:
    """A loaded CUDA module: ``runners[i]`` runs the i-th spec."""

    def __init__(self, key, ext, emitted, specs, labels, from_cache, seconds):
        self.key = key
        self.ext = ext
        self.emitted = emitted
        self.specs = specs
        self.from_cache = from_cache
        self.seconds = seconds
        self.runners = [CudaRunner(self, k) for k in range(len(specs))]

    def check_device(self):
        """Raise the RuntimeError naming what is missing (driver, device, architecture)
        when this machine cannot run the module's kernels."""
        ffi, lib = self.ext.ffi, self.ext.lib
        err = ffi.new("aot_cu_error *")
        if lib.aotcu_init(err):
            raise RuntimeError(f"cannot run a CUDA function here: "
                               f"{ffi.string(err.message).decode(errors='replace')}")


class CudaRunner:
    """The runner of one function of a CUDA module: ``run(values) -> list of arrays`` in the
    calling convention (see :class:`aotsym.build.driver.CompiledFunction`)."""

    def __init__(self, module, index):
        self.module = module
        fn = module.emitted.functions[index]
        self.function = fn
        self.fgraph = module.specs[index].fgraph
        self.stats = self.fgraph.meta.get("optimizer_stats")
        self._entry = getattr(module.ext.lib, fn.c_name)
        self._in_dtypes = [np.dtype(t.dtype) for t in fn.input_types]
        self._out_types = fn.output_types

    def __call__(self, values):
        ffi = self.module.ext.ffi
        lib = self.module.ext.lib
        n_in, n_out = len(self._in_dtypes), len(self._out_types)
        ins = ffi.new("aot_cu_in[]", max(1, n_in))
        keep = []
        for k, (value, dtype) in enumerate(zip(values, self._in_dtypes)):
            arr = np.ascontiguousarray(value, dtype=dtype)
            keep.append(arr)
            ins[k].data = ffi.from_buffer(arr) if arr.size else ffi.NULL
            for d, n in enumerate(arr.shape):
                ins[k].shape[d] = n
        outs = ffi.new("aot_cu_out[]", max(1, n_out))
        err = ffi.new("aot_cu_error *")
        if self._entry(ins, outs, err):
            raise self._error(ffi, err)
        results = []
        for j, t in enumerate(self._out_types):
            shape = tuple(outs[j].shape[d] for d in range(outs[j].ndim))
            dtype = np.dtype(t.dtype)
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            owner = ffi.gc(outs[j].data, lib.aotcu_host_free)
            arr = np.frombuffer(ffi.buffer(owner, nbytes), dtype=dtype) if nbytes else \
                np.empty(0, dtype)
            results.append(arr.reshape(shape))
        return results

    def _error(self, ffi, err):
        message = ffi.string(err.message).decode(errors="replace")
        if err.code == 4:
            return RuntimeError(f"cannot run the CUDA function {self.function.name}(): "
                                f"{message}")
        cls = ERRORS.get(err.code, RuntimeError)
        if 0 <= err.step < len(self.function.node_descriptions):
            message += (f"\n  while computing {self.function.node_descriptions[err.step]}"
                        f"\n  in {self.function.name}()")
        return cls(message)

    def node_error(self, exc):
        return None
