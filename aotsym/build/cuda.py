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
* a module whose program holds a product (``Dot``, ``Gemm``, ``Gemv``, ``Ger``) links cuBLAS
  from the ``nvidia-cublas`` wheel (:func:`find_cublas`: its headers and
  ``libcublas.so.<major>``, found from Python as :mod:`.blas` finds OpenBLAS; the wheel's
  major version must be nvcc's CUDA major), with an rpath to the wheel's ``lib`` directory;
* a standalone package (``aotsym build --target cuda``) is written by
  :mod:`.standalone` like the C target's; :class:`CudaExtension` is its CUDA part: the same
  nvcc build with ``rpath $ORIGIN``, cuBLAS and cublasLt put beside the extension, and a
  copy of :mod:`.cuda_call` in the package's ``__init__`` to call the entries;
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
from dataclasses import dataclass

import numpy as np

import aotsym
from aotsym.build import compiler, cuda_call
from aotsym.build.glue import write_cffi_source
from aotsym.build.cache import Cache, cache_key
from aotsym.emit_c.templates import py_literal
from aotsym.resources import runtime_dir

GENCODE = ["-gencode", "arch=compute_80,code=sm_80",
           "-gencode", "arch=compute_90,code=sm_90",
           "-gencode", "arch=compute_90,code=compute_90"]
NVCC_FLAGS = ["-std=c++17", "-O3", "--fmad=false", "-Xcompiler", "-fPIC"]   # (fmad: as -ffp-contract=off)
GLUE_FLAGS = ["-c", "-fPIC", "-O2", "-std=gnu11", "-D_CFFI_NO_LIMITED_API"]


class NvccError(compiler.CompileError):
    """nvcc (or the link) failed: the message holds the command line and output."""


# CUDA major -> the pip distribution of cuBLAS built for it
CUBLAS_DISTRIBUTIONS = {13: "nvidia-cublas", 12: "nvidia-cublas-cu12"}


@dataclass(frozen=True)
class Cublas:
    """cuBLAS from a pip wheel: where its headers and libraries are."""
    distribution: str
    version: str
    include_dir: str
    lib_dir: str
    libraries: tuple       # file names: libcublas.so.N first, then what it loads (cublasLt)

    def link_args(self, rpath) -> list:
        return [f"-L{self.lib_dir}", f"-l:{self.libraries[0]}"] + \
            [a for p in rpath for a in ("-Xlinker", f"-rpath,{p}")]


@functools.lru_cache(maxsize=None)
def cuda_release(nvcc: str) -> str:
    """The CUDA version of ``nvcc``, ``"13.0"`` (``nvcc --version``: "release 13.0")."""
    import re
    try:
        out = subprocess.run(shlex.split(nvcc) + ["--version"], capture_output=True,
                             text=True).stdout
    except FileNotFoundError:
        out = ""
    match = re.search(r"release (\d+\.\d+)", out)
    if not match:
        raise NvccError(f"cannot tell the CUDA version of {nvcc!r} (nvcc --version said "
                        f"{out.strip()[-200:]!r})")
    return match.group(1)


def cuda_major(nvcc: str) -> int:
    """The CUDA major version of ``nvcc`` (13 for "release 13.0")."""
    return int(cuda_release(nvcc).split(".")[0])


def find_cublas(major: int) -> Cublas:
    """cuBLAS for CUDA ``major`` from its pip wheel (``nvidia-cublas`` for CUDA 13,
    ``nvidia-cublas-cu12`` for 12), or an ImportError saying what to install."""
    import importlib.metadata as md
    name = CUBLAS_DISTRIBUTIONS.get(major)
    if name is None:
        raise ImportError(f"the CUDA target links cuBLAS for products; no cuBLAS wheel is "
                          f"known for CUDA {major} (known: "
                          f"{', '.join(f'{v} for CUDA {k}' for k, v in CUBLAS_DISTRIBUTIONS.items())})")
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        raise ImportError(f"the CUDA target computes products (dot, gemm, gemv, ger) with "
                          f"cuBLAS, which nvcc's CUDA {major} toolkit does not hold here: "
                          f"pip install {name}") from None
    files = {os.path.basename(str(f)): f for f in dist.files or ()}
    lib = f"libcublas.so.{major}"
    if lib not in files or "cublas_v2.h" not in files:
        raise ImportError(f"the {name} {dist.version} installation holds no {lib} or "
                          f"cublas_v2.h: reinstall it (pip install --force-reinstall {name})")
    lib_path = os.path.realpath(str(dist.locate_file(files[lib])))
    libs = [lib] + [n for n in (f"libcublasLt.so.{major}",) if n in files]
    return Cublas(name, dist.version,
                  os.path.dirname(os.path.realpath(str(dist.locate_file(files["cublas_v2.h"])))),
                  os.path.dirname(lib_path), tuple(libs))


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
                        gencode=GENCODE, include_dirs=()) -> None:
    """nvcc ahead of time: the .cu file to a relocatable host object holding the fatbin."""
    includes = [a for d in include_dirs for a in ("-I", d)]
    _run(shlex.split(nvcc) + NVCC_FLAGS + list(gencode) + ["-I", runtime_dir()] + includes
         + ["-c", cu_path, "-o", obj_path], f"compiling {cu_path} with nvcc")


