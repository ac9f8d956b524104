"""``aotsym build SPEC.py -o OUTDIR``: a model file's ``aotsym.Module`` into a standalone
package (see :mod:`aotsym.build.standalone`).

Part of the build stage (emit_c / emit_cuda -> **build** -> module.so).  ``aotsym/cli.py``
registers this subcommand through :func:`add_arguments` and :func:`run`.  It runs the spec
file (which traces its Modules' exports), has each Module assemble its exports, and hands
them to the build driver (:func:`aotsym.build.driver.build_package`), the path every build
takes.  It prints the stages with the times the driver reports: trace, optimize (and, per
optimizer stage, the seconds its stats record), emit, compile.

Compiler flags: ``--cflags`` if given; else ``aotsym.config.cflags`` when the user set it
(pyproject.toml, AOTSYM_FLAGS, ~/.aotsymrc); else portable flags (``-O3``, and on x86-64
``-march=x86-64-v2``), because a shipped module runs on other machines than the one that built
it.  ``-march=native`` stays the default of the in-process cache, where the module runs on the
machine that built it; a module built with it refuses to load, with a clear message, on a CPU
lacking the instruction sets it was compiled for.

``--target cuda``: the same package, its functions run on an NVIDIA GPU (nvcc ahead of time:
a fatbin for sm_80 and sm_90 plus PTX, cudart linked statically, cuBLAS beside the extension
when the program has products; see :class:`aotsym.build.cuda.CudaExtension`).  It builds
where nvcc is (no GPU needed), imports anywhere, and a call where no usable GPU is raises a
RuntimeError saying what is missing.  ``--cflags`` then only compiles the cffi glue.
"""

from __future__ import annotations

import os
import platform
import runpy
import sys
import time

from aotsym.build.blas import NO_BLAS
from aotsym.build.compiler import compiler_version
from aotsym.build.driver import BuildOptions, build_package, check_target
from aotsym.config import config
from aotsym.emit_c.templates import py_identifier

PORTABLE_CFLAGS = "-O3 -march=x86-64-v2 -mtune=generic" if platform.machine() in (
    "x86_64", "AMD64") else "-O3"


def add_arguments(parser) -> None:
    parser.add_argument("spec", help="the model file: SPEC.py, or SPEC.py:attribute naming "
                        "the aotsym.Module to build")
    parser.add_argument("-o", "--outdir", required=True,
                        help="where the package NAME/ is written (put OUTDIR on sys.path, "
                        "then import NAME)")
    parser.add_argument("--name", help="the built module's import name (default: the "
                        "Module's own); with several Modules in the spec, selects one by name")
    parser.add_argument("--mode", default="FAST_RUN",
                        choices=["FAST_RUN", "FAST_COMPILE", "DEBUG_MODE", "PROFILE_MODE"],
                        help="the optimizer's mode (default FAST_RUN)")
    parser.add_argument("--cflags", help="C compiler flags (default: portable -O3; see "
                        "aotsym.config.cflags)")
    parser.add_argument("--keep-source", action="store_true",
                        help="keep the generated C file (NAME/_aot.c)")
    parser.add_argument("--profile", action="store_true",
                        help="a profile build: per-node times (NAME.profile())")
    parser.add_argument("--target", default="c", choices=["c", "cuda"],
                        help="the code generator (default c); cuda: the functions run on an "
                        "NVIDIA GPU (needs nvcc to build; the package imports anywhere)")
    parser.add_argument("-v", "--verbose", action="store_true", help="say more")


class _Log:
    def __init__(self, verbose):
        self.verbose = verbose

    def __call__(self, text):
        print(text, flush=True)

    def detail(self, text):
        if self.verbose:
            print("    " + text, flush=True)


def load_modules(spec: str) -> tuple:
    """(path, [aotsym.Module]) defined by the spec file (``file.py`` or ``file.py:attr``).

    The command line is where user code enters: the spec file uses the frontend, and this is
    the one place the build stage names a frontend class (``aotsym.Module``, to find the
    spec's Modules).  What it builds, it gets from ``Module.assemble()`` as plain data."""
    import aotsym
    Module = aotsym.Module
    path, _, attr = spec.partition(":")
    if ":" in spec and len(path) == 1:  # a Windows drive letter
        path, _, attr = spec[2:].partition(":")
        path = spec[:2] + path
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"aotsym build: no such spec file {path!r}")
    directory = os.path.dirname(path)
    sys.path.insert(0, directory)
    try:
        namespace = runpy.run_path(path, run_name="__aotsym_spec__")
    finally:
        if sys.path and sys.path[0] == directory:
            sys.path.pop(0)
    if attr:
        if attr not in namespace or not isinstance(namespace[attr], Module):
            raise ValueError(f"aotsym build: {path} has no aotsym.Module named {attr!r}")
        return path, [namespace[attr]]
    modules = [v for v in namespace.values() if isinstance(v, Module)]
    unique = list({id(m): m for m in modules}.values())
    if not unique:
        raise ValueError(f"aotsym build: {path} defines no aotsym.Module (mod = "
                         "aotsym.Module('name'), then @mod.export(...))")
    return path, unique


