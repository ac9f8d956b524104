"""A module's large kernels compiled in a second translation unit, on another core
(aotsym/build/compiler.py, ``split_units`` and ``_compile_halves``): the emitter marks each
large elementwise kernel's loop and block function as a unit; the build moves about half of
the text into a unit of its own, compiled at the same time, and links the two objects.
The module must compute exactly what the one-unit build computes, share the runtime's state
(a kernel's error flag), and keep compiler messages on module.c's lines."""

import re
import subprocess

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.build import compiler

pytestmark = pytest.mark.skipif(not compiler.precompiles_headers(aotsym.config.cxx),
                                reason="the compiler is not GCC: modules are compiled whole")


def _chain(x, n):
    y = x
    for i in range(n):
        y = y * 0.5 if i % 3 == 0 else (y + 1.0 if i % 3 == 1 else T.sin(y))
    return y


@pytest.fixture
def halves(monkeypatch):
    """Calls of ``_compile_halves`` and whether each built the module (no fallback)."""
    calls = []
    real = compiler._compile_halves

    def spy(*args, **kwargs):
        try:
            out = real(*args, **kwargs)
        except compiler.CompileError as e:
            calls.append(str(e))
            raise
        calls.append("ok")
        return out
    monkeypatch.setattr(compiler, "_compile_halves", spy)
    monkeypatch.setattr(compiler, "parallel_cores", lambda: 2)
    return calls


def _build(tmp_path, name, inputs, outputs, min_lines, monkeypatch):
    """A function built in a fresh cache (and not found among this process's modules)."""
    from aotsym.build import driver
    monkeypatch.setattr(compiler, "SPLIT_MIN_LINES", min_lines)
    monkeypatch.setattr(driver, "_LOADED", {})
    aotsym.config.cache_dir = str(tmp_path / name)   # (restored by the autouse default_flags)
    return aotsym.function(inputs, outputs)


def test_a_split_module_computes_what_the_whole_one_does(tmp_path, halves, monkeypatch):
    x = T.vector("x")
    y = _chain(x, 300)
    whole = _build(tmp_path, "whole", [x], y, 10**9, monkeypatch)
    assert halves == []
    split = _build(tmp_path, "split", [x], y, 1, monkeypatch)
    assert halves == ["ok"]
    source = open(split._run.module.path + "/module.c").read()
    assert source.count(compiler.UNIT_BEGIN) >= 2
    rng = np.random.default_rng(0)
    v = np.concatenate([[np.nan, np.inf, -np.inf, 0.0, -0.0, 5e-324], rng.normal(0, 3, 997)])
    for arg in (v, v[::-2], v[:0], v[:5]):
        np.testing.assert_array_equal(split(arg), whole(arg))
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(split(v[6:]), aotsym.function([x], y, mode="FAST_COMPILE")(
            v[6:]), rtol=1e-12)


def test_a_moved_kernel_sets_the_runtimes_error_flag(tmp_path, halves, monkeypatch):
    """``AOT_IPOW`` in a moved kernel reports a negative exponent through the runtime's
    ``aot_scalar_flags``; a copy private to the second unit would lose it."""
    a, b = T.vector("a", dtype="int64"), T.vector("b", dtype="int64")
    y = a ** b
    for _ in range(12):
        y = (y * 3 + a) ** 2 - b
    f = _build(tmp_path, "ipow", [a, b], y, 1, monkeypatch)
    assert halves == ["ok"]
    one = np.ones(40, dtype="int64")
    assert f(one, one).dtype == np.int64
    with pytest.raises(ValueError, match="negative integer powers"):
        f(one, -one)


def test_no_split_below_the_threshold_or_on_one_core(tmp_path, halves, monkeypatch):
    x = T.vector("x")
    _build(tmp_path, "small", [x], _chain(x, 30), compiler.SPLIT_MIN_LINES, monkeypatch)
    monkeypatch.setattr(compiler, "parallel_cores", lambda: 1)
    _build(tmp_path, "one", [x], _chain(x, 300), 1, monkeypatch)
    assert halves == []


