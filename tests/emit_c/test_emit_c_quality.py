"""The generated C compiles without warnings (-Wall -Wextra -Werror) and runs clean under
AddressSanitizer and UndefinedBehaviorSanitizer."""

import os
import shutil
import subprocess
import sys

import pytest
from representative import cases

from aotsym.build import compiler
from aotsym.build.blas import find_blas
from aotsym.emit_c import FunctionSpec, emit_module
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import lower_program

HERE = os.path.dirname(os.path.abspath(__file__))


def test_generated_c_compiles_without_warnings(tmp_path):
    specs = [FunctionSpec(c.name, lower_program(FunctionGraph(c.inputs, c.outputs)))
             for c in cases()]
    for profile in (False, True):
        emitted = emit_module(specs, profile=profile)
        c_path = str(tmp_path / f"warn{int(profile)}.c")
        compiler.write_cffi_source(f"warn{int(profile)}", emitted.source, emitted.cdef, c_path)
        blas = find_blas("auto").cflags
        flags = compiler.REQUIRED_FLAGS + ["-Wall", "-Wextra", "-Werror", "-O2"] + blas
        argv = ["cc", "-c"] + [f for f in flags if f != "-shared"] + \
            [f"-I{d}" for d in compiler.include_dirs()] + [c_path, "-o", c_path + ".o"]
        proc = subprocess.run(argv, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-5000:]


def _libasan():
    out = subprocess.run(["cc", "-print-file-name=libasan.so"], capture_output=True, text=True)
    path = out.stdout.strip()
    return path if os.path.isabs(path) and os.path.exists(path) else None


@pytest.mark.skipif(shutil.which("cc") is None or _libasan() is None,
                    reason="needs gcc with AddressSanitizer")
def test_representative_ops_run_clean_under_asan_and_ubsan(tmp_path):
    env = dict(os.environ)
    env["LD_PRELOAD"] = _libasan()
    env["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    root = os.path.dirname(os.path.dirname(HERE))
    env["PYTHONPATH"] = os.pathsep.join([root, HERE, env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable, os.path.join(HERE, "sanitize_run.py"),
                           str(tmp_path / "cache")], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-8000:])
    assert "sanitized run ok" in proc.stdout
