"""Shared helpers of the C emitter tests: build many functions into one module, compare
every output with the reference evaluator."""

import os
import shutil
import subprocess
import sys

import numpy as np

from aotsym.build import BuildOptions, build_module
from aotsym.emit_c import FunctionSpec
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import lower_program

# Correctness tests build at -O1: the same C, compiled fast.  The vectorized paths are
# exercised at -O3 by the benchmarks and by tests that build with the default flags.
TEST_CFLAGS = "-O1"


class Case:
    def __init__(self, name, inputs, outputs):
        self.name, self.inputs, self.outputs = name, list(inputs), list(outputs)


def build(cases, cflags=TEST_CFLAGS, **options):
    """One module for all ``cases``; returns {case name: C entry}."""
    specs = [FunctionSpec(c.name, lower_program(FunctionGraph(c.inputs, c.outputs)))
             for c in cases]
    loaded = build_module(specs, BuildOptions.from_config(cflags=cflags, **options))
    return {c.name: e for c, e in zip(cases, loaded.entries)}


def assert_matches(case, entry, values, rtol=1e-6, atol=1e-9):
    got = entry(*values)
    ref = evaluate(case.outputs, dict(zip(case.inputs, values)))
    assert len(got) == len(ref)
    for k, (g, r) in enumerate(zip(got, ref)):
        where = f"{case.name} output {k} ({case.outputs[k].owner.op if case.outputs[k].owner else case.outputs[k]})"
        assert isinstance(g, np.ndarray), where
        assert g.dtype == r.dtype, f"{where}: dtype {g.dtype} != {r.dtype}"
        assert g.shape == r.shape, f"{where}: shape {g.shape} != {r.shape}"
        if g.dtype.kind in "fc":
            single = g.dtype in (np.float32, np.complex64)
            tol = max(rtol, 2e-5) if single else rtol
            np.testing.assert_allclose(g, r, rtol=tol, atol=max(atol, tol), equal_nan=True,
                                       err_msg=where)
        else:
            np.testing.assert_array_equal(g, r, err_msg=where)
    return got


def strict_flags() -> list:
    """The required flags with ``-Wall -Wextra -Werror`` (and the BLAS's), at -O1."""
    from aotsym.build import compiler
    from aotsym.build.blas import find_blas
    return compiler.REQUIRED_FLAGS + ["-Wall", "-Wextra", "-Werror", "-O1"] + \
        find_blas("auto").cflags


def compile_strictly(emitted, directory, name, flags=None) -> list:
    """Compile ``emitted`` (an EmittedModule: its C through cffi's glue, and its runtime's
    translation unit when it is apart) to objects in ``directory`` with ``flags``
    (:func:`strict_flags` by default); assert that every unit compiles (no warning, with
    -Werror); return the units' paths (each ``unit + ".o"`` beside it)."""
    from aotsym.build import compiler
    from aotsym.build.glue import write_cffi_source
    flags = strict_flags() if flags is None else flags
    c_path = os.path.join(str(directory), f"{name}.c")
    write_cffi_source(name, emitted.source, emitted.cdef, c_path)
    units = [c_path]
    if emitted.runtime:
        units.append(os.path.join(str(directory), f"{name}_runtime.c"))
        with open(units[-1], "w") as fh:
            fh.write(emitted.runtime)
    for unit in units:
        argv = ["cc", "-c"] + [f for f in flags if f != "-shared"] + \
            [f"-I{d}" for d in compiler.include_dirs()] + [unit, "-o", unit + ".o"]
        proc = subprocess.run(argv, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-5000:]
    return units


def libasan():
    """The path of gcc's AddressSanitizer runtime, or None (no gcc, no libasan)."""
    if shutil.which("cc") is None:
        return None
    out = subprocess.run(["cc", "-print-file-name=libasan.so"], capture_output=True, text=True)
    path = out.stdout.strip()
    return path if os.path.isabs(path) and os.path.exists(path) else None


def run_sanitized(argv, cache_dir):
    """Run ``[python] + argv + [cache_dir]`` with AddressSanitizer preloaded (UBSan halting
    on error) and this folder and the repository on the path; assert that it exits 0 and
    printed "sanitized run ok"."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    env = dict(os.environ, LD_PRELOAD=libasan(), ASAN_OPTIONS="detect_leaks=0:abort_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    env["PYTHONPATH"] = os.pathsep.join([root, here, env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable] + list(argv) + [str(cache_dir)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-8000:])
    assert "sanitized run ok" in proc.stdout
