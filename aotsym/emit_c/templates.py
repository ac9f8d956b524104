"""The jinja2 environment of the C emitter: ``.j2`` files beside this module, strict undefined.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  Templates only lay out
text: every name, C type and index expression is computed in Python and passed in.
"""

from __future__ import annotations

import functools
import os

import jinja2

TEMPLATE_DIR = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=None)
def environment(directory: str = TEMPLATE_DIR) -> jinja2.Environment:
    """Templates of ``directory`` (the emitter's by default; the build stage has its own).
    Compiled templates are kept in the build cache (``templates/``): compiling the emitter's
    templates again in every process cost ~0.1 s of each cold build."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
    )


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """jinja2's cache of compiled templates (files written atomically, checked against the
    template's source when read), where a cache that cannot be written is only slower."""

    def dump_bytecode(self, bucket):
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass

    def load_bytecode(self, bucket):
        try:
            super().load_bytecode(bucket)
        except OSError:
            pass


def _bytecode_cache():
    from aotsym.config import config
    directory = os.path.join(os.path.expanduser(config.cache_dir), "templates")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        return None
    return _QuietBytecodeCache(directory)


def render(template: str, directory: str = TEMPLATE_DIR, **values) -> str:
    return environment(directory).get_template(template).render(**values)


# ------------------------------------------------------------------------------ user text
#
# The one place where text a user wrote (function, input, output and shared names,
# docstrings, source paths) becomes generated source: generated code is an attack surface.
# C gets string literals (:func:`c_string`) and comments (:func:`c_comment`); generated
# Python gets literals (:func:`py_literal`) and identifiers checked (:func:`py_identifier`)
# or made (:func:`py_identifiers`).  Nothing else puts user text into a template.


def c_text(text: str) -> str:
    """``text`` as a C string can hold it: a NUL (which would end the string) is written as
    the two characters ``\\0``, a lone surrogate (not UTF-8) as its ``\\udXXX`` escape.
    The name a module's entry has in Python when its C name is ``c_string(text)``."""
    text = str(text).encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\0", "\\0")


def c_string(text: str) -> str:
    """A C string literal holding ``text`` (UTF-8; quotes, backslashes and control characters
    escaped, ``?`` too: no trigraphs; see :func:`c_text` for NUL)."""
    out = []
    for byte in c_text(text).encode("utf-8"):
        ch = chr(byte)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif 32 <= byte < 127 and ch != "?":
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def c_comment(text: str) -> str:
    """``text`` safe inside a C block comment, on one line: ASCII only (anything else as its
    Python escape), no control characters, no ``*/`` or ``/*``, no ``??`` (trigraphs), no
    trailing backslash."""
    text = str(text).encode("ascii", "backslashreplace").decode("ascii")
    text = "".join(ch if " " <= ch < "\x7f" else " " for ch in text)
    text = " ".join(text.split())
    while "*/" in text or "/*" in text or "??" in text:
        text = text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")
    return text.rstrip("\\")


def py_literal(value) -> str:
    """A Python literal of ``value`` (str, number, tuple, list, dict, None of those)."""
    return repr(value)


def py_identifier(name, what: str) -> str:
    """``name`` when it is a Python identifier a generated module can define and look up as
    it is (not a keyword, unchanged by NFKC normalization, no leading double underscore),
    else a ValueError naming ``what``."""
    import keyword
    import unicodedata
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) \
            or unicodedata.normalize("NFKC", name) != name or name.startswith("__"):
        raise ValueError(f"{what} {name!r} is not a valid Python identifier (letters, digits "
                         "and underscores, not starting with a digit or '__', not a keyword)")
    return name


def py_identifiers(names, reserved=(), ascii=False) -> list:
    """Distinct Python identifiers made from ``names`` (argument names in a generated
    wrapper): a name that is one already and is not ``reserved`` is kept; otherwise every
    character that cannot be in an identifier becomes ``_``, a name that then starts with a
    digit gets a leading ``_`` (an empty one is ``argK``), a keyword or reserved name a
    trailing ``_``, a leading ``__`` loses an underscore, and a name already taken gets
    ``_2``, ``_3`` ...  ``ascii``: non-ASCII characters become ``_`` too (a C function's text
    signature must be ASCII)."""
    import keyword
    import unicodedata
    taken = set(reserved)
    out = []
    for k, name in enumerate(names):
        text = unicodedata.normalize("NFKC", str(name if name is not None else ""))
        text = "".join(ch if ("a" + ch).isidentifier() and (ch.isascii() or not ascii)
                       else "_" for ch in text)
        if not text:
            text = f"arg{k}"
        elif not text.isidentifier():
            text = "_" + text
        while text.startswith("__"):
            text = text[1:]
        if keyword.iskeyword(text) or text in reserved:
            text += "_"
        base, n = text, 2
        while text in taken:
            text, n = f"{base}_{n}", n + 1
        taken.add(text)
        out.append(text)
    return out
