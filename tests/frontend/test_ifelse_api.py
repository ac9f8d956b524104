"""``aotsym.ifelse`` through the user's paths: ``aotsym.function`` in every mode (the seed's
ifelse-vs-switch example and its values), a ``Module`` export built by ``aotsym build`` and
imported standalone, gradients, ``debugprint``, and errors naming the user's line.
(Not test_ifelse.py: tests/graph/ops/test_ifelse.py has that basename.)"""

import inspect
import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.ifelse import ifelse

MODES = ["FAST_RUN", "FAST_COMPILE", "DEBUG_MODE"]
THIS_FILE = os.path.basename(__file__)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def here() -> int:
    return inspect.currentframe().f_back.f_lineno


@pytest.mark.filterwarnings("ignore:DEBUG_MODE")
@pytest.mark.parametrize("mode", MODES)
def test_the_seed_example(mode):
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    z_switch = T.switch(T.lt(a, b), T.mean(x), T.mean(y))
    z_lazy = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f_switch = aotsym.function([a, b, x, y], z_switch, mode=mode)
    f_lazy = aotsym.function([a, b, x, y], z_lazy, mode=mode)
    m1, m2 = np.ones((100, 10)), np.full((100, 10), 3.0)
    for v1, v2, want in [(0.0, 1.0, 1.0), (1.0, 0.0, 3.0)]:
        assert f_switch(v1, v2, m1, m2) == want
        got = f_lazy(v1, v2, m1, m2)
        assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got == want


@pytest.mark.filterwarnings("ignore:DEBUG_MODE")
@pytest.mark.parametrize("mode", MODES)
def test_lists_nan_inf_empty_and_shared_state(mode):
    c = T.iscalar("c")
    x = T.vector("x")
    w = aotsym.shared(np.array([1.0, 2.0, 3.0]), name="w")
    outs = ifelse(c, [T.exp(x) * w.sum(), x.sum()], [x - w.mean(), T.sin(x).sum()])
    f = aotsym.function([c, x], outs, mode=mode)
    for xv in ([0.0, np.nan, np.inf], [], [-1.0, 2.0]):
        xv = np.array(xv)
        for cv in (0, 1):
            got = f(cv, xv)
            with np.errstate(all="ignore"):
                want = [np.exp(xv) * 6, xv.sum()] if cv else [xv - 2, np.sin(xv).sum()]
            np.testing.assert_allclose(got[0], want[0], equal_nan=True)
            np.testing.assert_allclose(got[1], want[1], equal_nan=True)


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_an_empty_reduction_in_the_untaken_branch_never_fails(mode):
    c = T.iscalar("c")
    x = T.vector("x")
    f = aotsym.function([c, x], ifelse(c, x.max(), x.sum()), mode=mode)
    assert f(0, np.zeros(0)) == 0.0                      # max of nothing: not run
    with pytest.raises(ValueError):
        f(1, np.zeros(0))


@pytest.mark.filterwarnings("ignore:DEBUG_MODE")
@pytest.mark.parametrize("mode", MODES)
def test_training_through_ifelse(mode):
    c = T.iscalar("c")
    x = T.vector("x")
    w = aotsym.shared(np.array([0.5, -0.5]), name="w")
    cost = ifelse(c, ((T.dot(x, w) - 1) ** 2), (w ** 2).sum())
    gw = aotsym.grad(cost, w)
    step = aotsym.function([c, x], cost, updates={w: w - 0.1 * gw}, mode=mode)
    xv = np.array([1.0, 2.0])
    before = w.get_value()
    step(0, xv)
    np.testing.assert_allclose(w.get_value(), before - 0.1 * 2 * before)
    before = w.get_value()
    step(1, xv)
    np.testing.assert_allclose(w.get_value(), before - 0.1 * 2 * (xv @ before - 1) * xv)


def test_debugprint_shows_the_branches():
    a, b = T.scalars("a", "b")
    x, y = T.matrices("x", "y")
    f = aotsym.function([a, b, x, y], ifelse(T.lt(a, b), T.exp(x).sum(), T.log(y).sum()))
    out = io.StringIO()
    aotsym.printing.debugprint(f, file=out)
    text = out.getvalue()
    assert "IfElse" in text and "Inner graphs:" in text
    inner = text.split("Inner graphs:")[1]
    assert "exp" in inner and "log" in inner


def test_condition_errors_name_the_users_line():
    x = T.vector("x")
    line = here() + 2
    with pytest.raises(TypeError) as info:
        aotsym.ifelse(x > 0, x, -x)
    assert f'{THIS_FILE}", line {line}' in str(info.value)
    assert "aotsym.ifelse" not in str(info.value) or "T.switch" in str(info.value)


def test_a_symbolic_if_points_at_ifelse():
    x = T.scalar("x")
    with pytest.raises(TypeError, match=r"aotsym\.ifelse"):
        if x > 0:
            pass


SPEC = textwrap.dedent('''
    import numpy as np
    import aotsym
    from aotsym import tensor as T
    from aotsym.ifelse import ifelse

    mod = aotsym.Module("branchy")
    w = mod.shared(np.array([1.0, 2.0, 3.0]), name="w")


    @mod.export(T.scalar("a"), T.scalar("b"), T.matrix("x"), T.lscalar("i"))
    def pick(a, b, x, i):
        return ifelse(T.lt(a, b), T.mean(x) * w.sum(), x[i].sum())
''')


def test_a_module_export_built_by_aotsym_build_runs_standalone(tmp_path):
    spec = tmp_path / "branchy_spec.py"
    spec.write_text(SPEC)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    env.pop("AOTSYM_FLAGS", None)
    proc = subprocess.run([sys.executable, "-m", "aotsym.cli", "build", str(spec), "-o",
                           str(tmp_path / "dist")], capture_output=True, text=True, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    code = textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(tmp_path / "dist")!r})
        import numpy as np
        import branchy
        assert "aotsym" not in sys.modules
        x = np.arange(6.0).reshape(3, 2)
        print(float(branchy.pick(0.0, 1.0, x, 99)))     # i out of bounds: branch not taken
        print(float(branchy.pick(1.0, 0.0, x, 2)))
    ''')
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env={k: v for k, v in env.items() if k != "PYTHONPATH"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.split() == ["15.0", "9.0"]


def test_the_example_script_prints_timings_and_values():
    env = dict(os.environ)
    env.pop("AOTSYM_FLAGS", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "ifelse_vs_switch.py"),
                           "--rows", "200", "--cols", "50", "--times", "2"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("time spent evaluating both values")
    assert lines[1].startswith("time spent evaluating one value")
    assert lines[2] == "values: 1.0 1.0 2.0"
