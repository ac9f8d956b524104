"""Loops and branches in a standalone package: a Module whose exports hold a scan (an RNN
trained by backpropagation through time, its state updated) and a lazy ifelse, built with
``aotsym build`` and run where neither aotsym nor a compiler can be found; the results are
those of ``aotsym.function`` on the same graphs."""

import json
import textwrap

import numpy as np
import pytest
from test_build_cli import aotsym_build, isolated_python

SPEC = textwrap.dedent('''
    import numpy as np
    import aotsym
    from aotsym import tensor as T

    mod = aotsym.Module("rnnmod")
    rng = np.random.RandomState(0)
    W = mod.shared(rng.randn(4, 4) * 0.3, name="W")
    U = mod.shared(rng.randn(3, 4) * 0.3, name="U")


    def hidden(x, h0):
        hs, _ = aotsym.scan(lambda x_t, h, W, U: T.tanh(T.dot(h, W) + T.dot(x_t, U)),
                            sequences=x, outputs_info=h0, non_sequences=[W, U])
        return hs


    @mod.export(T.matrix("x"), T.vector("h0"))
    def run(x, h0):
        return hidden(x, h0)


    @mod.export(T.matrix("x"), T.vector("h0"), T.vector("target"))
    def train(x, h0, target):
        cost = ((hidden(x, h0)[-1] - target) ** 2).sum()
        gW, gU = aotsym.grad(cost, [W, U])
        return cost, {W: W - 0.1 * gW, U: U - 0.1 * gU}


    @mod.export(T.scalar("a"), T.matrix("m"))
    def choose(a, m):
        return aotsym.ifelse(a > 0, m.mean(), (m ** 2).sum())
''')


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("control_flow")
    spec = root / "rnn_spec.py"
    spec.write_text(SPEC)
    proc = aotsym_build(str(spec), "-o", str(root / "dist"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def _in_process(x, h0, target, a, m, steps):
    """The same graphs through aotsym.function (FAST_COMPILE: the reference evaluator)."""
    namespace = {}
    exec(compile(SPEC, "rnn_spec.py", "exec"), namespace)
    mod = namespace["mod"]
    run, train, choose = (mod.function(name, mode="FAST_COMPILE")
                          for name in ("run", "train", "choose"))
    out = {"run": run(x, h0).tolist(), "costs": [float(train(x, h0, target))
                                                 for _ in range(steps)]}
    out["W"] = namespace["W"].get_value().tolist()
    out["choose"] = [float(choose(a, m)), float(choose(-a, m))]
    return out


def test_scan_and_ifelse_run_standalone(built, tmp_path):
    rng = np.random.RandomState(1)
    x, h0, target = rng.randn(6, 3), rng.randn(4), rng.randn(4) * 0.5
    m = rng.randn(5, 5)
    code = textwrap.dedent(f"""
        import json, numpy as np, rnnmod
        x = np.array({x.tolist()}); h0 = np.array({h0.tolist()})
        target = np.array({target.tolist()}); m = np.array({m.tolist()})
        out = {{"run": rnnmod.run(x, h0).tolist(),
                "costs": [float(rnnmod.train(x, h0, target)) for _ in range(5)]}}
        out["W"] = rnnmod.W.get_value().tolist()
        out["choose"] = [float(rnnmod.choose(1.5, m)), float(rnnmod.choose(-1.5, m))]
        print(json.dumps(out))
    """)
    got = json.loads(isolated_python(tmp_path, built / "dist", code).splitlines()[-1])
    want = _in_process(x, h0, target, 1.5, m, 5)
    np.testing.assert_allclose(got["run"], want["run"], rtol=1e-10)
    np.testing.assert_allclose(got["costs"], want["costs"], rtol=1e-9)
    assert got["costs"][-1] < got["costs"][0]          # it trains
    np.testing.assert_allclose(got["W"], want["W"], rtol=1e-9)
    np.testing.assert_allclose(got["choose"], [m.mean(), (m ** 2).sum()])
