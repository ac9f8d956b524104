"""``aotsym.emit_c``: optimized graphs to C source (one extension module's worth).

Fourth stage of the pipeline (frontend -> graph -> optimizer -> **emit_c** -> build).  It
translates and does not optimize.  :func:`emit_module` takes ``FunctionSpec``s and returns
the C source (the runtime pasted in first, then constants, kernels, functions and their
Python entry points) and the cffi declarations the build stage compiles it with.
"""

from __future__ import annotations

import os

from aotsym.emit_c.emitter import (LOWERINGS, EmittedFunction, EmittedModule,  # noqa: F401
                                   FunctionSpec, emit_module as _emit_module)
from aotsym.emit_c.errors import EmitError  # noqa: F401

# The runtime's files, in the order they are pasted into every module.
RUNTIME_FILES = ("aotsym_scalar.h", "aotsym_profile.h", "aotsym_runtime.h", "aotsym_runtime.c",
                 "aotsym_blas.h", "aotsym_ops.c", "aotsym_loops.c",
                 "aotsym_random.h", "aotsym_python.h")


def runtime_source() -> str:
    from aotsym.resources import runtime_dir
    root = runtime_dir()
    parts = []
    for name in RUNTIME_FILES:
        path = os.path.join(root, name)
        if not os.path.exists(path):
            continue
        with open(path) as fh:
            parts.append(f"/* ---- runtime/{name} */\n" + fh.read())
    return "\n".join(parts)


def emit_module(functions, profile=False, threads=True) -> EmittedModule:
    """The C source of one module exporting ``functions`` (a list of ``FunctionSpec``)."""
    return _emit_module(functions, profile=profile, threads=threads,
                        runtime_source=runtime_source())
