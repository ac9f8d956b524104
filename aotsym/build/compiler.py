"""The C toolchain: compile one generated source into a CPython extension with cffi.

Part of the build stage (emit_c -> **build** -> module.so).  The module's C file is our
source plus cffi's API-mode glue and its ``PyInit_`` (:mod:`aotsym.build.glue` writes it), and
this module runs the compiler on it directly (no setuptools/distutils in the
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
import re
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
# exp(-|z|) per element) nor treat them as free of side effects.  -ffp-contract=off: a * b + c
# rounds the product as NumPy does (GCC's gnu11 default fuses it where the CPU has FMA, so a
# module built with -march=native answered otherwise than NumPy and than the same module
# built portable: hard_sigmoid's x * 0.2 + 0.5 at x = -2.5 was -2.8e-17, not 0, and its
# gradient took the wrong side of the kink); the runtime fuses its own polynomials (AOT_MADD).
REQUIRED_FLAGS = ["-std=gnu11", "-fPIC", "-shared", "-fwrapv", "-fno-strict-aliasing",
                  "-fno-math-errno", "-ffp-contract=off", "-fopenmp-simd", "-pthread",
                  "-fvisibility=hidden", "-D_CFFI_NO_LIMITED_API"]
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
    """Compile the module's C file ``c_path`` (written by
    :func:`aotsym.build.glue.write_cffi_source` from the emitter's source) into the extension
    ``out_path``, linked with the runtime's object (its translation unit ``runtime``,
    compiled apart: :func:`runtime_parts`, in ``cache``).
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
    # the runtime's unused static functions: the prelude's pragma that silences them is not
    # kept in a precompiled header
    prelude = ["-Wno-unused-function", "-include", parts.prelude]
    halves = split_units(rest, lines + 1, c_string(c_path)) if parallel_cores() > 1 else None
    if halves is not None:
        try:
            return _compile_halves(c_path, halves, out_path, cc, flags, prelude, link, objects)
        except CompileError:
            pass   # (a unit that needs more of the module than itself: compiled whole)
    body = os.path.splitext(c_path)[0] + "_body.c"
    with open(body, "w") as fh:
        fh.write(f"#line {lines + 1} {c_string(c_path)}\n" + rest)
    try:
        return compile_extension(body, out_path, cc, flags + prelude, link, objects=objects)
    finally:
        os.remove(body)


# ----------------------------------------------------------------- two translation units
#
# A module's C after its prelude is mostly its kernels and its functions' run code, and GCC
# spends most of a build on them (W7's 1,000-op chain: 0.44 s of -O3 on four 250-op loops;
# the MLP training step: its 18 elementwise kernels ~0.45 s, its run function ~0.35 s).
# The emitter marks each elementwise kernel (loop, block and row functions) as a unit
# (``AOT_UNIT_BEGIN <prototype of the row function>`` ... ``AOT_UNIT_END``: it reads nothing
# of the module but the runtime's declarations), and each function's run code (its layout
# table and ``_run``) as a run unit (``AOT_RUN_BEGIN <prototype>`` ... ``AOT_RUN_END``: it
# reads the module's constants and kernels).  Where a second core is free, about half of the
# text moves to a translation unit of its own, compiled at the same time, and the two
# objects are linked.  A moved unit is defined there and declared in the first; a run unit
# moves with a copy of the text before the run code (the constants and kernels: a static
# kernel is compiled in each half that calls it, a kernel unit in one half and declared in
# the other), so run units move only where that text keeps no state of its own (a static
# variable would have two copies).  The code is the same either way (a row function is only ever called, from the
# run code or through a pointer, never inlined into it; a run function only from its entry).

UNIT_BEGIN = "/* AOT_UNIT_BEGIN "
UNIT_END = "/* AOT_UNIT_END */"
RUN_BEGIN = "/* AOT_RUN_BEGIN "
RUN_END = "/* AOT_RUN_END */"
SPLIT_MIN_LINES = 300   # moving fewer lines than this does not pay for the extra link
UNIT_LINE_COST = 0.5    # the compile time of a kernel unit's line, relative to another line's
# a file-scope static variable (not const): state a copy of the text would not share
_STATE = re.compile(r"^static (?!const\b|inline\b)[^(;{]*[=;]", re.M)
_KERNEL_NAME = re.compile(r"\b(aot_k\d+)\b")
# a top-level function of a kernel's (aot_k12, aot_k12_rows, ...): where its definition starts
_DEFINITION = re.compile(r"^(?:static |AOT_UNIT_FN )?[^\n;{}()]*?\b(aot_k\d+)(?:_\w+)?\(", re.M)


