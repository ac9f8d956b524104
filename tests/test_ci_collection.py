"""The suite runs whole: every test file is collected by the README's test command, and the
CI check notices when one is not."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHECK = ROOT / ".ci" / "check_collected.py"


def test_ci_runs_the_collection_check():
    text = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest -q" in text
    assert "check_collected.py" in text


def test_tests_build_is_collected():
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           "tests/build"], cwd=ROOT, capture_output=True, text=True)
    # given explicitly or found by recursion, tests/build must yield tests; by recursion it
    # is only found when norecursedirs does not hold "build"
    assert "tests/build/test_build_cache.py::" in proc.stdout
    whole = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q"], cwd=ROOT,
                           capture_output=True, text=True)
    assert "tests/build/test_build_cache.py::" in whole.stdout


def test_check_fails_when_a_folder_is_skipped():
    proc = subprocess.run([sys.executable, str(CHECK), "-o", "norecursedirs=build .*"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "tests/build/test_build_cache.py" in proc.stderr


def test_check_passes_on_the_suite():
    proc = subprocess.run([sys.executable, str(CHECK)], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    assert "test files collected" in proc.stdout
