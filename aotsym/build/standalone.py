"""Standalone modules: an ``aotsym.Module`` built into a package that imports with only
numpy and cffi's runtime.

Part of the build stage (emit_c / emit_cuda -> **build** -> module.so).  ``aotsym build``
(:mod:`.cli`) hands a Module's assembled exports to the build driver
(:func:`aotsym.build.driver.build_package`), which optimizes and emits them as it does for
``aotsym.function``, then calls :func:`write_package` here to compile the package.  What
differs between targets is the extension object the driver passes in (:class:`CExtension`
here; :class:`aotsym.build.cuda.CudaExtension` for ``--target cuda``): how ``_aot`` is
compiled and what it links, the build's metadata, and the lines of ``__init__.py`` that make
the functions from it.  Everything else — names checked, the Python module, stubs, state,
the import check, the atomic publication — is written here once for both.  The package
``OUTDIR/NAME/`` holds:

* ``_aot<EXT_SUFFIX>``: the cffi extension, the same emitted code as ``aotsym.function``
  builds (C: every export one C function, the runtime compiled in; CUDA: a fatbin for
  sm_80/sm_90 plus PTX, cudart linked statically, so the package imports on a machine
  without a GPU or driver and says what is missing at the first call);
* ``__init__.py``: the module users import: the exported functions (the C entry itself when a
  function has no shared state, else a thin wrapper that passes the state in and stores the
  updates after a successful call), the shared values, ``save_state`` / ``load_state``,
  ``profile``, ``__aotsym__`` (the build: versions, flags, graph hash, and per function what
  the optimizer did, ``__aotsym__["optimizer"]``); Theano's argument checking is embedded
  (aotsym/graph/checking.py, aotsym/build/pyruntime.py), so error messages are the ones
  aotsym gives in-process;
* ``__init__.pyi``: type stubs; ``initial_state.npz``: the shared values at build time;
* the BLAS shared library when the module links one (OpenBLAS; cuBLAS and cublasLt for a
  CUDA program with products), found through ``$ORIGIN``: the package directory can be
  moved or copied anywhere.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np

import aotsym
from aotsym.build import compiler, pyruntime
from aotsym.build.glue import write_cffi_source
from aotsym.config import config
from aotsym.emit_c.templates import py_identifier, py_identifiers, py_literal, render
from aotsym.graph import checking

BUILD_DIR = os.path.dirname(os.path.abspath(__file__))

_NP_TYPES = {"bool": "np.bool_", "int8": "np.int8", "int16": "np.int16", "int32": "np.int32",
             "int64": "np.int64", "uint8": "np.uint8", "uint16": "np.uint16",
             "uint32": "np.uint32", "uint64": "np.uint64", "float32": "np.float32",
             "float64": "np.float64", "complex64": "np.complex64",
             "complex128": "np.complex128"}


# names a wrapper's body uses besides its arguments and the shared values it reads
WRAPPER_NAMES = ("outs", "_fast", "_STATE_LOCK")


def argument_names(plan) -> list:
    """The Python names of an export's arguments in the built module: the names the user gave
    the inputs when they are distinct identifiers, else made so (``"input x"`` ->
    ``input_x``, a second ``x`` -> ``x_2``, ``lambda`` -> ``lambda_``, an input named like a
    shared value the function reads -> ``w_``; :func:`~aotsym.emit_c.templates.py_identifiers`;
    ASCII for a C entry, whose text signature must be).  The signature and the docstring
    show these names; error messages keep the user's."""
    reserved = set(WRAPPER_NAMES) | {s.name for s in plan.shared_inputs}
    return py_identifiers(plan.arg_names, reserved, ascii=positional_only(plan))


def positional_only(plan) -> bool:
    """Whether the export is the C entry itself (no shared state: the fastest call), which
    takes its arguments by position only; the others are Python wrappers taking keywords."""
    return not plan.shared_inputs and not plan.updated


def signature_doc(plan) -> str:
    """The C function's docstring: a text signature (``inspect.signature`` reads it), then
    the argument and result types.  ``plan``: an
    :class:`~aotsym.build.driver.AssembledFunction` (its graph, optimized or not: the types
    of inputs and outputs are the same)."""
    ins = plan.fgraph.inputs[:plan.n_args]
    names = argument_names(plan)
    args = ", ".join(names + (["/"] if positional_only(plan) and names else []))
    typed = ", ".join(f"{n}: {v.type}" for n, v in zip(names, ins))
    outs = [str(v.type) for v in plan.fgraph.outputs[:plan.n_outputs]]
    result = outs[0] if plan.single_output and outs else f"[{', '.join(outs)}]"
    lines = [f"{plan.name}({args})", "--", "", f"{plan.name}({typed}) -> {result}"]
    if plan.doc:
        lines += ["", plan.doc]
    if plan.updated:
        lines += ["", "Updates the shared values " + ", ".join(v.name for v in plan.updated)
                  + "."]
    return "\n".join(lines)