@dataclass
class _Unit:
    start: int
    end: int
    prototype: str
    lines: int
    run: bool

    @property
    def name(self) -> str:
        return self.prototype.split("(")[0].split()[-1].lstrip("*")

    @property
    def cost(self) -> float:
        return self.lines * (1.0 if self.run else UNIT_LINE_COST)


def parallel_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _find_units(rest: str, begin: str, end_mark: str, run: bool) -> list | None:
    units, at = [], 0
    while True:
        start = rest.find("\n" + begin, at)
        if start < 0:
            return units
        start += 1
        head_end = rest.find(" */\n", start)
        end = rest.find("\n" + end_mark + "\n", start)
        if head_end < 0 or end < 0:
            return None
        end += len(end_mark) + 2
        units.append(_Unit(start, end, rest[start + len(begin):head_end],
                           rest.count("\n", start, end), run))
        at = end - 1


def split_units(rest: str, first_line: int, path: str) -> tuple[str, str] | None:
    """``rest`` (a module's C after its prelude, whose first line is line ``first_line`` of
    the file ``path``, a C string literal) as two translation units ``(main, units)``: the
    units moved to the second are replaced in the first by their prototypes, and both keep
    ``#line``\\s to the file's lines.  None when the moved units would be smaller than
    SPLIT_MIN_LINES lines.

    The plan (:func:`_plan`) weighs a line of a kernel unit at UNIT_LINE_COST and any other
    at 1: for each choice of run units to move (none included), the kernels that are not
    units go with the run units that call them (to both halves if both do), and the kernel
    units, largest first, each to the lighter half; the plan with the lightest heavier half
    is taken."""
    kernels = _find_units(rest, UNIT_BEGIN, UNIT_END, False)
    runs = _find_units(rest, RUN_BEGIN, RUN_END, True)
    if kernels is None or runs is None:
        return None
    first_run = min((u.start for u in runs), default=len(rest))
    if len(runs) > 8 or _STATE.search(rest, 0, first_run):
        runs = []   # (run units move with a copy of the text before them: none of its state)
    calls = {u.start: set(_KERNEL_NAME.findall(rest, u.start, u.end)) for u in runs}
    plan = _plan(rest, kernels, runs, calls, first_run)
    if plan is None:
        return None
    moved, moved_runs = plan
    # a kernel unit that stays, called from a moved run unit: defined in the first half and
    # declared in the second (and the reverse)
    across = {n for u in moved_runs for n in calls[u.start]}
    back = {n for u in runs if u not in moved_runs for n in calls[u.start]}
    main = _text(rest, first_line, path, [
        (u, _prototype(u) if u in moved else
         _external(rest[u.start:u.end]) if u.name in across else None)
        for u in kernels + runs], suppress=bool(moved_runs))
    if not moved_runs:
        return main, "".join(_piece(rest, first_line, path, u, _external(rest[u.start:u.end]))
                             for u in moved)
    head = [(u, (_external(rest[u.start:u.end]) if u.name in back else None) if u in moved
             else _prototype(u) if u.name in across else "") for u in kernels]
    second = _text(rest[:first_run], first_line, path, head, suppress=True)
    second += "".join(_piece(rest, first_line, path, u, _external(rest[u.start:u.end]))
                      for u in moved_runs)
    return main, second


def _plan(rest, kernels, runs, calls, first_run):
    """``(moved units, moved run units)`` of the best split (:func:`split_units`), or None."""
    # the kernels that are not units: top-level functions named aot_kN... before the run code
    other = {}
    for m in _DEFINITION.finditer(rest, 0, first_run):
        if not any(u.start <= m.start() < u.end for u in kernels):
            end = rest.find("\n}\n", m.start())
            if end > 0:
                other[m.group(1)] = other.get(m.group(1), 0) + rest.count("\n", m.start(), end)
    base = rest.count("\n") - sum(u.lines for u in kernels + runs) - sum(other.values())
    best = None
    for mask in range(1 << len(runs)):
        moving = [u for i, u in enumerate(runs) if mask >> i & 1]
        staying = [u for u in runs if u not in moving]
        on_b = {n for u in moving for n in calls[u.start]}
        on_a = {n for u in staying for n in calls[u.start]}
        cost_b = sum(u.cost for u in moving) + sum(c for n, c in other.items() if n in on_b)
        cost_a = base + sum(u.cost for u in staying) + \
            sum(c for n, c in other.items() if n in on_a or n not in on_b)
        moved = []
        for unit in sorted(kernels, key=lambda u: -u.cost):
            if cost_b < cost_a:
                moved.append(unit)
                cost_b += unit.cost
            else:
                cost_a += unit.cost
        if sum(u.lines for u in moved + moving) >= SPLIT_MIN_LINES and \
                (best is None or max(cost_a, cost_b) < best[0]):
            best = (max(cost_a, cost_b), moved + moving, moving)
    return best and (sorted(best[1], key=lambda u: u.start), best[2])


