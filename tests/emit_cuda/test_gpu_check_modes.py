"""benchmarks/gpu_check.sh's modes that run without a GPU (``--help``, ``--dry-run``) and the
part of its full run that builds the seed examples with ``aotsym build --target cuda``
(the script itself: tests/emit_cuda/test_gpu_check_script.py)."""

import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SCRIPT = os.path.join(ROOT, "benchmarks", "gpu_check.sh")


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
    env = dict(os.environ, OUT=str(tmp_path))
    proc = subprocess.run(["bash", SCRIPT, "--dry-run"], capture_output=True, text=True,
                          env=env, timeout=300)
    out = proc.stdout + proc.stderr
    if "cuBLAS: " in out and "pip install" in out:
        pytest.skip("no cuBLAS wheel here")
    assert proc.returncode == 0, out
    assert "the full run would run" in out
    assert all(f"{k}/4 " in out for k in range(1, 5)), out
    assert "--target cuda" in out
    assert os.listdir(tmp_path) == []
