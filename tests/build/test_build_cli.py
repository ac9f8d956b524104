"""``aotsym build SPEC.py -o OUTDIR``: a standalone package that imports and runs in a process
that can import neither aotsym nor find a C compiler; its state, metadata, stubs, profile."""

import glob
import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

SPEC = textwrap.dedent('''
    """A toy model for the CLI tests."""
    import numpy as np
    import aotsym
    from aotsym import tensor as T

    mod = aotsym.Module("toy")
    w = mod.shared(np.linspace(-1, 1, 5), name="w")
    b = mod.shared(0.0, name="b")


    @mod.export(T.matrix("x"), T.vector("y"))
    def train(x, y):
        """One gradient step."""
        p = T.sigmoid(T.dot(x, w) + b)
        cost = ((p - y) ** 2).mean()
        gw, gb = aotsym.grad(cost, [w, b])
        return [p, cost], {w: w - 0.5 * gw, b: b - 0.5 * gb}


    @mod.export(T.matrix("x"))
    def predict(x):
        return T.sigmoid(T.dot(x, w) + b) > 0.5


    @mod.export(T.vector("v"))
    def tiny(v):
        return v * 2 + 1


    @mod.export(T.vector("v"), T.iscalar("i"))
    def pick(v, i):
        return (T.exp(v) * 2)[i] + 1
''')


def spec_line(text) -> int:
    """The line of SPEC (as written to the spec file) that contains ``text``."""
    (line,) = [k for k, s in enumerate(SPEC.splitlines(), 1) if text in s]
    return line


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    env.pop("AOTSYM_FLAGS", None)
    return env


def aotsym_build(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "aotsym.cli", "build", *args],
                          capture_output=True, text=True, env=_env(), cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    spec = root / "toy_spec.py"
    spec.write_text(SPEC)
    proc = aotsym_build(str(spec), "-o", str(root / "dist"), "--keep-source", "-v")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, spec, proc.stdout


