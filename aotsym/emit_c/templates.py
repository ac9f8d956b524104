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
    """Templates of ``directory`` (the emitter's by default; the build stage has its own)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(template: str, directory: str = TEMPLATE_DIR, **values) -> str:
    return environment(directory).get_template(template).render(**values)


def c_string(text: str) -> str:
    """A C string literal holding ``text`` (UTF-8; quotes, backslashes, controls escaped)."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif 32 <= byte < 127 and ch != "?":  # '?' escaped: no trigraphs
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'


def c_comment(text: str) -> str:
    """``text`` safe inside a C block comment, on one line."""
    return " ".join(text.replace("*/", "* /").replace("/*", "/ *").split())
