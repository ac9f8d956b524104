"""The runtime's C source, as one text or as the two halves a module is built from.

Part of the C emitter (optimizer -> **emit_c** -> build).  ``runtime/`` is written as one
library of ``static`` functions and variables, pasted into a module ahead of its own code
(:func:`runtime_source`).  Compiling those 3,000 lines again for every module cost about a
second a build, so the build stage compiles them once per compiler and flags and links the
object into each module (:mod:`aotsym.build.compiler`, ``runtime_object``).  The two halves
are made from the same text by :func:`split_runtime`, which changes only the top-level
``static`` definitions (functions and variables; never ``static inline`` functions, never
anything inside a function, never a macro's body)::

    runtime text                          implementation (compiled once)   declarations (each module)
    static int aot_alloc(...) { ... }  -> AOT_RT int aot_alloc(...) {...}   AOT_RT int aot_alloc(...);
    static int aot_alloc(...);         -> AOT_RT int aot_alloc(...);        AOT_RT int aot_alloc(...);
    static aot_mempool aot_pool = {..} -> AOT_RT aot_mempool aot_pool = {..} extern AOT_RT aot_mempool aot_pool;
    static inline T f(...) { ... }     -> unchanged                        unchanged
    #define M(P) static int f_##P(..)  -> unchanged (a static copy in each translation unit)

``AOT_RT`` is ``__attribute__((visibility("hidden")))``: one definition shared by the two
translation units of a module and invisible outside its shared object, so every module
keeps its own copy of the runtime's state, as when the runtime was pasted in.  Each half
defines ``AOT_RUNTIME_APART`` (and the implementation ``AOT_RUNTIME_IMPL``), which
``aotsym_python.h`` reads to share NumPy's C-API table between them.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

# The runtime's files, in the order they are pasted into every module.
RUNTIME_FILES = ("aotsym_scalar.h", "aotsym_special.h", "aotsym_profile.h", "aotsym_runtime.h",
                 "aotsym_runtime.c", "aotsym_blas.h", "aotsym_ops.c", "aotsym_loops.c",
                 "aotsym_random.h", "aotsym_python.h")

HIDDEN = "AOT_RT"
# The line that ends a module's prelude (module.c.j2): what comes before it is the same in
# every module built with the same flags, and the build stage compiles it once
# (aotsym.build.compiler.runtime_parts, a precompiled header).
PRELUDE_END = "/* ---- aotsym: end of the module's prelude */"
PRELUDE = f'#define {HIDDEN} __attribute__((visibility("hidden")))\n'


def runtime_source() -> str:
    """The runtime as one text (its files in order), as pasted into a module built whole."""
    return _runtime_text(_fingerprint())


@dataclass(frozen=True)
class RuntimeHalves:
    """``declarations``: pasted into each module in place of the runtime; ``implementation``:
    the translation unit compiled once (it includes Python's and NumPy's headers itself)."""
    declarations: str
    implementation: str


def runtime_halves() -> RuntimeHalves:
    """The runtime split into the two halves a module is built from (module docstring)."""
    return _halves(_fingerprint())


def _fingerprint() -> tuple:
    from aotsym.resources import runtime_dir
    root = runtime_dir()
    out = []
    for name in RUNTIME_FILES:
        path = os.path.join(root, name)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        out.append((path, st.st_size, st.st_mtime_ns))
    return tuple(out)


@functools.lru_cache(maxsize=4)
def _runtime_text(fingerprint) -> str:
    parts = []
    for path, _, _ in fingerprint:
        with open(path) as fh:
            parts.append(f"/* ---- runtime/{os.path.basename(path)} */\n" + fh.read())
    return "\n".join(parts)


@functools.lru_cache(maxsize=4)
def _halves(fingerprint) -> RuntimeHalves:
    text = _runtime_text(fingerprint)
    decls, impl = _stored_split(text)
    declarations = "#define AOT_RUNTIME_APART 1\n" + PRELUDE + decls
    implementation = ("/* The aotsym runtime, compiled apart (aotsym.emit_c.runtime). */\n"
                      "#define AOT_RUNTIME_APART 1\n#define AOT_RUNTIME_IMPL 1\n"
                      "#define PY_SSIZE_T_CLEAN\n#include <Python.h>\n" + PRELUDE + impl)
    return RuntimeHalves(declarations, implementation)


def _stored_split(text: str) -> tuple[str, str]:
    """:func:`split_runtime` of ``text``, kept in the build cache (``runtime/``) by the
    text's digest: splitting takes ~30 ms, reading the result back ~1 ms.  A cache that
    cannot be read or written only makes it slower."""
    import hashlib
    import json
    import tempfile
    from aotsym.config import config
    digest = hashlib.sha256(text.encode()).hexdigest()
    path = os.path.join(os.path.expanduser(config.cache_dir), "runtime",
                        f"split-{digest[:32]}.json")
    try:
        with open(path) as fh:
            stored = json.load(fh)
        if stored.get("digest") == digest:
            return stored["declarations"], stored["implementation"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    decls, impl = split_runtime(text)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=os.path.dirname(path), delete=False,
                                         suffix=".tmp") as fh:
            json.dump({"digest": digest, "declarations": decls, "implementation": impl}, fh)
        os.replace(fh.name, path)
    except OSError:
        pass
    return decls, impl


# ------------------------------------------------------------------------------ the split


class SplitError(ValueError):
    """The runtime text has a top-level construct the split does not understand."""


def split_runtime(text: str) -> tuple[str, str]:
    """(declarations, implementation) of the runtime ``text`` (module docstring)."""
    decls, impl = [], []
    pos = 0
    for start, end, kind, body in _static_definitions(text):
        decls.append(text[pos:start])
        impl.append(text[pos:start])
        item = text[start:end]
        rest = item[len("static"):]
        if kind == "function":
            impl.append(HIDDEN + rest)
            signature = rest if body is None else text[start + len("static"):body]
            decls.append(HIDDEN + signature.rstrip() + (";" if body is not None else ""))
        else:   # variable
            impl.append(HIDDEN + rest)
            decls.append(f"extern {HIDDEN}" + _without_initializer(rest) + ";")
        pos = end
    decls.append(text[pos:])
    impl.append(text[pos:])
    return "".join(decls), "".join(impl)


def _without_initializer(declaration: str) -> str:
    """``' T name = {...};'`` -> ``' T name'`` (the text before a top-level ``=`` or ``;``)."""
    depth = 0
    for k, ch in enumerate(declaration):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0 and ch in "=;":
            return declaration[:k].rstrip()
    raise SplitError(f"cannot read the declaration {declaration[:80]!r}")


_TOKEN = re.compile(r"""
    (?P<comment>/\*.*?\*/|//[^\n]*)
  | (?P<literal>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<directive>^[ \t]*\#(?:\\\n|[^\n])*)
  | (?P<static>^static\b)
  | (?P<punct>[(){}\[\];=])
""", re.S | re.M | re.X)
_SKIPPED = ("comment", "literal", "directive")


def _static_definitions(text: str):
    """(start, end, kind, body_start) of each top-level ``static`` function or variable that
    is not ``static inline``: ``end`` just past its ``}`` or ``;``, ``body_start`` the index
    of a function's ``{`` (None for a prototype or a variable).  Top level is brace and
    parenthesis depth 0 outside comments, literals and preprocessor directives; a definition
    starts at the beginning of a line (the runtime's style)."""
    tokens = [m for m in _TOKEN.finditer(text) if m.lastgroup not in _SKIPPED]
    depth = 0
    i = 0
    while i < len(tokens):
        m = tokens[i]
        if m.lastgroup == "static":
            if depth == 0 and not re.match(r"\s*(inline|__inline__)\b", text[m.end():]):
                found, i = _definition(text, tokens, i)
                yield found
                continue
        else:
            depth += _DEPTH.get(m.group(), 0)
            if depth < 0:
                raise SplitError(f"unbalanced {m.group()!r} at offset {m.start()} in the "
                                 "runtime")
        i += 1
    if depth:
        raise SplitError("unbalanced braces in the runtime")


_DEPTH = {"(": 1, "{": 1, "[": 1, ")": -1, "}": -1, "]": -1}


def _definition(text, tokens, i):
    """The definition starting at ``tokens[i]`` (``static``) and the index of the token after
    it (see :func:`_static_definitions`)."""
    start = tokens[i].start()
    kind = None
    depth = 0
    j = i + 1
    while j < len(tokens):
        g = tokens[j].group()
        if g == "(" and depth == 0 and kind is None:
            kind = "pointer" if text[tokens[j].end():].lstrip().startswith("*") else "function"
        if g in _DEPTH and g != "{" and g != "}":
            depth += _DEPTH[g]
        elif depth == 0 and g == "=" and kind is None:
            kind = "variable"
        elif depth == 0 and g == ";":
            kind = "function" if kind == "function" else "variable"
            return (start, tokens[j].end(), kind, None), j + 1
        elif depth == 0 and g == "{":
            k = _matching_brace(tokens, j)
            if kind == "function":
                return (start, tokens[k].end(), "function", tokens[j].start()), k + 1
            kind = "variable"     # an initializer: the ';' after it ends the variable
            j = k
        j += 1
    raise SplitError(f"unterminated declaration at offset {start}: {text[start:start + 80]!r}")


def _matching_brace(tokens, j):
    """Index of the token ``}`` matching the ``{`` at ``tokens[j]``."""
    depth = 0
    for k in range(j, len(tokens)):
        g = tokens[k].group()
        if g == "{":
            depth += 1
        elif g == "}":
            depth -= 1
            if depth == 0:
                return k
    raise SplitError("unbalanced braces in the runtime")