def isolated_python(tmp_path, dist, code, tools=("cc", "gcc"), copy=shutil.copy2):
    """Run ``code`` where only numpy and cffi's runtime can be imported, with none of
    ``tools`` on PATH; the built package is copied elsewhere first (it must not need its
    build dir) with ``copy`` (a file copy function, as shutil.copytree takes)."""
    import cffi
    import numpy
    site = tmp_path / "site"
    site.mkdir()
    for mod in (numpy, cffi):
        pkg = os.path.dirname(mod.__file__)
        os.symlink(pkg, site / os.path.basename(pkg))
    parent = os.path.dirname(os.path.dirname(numpy.__file__))
    for extra in glob.glob(os.path.join(parent, "numpy.libs")) + \
            glob.glob(os.path.join(parent, "_cffi_backend*")):
        os.symlink(extra, site / os.path.basename(extra))
    moved = tmp_path / "elsewhere"
    shutil.copytree(dist, moved, symlinks=False, copy_function=copy)
    prelude = (f"import sys; sys.path[:0] = [{str(moved)!r}, {str(site)!r}]\n"
               "import shutil\n"
               f"for tool in {tuple(tools)!r}:\n"
               "    assert shutil.which(tool) is None, tool\n"
               "try:\n    import aotsym\nexcept ImportError:\n    pass\n"
               "else:\n    raise SystemExit('aotsym is importable here')\n")
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", prelude + code],
                          capture_output=True, text=True, timeout=300,
                          env={"PATH": str(tmp_path / "no-bin"), "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_stages_are_printed_with_times(built):
    _, _, out = built
    for stage in ("trace", "optimize", "emit", "compile"):
        assert any(line.startswith(stage) and " s " in line for line in out.splitlines()), out
    assert "wrote" in out


def test_package_contents(built):
    root, _, _ = built
    pkg = root / "dist" / "toy"
    names = set(os.listdir(pkg))
    assert {"__init__.py", "__init__.pyi", "initial_state.npz", "_aot.c"} <= names
    assert any(n.startswith("_aot") and n.endswith(".so") for n in names)
    stub = (pkg / "__init__.pyi").read_text()
    assert "def train(x: NDArray[np.float64]" in stub and "w: SharedValue" in stub
    assert "def save_state(path: str) -> None" in stub


def test_standalone_module_matches_in_process_and_keeps_state(built, tmp_path):
    root, spec, _ = built
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 5))
    Y = (rng.random(20) > 0.5).astype("float64")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    out = isolated_python(tmp_path, root / "dist", textwrap.dedent(f'''
        import json, inspect
        import numpy as np
        import toy
        X = np.load({str(tmp_path / "X.npy")!r}); Y = np.load({str(tmp_path / "Y.npy")!r})
        costs = [float(toy.train(X, Y)[1]) for _ in range(5)]
        w = toy.w.get_value()
        toy.save_state({str(tmp_path / "state.npz")!r})
        toy.w.set_value(np.zeros(5))
        toy.load_state({str(tmp_path / "state.npz")!r})
        assert np.array_equal(toy.w.get_value(), w)
        print(json.dumps({{"costs": costs, "w": w.tolist(), "b": float(toy.b.get_value()),
                          "pred": toy.predict(X).tolist(), "tiny": toy.tiny(np.arange(3.0)).tolist(),
                          "meta": sorted(toy.__aotsym__), "sig": str(inspect.signature(toy.train)),
                          "doc": toy.train.__doc__}}))
    '''))
    got = json.loads(out.strip().splitlines()[-1])
    # the same exports compiled in-process
    import runpy
    ns = runpy.run_path(str(spec))
    mod = ns["mod"]
    train, predict = mod.function("train"), mod.function("predict")
    costs = [float(train(X, Y)[1]) for _ in range(5)]
    np.testing.assert_allclose(got["costs"], costs, rtol=1e-10)
    np.testing.assert_allclose(got["w"], ns["w"].get_value(), rtol=1e-10)
    assert got["pred"] == predict(X).tolist()
    assert got["tiny"] == [1.0, 3.0, 5.0]
    assert {"aotsym", "flags", "graph_hash", "compiler", "functions"} <= set(got["meta"])
    assert got["sig"] == "(x, y)"
    assert "train(x: float64[?, ?], y: float64[?])" in got["doc"]
    assert "One gradient step." in got["doc"] and "Updates the shared values w, b" in got["doc"]


def test_standalone_errors_name_function_argument_and_line(built, tmp_path):
    root, _, _ = built
    out = isolated_python(tmp_path, root / "dist", textwrap.dedent('''
        import numpy as np
        import toy
        for bad in (lambda: toy.train(np.ones((3, 4)), np.ones(3)),
                    lambda: toy.train(np.ones((3, 5), dtype=complex), np.ones(3)),
                    lambda: toy.predict(np.ones(5)),
                    lambda: toy.tiny("text"),
                    lambda: toy.w.set_value(np.ones((2, 2))),
                    lambda: toy.pick(np.zeros(3), 5)):
            try:
                bad()
            except (TypeError, ValueError, IndexError) as exc:
                print(type(exc).__name__, "|", str(exc).replace("\\n", " / "))
            else:
                print("no error")
    '''))
    lines = out.strip().splitlines()
    assert len(lines) == 6 and "no error" not in out
    # (the optimizer may have turned the dot into a Gemv: the message is that node's, and
    # names the user's line of the dot; the package carries it, aotsym is not importable)
    assert lines[0].startswith("ValueError") and "in train()" in lines[0] and \
        ("not aligned" in lines[0] or "do not match" in lines[0])
    dot_line = spec_line("p = T.sigmoid(T.dot(x, w) + b)")
    assert f'toy_spec.py", line {dot_line}, in train / ' in lines[0], lines[0]
    assert lines[5].startswith("IndexError") and "out of bounds" in lines[5]
    pick_line = spec_line("(T.exp(v) * 2)[i] + 1")
    assert f'toy_spec.py", line {pick_line}, in pick' in lines[5], lines[5]
    assert lines[1].startswith("TypeError") and "train() argument 0 (x) declared at" in lines[1]
    assert lines[2].startswith("TypeError") and "ndim" in lines[2]
    assert lines[3].startswith("TypeError") and "tiny() argument 0 (v)" in lines[3]
    assert lines[4].startswith("TypeError") and "toy.w" in lines[4]


