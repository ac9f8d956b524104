"""cffi's glue around a module's C: the extension's complete C file, without cffi's parser.

Part of the build stage (emit_c -> **build** -> module.so), just before the compiler
(:mod:`aotsym.build.compiler`).  cffi in API mode writes an extension's C file as its glue,
our source verbatim, and more glue ending in ``PyInit_<name>``.  For one cdef and cffi version
that glue is the same text for every module, apart from the module's name in two places.
Making it takes cffi's C parser (pycparser), whose import alone costs ~0.1 s of every cold build
in a fresh process, so the glue is made once per cdef, cffi version and name shape (with a
placeholder name and a placeholder source), kept in the cache's ``runtime`` folder, and a
module's file is that glue with its source and name put in.  What cffi would have written is
the same, byte for byte (tests/build/test_cffi_glue.py checks it).
"""

from __future__ import annotations

import json
import os
import re

SOURCE_MARK = "/* AOTSYM_GLUE_SOURCE */"   # where the module's source goes
BASE_MARK = "aotsymgluebase"               # the module's last name (PyInit_<base>)
PACKAGE_MARK = "aotsymgluepackage"         # its package, for a dotted module name
GLUE_FILE = "cffi_glue.json"
# the module's name as a string (dotted or not), and its last name in identifiers
_NAMES = re.compile(f'"(?:{PACKAGE_MARK}\\.)?{BASE_MARK}"|{BASE_MARK}')

_GLUE: dict = {}   # per process: (key, dotted) -> (head, tail)


def write_cffi_source(module_name: str, source: str, cdef: str, path: str,
                      cache=None) -> str:
    """Write the complete C file of the extension ``module_name`` (our ``source`` + cffi's
    API-mode glue for ``cdef``) to ``path``; returns ``path``.  ``cache``: the modules'
    :class:`~aotsym.build.cache.Cache`, whose ``runtime`` folder keeps the glue between
    processes (None: made in this process only)."""
    glue = _glue(cdef, "." in module_name, cache)
    if glue is None:   # a cffi whose glue is not of the shape this module knows
        cffi_source(module_name, source, cdef, path)
        return path
    head, tail = glue
    base = module_name.rpartition(".")[2]
    tail = _NAMES.sub(lambda m: f'"{module_name}"' if m.group(0)[0] == '"' else base, tail)
    with open(path, "w") as fh:
        fh.write(head + source + tail)
    return path


def cffi_source(module_name: str, source: str, cdef: str, path: str) -> None:
    """What cffi itself writes (``ffi.set_source`` + ``emit_c_code``), into ``path``."""
    import cffi
    from cffi.recompiler import make_c_source
    ffi = cffi.FFI()
    ffi.cdef(cdef)
    ffi.set_source(module_name, source)
    make_c_source(ffi, module_name, source, path, verbose=False)


def _glue(cdef: str, dotted: bool, cache) -> tuple[str, str] | None:
    """cffi's text before and after the source of a module with placeholder names (None
    where cffi's output is not of the expected shape)."""
    import _cffi_backend   # its version is cffi's (cffi refuses a mismatch); no parser import

    from aotsym.build.cache import Cache, cache_key
    key = cache_key({"cffi_glue": cdef, "cffi": _cffi_backend.__version__, "dotted": dotted,
                     "source_mark": SOURCE_MARK, "base_mark": BASE_MARK,
                     "package_mark": PACKAGE_MARK})
    if key in _GLUE:
        return _GLUE[key]
    if cache is None:
        found = _make_glue(cdef, dotted)
    else:
        def build(tmp):
            with open(os.path.join(tmp, GLUE_FILE), "w") as fh:
                json.dump(_make_glue(cdef, dotted), fh)
            return [GLUE_FILE]
        store = Cache(os.path.join(cache.root, "runtime"))   # beside the runtime's parts
        manifest, _ = store.get_or_build(key, build, {"cffi_glue": True})
        with open(os.path.join(manifest["dir"], GLUE_FILE)) as fh:
            found = json.load(fh)
        found = tuple(found) if found is not None else None
    _GLUE[key] = found
    return found


def _make_glue(cdef: str, dotted: bool) -> tuple[str, str] | None:
    import tempfile
    name = f"{PACKAGE_MARK}.{BASE_MARK}" if dotted else BASE_MARK
    with tempfile.TemporaryDirectory(prefix="aotsym-glue-") as tmp:
        path = os.path.join(tmp, "glue.c")
        cffi_source(name, SOURCE_MARK, cdef, path)
        with open(path) as fh:
            text = fh.read()
    head, mark, tail = text.partition(SOURCE_MARK)
    if not mark or SOURCE_MARK in tail or BASE_MARK in head:
        return None   # (the source once, the module's name only after it: else cffi itself)
    return head, tail