def embedded_source(module) -> str:
    """The source of an aotsym module, without its imports of aotsym (for the standalone
    module, which cannot import aotsym)."""
    text = inspect.getsource(module)
    lines = [line for line in text.splitlines()
             if not re.match(r"\s*(from aotsym|import aotsym|from __future__)", line)]
    return "\n".join(lines)


def _python_wrapper(plan, direct=True) -> list:
    """Lines defining the Python name of an export: the C entry itself when the function has
    no shared state (the fastest call; with ``direct`` false, where the entry is not a
    function with the export's signature, a function of positional arguments calling it),
    else a wrapper passing the state in and storing the new values after a successful call,
    holding the module's state lock from reading the state to storing the updates
    (concurrent calls lose no update)."""
    names = argument_names(plan)
    if positional_only(plan):
        if direct:
            return [f"{plan.name} = _fast.{plan.name}"]
        args = ", ".join(names + (["/"] if names else []))
        return [f"def {plan.name}({args}):",
                f"    return _fast.{plan.name}({', '.join(names)})",
                f"{plan.name}.__doc__ = _fast.{plan.name}.__doc__"]
    args = ", ".join(names)
    call = ", ".join(names + [f"{s.name}._value" for s in plan.shared_inputs])
    lines = [f"def {plan.name}({args}):",
             "    with _STATE_LOCK:",
             f"        outs = _fast.{plan.name}({call})"]
    for k, s in enumerate(plan.updated):
        lines.append(f"        {s.name}._value = outs[{plan.n_outputs + k}]")
    if c_returns_single(plan):
        lines.append("    return outs")
    else:
        lines.append("    return outs[0]" if plan.single_output else
                     f"    return outs[:{plan.n_outputs}]")
    lines.append(f"{plan.name}.__doc__ = _fast.{plan.name}.__doc__")
    return lines


def c_returns_single(plan) -> bool:
    """Whether the C entry returns the one output itself (not a list)."""
    return plan.single_output and not plan.updated


class CExtension:
    """The C target's part of a package: the emitted C compiled by the C compiler (cffi's
    API mode) with the runtime's object linked in (built once per compiler and flags in
    ``cache``: :func:`aotsym.build.compiler.compile_module`), the BLAS library copied beside
    it.

    The interface :func:`write_package` uses (:class:`aotsym.build.cuda.CudaExtension` has
    the same): ``compile(pkg, name, keep_source, log) -> seconds`` writes
    ``pkg/_aot<EXT_SUFFIX>`` and the libraries it links; ``meta()`` is what
    ``__aotsym__`` says of the build; ``embedded`` the modules whose source ``__init__.py``
    carries besides :mod:`aotsym.graph.checking` and :mod:`.pyruntime`; ``load_lines(name,
    plans)`` the lines that make ``_fast`` (the functions by name, with the
    ``_exact_entries`` / ``_set_slowpath`` protocol) from ``_ext`` and ``_NODE_NAMES``;
    ``direct_entries``: an export without state is ``_fast.NAME`` itself; ``requires``:
    what the package needs where it runs (its docstring says it)."""
    target = "c"
    embedded = ()
    direct_entries = True
    requires = "only numpy and cffi's runtime"

    def __init__(self, emitted, cc, flags, blas, cache):
        self.emitted = emitted
        self.cc = cc
        self.flags = flags
        self.blas = blas
        self.cache = cache
        self.seconds = {}   # compile(): the runtime's share ("runtime")

    def meta(self) -> dict:
        return {"target": self.target, "compiler": compiler.compiler_version(self.cc),
                "flags": self.flags, "blas": getattr(self.blas, "name", "none")}

    def compile(self, pkg, name, keep_source, log) -> float:
        emitted = self.emitted
        c_path = os.path.join(pkg, "_aot.c")
        write_cffi_source(f"{name}._aot", emitted.source, emitted.cdef, c_path,
                          self.cache)
        link = []
        if emitted.uses_blas and self.blas.name != "none":
            copy_beside([os.path.join(self.blas.lib_dir, self.blas.lib_file)], pkg)
            link = self.blas.link_args(rpath=["$ORIGIN"])
        start = time.perf_counter()
        warnings = compiler.compile_module(
            c_path, os.path.join(pkg, "_aot" + compiler.ext_suffix()), self.cc, self.flags,
            link, emitted.runtime, self.cache, self.seconds)
        seconds = time.perf_counter() - start
        if warnings:
            log(warnings)
        if not keep_source:
            os.remove(c_path)
        elif emitted.runtime:   # the rest of the source: the runtime, compiled apart
            with open(os.path.join(pkg, "_aot_runtime.c"), "w") as fh:
                fh.write(emitted.runtime)
        return seconds

    def load_lines(self, name, plans) -> list:
        return [f"_fast = register(_ext, {py_literal(f'{name}._aot_functions')})",
                "_fast._set_node_names(_NODE_NAMES)"]


