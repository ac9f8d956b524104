"""The extension's C file without cffi's parser (aotsym/build/glue.py): byte for byte what
cffi writes, for the cdefs and names modules use; the glue kept in the cache between
processes, and not trusted when the cache's copy is damaged."""

import json
import os
import subprocess
import sys

import pytest

from aotsym.build import glue
from aotsym.build.cache import Cache

CDEF = "int aot_register(const char *key);"
CUDA_CDEF = CDEF + "\nint aotcu_f0(const void *in, void *out, int n);"
SOURCE = "#include <stdint.h>\nint aot_register(const char *key) { return key != 0; }\n" \
         "/* a source that names aotsymgluebase and \"aotsymgluebase\" itself */\n" \
         "int aotcu_f0(const void *in, void *out, int n) { return n; }\n"


def _read(path):
    with open(path) as fh:
        return fh.read()


@pytest.mark.parametrize("name", ["logreg._aot", "aotsym_0123456789abcdef01234567", "a.b._aot",
                                  "x"])
@pytest.mark.parametrize("cdef", [CDEF, CUDA_CDEF])
def test_the_file_is_cffis_byte_for_byte(tmp_path, name, cdef):
    glue._GLUE.clear()
    ours = glue.write_cffi_source(name, SOURCE, cdef, str(tmp_path / "ours.c"),
                                  Cache(str(tmp_path / "cache")))
    glue.cffi_source(name, SOURCE, cdef, str(tmp_path / "cffi.c"))
    assert _read(ours) == _read(tmp_path / "cffi.c")
    assert f"PyInit_{name.rpartition('.')[2]}(void)" in _read(ours)


def test_the_glue_is_made_once_and_kept_in_the_cache(tmp_path, monkeypatch):
    glue._GLUE.clear()
    cache = Cache(str(tmp_path / "cache"))
    glue.write_cffi_source("p._aot", SOURCE, CDEF, str(tmp_path / "one.c"), cache)
    made = []
    monkeypatch.setattr(glue, "_make_glue", lambda *a: made.append(a))
    glue._GLUE.clear()   # as a new process: the cache's copy is read, cffi is not asked
    glue.write_cffi_source("q._aot", SOURCE, CDEF, str(tmp_path / "two.c"), cache)
    assert made == []
    assert _read(tmp_path / "two.c") == _read(tmp_path / "one.c").replace(
        '"p._aot"', '"q._aot"')


def test_a_damaged_cache_copy_is_made_again(tmp_path):
    glue._GLUE.clear()
    cache = Cache(str(tmp_path / "cache"))
    glue.write_cffi_source("p._aot", SOURCE, CDEF, str(tmp_path / "one.c"), cache)
    [path] = [os.path.join(d, f) for d, _, files in os.walk(tmp_path / "cache")
              for f in files if f == glue.GLUE_FILE]
    with open(path, "w") as fh:
        json.dump(["broken head", "broken tail"], fh)
    glue._GLUE.clear()
    glue.write_cffi_source("p._aot", SOURCE, CDEF, str(tmp_path / "two.c"), cache)
    assert _read(tmp_path / "two.c") == _read(tmp_path / "one.c")


def test_a_cffi_glue_of_another_shape_falls_back_to_cffi(tmp_path, monkeypatch):
    glue._GLUE.clear()
    monkeypatch.setattr(glue, "SOURCE_MARK", "/* a mark cffi will not find */")
    real = glue.cffi_source
    monkeypatch.setattr(glue, "cffi_source", lambda n, s, c, p: real(
        n, s if s != glue.SOURCE_MARK else "/* no mark */", c, p))
    out = glue.write_cffi_source("p._aot", SOURCE, CDEF, str(tmp_path / "ours.c"))
    real("p._aot", SOURCE, CDEF, str(tmp_path / "cffi.c"))
    assert _read(out) == _read(tmp_path / "cffi.c")


def test_a_cold_build_does_not_import_cffis_parser(tmp_path):
    """With the glue in the cache, building a new function in a fresh process imports
    neither cffi's parser nor pycparser."""
    code = (
        "import sys, numpy as np, aotsym, aotsym.tensor as T\n"
        "x = T.vector('x')\n"
        f"f = aotsym.function([x], x * {{k}} + 1.0)\n"
        "assert f(np.arange(3.0)).tolist() == (np.arange(3.0) * {k} + 1.0).tolist()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('cffi.', 'pycparser'))))\n")
    env = dict(os.environ, AOTSYM_FLAGS=f"cache_dir={tmp_path}")
    for k in (2.0, 3.0):   # the first makes the glue; the second is a cold build that finds it
        out = subprocess.run([sys.executable, "-c", code.replace("{k}", str(k))], env=env,
                             capture_output=True, text=True, check=True).stdout
    assert "cffi.cparser" not in out and "pycparser" not in out, out