def _unit(name, body_lines):
    lines = [f"/* AOT_UNIT_BEGIN int {name}(int v) */", f"AOT_UNIT_FN int {name}(int v)", "{"]
    lines += [f"    v = v * 3 + {k};" for k in range(body_lines)]
    return "\n".join(lines + ["    return v;", "}", compiler.UNIT_END]) + "\n"


def _compile(tmp_path, prelude, files, flags):
    """``files`` (name, text), each after ``prelude``, compiled at -O1 with ``flags`` and
    linked into one program: (the compiler's process, the program's path)."""
    paths = []
    for name, body in files:
        (tmp_path / name).write_text(prelude + body)
        paths.append(str(tmp_path / name))
    exe = str(tmp_path / (files[0][0] + ".exe"))
    proc = subprocess.run(["cc", "-O1"] + flags + paths + ["-o", exe], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    return proc, exe


def test_split_units_keeps_the_files_lines_and_links(tmp_path, monkeypatch):
    """Both halves compile, link and compute what the text compiled whole computes, and a
    diagnostic in either half names the line of the original file."""
    monkeypatch.setattr(compiler, "SPLIT_MIN_LINES", 1)
    rest = ("#include <stdio.h>\nstatic int twice(int v) { return 2 * v; }\n"
            + _unit("small", 3) + _unit("big", 30) + "#warning in the main half\n"
            + _unit("mid", 120) + "/* filler */\n" * 40
            + "int main(void) { printf(\"%d\\n\", twice(big(small(mid(1))))); return 0; }\n")
    first = 7
    text = "\n" * (first - 1) + rest
    main, units = compiler.split_units(rest, first, '"orig.c"')
    # the largest units first, while the second half stays under half the text's cost
    # (units 8 + 35 + 125 lines at UNIT_LINE_COST 0.5, 44 other lines: mid's 62.5 moves,
    # adding big or small would pass half of 128)
    assert compiler.UNIT_LINE_COST == 0.5
    assert "AOT_UNIT_BEGIN int mid(int v)" in units and "int mid(int v);" in main
    for name in ("big", "small"):
        assert f"AOT_UNIT_BEGIN int {name}(int v)" in main and name not in units
    results = []
    prelude = "#define AOT_ONE_COPY __attribute__((noinline))\n" \
              "#define AOT_UNIT_FN AOT_ONE_COPY static\n"
    for files in ([("whole.c", text)], [("main.c", main), ("units.c", units)]):
        proc, exe = _compile(tmp_path, prelude, files, [])
        # whole.c: the file's own lines (after the 2 of the prelude); split: orig.c's
        want = first + rest[:rest.index("#warning")].count("\n")
        expect = ("whole.c", want + 2) if len(files) == 1 else ("orig.c", want)
        where = re.search(r"(\w+\.c):(\d+):\d+: warning: #warning", proc.stderr)
        assert where is not None and (where.group(1), int(where.group(2))) == expect, \
            proc.stderr
        results.append(subprocess.run([exe], capture_output=True, text=True).stdout)
    assert results[0] == results[1] and results[0].strip().lstrip("-").isdigit()
    # a unit's own lines map back as well
    bad = rest.replace("    v = v * 3 + 100;", "#warning inside mid")   # (mid's alone)
    main, units = compiler.split_units(bad, first, '"orig.c"')
    (tmp_path / "u.c").write_text(units)
    proc = subprocess.run(["cc", "-fsyntax-only", "-DAOT_ONE_COPY=", str(tmp_path / "u.c")],
                          capture_output=True, text=True)
    want = first + bad[:bad.index("#warning inside")].count("\n")
    assert re.search(rf"orig\.c:{want}:\d+: warning: #warning inside mid", proc.stderr), \
        proc.stderr


def _logreg(name, feats=40):
    """The seed's logistic regression as a Module of two exports (train, predict)."""
    rng = np.random.RandomState(0)
    mod = aotsym.Module(name)
    w = mod.shared(rng.randn(feats), name="w")
    b = mod.shared(np.asarray(0.0), name="b")

    @mod.export(T.matrix("x"), T.vector("y"))
    def train(x, y):
        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
        cost = xent.mean() + 0.01 * (w ** 2).sum()
        gw, gb = aotsym.grad(cost, [w, b])
        return [p_1 > 0.5, xent], {w: w - 0.1 * gw, b: b - 0.1 * gb}

    @mod.export(T.matrix("x"))
    def predict(x):
        return T.tanh(T.dot(x, w) + b) * 2.0 - T.exp(-abs(b))

    return mod


def test_a_modules_run_code_moves_with_its_kernels(tmp_path, halves, monkeypatch):
    """A Module of two exports: the training step's run code goes to the second unit with
    the kernels only it calls; a kernel unit left in the first is called across.  Both
    packages compute the same, bit for bit, state updates included."""
    import importlib
    import sys
    from aotsym.build import driver
    seen = []
    real = compiler.split_units
    monkeypatch.setattr(compiler, "split_units", lambda *a: seen.append(real(*a)) or seen[-1])
    packages = {}
    for name, min_lines in (("lrwhole", 10**9), ("lrsplit", 1)):
        monkeypatch.setattr(compiler, "SPLIT_MIN_LINES", min_lines)
        mod = _logreg(name)
        driver.build_package(mod, mod.assemble(), str(tmp_path), log=lambda text: None)
        monkeypatch.syspath_prepend(str(tmp_path))
        packages[name] = importlib.import_module(name)
    assert halves == ["ok"]
    main, second = seen[-1]
    assert compiler.RUN_BEGIN in second and compiler.RUN_BEGIN in main   # one of each
    assert re.search(r"^int aot_f\d_run\(aot_ctx \*ctx, const aot_array \*in, "
                     r"aot_array \*out\);$", main, re.M)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 40))
    x[3, 5], x[7] = np.nan, np.inf
    y = (rng.random(30) > 0.5).astype(float)
    whole, split = packages["lrwhole"], packages["lrsplit"]
    for step in range(3):
        for got, want in zip(split.train(x, y), whole.train(x, y)):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(split.predict(x[::-2]), whole.predict(x[::-2]))
        np.testing.assert_array_equal(split.predict(x[:0]), whole.predict(x[:0]))
    np.testing.assert_array_equal(split.w.get_value(), whole.w.get_value())
    for name in packages:
        sys.modules.pop(name, None)


