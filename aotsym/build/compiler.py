"""The C toolchain: compile one generated source into a CPython extension with cffi.

Part of the build stage (emit_c -> **build** -> module.so).  cffi in API mode writes the
module's C file (``ffi.set_source`` + ``ffi.emit_c_code``: our source plus cffi's glue and its
``PyInit_``), and this module runs the compiler on it directly (no setuptools/distutils in the
loop: faster, and the flags are exactly the ones hashed into the cache key).

Flags: ``aotsym.config.cflags`` (default ``-O3 -march=native``) plus the flags the generated
code relies on, which are not negotiable:

* ``-fwrapv``: integer overflow wraps, as in NumPy (and is not undefined behaviour);
* ``-fno-strict-aliasing``: kernels read typed data through ``char *`` strides;
* ``-fopenmp-simd``: ``#pragma omp simd`` reductions vectorize, without linking libgomp;
* ``-pthread``: the runtime's thread pool (pthreads; no OpenMP runtime is needed where the
  module is installed);
* ``-fvisibility=hidden``: only ``PyInit_<name>`` is exported;
* ``-D_CFFI_NO_LIMITED_API``: the entry points use CPython's full C API (METH_FASTCALL) and
  NumPy's, which the limited API cffi would otherwise select does not offer.

``-march=native`` is right for the in-process cache (the module runs on the machine that
built it); a module shipped elsewhere should be built with portable flags
(``aotsym build --cflags=-O3``).  Either way the module checks at import that the CPU has the
instruction sets it was compiled for, and refuses with a clear message instead of crashing.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shlex
import shutil
import subprocess
import sysconfig

import numpy as np

# -fno-math-errno: nothing reads errno after a libm call (values, not errno, carry NaN and
# inf), and without it GCC may not merge repeated calls (the stabilized logistic loss's four
# exp(-|z|) per element) nor treat them as free of side effects.
REQUIRED_FLAGS = ["-std=gnu11", "-fPIC", "-shared", "-fwrapv", "-fno-strict-aliasing",
                  "-fno-math-errno", "-fopenmp-simd", "-pthread", "-fvisibility=hidden",
                  "-D_CFFI_NO_LIMITED_API"]
WARNING_FLAGS = ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"]


class CompileError(RuntimeError):
    """The C compiler failed: the message holds its command line and output."""



def ext_suffix() -> str:
    return sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def include_dirs() -> list[str]:
    paths = sysconfig.get_paths()
    return [paths["include"], paths.get("platinclude", paths["include"]), np.get_include()]


@functools.lru_cache(maxsize=None)
def compiler_identity(cc: str) -> str:
    """What identifies the compiler in the cache key: its resolved path, size and mtime
    (cheap: no subprocess; an upgraded compiler has a new file)."""
    argv = shlex.split(cc)
    exe = shutil.which(argv[0]) if argv else None
    if exe is None:
        return f"{cc} (not found)"
    real = os.path.realpath(exe)
    st = os.stat(real)
    return f"{' '.join(argv)} -> {real} size={st.st_size} mtime={st.st_mtime_ns}"


@functools.lru_cache(maxsize=None)
def compiler_version(cc: str) -> str:
    """The first line of ``cc --version`` (for metadata; not part of the key)."""
    try:
        out = subprocess.run(shlex.split(cc) + ["--version"], capture_output=True, text=True,
                             timeout=30)
        return (out.stdout or out.stderr).splitlines()[0].strip()
    except (OSError, subprocess.SubprocessError, IndexError):
        return "unknown"


@functools.lru_cache(maxsize=None)
def vector_math(portable: bool) -> tuple[list, list]:
    """(compile flags, link arguments) that let vectorized loops call glibc's libmvec (see
    runtime/aotsym_scalar.h, AOT_LIBMVEC), or ([], []) where there is none (not glibc, not
    x86-64, glibc older than 2.22, no libmvec.so.1).  ``portable`` (a module shipped to other
    machines): only the functions of glibc 2.22's libmvec, which every glibc since has;
    otherwise those of the glibc at hand (2.35 adds tanh, expm1, log1p, atan2 ...)."""
    import ctypes.util
    import platform
    if platform.machine() not in ("x86_64", "AMD64"):
        return [], []
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()
        major, minor = (int(p) for p in version.split(".")[:2])
    except (ValueError, OSError, AttributeError):
        return [], []
    if name != "glibc" or (major, minor) < (2, 22) or not ctypes.util.find_library("mvec"):
        return [], []
    level = 1 if portable or (major, minor) < (2, 35) else 2
    return [f"-DAOT_LIBMVEC={level}"], ["-lmvec"]   # (compile_extension adds the link)


def compile_flags(cflags: str, warnings: bool = True, extra=()) -> list[str]:
    return REQUIRED_FLAGS + (WARNING_FLAGS if warnings else []) + shlex.split(cflags) + \
        list(extra)


def write_cffi_source(module_name: str, source: str, cdef: str, path: str) -> str:
    """The complete C file of the extension (our source + cffi's API-mode glue)."""
    import cffi
    from cffi.recompiler import make_c_source
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    ffi.set_source(module_name, source)
    make_c_source(ffi, module_name, source, path, verbose=False)  # emit_c_code, quietly
    return path


def runtime_object(source: str, cc: str, flags: list[str], cache) -> str:
    """The path of the runtime's translation unit ``source`` compiled to an object with
    ``flags`` (:mod:`aotsym.emit_c.runtime`): built once per source, compiler and flags into
    ``cache``'s ``runtime`` folder (``cache`` is the modules' :class:`~aotsym.build.cache.Cache`),
    then linked into every module."""
    from aotsym.build.cache import cache_key
    flags = [f for f in flags if f != "-shared"]
    key = cache_key({"runtime": hashlib.sha256(source.encode()).hexdigest(), "flags": flags,
                     "compiler": compiler_identity(cc), "include": include_dirs(),
                     "python": ext_suffix(), "numpy": np.__version__})

    def build(tmp):
        c_path = os.path.join(tmp, "aotsym_runtime.c")
        with open(c_path, "w") as fh:
            fh.write(source)
        _run_compiler(shlex.split(cc) + ["-c"] + flags + [f"-I{d}" for d in include_dirs()]
                      + [c_path, "-o", os.path.join(tmp, "aotsym_runtime.o")], c_path, cc)
        return ["aotsym_runtime.o"]

    objects = type(cache)(os.path.join(cache.root, "runtime"))   # apart from the modules
    manifest, _ = objects.get_or_build(key, build, {"runtime": True, "flags": flags})
    return os.path.join(manifest["dir"], "aotsym_runtime.o")


def compile_extension(c_path: str, out_path: str, cc: str, flags: list[str],
                      link: list[str] = (), env=None, objects: list[str] = ()) -> str:
    """Run the compiler (``objects``: compiled objects linked in, e.g. :func:`runtime_object`);
    return its warnings, raise CompileError with its output on failure."""
    vector_link = ["-lmvec"] if any(f.startswith("-DAOT_LIBMVEC=") for f in flags) else []
    argv = shlex.split(cc) + flags + [f"-I{d}" for d in include_dirs()] + \
        [c_path] + list(objects) + ["-o", out_path] + list(link) + vector_link + ["-lm"]
    return _run_compiler(argv, c_path, cc, env)


def _run_compiler(argv, c_path, cc, env=None) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    except FileNotFoundError:
        raise CompileError(f"the C compiler {cc!r} was not found; install one (gcc or clang) "
                           "or set aotsym.config.cxx / AOTSYM_FLAGS=cxx=...") from None
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        if len(output) > 20000:
            output = output[:10000] + "\n...\n" + output[-10000:]
        raise CompileError(f"compiling {c_path} failed (exit {proc.returncode}):\n"
                           f"  {' '.join(shlex.quote(a) for a in argv)}\n{output}")
    return proc.stderr.strip()
