"""``aotsym build`` against hostile and awkward input: user text that reaches generated source
(names, docstrings, paths), names that are not Python identifiers, bad state files,
concurrent callers, concurrent rebuilds while readers import, re-entrant arguments."""

import inspect
import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from aotsym.build import pyruntime
from aotsym.graph.checking import filter_value

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# C, Python and Jinja syntax, controls, quotes, backslashes, non-ASCII
HOSTILE = ('*/ __attribute__((constructor)) static void pwn(void) { system("touch MARKER"); } '
           '/* """ + __import__("os").system("touch MARKER") + """ \' \\ {{ 7*7 }} {% raw %} '
           '\n\t\0 é ✓ ??/')

SPEC = '''
import numpy as np
import aotsym
from aotsym import tensor as T

HOSTILE = {hostile!r}

mod = aotsym.Module("hostile")
mod.__doc__ = HOSTILE
w = mod.shared(np.zeros(3), name="w")
c = mod.shared(np.int64(0), name="c")


def step(a, b, d, e, f):
    return [a + b + d + e + f], {{w: w + a, c: c + 1}}


step.__doc__ = HOSTILE
mod.export(T.vector("input x"), T.vector("x"), T.vector("x"), T.vector("lambda"),
           T.vector("w"), name="step")(step)


@mod.export(T.vector(HOSTILE), T.vector("in put"))
def pure(a, b):
    out = a * b
    out.name = HOSTILE
    return out


@mod.export(T.vector("v"))
def tiny(v):
    return v * 2 + 1
'''


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
    env.pop("AOTSYM_FLAGS", None)
    return env


def aotsym_build(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "aotsym.cli", "build", *args],
                          capture_output=True, text=True, env=_env(), cwd=cwd, timeout=600)