def _prototype(unit) -> str:
    return f"{unit.prototype};\n"


def _external(text: str) -> str:
    """A unit's text with its function defined for the other translation unit too (hidden
    from outside the module by -fvisibility=hidden)."""
    return text.replace("\nAOT_UNIT_FN ", "\n", 1)


def _piece(rest, first_line, path, unit, text) -> str:
    return f"#line {first_line + rest.count(chr(10), 0, unit.start)} {path}\n" + text


def _text(rest, first_line, path, changes, suppress=False) -> str:
    """``rest`` with each ``(unit, text)`` of ``changes`` put in place of the unit (``text``
    None: unchanged), under ``#line``\\s that keep every line on the file's line.
    ``suppress``: a half whose unused constants and kernels (the other half's) do not
    warn."""
    out = [f"#line {first_line} {path}\n"]
    if suppress:
        out.insert(0, '#pragma GCC diagnostic ignored "-Wunused-const-variable"\n'
                      '#pragma GCC diagnostic ignored "-Wunused-function"\n')
    at = 0
    for unit, text in sorted(changes, key=lambda c: c[0].start):
        if text is None:
            continue
        out += [rest[at:unit.start], text,
                f"#line {first_line + rest.count(chr(10), 0, unit.end)} {path}\n"]
        at = unit.end
    out.append(rest[at:])
    return "".join(out)


def _compile_halves(c_path, halves, out_path, cc, flags, prelude, link, objects) -> str:
    """Compile the two translation units of :func:`split_units` (with the ``prelude``
    flags) at the same time, then link them into ``out_path``; returns the compilers'
    warnings."""
    stem = os.path.splitext(c_path)[0]
    argv = shlex.split(cc) + [f for f in flags if f != "-shared"] + prelude + \
        [f"-I{d}" for d in include_dirs()] + ["-c"]
    paths = []
    for suffix, text in zip(("_body", "_units"), halves):
        with open(stem + suffix + ".c", "w") as fh:
            fh.write(text)
        paths.append((stem + suffix + ".c", stem + suffix + ".o"))
    try:
        second = subprocess.Popen(argv + [paths[1][0], "-o", paths[1][1]],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            warnings = [_run_compiler(argv + [paths[0][0], "-o", paths[0][1]], c_path, cc)]
        finally:
            output = second.communicate()[0].strip()
        if second.returncode != 0:
            raise CompileError(f"compiling {c_path}'s units failed:\n{output}")
        warnings.append(output)
        warnings.append(_run_compiler(shlex.split(cc) + flags + [paths[0][1], paths[1][1]]
                                      + _link_tail(objects, out_path, link, flags), c_path, cc))
        return "\n".join(w for w in warnings if w)
    finally:
        for pair in paths:
            for path in pair:
                if os.path.exists(path):
                    os.remove(path)


def compile_extension(c_path: str, out_path: str, cc: str, flags: list[str],
                      link: list[str] = (), env=None, objects: list[str] = ()) -> str:
    """Run the compiler (``objects``: compiled objects linked in, e.g. the runtime's:
    :func:`compile_module`); return its warnings, raise CompileError with its output on
    failure."""
    argv = shlex.split(cc) + flags + [f"-I{d}" for d in include_dirs()] + [c_path] + \
        _link_tail(objects, out_path, link, flags)
    return _run_compiler(argv, c_path, cc, env)


def _link_tail(objects, out_path, link, flags) -> list[str]:
    """The end of a command that links an extension: its objects, output, libraries."""
    vector_link = ["-lmvec"] if any(f.startswith("-DAOT_LIBMVEC=") for f in flags) else []
    return list(objects) + ["-o", out_path] + list(link) + vector_link + ["-lm"]


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
