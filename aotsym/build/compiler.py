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
import threading
import time
from dataclasses import dataclass

import numpy as np

# -fno-math-errno: nothing reads errno after a libm call (values, not errno, carry NaN and
# inf), and without it GCC may not merge repeated calls (the stabilized logistic loss's four
# exp(-|z|) per element) nor treat them as free of side effects.
REQUIRED_FLAGS = ["-std=gnu11", "-fPIC", "-shared", "-fwrapv", "-fno-strict-aliasing",
                  "-fno-math-errno", "-fopenmp-simd", "-pthread", "-fvisibility=hidden",
                  "-D_CFFI_NO_LIMITED_API"]
PRELUDE_HEADER = "aotsym_prelude.h"   # the module prelude, precompiled: runtime_parts
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


@dataclass(frozen=True)
class RuntimeParts:
    """What a module is compiled with besides its own C (:func:`runtime_parts`): ``object``,
    the runtime's translation unit compiled; ``prelude``, the header whose precompiled copy
    (``prelude + ".gch"``) stands for the module's prelude, or None where there is none."""
    object: str
    prelude: str | None = None


# The per-process memory of runtime parts found valid (their files' sizes, to notice a file
# replaced since): the cache checks an entry's SHA-256s, which costs ~20 ms for a 15 MB
# precompiled header, on every build otherwise.
_PARTS: dict = {}
_PARTS_LOCK = threading.Lock()


def runtime_parts(source: str, prelude: str | None, cc: str, flags: list[str],
                  cache) -> RuntimeParts:
    """The runtime's translation unit ``source`` compiled to an object with ``flags``
    (:mod:`aotsym.emit_c.runtime`) and, where the compiler is GCC, the module ``prelude``
    precompiled (:func:`split_prelude`): built once per source, prelude, compiler and flags
    into ``cache``'s ``runtime`` folder (``cache`` is the modules'
    :class:`~aotsym.build.cache.Cache`), then used by every module.  The precompiled header
    is built at the same time as the object, on another core; if it fails, modules compile
    their prelude as text (the same code, more slowly)."""
    from aotsym.build.cache import cache_key
    flags = [f for f in flags if f != "-shared"]
    pch = prelude is not None and precompiles_headers(cc)
    key = cache_key({"runtime": hashlib.sha256(source.encode()).hexdigest(), "flags": flags,
                     "prelude": hashlib.sha256(prelude.encode()).hexdigest() if pch else None,
                     "compiler": compiler_identity(cc), "include": include_dirs(),
                     "python": ext_suffix(), "numpy": np.__version__})
    objects = type(cache)(os.path.join(cache.root, "runtime"))   # apart from the modules
    with _PARTS_LOCK:
        known = _PARTS.get((objects.root, key))
    if known is not None and all(_size(p) == n for p, n in known[1]):
        return known[0]

    def build(tmp):
        includes = [f"-I{d}" for d in include_dirs()]
        header = os.path.join(tmp, PRELUDE_HEADER)
        making = None
        if pch:
            with open(header, "w") as fh:
                fh.write(prelude)
            making = _start_compiler(shlex.split(cc) + ["-x", "c-header"] + flags + includes
                                     + [header, "-o", header + ".gch"])
        c_path = os.path.join(tmp, "aotsym_runtime.c")
        with open(c_path, "w") as fh:
            fh.write(source)
        try:
            _run_compiler(shlex.split(cc) + ["-c"] + flags + includes
                          + [c_path, "-o", os.path.join(tmp, "aotsym_runtime.o")], c_path, cc)
        finally:
            made = making is not None and making.wait() == 0
        if made:
            return ["aotsym_runtime.o", PRELUDE_HEADER, PRELUDE_HEADER + ".gch"]
        for path in (header, header + ".gch"):
            if os.path.exists(path):
                os.remove(path)
        return ["aotsym_runtime.o"]

    manifest, _ = objects.get_or_build(key, build, {"runtime": True, "flags": flags})
    d = manifest["dir"]
    files = manifest["files"]
    parts = RuntimeParts(os.path.join(d, "aotsym_runtime.o"),
                         os.path.join(d, PRELUDE_HEADER) if PRELUDE_HEADER in files else None)
    with _PARTS_LOCK:
        _PARTS[(objects.root, key)] = (parts, [(os.path.join(d, name), info["size"])
                                               for name, info in files.items()])
    return parts


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def split_prelude(c_path: str) -> tuple[str, str, int] | None:
    """``(prelude, rest, lines)`` of the module's C file: the text up to and including the
    emitter's PRELUDE_END line (cffi's preamble and the runtime's declarations, the same in
    every module built with the same flags), the text after it, and the prelude's number of
    lines; None when the file has no such line (the runtime pasted in whole)."""
    from aotsym.emit_c.runtime import PRELUDE_END
    with open(c_path) as fh:
        text = fh.read()
    at = text.find("\n" + PRELUDE_END + "\n")
    if at < 0:
        return None
    end = at + len(PRELUDE_END) + 2
    return text[:end], text[end:], text.count("\n", 0, end)