def link_extension(module_name: str, cdef: str, cu_obj: str, tmp: str, so_path: str,
                   cc: str = "cc", nvcc: str = "nvcc", link_args=()) -> None:
    """The cffi glue compiled with the C compiler, linked with the nvcc object and the static
    CUDA runtime (and ``link_args``: cuBLAS) into ``so_path``."""
    glue_c = os.path.join(tmp, "glue.c")
    write_cffi_source(module_name, '#include "aotsym_cuda_api.h"\n' + _prototypes(cdef),
                      cdef, glue_c)
    glue_o = os.path.join(tmp, "glue.o")
    _run(shlex.split(cc) + GLUE_FLAGS + [f"-I{d}" for d in compiler.include_dirs()]
         + ["-I", runtime_dir(), glue_c, "-o", glue_o], f"compiling the glue of {module_name}")
    _run(shlex.split(nvcc) + ["-shared", "-cudart", "static", glue_o, cu_obj, "-o", so_path]
         + list(link_args), f"linking {so_path}")


def build_shared_object(emitted, name: str, tmp: str, so_name: str, cc: str, nvcc: str,
                        rpath=None) -> None:
    """``emitted`` (a CudaModuleSource) compiled and linked into ``tmp/so_name`` (the
    source kept as ``tmp/module.cu``).  A module using cuBLAS gets an rpath to the wheel's
    libraries, or ``rpath`` when given (a package: ``["$ORIGIN"]``)."""
    cu = os.path.join(tmp, "module.cu")
    with open(cu, "w") as fh:
        fh.write(emitted.source)
    obj = os.path.join(tmp, "module.o")
    cublas = find_cublas(cuda_major(nvcc)) if emitted.uses_cublas else None
    compile_cuda_object(cu, obj, nvcc, include_dirs=[cublas.include_dir] if cublas else [])
    link = cublas.link_args([cublas.lib_dir] if rpath is None else rpath) if cublas else []
    link_extension(name, emitted.cdef, obj, tmp, os.path.join(tmp, so_name), cc, nvcc, link)


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
    for name in ("aotsym_cuda_runtime.cuh", "aotsym_cuda_api.h", "aotsym_cuda_scalar.cuh",
                 "aotsym_cuda_blas.cuh"):
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
                     "python": compiler.ext_suffix(), "numpy": np.__version__,
                     "cublas": _cublas_key(emitted, nvcc)})
    with _LOCK:
        ext = _LOADED.get(key)
    from_cache = ext is not None
    if ext is None:
        name = f"aotsym_cu_{key[:24]}"
        so_name = name + compiler.ext_suffix()

        def build(tmp):
            t0 = time.perf_counter()
            build_shared_object(emitted, name, tmp, so_name, options.cc, nvcc)
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


def _cublas_key(emitted, nvcc):
    """What of cuBLAS goes into the cache key: its wheel, version and place (or None)."""
    if not emitted.uses_cublas:
        return None
    c = find_cublas(cuda_major(nvcc))
    return [c.distribution, c.version, c.lib_dir]


def _config_nvcc() -> str:
    from aotsym.config import config
    return config.nvcc


