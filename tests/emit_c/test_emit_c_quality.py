"""The generated C compiles without warnings (-Wall -Wextra -Werror) and runs clean under
AddressSanitizer and UndefinedBehaviorSanitizer."""

import os
import subprocess

import pytest
from representative import cases

from aotsym.build import compiler
from aotsym.build.blas import find_blas
from aotsym.emit_c import FunctionSpec, emit_module
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import lower_program
from emit_helpers import compile_strictly, libasan, run_sanitized

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.parametrize("apart", [False, True], ids=["runtime-pasted", "runtime-apart"])
def test_generated_c_compiles_without_warnings(tmp_path, apart):
    """Both ways of building: the runtime pasted into the module, and the module declaring
    the runtime compiled apart (both translation units, then linked: the runtime's symbols
    are hidden, so one the module uses that the runtime does not define fails the link)."""
    specs = [FunctionSpec(c.name, lower_program(FunctionGraph(c.inputs, c.outputs)))
             for c in cases()]
    blas = find_blas("auto")
    flags = compiler.REQUIRED_FLAGS + ["-Wall", "-Wextra", "-Werror", "-O2"] + blas.cflags
    for profile in (False, True):
        emitted = emit_module(specs, profile=profile, runtime_apart=apart)
        assert bool(emitted.runtime) == apart
        units = compile_strictly(emitted, tmp_path, f"warn{int(profile)}", flags)
        c_path = units[0]
        if apart:   # every runtime function the module declares and uses is defined once
            argv = ["cc", "-shared", "-o", c_path + ".so"] + [u + ".o" for u in units] + \
                blas.link_args(rpath=[getattr(blas, "lib_dir", "")]) + ["-lm", "-lpthread"]
            proc = subprocess.run(argv, capture_output=True, text=True)
            assert proc.returncode == 0, proc.stderr[-5000:]
            undefined = subprocess.run(["nm", "-u", c_path + ".so"], capture_output=True,
                                       text=True).stdout.split()
            assert not [s for s in undefined if s.startswith("aot_")], undefined


@pytest.mark.skipif(libasan() is None, reason="needs gcc with AddressSanitizer")
def test_representative_ops_run_clean_under_asan_and_ubsan(tmp_path):
    run_sanitized([os.path.join(HERE, "sanitize_run.py")], tmp_path / "cache")