def copy_beside(paths, directory) -> None:
    """The shared libraries an extension links, put into its package ``directory`` (where
    ``$ORIGIN`` finds them): a hard link where the file system allows one (cuBLAS's
    libraries weigh 600 MB; a later change to the original replaces it, as pip does, and
    leaves the package's alone), else a copy."""
    for path in paths:
        target = os.path.join(directory, os.path.basename(path))
        try:
            os.link(os.path.realpath(path), target)
        except OSError:
            shutil.copy2(path, target)


def write_package(mod, plans, emitted, steps, outdir, extension, stats=None, spec_path="",
                  keep_source=False, log=print) -> tuple:
    """Compile ``emitted`` and write the package ``outdir/NAME``: (its path, seconds spent
    compiling).  ``mod``: the Module (name, docstring, shared values); ``plans``: its
    exports, assembled; ``steps``: per function the driver's ``step_table`` (what a run-time
    error or profile row names); ``extension``: the target's part (:class:`CExtension`,
    :class:`aotsym.build.cuda.CudaExtension`), which compiles ``emitted``; ``stats``: per
    function the optimizer's summary, for ``__aotsym__["optimizer"]``.

    Replacing a package is atomic, and so safe while other processes import it: each build
    is written to its own directory ``outdir/.NAME.versions/VERSION/NAME``, imported there
    in a fresh interpreter (:class:`ImportCheck`: a package that does not import is never
    published), then ``outdir/NAME`` becomes a symbolic link to it by one ``rename``.  A
    reader sees the old package or the new one, whole; the package's ``__init__`` loads its
    extension and state from its own version directory even if the link moves meanwhile.
    Builds of one output serialize on the file lock ``outdir/.NAME.lock``; versions neither
    current nor just replaced are removed once a minute old."""
    name = py_identifier(mod.name, "the module name")
    _check_names(mod, plans, extension)
    outdir = os.path.abspath(outdir)
    final = os.path.join(outdir, name)
    os.makedirs(outdir, exist_ok=True)
    versions = os.path.join(outdir, f".{name}.versions")
    with _output_lock(outdir, name):
        os.makedirs(versions, exist_ok=True)
        version = (time.strftime("%Y%m%dT%H%M%S", time.gmtime())
                   + f"-{os.getpid()}-{os.urandom(4).hex()}")
        tmp = os.path.join(versions, version, name)
        os.makedirs(tmp)
        try:
            with ImportCheck(os.path.dirname(tmp)) as check:   # starts beside the compiler
                seconds = extension.compile(tmp, name, keep_source, log)
                _write_python(mod, plans, emitted, steps, stats, tmp, extension, spec_path,
                              version)
                check.run(name, [p.name for p in plans])
            previous = _publish(final, os.path.join(f".{name}.versions", version, name),
                                versions)
        except BaseException:
            shutil.rmtree(os.path.dirname(tmp), ignore_errors=True)
            raise
        _sweep_versions(versions, keep={version, previous})
    return final, seconds


