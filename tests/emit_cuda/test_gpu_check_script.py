"""benchmarks/gpu_check.sh, the prepared script for a GPU machine, checked here without one:
it parses (``bash -n``), its embedded Python benchmark compiles, ``--help`` names its modes,
``--check`` verifies the prerequisites and exits 0 saying no GPU is here (or that one is),
``--dry-run`` lists the parts and runs none, and its full run builds the seed examples with
``aotsym build --target cuda``."""

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


def _run_mode(mode, tmp_path):
    """The script's output in ``mode`` with $OUT at ``tmp_path`` (skips without cuBLAS)."""
    env = dict(os.environ, OUT=str(tmp_path))
    proc = subprocess.run(["bash", SCRIPT, mode], capture_output=True, text=True, env=env,
                          timeout=300)
    out = proc.stdout + proc.stderr
    if "cuBLAS: " in out and "pip install" in out:
        pytest.skip("no cuBLAS wheel here")
    assert proc.returncode == 0, out
    return out


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
def test_check_mode_verifies_the_prerequisites_and_exits_cleanly(tmp_path):
    out = _run_mode("--check", tmp_path)
    assert "prerequisites present" in out, out
    assert "no GPU here" in out or "a GPU is here" in out, out
    assert os.listdir(tmp_path) == []           # --check runs nothing, writes nothing


def test_help_names_every_mode_and_exits_0():
    proc = subprocess.run(["bash", SCRIPT, "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for mode in ("--check", "--dry-run", "--prepare", "--help"):
        assert mode in proc.stdout


def test_the_full_run_builds_and_uses_the_seed_examples_as_cuda_packages():
    text = open(SCRIPT).read()
    for spec in ("examples/logreg_module.py", "examples/elementwise_module.py"):
        assert os.path.exists(os.path.join(ROOT, spec))
        assert spec in text
    assert re.search(r'aotsym\.cli build "\$spec" -o "\$DIST" --target cuda', text)
    assert 'examples/use_logreg.py "$DIST"' in text
    body = re.search(r"<<'PYEOF' 2>&1\n(.*?)\nPYEOF\n", text, re.S).group(1)
    compile(body, "elementwise_check.py", "exec")
    assert "tests/build/test_build_cuda_package.py" in text
    assert re.search(r"^BUDGET=470\b", text, re.M)          # 8 minutes with the start


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
def test_dry_run_lists_the_parts_and_runs_none(tmp_path):
    out = _run_mode("--dry-run", tmp_path)
    assert "the full run would run" in out
    assert all(f"{k}/4 " in out for k in range(1, 5)), out
    assert "--target cuda" in out
    assert os.listdir(tmp_path) == []