def _run_unit(name, body_lines, calls):
    lines = [f"/* AOT_RUN_BEGIN int {name}(int v) */", f"AOT_UNIT_FN int {name}(int v)", "{"]
    lines += [f"    v = v * 5 + {k};" for k in range(body_lines)]
    lines += [f"    v = {callee}(v);" for callee in calls]
    return "\n".join(lines + ["    return v;", "}", compiler.RUN_END]) + "\n"


@pytest.mark.parametrize("state, count", [("", "0"), ("static int aot_counter;\n",
                                                      "aot_counter++")])
def test_run_units_link_their_kernels_across_the_halves(tmp_path, monkeypatch, state, count):
    """Run units calling kernel units on either side, and a static kernel both halves
    compile: the halves link and compute what the whole text does.  A static variable
    before the run code (it would have a copy in each half) keeps run units in the first."""
    monkeypatch.setattr(compiler, "SPLIT_MIN_LINES", 1)
    rest = (state + "static int aot_k9_helper(int v) { return v ^ 7; }\n"
            f"static int aot_k9(int v) {{ return aot_k9_helper(v) + 1 + {count}; }}\n"
            + _unit("aot_k1", 40) + _unit("aot_k2", 30) + _unit("aot_k3", 20)
            + _run_unit("aot_f0_run", 150, ["aot_k1", "aot_k9", "aot_k3"])
            + _run_unit("aot_f1_run", 60, ["aot_k2", "aot_k3", "aot_k9"])
            + "#include <stdio.h>\nint main(void) { printf(\"%d %d\\n\", "
              "aot_f0_run(3), aot_f1_run(4)); return 0; }\n")
    main, second = compiler.split_units(rest, 1, '"orig.c"')
    assert (compiler.RUN_BEGIN in second) == (state == "")
    results = []
    for files in ([("whole.c", rest)], [("main.c", main), ("units.c", second)]):
        _, exe = _compile(tmp_path, "#define AOT_UNIT_FN static\n", files,
                          ["-Wall", "-Werror", "-Wno-unused-function"])
        results.append(subprocess.run([exe], capture_output=True, text=True).stdout)
    assert results[0] == results[1] and len(results[0].split()) == 2