@contextlib.contextmanager
def _output_lock(outdir, name):
    """Builds of ``outdir/name`` one at a time (a lock file beside it)."""
    with open(os.path.join(outdir, f".{name}.lock"), "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


class ImportCheck:
    """The import of a package just built, in a fresh interpreter (``-I``: no user site, no
    PYTHONPATH; only NumPy's and cffi's directories added), started before the package is
    written: Python's start and NumPy's import (a quarter of a second) happen beside the
    compiler, and :meth:`run` then imports the package ``path/name`` and checks it exports
    ``functions``, raising a RuntimeError with the interpreter's error when it does not.
    A context manager: leaving it ends an interpreter that was not asked."""

    def __init__(self, path):
        import _cffi_backend
        site = [path] + [os.path.dirname(os.path.dirname(np.__file__)),
                         os.path.dirname(_cffi_backend.__file__)]
        code = (f"import sys; sys.path[:0] = {site!r}\n"
                "import json, numpy, _cffi_backend\n"
                "line = sys.stdin.readline()\n"
                "if not line: sys.exit(0)\n"
                "name, functions = json.loads(line)\n"
                "m = __import__(name)\n"
                "missing = [f for f in functions if not callable(getattr(m, f, None))]\n"
                "assert not missing, f'no function {missing}'\n")
        self.proc = subprocess.Popen([sys.executable, "-I", "-c", code], cwd=path, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)

    def run(self, name, functions) -> None:
        try:
            _, err = self.proc.communicate(json.dumps([name, list(functions)]) + "\n",
                                           timeout=600)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        if self.proc.returncode != 0:
            raise RuntimeError(f"the package {name} that was built does not import (so it is "
                               f"not written): {err.strip()[-2000:]}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.returncode is None:
            self.proc.kill()
            self.proc.communicate()


def check_imports(path, name, functions) -> None:
    """Import the package ``path/name`` in a fresh interpreter and check it exports
    ``functions`` (:class:`ImportCheck`, started now)."""
    with ImportCheck(path) as check:
        check.run(name, functions)


def _publish(final, target, versions) -> str | None:
    """Point ``final`` at ``target`` (relative to its directory) atomically; the version it
    pointed to before, if any."""
    previous = None
    if os.path.islink(final):
        previous = os.path.basename(os.path.dirname(os.readlink(final)))
    elif os.path.exists(final):
        # a package written by an older aotsym (a plain directory): moved into the versions
        # (the one replacement that is not atomic)
        previous = f"old-{time.time_ns()}"
        os.makedirs(os.path.join(versions, previous))
        os.rename(final, os.path.join(versions, previous, os.path.basename(final)))
    link = os.path.join(os.path.dirname(final),
                        f".{os.path.basename(final)}.link-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        os.remove(link)
    os.symlink(target, link)
    os.replace(link, final)
    return previous


def _sweep_versions(versions, keep, age=60.0) -> None:
    """Remove the versions not in ``keep`` last changed over ``age`` seconds ago (a reader
    may still be importing one that was current a moment ago)."""
    now = time.time()
    for entry in os.listdir(versions):
        path = os.path.join(versions, entry)
        try:
            if entry not in keep and now - os.path.getmtime(path) > age:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def generated_globals(embedded=()) -> set:
    """The names the generated ``__init__.py`` defines itself (the embedded runtime's, the
    template's, those of the target's ``embedded`` modules): an export or shared value may
    not take one."""
    names = {"save_state", "load_state", "profile", "print_profile", "reset_profile",
             "__aotsym__", "register", *WRAPPER_NAMES}
    for source in [embedded_source(m) for m in (checking, pyruntime, *embedded)]:
        for node in ast.parse(source).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _check_names(mod, plans, extension) -> None:
    """Module, export and shared names: identifiers the generated module can define, none
    taken twice or by the module itself (a ValueError naming the culprit)."""
    taken = generated_globals(extension.embedded)
    seen = {}
    for what, name in ([("shared value", s) for s in mod.shared_vars]
                       + [("exported function", p.name) for p in plans]):
        py_identifier(name, f"Module {mod.name!r}: {what}")
        if name in taken:
            raise ValueError(f"Module {mod.name!r}: the {what} name {name!r} is a name the "
                             "built module uses itself; rename it")
        if name in seen:
            raise ValueError(f"Module {mod.name!r}: {name!r} names both a {seen[name]} and a "
                             f"{what}; rename one")
        seen[name] = what
    for key, s in mod.shared_vars.items():
        if s.name != key:
            raise ValueError(f"Module {mod.name!r}: shared value {s.name!r} is registered "
                             f"under another name, {key!r}")
    for plan in plans:
        for s in plan.shared_inputs:
            if mod.shared_vars.get(s.name) is not s:
                raise ValueError(f"{plan.label} reads the shared variable {s.name!r}, which "
                                 f"is not one of Module {mod.name!r}'s (create it with "
                                 "mod.shared)")


def module_doc(mod, plans, spec_path, requires="only numpy and cffi's runtime") -> str:
    """The built module's docstring (a Python literal of it goes into ``__init__.py``)."""
    summary = "an aotsym module"
    if mod.__doc__ and mod.__doc__ != type(mod).__doc__ and mod.__doc__.strip():
        summary = mod.__doc__.strip().splitlines()[0]
    shared = ", ".join(mod.shared_vars) or "none"
    lines = [f"{mod.name}: {summary}", "",
             f"Built by aotsym {aotsym.__version__} from {spec_path or '?'}; needs {requires}.",
             "", "Functions:"]
    lines += ["    " + signature_doc(p).split("\n--\n\n", 1)[1].splitlines()[0] for p in plans]
    lines += [f"Shared state: {shared} (``{mod.name}.NAME.get_value()`` / ``set_value(v)``,",
              "``save_state(path)`` / ``load_state(path)``).  ``__aotsym__`` describes the "
              "build.", "",
              "Calls of functions that read or update shared state hold the module's state "
              "lock from",
              "reading the state to storing the updates: concurrent calls are serialized and "
              "lose no",
              "update.  Functions without shared state run in parallel (the C code releases "
              "the GIL).", ""]
    return "\n".join(lines)


def _write_python(mod, plans, emitted, steps, stats, pkg, extension, spec_path, version=""):
    name = mod.name
    shared = list(mod.shared_vars.values())
    np.savez(os.path.join(pkg, "initial_state.npz"),
             **{s.name: s.get_value(borrow=True) for s in shared})
    functions = []
    for plan in plans:
        ins = plan.fgraph.inputs
        types = ", ".join(f"ArgType({v.dtype!r}, {tuple(v.broadcastable)!r})" for v in ins)
        outs = plan.fgraph.outputs[:plan.n_outputs]
        ret = [f"NDArray[{_NP_TYPES[v.dtype]}]" for v in outs]
        stub_args = [f"{a}: NDArray[{_NP_TYPES[v.dtype]}] | Any"
                     for a, v in zip(argument_names(plan), ins)]
        functions.append({
            "name": plan.name, "name_repr": py_literal(plan.name),
            "labels": py_literal(list(plan.labels)),
            "types": types, "python": _python_wrapper(plan, extension.direct_entries),
            "stub_args": ", ".join(stub_args + (["/"] if positional_only(plan) and stub_args
                                               else [])),
            "stub_return": ret[0] if plan.single_output and ret else
            f"list[{' | '.join(sorted(set(ret)))}]" if ret else "list[Any]",
            "stub_doc": py_literal(signature_doc(plan).split("\n--\n\n", 1)[1]),
        })
    meta = {
        "name": name, "aotsym": aotsym.__version__, "numpy_at_build": np.__version__,
        "python": sys.version.split()[0], "ext_suffix": compiler.ext_suffix(),
        **extension.meta(), "graph_hash": emitted.digest(),
        "profile": getattr(emitted, "profile", False), "spec": spec_path, "version": version,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "functions": {p.name: signature_doc(p).split("\n--\n\n", 1)[1] for p in plans},
        "shared": {s.name: str(s.type) for s in shared},
        "optimizer": dict(stats or {}),
    }
    node_names = [tuple(description for _, description in table) for table in steps]
    checking_src = embedded_source(checking) + (
        f"\n\n\ndef floatx():\n    return {config.floatX!r}\n\n\n"
        "def type_is_symbolic(value):\n    return False\n")
    text = render(
        "standalone_init.py.j2", directory=BUILD_DIR, name=name, name_repr=py_literal(name),
        module_doc=py_literal(module_doc(mod, plans, spec_path, extension.requires)),
        versions_repr=py_literal(f".{name}.versions"), version_repr=py_literal(version),
        checking_source=checking_src,
        pyruntime_source=embedded_source(pyruntime) + (
            "\n\n_save_state, _load_state = save_state, load_state\n"),
        target_sources=[{"path": m.__name__.replace(".", "/") + ".py",
                         "text": embedded_source(m)} for m in extension.embedded],
        meta_json=py_literal(json.dumps(meta, sort_keys=True)),
        load_lines=extension.load_lines(name, plans),
        node_names=py_literal(node_names),
        shared=[{"name": s.name, "name_repr": py_literal(s.name),
                 "dtype_repr": py_literal(s.dtype),
                 "bcast": py_literal(tuple(s.broadcastable))} for s in shared],
        shared_names=", ".join(s.name for s in shared),
        functions=functions,
        function_names=", ".join(py_literal(p.name) for p in plans),
        exports=", ".join(py_literal(x) for x in [p.name for p in plans]
                          + [s.name for s in shared]
                          + ["save_state", "load_state", "profile", "print_profile"]),
    )
    with open(os.path.join(pkg, "__init__.py"), "w", encoding="utf-8") as fh:
        fh.write(text)
    stub = render("standalone_stub.pyi.j2", directory=BUILD_DIR, name=name,
                  shared=[{"name": s.name} for s in shared], functions=functions)
    with open(os.path.join(pkg, "__init__.pyi"), "w", encoding="utf-8") as fh:
        fh.write(stub)
