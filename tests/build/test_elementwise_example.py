"""examples/elementwise_module.py, the elementwise spec ``aotsym build`` compiles (for the C
target in tests/build/test_build_cli.py's way; for CUDA in test_build_cuda_package.py): run as
a script, its exports print NumPy's answers."""

import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_script_prints_numpys_answers():
    env = dict(os.environ)
    env.pop("AOTSYM_FLAGS", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples",
                                                        "elementwise_module.py")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    a = np.array([0.0, 1.0, 2.0])
    np.testing.assert_array_equal(np.array(lines[0].strip("[]").split(), float), a + a ** 10)
    f, g = np.array([1, 2], "float32"), np.array([3, 4], "float32")
    np.testing.assert_array_equal(np.array(lines[1].strip("[]").split(), "float32"),
                                  (f + g) ** 2)
    assert float(lines[2].split(":")[1]) == 5.0       # exp(0) * 3, then * 2
