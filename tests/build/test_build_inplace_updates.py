"""A built module writes the seed's logistic-regression update into its own state in place
(Gemv{inplace} on w), and a failing call leaves the state unchanged, bit for bit."""

import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SPEC = textwrap.dedent('''
    import numpy as np
    import aotsym
    from aotsym import tensor as T

    rng = np.random.RandomState(0)
    mod = aotsym.Module("logreg_inplace")
    w = mod.shared(rng.randn(13), name="w")
    b = mod.shared(0.0, name="b")


    @mod.export(T.matrix("x"), T.vector("y"))
    def train(x, y):
        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
        cost = xent.mean() + 0.01 * (w ** 2).sum()
        gw, gb = aotsym.grad(cost, [w, b])
        return [p_1 > 0.5, xent], {w: w - 0.1 * gw, b: b - 0.1 * gb}
''')

CHECK = textwrap.dedent('''
    import numpy as np
    import logreg_inplace as m
    assert any("Gemv{inplace}" in str(n) for n in m._NODE_NAMES[0]), m._NODE_NAMES
    rng = np.random.RandomState(1)
    X, Y = rng.randn(40, 13), rng.randint(0, 2, size=40).astype("float64")
    w0 = m.w.get_value()
    b0 = float(m.b.get_value())
    p = 1 / (1 + np.exp(-(X @ w0) - b0))
    gw = X.T @ ((p - Y) / len(Y)) + 0.02 * w0
    pred, err = m.train(X, Y)
    np.testing.assert_allclose(m.w.get_value(), w0 - 0.1 * gw, rtol=1e-12, atol=1e-15)
    snapshot = m.w.get_value()
    kept = snapshot.copy()
    buffer = m.w.get_value(borrow=True)
    m.train(X, Y)
    assert m.w.get_value(borrow=True) is buffer        # written in place
    np.testing.assert_array_equal(snapshot, kept)      # get_value() copies are not touched
    state = (m.w.get_value().tobytes(), m.b.get_value().tobytes())
    for bad in (rng.randn(40, 14), rng.randn(40, 14).tolist()):
        try:
            m.train(bad, Y)
        except ValueError:
            pass
        else:
            raise AssertionError("a wrong width was accepted")
        assert (m.w.get_value().tobytes(), m.b.get_value().tobytes()) == state
    print("ok")
''')


def test_built_module_updates_in_place_and_all_or_nothing(tmp_path):
    spec = tmp_path / "logreg_spec.py"
    spec.write_text(SPEC)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    env.pop("AOTSYM_FLAGS", None)
    dist = tmp_path / "dist"
    proc = subprocess.run([sys.executable, "-m", "aotsym.cli", "build", str(spec), "-o",
                           str(dist)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    child = dict(os.environ, PYTHONPATH=str(dist))
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          env=child, cwd=str(tmp_path), timeout=600)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stdout + proc.stderr