@functools.lru_cache(maxsize=None)
def precompiles_headers(cc: str) -> bool:
    """Whether ``cc`` is GCC, whose ``-include H`` reads ``H.gch`` when it was compiled with
    the same flags (and reads ``H`` otherwise).  Clang reads only its own format."""
    version = compiler_version(cc).lower()
    return version != "unknown" and "clang" not in version


def compile_module(c_path: str, out_path: str, cc: str, flags: list[str], link=(),
                   runtime: str = "", cache=None, seconds: dict | None = None) -> str:
    """Compile the module's C file ``c_path`` (written by :func:`write_cffi_source` from the
    emitter's source) into the extension ``out_path``, linked with the runtime's object (its
    translation unit ``runtime``, compiled apart: :func:`runtime_parts`, in ``cache``).
    With GCC the module's prelude is not compiled again: the file's text after it is
    compiled with ``-include`` of the prelude's precompiled header, under a ``#line`` that
    keeps the compiler's messages on ``c_path``'s lines.  Returns the compiler's warnings;
    ``seconds["runtime"]``: the time spent finding (or building) the runtime's parts."""
    t = time.perf_counter()
    split = split_prelude(c_path) if runtime else None
    parts = runtime_parts(runtime, split and split[0], cc, flags, cache) if runtime else None
    if seconds is not None:
        seconds["runtime"] = time.perf_counter() - t
    objects = [parts.object] if parts else []
    if parts is None or parts.prelude is None:
        return compile_extension(c_path, out_path, cc, flags, link, objects=objects)
    from aotsym.emit_c.templates import c_string
    _, rest, lines = split
    body = os.path.splitext(c_path)[0] + "_body.c"
    with open(body, "w") as fh:
        fh.write(f"#line {lines + 1} {c_string(c_path)}\n" + rest)
    try:
        # the runtime's unused static functions: the prelude's pragma that silences them is
        # not kept in a precompiled header
        return compile_extension(body, out_path, cc, flags + [
            "-Wno-unused-function", "-include", parts.prelude], link, objects=objects)
    finally:
        os.remove(body)


def compile_extension(c_path: str, out_path: str, cc: str, flags: list[str],
                      link: list[str] = (), env=None, objects: list[str] = ()) -> str:
    """Run the compiler (``objects``: compiled objects linked in, e.g. the runtime's:
    :func:`compile_module`); return its warnings, raise CompileError with its output on
    failure."""
    vector_link = ["-lmvec"] if any(f.startswith("-DAOT_LIBMVEC=") for f in flags) else []
    argv = shlex.split(cc) + flags + [f"-I{d}" for d in include_dirs()] + \
        [c_path] + list(objects) + ["-o", out_path] + list(link) + vector_link + ["-lm"]
    return _run_compiler(argv, c_path, cc, env)


def _start_compiler(argv):
    """The compiler started on ``argv`` in the background (quiet), or None if it cannot
    start."""
    try:
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return None


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
