"""The runtime compiled apart (aotsym/emit_c/runtime.py): the split of its text into the
declarations each module pastes and the translation unit compiled once, and the build stage
compiling that unit once per compiler and flags."""

import glob
import os
import re

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.emit_c.runtime import HIDDEN, SplitError, runtime_halves, split_runtime

SAMPLE = r'''
/* static int in_a_comment(void) { } */
#define MAKE(P) \
    static int made_##P(int x) { return x; }
MAKE(a)
static inline int fast(int x) { return x + 1; }
static int counter;
static const char *names[2] = {"{", "}"};
typedef struct { int a; } pair;
static pair origin = {0};
static int helper(int x);
static int helper(int x)
{
    static int calls;   /* a local: untouched */
    if (x) { calls++; }
    return x + counter + (int)'}';
}
static void (*hook)(int);
'''


def test_split_turns_top_level_statics_into_hidden_symbols_and_prototypes():
    decls, impl = split_runtime(SAMPLE)
    # the implementation: every top-level static definition is the hidden symbol, intact
    assert f"{HIDDEN} int helper(int x)\n{{" in impl and "static int calls;" in impl
    assert f"{HIDDEN} int counter;" in impl
    assert f'{HIDDEN} const char *names[2] = {{"{{", "}}"}};' in impl
    assert f"{HIDDEN} pair origin = {{0}};" in impl
    assert f"{HIDDEN} void (*hook)(int);" in impl
    # the declarations: prototypes and extern variables, no bodies, no initializers
    assert f"{HIDDEN} int helper(int x);" in decls and "calls" not in decls
    assert f"extern {HIDDEN} int counter;" in decls
    assert f"extern {HIDDEN} const char *names[2];" in decls
    assert f"extern {HIDDEN} pair origin;" in decls
    assert f"extern {HIDDEN} void (*hook)(int);" in decls
    # what stays as it is in both: inline functions, macros and their uses, comments, types
    for text in (decls, impl):
        assert "static inline int fast(int x) { return x + 1; }" in text
        assert "static int made_##P(int x)" in text and "\nMAKE(a)\n" in text
        assert "/* static int in_a_comment(void) { } */" in text
        assert "typedef struct { int a; } pair;" in text


def test_split_refuses_what_it_cannot_read():
    with pytest.raises(SplitError):
        split_runtime("static int broken(void) { return 0;\n")
    with pytest.raises(SplitError):
        split_runtime("int f(void) { return 0; }}\n")


def test_the_runtime_declarations_hold_no_function_body():
    halves = runtime_halves()
    decls = halves.declarations
    assert "#define AOT_RUNTIME_APART 1" in decls and "AOT_RUNTIME_IMPL" in halves.implementation
    # every hidden function declared is a prototype; each is defined in the implementation
    declared = re.findall(rf"^{HIDDEN} [^;{{]*?\b(aot_\w+)\(", decls, re.M)
    assert len(declared) > 50
    for name in declared:
        assert re.search(rf"^{HIDDEN} [^;{{]*?\b{name}\([^;]*?\)\s*(__attribute__.*?)?\s*\{{",
                         halves.implementation, re.M | re.S), name
    # and nothing else top-level is static but inline functions (macro bodies are indented)
    others = [line for line in re.findall(r"^static .*$", decls, re.M)
              if not line.startswith("static inline")]
    assert not others, others


def test_the_runtime_is_compiled_once_for_every_module(tmp_path):
    old = aotsym.config.cache_dir
    aotsym.config.cache_dir = str(tmp_path)
    try:
        # (graphs no other test builds: a module this process loaded before, whatever its
        # cache, is reused without touching the cache)
        x = T.vector("x")
        f = aotsym.function([x], x * 2.25 + 1.75)
        g = aotsym.function([x], T.exp(x) - x * 0.375)     # another module, the same runtime
        v = np.array([0.0, -1.5, np.nan, np.inf])
        np.testing.assert_array_equal(f(v), v * 2.25 + 1.75)
        with np.errstate(invalid="ignore"):
            np.testing.assert_allclose(g(v), np.exp(v) - v * 0.375, rtol=1e-15)
    finally:
        aotsym.config.cache_dir = old
    modules = glob.glob(os.path.join(str(tmp_path), "??", "*", "manifest.json"))
    objects = glob.glob(os.path.join(str(tmp_path), "runtime", "??", "*", "aotsym_runtime.o"))
    assert len(modules) == 2 and len(objects) == 1


def test_the_split_is_kept_in_the_cache_and_a_damaged_copy_is_split_again(tmp_path):
    from aotsym.emit_c import runtime
    aotsym.config.cache_dir = str(tmp_path)   # (restored by the autouse default_flags)
    text = runtime.runtime_source()
    expected = split_runtime(text)
    assert runtime._stored_split(text) == expected
    (stored,) = glob.glob(os.path.join(str(tmp_path), "runtime", "split-*.json"))
    assert runtime._stored_split(text) == expected                 # read back
    with open(stored, "w") as fh:
        fh.write('{"digest": "0", "declarations": "int x;"')       # damaged, wrong digest
    assert runtime._stored_split(text) == expected
    os.chmod(str(tmp_path), 0o500)                                  # a cache not writable
    try:
        assert runtime._stored_split(text + "\n") == split_runtime(text + "\n")
    finally:
        os.chmod(str(tmp_path), 0o700)


def test_compiled_templates_are_kept_and_a_cache_that_cannot_be_written_is_no_error(tmp_path):
    from aotsym.emit_c import templates
    for writable in (True, False):
        root = tmp_path / str(writable)
        root.mkdir()
        aotsym.config.cache_dir = str(root)   # (restored by the autouse default_flags)
        templates.environment.cache_clear()
        if not writable:
            (root / "templates").mkdir()
            os.chmod(str(root / "templates"), 0o500)
        try:
            text = templates.render("constant.c.j2", **_constant_values())
        finally:
            os.chmod(str(root / "templates"), 0o700)
            templates.environment.cache_clear()
        assert text
        stored = glob.glob(os.path.join(str(root), "templates", "*.cache"))
        assert bool(stored) == writable or os.geteuid() == 0


def _constant_values():
    return dict(comment="c", ctype="double", name="aot_c0", count=1, init="1.0", shape="1")
