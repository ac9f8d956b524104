"""``aotsym.compile.debugmode``: Theano's ``DebugMode`` names, for ported code.

Beside the pipeline (a mode object for :func:`aotsym.function`).  ``DebugMode(...)`` is the
``DEBUG_MODE`` mode: every rewrite checked before and after against the reference evaluator,
and every call of the compiled module compared with the reference's result.  Theano's
options (``check_c_code``, ``check_py_code``, ``check_isfinite``, ``stability_patience``,
``check_preallocated_output``, ``require_matching_strides``) are accepted: the checks they
choose between are Theano's own (its Python and C implementations of each op, its
preallocated outputs); aotsym's check is the one above, always.  Theano's exceptions are the
errors those checks raise: ``DebugModeError`` and ``BadOptimization`` (a rewrite changed a
result), ``BadThunkOutput`` (the compiled module's result differs from the reference's).
"""

from __future__ import annotations

from aotsym.build.checked import CompiledResultError
from aotsym.frontend.function import Mode
from aotsym.optimizer.debug import RewriteCheckError

__all__ = ["DebugMode", "DebugModeError", "BadOptimization", "BadThunkOutput"]

DebugModeError = RewriteCheckError
BadOptimization = RewriteCheckError
BadThunkOutput = CompiledResultError


class DebugMode(Mode):
    """Theano's ``DebugMode(optimizer='fast_run', stability_patience=None,
    check_c_code=None, check_py_code=None, check_isfinite=None,
    check_preallocated_output=None, require_matching_strides=None, linker=None)``."""

    def __init__(self, optimizer="fast_run", stability_patience=None, check_c_code=None,
                 check_py_code=None, check_isfinite=None, check_preallocated_output=None,
                 require_matching_strides=None, linker=None):
        super().__init__("DEBUG_MODE", linker, optimizer)
        self.stability_patience = stability_patience
        self.check_c_code, self.check_py_code = check_c_code, check_py_code
        self.check_isfinite = check_isfinite
        self.check_preallocated_output = check_preallocated_output
        self.require_matching_strides = require_matching_strides

    def __repr__(self):
        return "DebugMode()"
