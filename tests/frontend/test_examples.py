"""examples/*.py run as scripts and print what the seed prints."""

import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")


def run_example(name, *args):
    env = dict(os.environ)
    env.pop("AOTSYM_FLAGS", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_simple():
    out = run_example("simple.py")
    np.testing.assert_array_equal(np.array(out.strip().strip("[]").split(), dtype=float),
                                  [0.0, 2.0, 1026.0])


def test_logistic_regression_prints_the_seed_sections():
    out = run_example("logistic_regression.py", "--seed", "0")
    sections = ["Initial model:", "Final model:", "target values for D:", "prediction on D:"]
    positions = [out.index(s) for s in sections]
    assert positions == sorted(positions)
    accuracy = float(out.strip().split("\n")[-1].split(":")[1])
    assert accuracy >= 0.95


def test_logreg_module_runs_and_is_a_build_spec():
    out = run_example("logreg_module.py")
    assert "Module('logreg'" in out and "prediction on D:" in out
    assert float(out.strip().split("\n")[-1].split(":")[1]) >= 0.95


def test_logreg_module_spec_exports():
    sys.path.insert(0, EXAMPLES)
    try:
        import logreg_module
    finally:
        sys.path.remove(EXAMPLES)
    mod = logreg_module.mod
    assert mod.name == "logreg"
    assert list(mod.exports) == ["train", "predict"]
    assert list(mod.shared_vars) == ["w", "b"]
    train = mod.exports["train"]
    assert train.arg_names == ["x", "y"]
    assert [v.name for v, _ in train.updates] == ["w", "b"]
    assert mod.exports["predict"].single_output


@pytest.mark.parametrize("name", ["simple.py", "logistic_regression.py", "logreg_module.py"])
def test_examples_have_docstrings(name):
    with open(os.path.join(EXAMPLES, name)) as fh:
        assert fh.read().startswith('"""')
