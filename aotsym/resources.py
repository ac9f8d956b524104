"""Where aotsym's non-Python files are: the C runtime sources.

Beside the pipeline: the build stage asks :func:`runtime_dir` for the directory holding the
runtime's ``.c``/``.h`` files and passes it on to the compiler.  The files live in the
checkout's top-level ``runtime/``; a wheel carries a copy as ``aotsym/_runtime/`` (made by
``setup.py``'s ``build_py``).  An installed copy wins; an editable install or a plain checkout
on ``sys.path`` uses ``runtime/`` itself, so edits there take effect without reinstalling.
"""

from __future__ import annotations

import os

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _has_sources(path: str) -> bool:
    return os.path.isdir(path) and any(
        name.endswith((".c", ".h")) for name in os.listdir(path))


def runtime_dir() -> str:
    """The directory holding the C runtime sources (``aotsym_runtime.h`` and friends)."""
    candidates = (os.path.join(_PACKAGE_DIR, "_runtime"),
                  os.path.join(os.path.dirname(_PACKAGE_DIR), "runtime"))
    for path in candidates:
        if _has_sources(path):
            return path
    raise FileNotFoundError(
        "aotsym's C runtime sources were not found (looked in "
        + " and ".join(candidates)
        + "); reinstall aotsym (pip install aotsym, or pip install -e . in a checkout)")
