"""benchmarks/gpu_check.sh, the prepared script for a GPU machine, checked here without one:
it parses (``bash -n``), its embedded Python benchmark compiles, and ``--check`` verifies the
prerequisites and exits 0 saying no GPU is here (or that one is)."""

import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCRIPT = os.path.join(ROOT, "benchmarks", "gpu_check.sh")


def test_the_script_parses():
    proc = subprocess.run(["bash", "-n", SCRIPT], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_its_python_benchmark_compiles():
    text = open(SCRIPT).read()
    body = re.search(r"<<'EOF'\n(\"\"\"GPU benchmarks.*?)\nEOF\n", text, re.S).group(1)
    compile(body, "gpu_bench.py", "exec")


def test_an_unknown_mode_is_refused():
    proc = subprocess.run(["bash", SCRIPT, "--nonsense"], capture_output=True, text=True)
    assert proc.returncode == 2 and "usage" in proc.stderr


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
def test_check_mode_verifies_the_prerequisites_and_exits_cleanly(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path))
    proc = subprocess.run(["bash", SCRIPT, "--check"], capture_output=True, text=True,
                          env=env, timeout=300)
    out = proc.stdout + proc.stderr
    if "cuBLAS: " in out and "pip install" in out:
        pytest.skip("no cuBLAS wheel here")
    assert proc.returncode == 0, out
    assert "prerequisites present" in out, out
    assert "no GPU here" in out or "a GPU is here" in out, out
    assert os.listdir(tmp_path) == []           # --check runs nothing, writes nothing