def run(args) -> int:
    log = _Log(args.verbose)
    try:
        check_target(args.target, nvcc=config.nvcc)
    except NotImplementedError as exc:
        print(f"aotsym build: {exc}", file=sys.stderr)
        return 2
    try:
        return _build(args, log)
    # ImportError: the spec file's own imports
    except (FileNotFoundError, ValueError, TypeError, ImportError, NotImplementedError,
            RuntimeError) as exc:
        print(f"aotsym build: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _build(args, log) -> int:
    t = time.perf_counter()
    path, modules = load_modules(args.spec)
    if args.name and len(modules) > 1:
        modules = [m for m in modules if m.name == args.name]
        if not modules:
            raise ValueError(f"no Module named {args.name!r} in {path}")
    log(f"trace     {time.perf_counter() - t:7.2f} s  {os.path.basename(path)}: "
        + ", ".join(f"Module {m.name!r} ({len(m.exports)} exports, {len(m.shared_vars)} shared)"
                    for m in modules))
    if args.cflags is not None:
        cflags = args.cflags
    elif config.source("cflags") != "default":
        cflags = config.cflags
    else:
        cflags = PORTABLE_CFLAGS
    options = BuildOptions.from_config(cflags=cflags, target=args.target,
                                       profile=args.profile or args.mode == "PROFILE_MODE")
    for mod in modules:
        if args.name and len(modules) == 1 and args.name != mod.name:
            mod.name = py_identifier(args.name, "--name")
        if not mod.exports:
            raise ValueError(f"Module {mod.name!r} exports no function (@{mod.name}.export)")
        built = build_package(mod, mod.assemble(), args.outdir, mode=args.mode,
                              options=options, spec_path=path, keep_source=args.keep_source,
                              log=log)
        _report(built, options, log)
        log(f"wrote {built.path}{os.sep}  (import {mod.name} with {args.outdir} on sys.path)")
    return 0


def _report(built, options, log) -> None:
    """The stages' times and sizes, from what the driver returned (the optimizer's own
    stats for the optimize stage)."""
    stats = {name: s for name, s in built.stats.items() if s is not None}
    seconds = sum(s.seconds for s in stats.values())
    log(f"optimize  {seconds:7.2f} s  "
        + ", ".join(f"{name}: {len(fg)} nodes" for name, fg in built.fgraphs.items()))
    stages: dict = {}
    for s in stats.values():
        for stage in s.stages:
            stages[stage.name] = stages.get(stage.name, 0.0) + stage.seconds
    fired = sum(r.fired for s in stats.values() for r in s.rules.values())
    log("            " + ", ".join(f"{name} {sec:.3f} s" for name, sec in stages.items())
        + f"; {fired} rewrites fired")
    emitted = built.emitted
    if options.target == "cuda":
        _report_cuda(built, options, log)
        return
    log(f"emit      {built.seconds['emit']:7.2f} s  {len(emitted.source) // 1024} KB of C, "
        f"graph hash {emitted.digest()[:16]}")
    log.detail(f"compiler: {options.cc} ({compiler_version(options.cc)})")
    log.detail(f"flags: {' '.join(built.flags)}")
    if emitted.uses_blas:
        log.detail(f"BLAS: {built.blas.name} {built.blas.version} (copied beside the module, "
                   "found through $ORIGIN)" if built.blas is not NO_BLAS else
                   "BLAS: none (C loops)")
    log(f"compile   {built.seconds['compile']:7.2f} s  {options.cc} {options.cflags} (runtime: "
        f"{built.seconds['runtime']:.2f} s, compiled once per compiler and flags)")


def _report_cuda(built, options, log) -> None:
    """The emit and compile stages of a ``--target cuda`` build."""
    emitted = built.emitted
    log(f"emit      {built.seconds['emit']:7.2f} s  {len(emitted.source) // 1024} KB of CUDA, "
        f"graph hash {emitted.digest()[:16]}")
    log.detail(f"glue compiler: {options.cc} ({compiler_version(options.cc)})")
    log.detail("cuBLAS: none (no product in the program)" if built.blas is None else
               f"cuBLAS: {built.blas.distribution} {built.blas.version}: "
               f"{', '.join(built.blas.libraries)} put beside the module, found through "
               "$ORIGIN")
    log(f"compile   {built.seconds['compile']:7.2f} s  {options.nvcc} {' '.join(built.flags)} "
        "(cudart static)")