def test_state_file_that_does_not_match_is_refused(built, tmp_path):
    root, _, _ = built
    out = isolated_python(tmp_path, root / "dist", textwrap.dedent(f'''
        import json
        import numpy as np
        import toy
        toy.save_state({str(tmp_path / "good.npz")!r})
        good = dict(np.load({str(tmp_path / "good.npz")!r}))
        meta = json.loads(str(good["__aotsym_state__"]))
        def variant(name, **change):
            d = dict(good)
            d.update(change)
            np.savez({str(tmp_path)!r} + "/" + name + ".npz", **d)
            try:
                toy.load_state({str(tmp_path)!r} + "/" + name + ".npz")
            except ValueError as exc:
                print(name, "|", exc)
        variant("dtype", w=good["w"].astype("float32"))
        variant("shape", w=np.zeros(6))
        other = dict(meta, graph_hash="0" * 64)
        variant("hash", __aotsym_state__=np.array(json.dumps(other)))
        d = dict(good); d.pop("b"); np.savez({str(tmp_path / "missing.npz")!r}, **d)
        try:
            toy.load_state({str(tmp_path / "missing.npz")!r})
        except ValueError as exc:
            print("missing |", exc)
        toy.load_state({str(tmp_path)!r} + "/hash.npz", strict=False)
        print("non-strict ok")
    '''))
    assert "dtype | " in out and "has dtype float32" in out
    assert "shape | " in out and "has shape (6,)" in out
    assert "hash | " in out and "different build" in out
    assert "missing | " in out and "missing ['b']" in out
    assert "non-strict ok" in out


def test_profile_build_reports_per_node_times(tmp_path):
    spec = tmp_path / "prof_spec.py"
    spec.write_text(SPEC.replace('Module("toy")', 'Module("toyprof")'))
    proc = aotsym_build(str(spec), "-o", str(tmp_path / "dist"), "--profile")
    assert proc.returncode == 0, proc.stderr
    out = isolated_python(tmp_path, tmp_path / "dist", textwrap.dedent('''
        import io
        import numpy as np
        import toyprof
        for _ in range(3):
            toyprof.train(np.ones((4, 5)), np.ones(4))
        report = toyprof.profile()
        steps = report["functions"]["train"]["steps"]
        assert steps and all(s["calls"] == 3 for s in steps), steps
        buf = io.StringIO()
        toyprof.print_profile(buf)
        print(buf.getvalue())
    '''))
    assert "Time in 3 calls to train()" in out


def test_bad_specs_fail_with_a_message(tmp_path):
    proc = aotsym_build(str(tmp_path / "missing.py"), "-o", str(tmp_path / "out"))
    assert proc.returncode == 1 and "no such spec file" in proc.stderr
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    proc = aotsym_build(str(empty), "-o", str(tmp_path / "out"))
    assert proc.returncode == 1 and "defines no aotsym.Module" in proc.stderr


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_standalone_module_starts_no_openblas_threads(built, tmp_path):
    """OpenBLAS starts its server threads when the library loads, and each spins for ~0.1 s
    on a core the runtime's pool would use; the module loads it with
    OPENBLAS_NUM_THREADS=1 (the pool is the one owner of the threads) and puts the user's
    setting back."""
    root, _, _ = built
    if not glob.glob(str(root / "dist" / "**" / "libscipy_openblas*"), recursive=True):
        pytest.skip("built without OpenBLAS")
    out = isolated_python(tmp_path, root / "dist", textwrap.dedent('''
        import os
        import numpy as np
        os.environ["OPENBLAS_NUM_THREADS"] = "4"    # a user's setting: 3 server threads
        os.environ["AOTSYM_NUM_THREADS"] = "1"      # and no pool workers
        before = len(os.listdir("/proc/self/task"))
        import toy
        toy.predict(np.ones((20, 5)))
        print(before, len(os.listdir("/proc/self/task")), os.environ["OPENBLAS_NUM_THREADS"])
    '''))
    before, after, setting = out.split()[-3:]
    assert int(after) == int(before)
    assert setting == "4"