def run_python(code, *path):
    proc = subprocess.run([sys.executable, "-c", f"import sys; sys.path[:0] = {list(path)!r}\n"
                           + textwrap.dedent(code)],
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The spec lives in a directory whose name is hostile too (source paths reach
    messages and the module's docstring)."""
    root = tmp_path_factory.mktemp("hostile")
    marker = root / "MARKER"
    spec_dir = root / "d *" / '_/* """ \\ {{ é \n x'   # the path holds "*/" and "/*"
    spec_dir.mkdir(parents=True)
    spec = spec_dir / "spec.py"
    spec.write_text(SPEC.format(hostile=HOSTILE.replace("MARKER", str(marker))))
    proc = aotsym_build(str(spec), "-o", str(root / "dist"), "--keep-source")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, marker


def test_hostile_text_builds_imports_behaves_and_runs_nothing(hostile):
    root, marker = hostile
    out = run_python('''
        import inspect, json
        import numpy as np
        import hostile as m
        o = np.ones(3)
        print(json.dumps({
            "doc": m.__doc__, "step_doc": m.step.__doc__, "pure_doc": m.pure.__doc__,
            "step": m.step(o, o, o, o, o)[0].tolist(), "pure": m.pure(o, [1, 2, 3]).tolist(),
            "w": m.w.get_value().tolist(), "c": int(m.c.get_value()),
            "sig": str(inspect.signature(m.step)), "pure_sig": str(inspect.signature(m.pure)),
        }))
    ''', str(root / "dist"))
    got = json.loads(out.strip().splitlines()[-1])
    assert got["step"] == [5.0] * 3 and got["pure"] == [1.0, 2.0, 3.0]
    assert got["w"] == [1.0] * 3 and got["c"] == 1
    hostile_text = HOSTILE.replace("MARKER", str(marker))
    assert hostile_text.splitlines()[0] in got["doc"]          # the summary line, verbatim
    assert "__import__" in got["step_doc"] and "{{ 7*7 }}" in got["step_doc"]
    assert got["sig"] == "(input_x, x, x_2, lambda_, w_)"
    assert not marker.exists()
    source = (root / "dist" / "hostile" / "_aot.c").read_text()
    for line in source.splitlines():   # only ever inside a C string literal (a docstring)
        if "((constructor)) static void pwn" in line:
            assert line.lstrip().startswith(("{\"", "\"")), line
    # the stub is valid Python too
    import ast
    ast.parse((root / "dist" / "hostile" / "__init__.pyi").read_text())


def test_in_process_function_with_hostile_names(tmp_path):
    import aotsym
    from aotsym import tensor as T
    marker = tmp_path / "MARKER"
    text = HOSTILE.replace("MARKER", str(marker))
    x = T.vector(text)
    s = aotsym.shared(np.zeros(2), name=text)
    y = x * 2 + s
    y.name = text
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        f = aotsym.function([x], y, updates={s: s + 1}, name=text, mode=mode)
        assert f(np.ones(2)).tolist() in ([2.0, 2.0], [3.0, 3.0])
        with pytest.raises(TypeError, match="argument 0"):
            f("not an array")
    assert not marker.exists()


@pytest.mark.parametrize("decl, message", [
    ('mod.shared(np.zeros(2), name="np")', "'np' is a name the built module uses itself"),
    ('mod.shared(np.zeros(2), name="register")', "'register' is a name the built module"),
    ('mod.shared(np.zeros(2), name="save_state")', "'save_state' is a name the built"),
])
def test_names_the_module_needs_are_refused_at_build_time(tmp_path, decl, message):
    spec = tmp_path / "spec.py"
    spec.write_text(textwrap.dedent(f'''
        import numpy as np
        import aotsym
        from aotsym import tensor as T
        mod = aotsym.Module("clash")
        s = {decl}

        @mod.export(T.vector("v"))
        def f(v):
            return v + s
    '''))
    proc = aotsym_build(str(spec), "-o", str(tmp_path / "dist"))
    assert proc.returncode == 1 and message in proc.stderr, proc.stdout + proc.stderr
    assert not (tmp_path / "dist" / "clash").exists()


def test_invalid_module_and_shared_names_are_refused():
    import aotsym
    for bad in ("input x", "lambda", "__init__", "x\0y", "ﬁ"):
        with pytest.raises(ValueError, match="not a valid Python identifier"):
            aotsym.Module(bad)
        with pytest.raises(ValueError, match="not a valid Python identifier"):
            aotsym.Module("ok").shared(np.zeros(2), name=bad)


def test_a_package_that_does_not_import_is_refused(tmp_path):
    from aotsym.build.standalone import check_imports
    pkg = tmp_path / "broken"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise SyntaxError('as if the names were bad')\n")
    with pytest.raises(RuntimeError, match="does not import"):
        check_imports(str(tmp_path), "broken", [])
    (pkg / "__init__.py").write_text("def f(): pass\n")
    check_imports(str(tmp_path), "broken", ["f"])
    with pytest.raises(RuntimeError, match="no function"):
        check_imports(str(tmp_path), "broken", ["g"])


def test_concurrent_calls_with_updates_lose_no_update(hostile):
    root, _ = hostile
    out = run_python('''
        import threading
        import numpy as np
        import hostile as m
        o = np.ones(3)
        m.w.set_value(np.zeros(3)); m.c.set_value(0)
        def work():
            for _ in range(200):
                m.step(o, o, o, o, o)
        ts = [threading.Thread(target=work) for _ in range(8)]
        [t.start() for t in ts]
        [t.join() for t in ts]
        print(int(m.c.get_value()), m.w.get_value().tolist())
    ''', str(root / "dist"))
    assert out.split()[0] == "1600" and "[1600.0, 1600.0, 1600.0]" in out


def test_signatures_say_how_exports_take_arguments(hostile):
    root, _ = hostile
    out = run_python('''
        import inspect
        import numpy as np
        import hostile as m
        o = np.ones(3)
        kinds = {n: [p.kind.name for p in inspect.signature(getattr(m, n)).parameters.values()]
                 for n in ("step", "tiny")}
        print(kinds)
        assert kinds["tiny"] == ["POSITIONAL_ONLY"]
        assert set(kinds["step"]) == {"POSITIONAL_OR_KEYWORD"}
        assert m.tiny(o).tolist() == [3.0] * 3
        assert m.step(input_x=o, x=o, x_2=o, lambda_=o, w_=o)[0].tolist() == [5.0] * 3
        try:
            m.tiny(v=o)
        except TypeError as exc:
            assert "keyword" in str(exc)
        else:
            raise AssertionError("a positional-only export took a keyword")
    ''', str(root / "dist"))
    assert "POSITIONAL_ONLY" in out


def test_slow_path_is_reentrant(hostile):
    root, _ = hostile
    out = run_python('''
        import numpy as np
        import hostile as m

        class Calls:
            """Converting this argument calls the module (slow path within the slow path)."""
            def __array__(self, dtype=None, copy=None):
                return m.tiny([1, 2, 3]) - 1

        print(m.tiny(Calls()).tolist(), m.pure(Calls(), Calls()).tolist())
        print(m.step(Calls(), Calls(), Calls(), Calls(), Calls())[0].tolist())
        try:   # a subclass goes to the slow path, which refuses a masked array
            m.tiny(np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 0]))
        except TypeError as exc:
            assert "masked array" in str(exc), exc
        else:
            raise AssertionError("a masked array was accepted")
    ''', str(root / "dist"))
    assert out.split("\n")[0] == "[5.0, 9.0, 13.0] [4.0, 16.0, 36.0]"


def test_in_process_slow_path_is_reentrant():
    import aotsym
    from aotsym import tensor as T
    x = T.vector("x")
    f = aotsym.function([x], x * 2 + 1)

    class Calls:
        def __array__(self, dtype=None, copy=None):
            return f([1, 2, 3])

    assert f(Calls()).tolist() == [7.0, 11.0, 15.0]


# ------------------------------------------------------------------------------ state files


def _state(tmp_path):
    """Two shared values as a built module holds them, and a good state file of them."""
    lock = threading.RLock()
    shared = [pyruntime.SharedValue("m", "w", pyruntime.ArgType("float64", (False,)),
                                    np.arange(3.0), filter_value, lock),
              pyruntime.SharedValue("m", "n", pyruntime.ArgType("int64", ()),
                                    np.int64(7), filter_value, lock)]
    good = str(tmp_path / "good.npz")
    pyruntime.save_state(good, shared, "hash")
    return shared, good


def _bad_state_files(tmp_path, good):
    data = open(good, "rb").read()
    files = {"truncated": data[:len(data) // 2], "empty": b"",
             "random": bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8))}
    for name, content in files.items():
        (tmp_path / f"{name}.npz").write_bytes(content)
    np.save(tmp_path / "plain.npy", np.arange(3.0))
    for name, meta in [("null", "null"), ("list", "[1, 2]"), ("notjson", "{"),
                       ("values_list", '{"values": [1]}')]:
        np.savez(tmp_path / f"{name}.npz", w=np.arange(3.0), n=np.int64(1),
                 __aotsym_state__=np.array(meta))
    np.savez(tmp_path / "meta_number.npz", w=np.arange(3.0), n=np.int64(1),
             __aotsym_state__=np.array(3))
    meta = json.dumps({"graph_hash": "hash", "values": {"w": {}, "n": {}}})
    np.savez(tmp_path / "shape.npz", w=np.arange(4.0), n=np.int64(1),
             __aotsym_state__=np.array(meta))
    np.savez(tmp_path / "dtype.npz", w=np.arange(3, dtype="float32"), n=np.int64(1),
             __aotsym_state__=np.array(meta))
    np.savez(tmp_path / "missing.npz", w=np.arange(3.0), __aotsym_state__=np.array(meta))
    np.savez(tmp_path / "objects.npz", w=np.array([None, 1, 2], dtype=object), n=np.int64(1),
             __aotsym_state__=np.array(meta), allow_pickle=True)
    return sorted(str(p) for p in tmp_path.iterdir() if p.name != "good.npz")


def test_bad_state_files_are_a_value_error_naming_file_and_state_is_unchanged(tmp_path):
    shared, good = _state(tmp_path)
    for path in _bad_state_files(tmp_path, good):
        with pytest.raises(ValueError) as info:
            pyruntime.load_state(path, shared, "hash", "m")
        assert "m.load_state(" in str(info.value) and repr(path) in str(info.value), path
        assert shared[0].get_value().tolist() == [0.0, 1.0, 2.0] and \
            int(shared[1].get_value()) == 7, path
    with pytest.raises(FileNotFoundError, match="load_state"):
        pyruntime.load_state(str(tmp_path / "nothing"), shared, "hash", "m")


def test_save_state_without_extension_loads_back(tmp_path):
    shared, _ = _state(tmp_path)
    ckpt = str(tmp_path / "ckpt")
    pyruntime.save_state(ckpt, shared, "hash")
    assert os.path.exists(ckpt + ".npz")
    shared[0].set_value(np.zeros(3))
    pyruntime.load_state(ckpt, shared, "hash", "m")
    assert shared[0].get_value().tolist() == [0.0, 1.0, 2.0]


def test_built_module_state_files(hostile, tmp_path):
    root, _ = hostile
    run_python(f'''
        import numpy as np
        import hostile as m
        m.w.set_value(np.full(3, 4.0))
        m.save_state({str(tmp_path / "ckpt")!r})
        m.w.set_value(np.zeros(3))
        m.load_state({str(tmp_path / "ckpt")!r})
        assert m.w.get_value().tolist() == [4.0] * 3
        open({str(tmp_path / "bad.npz")!r}, "wb").write(b"PK\\x03\\x04 not really")
        try:
            m.load_state({str(tmp_path / "bad.npz")!r})
        except ValueError as exc:
            assert "hostile.load_state(" in str(exc) and "bad.npz" in str(exc), exc
        assert m.w.get_value().tolist() == [4.0] * 3
    ''', str(root / "dist"))


# ------------------------------------------------------------------------------ rebuilds


READER = '''
import importlib, sys, time
sys.path.insert(0, {dist!r})
deadline = time.time() + {seconds}
ok = failed = 0
errors = []
while time.time() < deadline:
    for name in [n for n in sys.modules if n == "tiny" or n.startswith("tiny.")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    try:
        import tiny
        assert tiny.f([1.0, 2.0]).tolist() == [3.0, 5.0]
        ok += 1
    except Exception as exc:
        failed += 1
        errors.append(repr(exc))
print(ok, failed, errors[:3])
'''


def test_concurrent_rebuilds_replace_the_package_atomically(tmp_path):
    spec = tmp_path / "tiny_spec.py"
    spec.write_text(textwrap.dedent('''
        import aotsym
        from aotsym import tensor as T
        mod = aotsym.Module("tiny")

        @mod.export(T.vector("v"))
        def f(v):
            return v * 2 + 1
    '''))
    dist = tmp_path / "dist"
    first = aotsym_build(str(spec), "-o", str(dist))
    assert first.returncode == 0, first.stderr
    reader = subprocess.Popen([sys.executable, "-c", READER.format(dist=str(dist), seconds=12)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_env())
    time.sleep(0.5)
    builders = [subprocess.Popen(
        [sys.executable, "-c", "import subprocess, sys\nfor _ in range(2):\n"
         f"    p = subprocess.run([sys.executable, '-m', 'aotsym.cli', 'build', {str(spec)!r},"
         f" '-o', {str(dist)!r}])\n    assert p.returncode == 0\n"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
        for _ in range(3)]
    for b in builders:
        out, err = b.communicate(timeout=600)
        assert b.returncode == 0, out + err
    out, err = reader.communicate(timeout=600)
    assert reader.returncode == 0, err
    ok, failed = map(int, out.split()[:2])
    assert failed == 0 and ok > 0, out
    assert os.path.islink(dist / "tiny")
    # only the current and previous versions stay once they are a minute old
    assert len(os.listdir(dist / ".tiny.versions")) <= 7