class CudaExtension:
    """The CUDA target's part of a standalone package (the interface
    :class:`aotsym.build.standalone.CExtension` documents): ``emitted`` (a
    :class:`~aotsym.emit_cuda.renderer.CudaModuleSource`) compiled by nvcc ahead of time into
    ``_aot<EXT_SUFFIX>`` (:func:`build_shared_object`: fatbin sm_80 / sm_90 + PTX, cudart
    static), with ``rpath $ORIGIN`` and cuBLAS's libraries beside it when the program has a
    product.  The package's ``_fast`` is a :class:`.cuda_call.CudaEntries` (its source is
    embedded): every call converts and checks its arguments in Python first, then copies
    them to the device; the first call on a machine without a usable GPU raises the
    RuntimeError saying what is missing.  ``cublas``: the wheel linked, or None."""
    target = "cuda"
    embedded = (cuda_call,)
    direct_entries = False

    def __init__(self, emitted, cc, nvcc):
        self.emitted = emitted
        self.cc = cc
        self.nvcc = nvcc
        self.release = cuda_release(nvcc)
        self.cublas = find_cublas(cuda_major(nvcc)) if emitted.uses_cublas else None
        self.flags = NVCC_FLAGS + GENCODE
        self.requires = ("only numpy and cffi's runtime to import; to call its functions, an "
                         f"NVIDIA driver for CUDA {self.release.split('.')[0]}.x and a GPU of "
                         "compute capability 8.0 or newer")

    def meta(self) -> dict:
        return {"target": self.target, "compiler": f"nvcc (CUDA {self.release}); "
                f"{compiler.compiler_version(self.cc)}", "flags": self.flags,
                "blas": f"cuBLAS {self.cublas.version}" if self.cublas else "none",
                "cuda": self.release, "architectures": ["sm_80", "sm_90", "compute_90"]}

    def compile(self, pkg, name, keep_source, log) -> float:
        import tempfile
        so_name = "_aot" + compiler.ext_suffix()
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="aotsym-cuda-") as work:
            build_shared_object(self.emitted, f"{name}._aot", work, so_name, self.cc,
                                self.nvcc, rpath=["$ORIGIN"])
            shutil.move(os.path.join(work, so_name), os.path.join(pkg, so_name))
            if keep_source:
                shutil.copy(os.path.join(work, "module.cu"), os.path.join(pkg, "_aot.cu"))
        seconds = time.perf_counter() - start
        if self.cublas:
            from aotsym.build.standalone import copy_beside
            copy_beside([os.path.join(self.cublas.lib_dir, lib)
                         for lib in self.cublas.libraries], pkg)
        return seconds

    def load_lines(self, name, plans) -> list:
        from aotsym.build.standalone import c_returns_single, signature_doc
        functions = [{"name": plan.name, "c_name": fn.c_name,
                      "in": [t.dtype for t in fn.input_types],
                      "out": [t.dtype for t in fn.output_types],
                      "single": c_returns_single(plan),
                      "doc": signature_doc(plan).split("\n--\n\n", 1)[1]}
                     for plan, fn in zip(plans, self.emitted.functions)]
        return [f"_fast = CudaEntries(_ext, {py_literal(functions)}, _NODE_NAMES)"]


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
        if self.runners:
            self.runners[0]._call.check_device()

    def device_ready(self) -> bool:
        """Whether this machine can run the module's kernels (no exception)."""
        if shutil.which("nvidia-smi") is None:
            return False
        try:
            self.check_device()
        except RuntimeError:
            return False
        return True


class CudaRunner:
    """The runner of one function of a CUDA module: ``run(values) -> list of arrays`` in the
    calling convention (see :class:`aotsym.build.driver.CompiledFunction`); the call itself
    is :class:`.cuda_call.CudaCall` (the code a standalone package carries)."""

    def __init__(self, module, index):
        self.module = module
        fn = module.emitted.functions[index]
        self.function = fn
        self.fgraph = module.specs[index].fgraph
        self.stats = self.fgraph.meta.get("optimizer_stats")
        self._call = cuda_call.CudaCall(module.ext, fn.c_name, [t.dtype for t in fn.input_types],
                              [t.dtype for t in fn.output_types], fn.node_descriptions,
                              fn.name)

    def __call__(self, values):
        return self._call(values)

    def node_error(self, exc):
        return None
