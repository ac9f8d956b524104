"""``aotsym build SPEC.py -o OUTDIR``: a model file's ``aotsym.Module`` into a standalone
package (see :mod:`aotsym.build.standalone`).

Part of the build stage (emit_c -> **build** -> module.so).  ``aotsym/cli.py`` registers this
subcommand through :func:`add_arguments` and :func:`run`.  The stages are printed with their
times: trace (import the spec, which traces its exports), optimize, emit, compile.

Compiler flags: ``--cflags`` if given; else ``aotsym.config.cflags`` when the user set it
(pyproject.toml, AOTSYM_FLAGS, ~/.aotsymrc); else portable flags (``-O3``, and on x86-64
``-march=x86-64-v2``), because a shipped module runs on other machines than the one that built
it.  ``-march=native`` stays the default of the in-process cache, where the module runs on the
machine that built it; a module built with it refuses to load, with a clear message, on a CPU
lacking the instruction sets it was compiled for.
"""

from __future__ import annotations

import os
import platform
import runpy
import sys
import time

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
                        help="the code generator (default c)")
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
    """(path, [aotsym.Module]) defined by the spec file (``file.py`` or ``file.py:attr``)."""
    from aotsym.frontend.module import Module
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
        return _build(args, log)
    except (FileNotFoundError, ValueError, TypeError, ImportError, NotImplementedError,
            RuntimeError) as exc:
        print(f"aotsym build: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _build(args, log) -> int:
    from aotsym.build import compiler
    from aotsym.build.blas import NO_BLAS, find_blas
    from aotsym.build.standalone import c_returns_single, plan_exports, signature_doc, \
        write_package
    from aotsym.config import config
    from aotsym.emit_c import FunctionSpec, emit_module

    if args.target != "c":
        print("aotsym build: the CUDA target (--target cuda) is not part of this installation "
              "yet; build with --target c", file=sys.stderr)
        return 2
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
    for mod in modules:
        if args.name and len(modules) == 1 and args.name != mod.name:
            from aotsym.frontend.module import _check_name
            _check_name(args.name, "--name")
            mod.name = args.name
        if not mod.exports:
            raise ValueError(f"Module {mod.name!r} exports no function (@{mod.name}.export)")
        t = time.perf_counter()
        plans = plan_exports(mod, mode=args.mode)
        log(f"optimize  {time.perf_counter() - t:7.2f} s  "
            + ", ".join(f"{p.name}: {len(p.fgraph)} nodes" for p in plans))
        t = time.perf_counter()
        specs = [FunctionSpec(p.name, p.fgraph, c_returns_single(p), signature_doc(p))
                 for p in plans]
        emitted = emit_module(specs, profile=args.profile or args.mode == "PROFILE_MODE",
                              threads=bool(config.openmp))
        log(f"emit      {time.perf_counter() - t:7.2f} s  {len(emitted.source) // 1024} KB of "
            f"C, graph hash {emitted.digest()[:16]}")
        blas = find_blas(config.blas) if emitted.uses_blas else NO_BLAS
        flags = compiler.compile_flags(cflags, extra=blas.cflags)
        log.detail(f"compiler: {config.cxx} ({compiler.compiler_version(config.cxx)})")
        log.detail(f"flags: {' '.join(flags)}")
        if emitted.uses_blas:
            log.detail(f"BLAS: {blas.name} {blas.version} (copied beside the module, found "
                       "through $ORIGIN)" if blas is not NO_BLAS else "BLAS: none (C loops)")
        final, seconds = write_package(mod, plans, emitted, args.outdir, config.cxx, flags,
                                       blas, spec_path=path, keep_source=args.keep_source,
                                       log=log)
        log(f"compile   {seconds:7.2f} s  {config.cxx} {cflags}")
        log(f"wrote {final}{os.sep}  (import {mod.name} with {args.outdir} on sys.path)")
    return 0
