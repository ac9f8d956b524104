"""Standalone modules: an ``aotsym.Module`` built into a package that imports with only
numpy and cffi's runtime.

Part of the build stage (emit_c -> **build** -> module.so).  ``aotsym build`` (:mod:`.cli`)
hands a Module's assembled exports to the build driver
(:func:`aotsym.build.driver.build_package`), which optimizes and emits them as it does for
``aotsym.function``, then calls :func:`write_package` here to compile the package.  The
package ``OUTDIR/NAME/`` holds:

* ``_aot<EXT_SUFFIX>``: the cffi extension, the same emitted C as ``aotsym.function`` builds
  (every export one C function, the runtime compiled in);
* ``__init__.py``: the module users import: the exported functions (the C entry itself when a
  function has no shared state, else a thin wrapper that passes the state in and stores the
  updates after a successful call), the shared values, ``save_state`` / ``load_state``,
  ``profile``, ``__aotsym__`` (the build: versions, flags, graph hash, and per function what
  the optimizer did, ``__aotsym__["optimizer"]``); Theano's argument checking is embedded
  (aotsym/graph/checking.py, aotsym/build/pyruntime.py), so error messages are the ones
  aotsym gives in-process;
* ``__init__.pyi``: type stubs; ``initial_state.npz``: the shared values at build time;
* the BLAS shared library when the module links one, found through ``$ORIGIN``: the package
  directory can be moved or copied anywhere.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import sys
import time

import numpy as np

import aotsym
from aotsym.build import compiler, pyruntime
from aotsym.config import config
from aotsym.emit_c.templates import render
from aotsym.graph import checking

BUILD_DIR = os.path.dirname(os.path.abspath(__file__))

_NP_TYPES = {"bool": "np.bool_", "int8": "np.int8", "int16": "np.int16", "int32": "np.int32",
             "int64": "np.int64", "uint8": "np.uint8", "uint16": "np.uint16",
             "uint32": "np.uint32", "uint64": "np.uint64", "float32": "np.float32",
             "float64": "np.float64", "complex64": "np.complex64",
             "complex128": "np.complex128"}


def signature_doc(plan) -> str:
    """The C function's docstring: a text signature (``inspect.signature`` reads it), then
    the argument and result types.  ``plan``: an
    :class:`~aotsym.build.driver.AssembledFunction` (its graph, optimized or not: the types
    of inputs and outputs are the same)."""
    ins = plan.fgraph.inputs[:plan.n_args]
    args = ", ".join(plan.arg_names)
    typed = ", ".join(f"{n}: {v.type}" for n, v in zip(plan.arg_names, ins))
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


def _python_wrapper(plan) -> list:
    """Lines defining the Python name of an export: the C entry itself when the function has
    no shared state (the fastest call), else a wrapper passing the state in and storing the
    new values after a successful call."""
    if not plan.shared_inputs and not plan.updated:
        return [f"{plan.name} = _fast.{plan.name}"]
    args = ", ".join(plan.arg_names)
    call = ", ".join(plan.arg_names + [f"{s.name}._value" for s in plan.shared_inputs])
    lines = [f"def {plan.name}({args}):",
             f"    outs = _fast.{plan.name}({call})"]
    for k, s in enumerate(plan.updated):
        lines.append(f"    {s.name}._value = outs[{plan.n_outputs + k}]")
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


def write_package(mod, plans, emitted, steps, outdir, cc, flags, blas, stats=None,
                  spec_path="", keep_source=False, log=print) -> tuple:
    """Compile ``emitted`` and write the package ``outdir/NAME``: (its path, seconds spent
    compiling).  The package is assembled beside and renamed into place.  ``mod``: the
    Module (name, docstring, shared values); ``plans``: its exports, assembled; ``steps``:
    per function the driver's ``step_table`` (what a run-time error or profile row names);
    ``stats``: per function the optimizer's summary, for ``__aotsym__["optimizer"]``."""
    name = mod.name
    final = os.path.join(outdir, name)
    os.makedirs(outdir, exist_ok=True)
    tmp = os.path.join(outdir, f".{name}.building-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        ext_name = f"{name}._aot"
        c_path = os.path.join(tmp, "_aot.c")
        compiler.write_cffi_source(ext_name, emitted.source, emitted.cdef, c_path)
        link = []
        if emitted.uses_blas and blas.name != "none":
            shutil.copy2(os.path.join(blas.lib_dir, blas.lib_file), tmp)
            link = blas.link_args(rpath=["$ORIGIN"])
        start = time.perf_counter()
        warnings = compiler.compile_extension(c_path, os.path.join(tmp, "_aot" +
                                                                    compiler.ext_suffix()),
                                              cc, flags, link)
        seconds = time.perf_counter() - start
        if warnings:
            log(warnings)
        if not keep_source:
            os.remove(c_path)
        _write_python(mod, plans, emitted, steps, stats, tmp, flags, blas, spec_path, cc)
        if os.path.isdir(final):
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, seconds


def _write_python(mod, plans, emitted, steps, stats, pkg, flags, blas, spec_path, cc):
    name = mod.name
    shared = list(mod.shared_vars.values())
    np.savez(os.path.join(pkg, "initial_state.npz"),
             **{s.name: s.get_value(borrow=True) for s in shared})
    functions = []
    for plan in plans:
        ins = plan.fgraph.inputs
        types = ", ".join(f"ArgType({v.dtype!r}, {tuple(v.broadcastable)!r})" for v in ins)
        labels = plan.labels
        outs = plan.fgraph.outputs[:plan.n_outputs]
        ret = [f"NDArray[{_NP_TYPES[v.dtype]}]" for v in outs]
        functions.append({
            "name": plan.name, "name_repr": repr(plan.name), "labels": repr(labels),
            "types": types, "python": _python_wrapper(plan),
            "stub_args": ", ".join(f"{a}: NDArray[{_NP_TYPES[v.dtype]}] | Any"
                                   for a, v in zip(plan.arg_names, ins)),
            "stub_return": ret[0] if plan.single_output and ret else
            f"list[{' | '.join(sorted(set(ret)))}]" if ret else "list[Any]",
            "stub_doc": signature_doc(plan).split("\n--\n\n", 1)[1].replace('"""', "'''"),
        })
    meta = {
        "name": name, "aotsym": aotsym.__version__, "numpy_at_build": np.__version__,
        "python": sys.version.split()[0], "ext_suffix": compiler.ext_suffix(),
        "compiler": compiler.compiler_version(cc), "flags": flags,
        "blas": getattr(blas, "name", "none"), "graph_hash": emitted.digest(),
        "profile": emitted.profile, "spec": spec_path,
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
        "standalone_init.py.j2", directory=BUILD_DIR, name=name, name_repr=repr(name),
        summary=(mod.__doc__ or "an aotsym module").strip().splitlines()[0]
        if mod.__doc__ and mod.__doc__ != type(mod).__doc__ else "an aotsym module",
        version=aotsym.__version__, spec=spec_path or "?",
        function_lines=[signature_doc(p).split("\n--\n\n", 1)[1].splitlines()[0]
                        for p in plans],
        shared_summary=", ".join(s.name for s in shared) or "none",
        checking_source=checking_src,
        pyruntime_source=embedded_source(pyruntime) + (
            "\n\n_save_state, _load_state = save_state, load_state\n"
            "_profile, _print_profile = profile, print_profile\n"),
        meta_json=repr(json.dumps(meta, sort_keys=True)), key=repr(f"{name}._aot_functions"),
        node_names=repr(node_names),
        shared=[{"name": s.name, "name_repr": repr(s.name), "dtype_repr": repr(s.dtype),
                 "bcast": repr(tuple(s.broadcastable))} for s in shared],
        shared_names=", ".join(s.name for s in shared),
        functions=functions, c_entries=", ".join(f"_fast.{p.name}" for p in plans),
        function_names=", ".join(repr(p.name) for p in plans),
        exports=", ".join(repr(x) for x in [p.name for p in plans] + [s.name for s in shared]
                          + ["save_state", "load_state", "profile", "print_profile"]),
    )
    with open(os.path.join(pkg, "__init__.py"), "w") as fh:
        fh.write(text)
    stub = render("standalone_stub.pyi.j2", directory=BUILD_DIR, name=name,
                  shared=[{"name": s.name} for s in shared], functions=functions)
    with open(os.path.join(pkg, "__init__.pyi"), "w") as fh:
        fh.write(stub)
