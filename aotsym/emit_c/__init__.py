"""``aotsym.emit_c``: optimized graphs to C source (one extension module's worth).

Fourth stage of the pipeline (frontend -> graph -> optimizer -> **emit_c** -> build).  It
translates and does not optimize.  :func:`emit_module` takes ``FunctionSpec``s and returns
the C source (the runtime pasted in first, or only declared when it is compiled apart, then
constants, kernels, functions and their
Python entry points) and the cffi declarations the build stage compiles it with.
"""

from __future__ import annotations

from aotsym.emit_c.emitter import (LOWERINGS, EmittedFunction, EmittedModule,  # noqa: F401
                                   FunctionSpec, emit_module as _emit_module)
from aotsym.emit_c.errors import EmitError  # noqa: F401
from aotsym.emit_c.runtime import RUNTIME_FILES, runtime_halves, runtime_source  # noqa: F401


def emit_module(functions, profile=False, threads=True, runtime_apart=False,
                python_ops=False) -> EmittedModule:
    """The C source of one module exporting ``functions`` (a list of ``FunctionSpec``).
    ``runtime_apart``: the module declares the runtime and ``EmittedModule.runtime`` is the
    runtime's own translation unit, compiled once and linked in (:mod:`.runtime`); else the
    runtime is pasted in whole.  ``python_ops``: Python-only ops are called back from C
    (an in-process module: :mod:`.python_op`)."""
    if not runtime_apart:
        return _emit_module(functions, profile=profile, threads=threads,
                            runtime_source=runtime_source(), python_ops=python_ops)
    halves = runtime_halves()
    return _emit_module(functions, profile=profile, threads=threads,
                        runtime_source=halves.declarations,
                        runtime_unit=halves.implementation, python_ops=python_ops)
