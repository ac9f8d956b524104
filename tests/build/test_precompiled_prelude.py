"""The module prelude compiled once (aotsym/build/compiler.py, ``runtime_parts`` and
``compile_module``): every module's C file starts with the same text (cffi's preamble,
Python's, NumPy's and the runtime's declarations), which GCC reads from a precompiled header
built beside the runtime's object instead of parsing it again for every module."""

import glob
import json
import os
import shlex
import subprocess

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.build import compiler
from aotsym.build.cache import Cache
from aotsym.emit_c.runtime import PRELUDE_END

pytestmark = pytest.mark.skipif(not compiler.precompiles_headers(aotsym.config.cxx),
                                reason="the compiler is not GCC: no precompiled header")


def _build(cache_dir, expr):
    """A function built in ``cache_dir``; (it, its module's C file, its build flags)."""
    aotsym.config.cache_dir = str(cache_dir)   # (restored by the autouse default_flags)
    x = T.vector("x")
    f = aotsym.function([x], expr(x))
    directory = f._run.module.path
    with open(os.path.join(directory, "manifest.json")) as fh:
        flags = json.load(fh)["flags"]
    return f, os.path.join(directory, "module.c"), flags


def _runtime(f):
    """The runtime's translation unit ``f``'s module was built with."""
    return f._run.module.emitted.runtime


def test_every_module_starts_with_the_same_prelude_and_gcc_uses_its_precompiled_copy(tmp_path):
    f, c_path, flags = _build(tmp_path, lambda x: x * 2 + 1)
    g, c_path2, _ = _build(tmp_path, lambda x: T.exp(x) - x)
    v = np.array([0.0, -1.5, np.nan, np.inf, -0.0])
    np.testing.assert_array_equal(f(v), v * 2 + 1)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(g(v), np.exp(v) - v)
    prelude, rest, lines = compiler.split_prelude(c_path)
    assert compiler.split_prelude(c_path2)[0] == prelude
    assert prelude.endswith(PRELUDE_END + "\n") and PRELUDE_END not in rest
    assert prelude.count("\n") == lines and "aot_c0" not in prelude
    # one runtime entry holds the object and the precompiled prelude, for both modules
    (header,) = glob.glob(os.path.join(str(tmp_path), "runtime", "??", "*",
                                       compiler.PRELUDE_HEADER))
    assert os.path.getsize(header + ".gch") > 1_000_000
    parts = compiler.runtime_parts(_runtime(f), prelude, aotsym.config.cxx,
                                   flags, Cache(str(tmp_path)))
    assert parts.prelude == header
    # GCC takes the precompiled copy with these flags ("!" in -H's list), not the text
    body = tmp_path / "body.c"
    body.write_text(rest)
    out = subprocess.run(shlex.split(aotsym.config.cxx) + flags + ["-H", "-fsyntax-only",
                         "-include", header] + [f"-I{d}" for d in compiler.include_dirs()]
                         + [str(body)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert f"! {header}.gch" in out.stderr.splitlines()


def test_the_compilers_messages_name_the_module_files_own_lines(tmp_path):
    f, c_path, flags = _build(tmp_path, lambda x: x + 3)
    text = open(c_path).read()
    at = text.index(PRELUDE_END) + len(PRELUDE_END) + 1
    broken = tmp_path / "broken.c"
    broken.write_text(text[:at] + "\n\n#error aotsym line check\n" + text[at:])
    line = text[:at].count("\n") + 3
    with pytest.raises(compiler.CompileError) as info:
        compiler.compile_module(str(broken), str(tmp_path / "broken.so"), aotsym.config.cxx,
                                flags, [], _runtime(f),
                                Cache(str(tmp_path)))
    assert f"{broken}:{line}:" in str(info.value) and "aotsym line check" in str(info.value)
    assert not os.path.exists(str(tmp_path / "broken_body.c"))


def test_a_module_compiled_with_the_precompiled_prelude_has_no_warnings(tmp_path):
    """-Wall -Wextra -Werror (the C quality test compiles the text whole; this is the other
    way, with -include and the #line)."""
    f, c_path, flags = _build(tmp_path, lambda x: T.sum(T.sin(x) * x))
    strict = flags + ["-Werror"]
    out = compiler.compile_module(c_path, str(tmp_path / "strict.so"), aotsym.config.cxx,
                                  strict, [], _runtime(f),
                                  Cache(str(tmp_path / "strict")))
    assert out == ""
    assert glob.glob(os.path.join(str(tmp_path), "strict", "runtime", "??", "*",
                                  compiler.PRELUDE_HEADER + ".gch"))


def test_without_a_precompiled_prelude_modules_compile_the_text(tmp_path, monkeypatch):
    """A compiler that cannot precompile the header (it failed, or it is not GCC): the
    runtime entry holds only the object and modules compile their prelude as text."""
    monkeypatch.setattr(compiler, "_start_compiler", lambda argv: None)
    f, c_path, flags = _build(tmp_path, lambda x: x * x - 1)
    v = np.array([3.0, -0.0, np.inf, np.nan])
    np.testing.assert_array_equal(f(v), v * v - 1)
    assert glob.glob(os.path.join(str(tmp_path), "runtime", "??", "*", "aotsym_runtime.o"))
    assert not glob.glob(os.path.join(str(tmp_path), "runtime", "??", "*",
                                      compiler.PRELUDE_HEADER + "*"))
    failing = lambda argv: subprocess.Popen(["false"])                   # noqa: E731
    monkeypatch.setattr(compiler, "_start_compiler", failing)
    out = tmp_path / "again.so"
    compiler.compile_module(c_path, str(out), aotsym.config.cxx, flags + ["-O1"], [],
                            _runtime(f), Cache(str(tmp_path / "other")))
    assert out.exists()
    assert not glob.glob(os.path.join(str(tmp_path), "other", "runtime", "??", "*",
                                      compiler.PRELUDE_HEADER + "*"))


def test_clang_is_not_given_gccs_precompiled_header(monkeypatch):
    compiler.precompiles_headers.cache_clear()
    monkeypatch.setattr(compiler, "compiler_version",
                        lambda cc: "Ubuntu clang version 18.1.3 (1ubuntu1)")
    try:
        assert not compiler.precompiles_headers("clang")
    finally:
        compiler.precompiles_headers.cache_clear()
