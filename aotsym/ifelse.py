"""``aotsym.ifelse`` (Theano's ``theano.ifelse``): the lazy conditional.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  Both spellings work,
in either import order::

    from aotsym.ifelse import ifelse;  z = ifelse(cond, a, b)
    import aotsym;                     z = aotsym.ifelse(cond, a, b)

``aotsym.ifelse`` is this module (``import aotsym.ifelse`` makes it the package attribute),
so the module itself is callable: calling it calls :func:`ifelse`.  The op and the function
are defined once, in :mod:`aotsym.graph.ops.ifelse`; the rewrites that make it lazy are in
:mod:`aotsym.optimizer.ifelse`.
"""

import sys
import types

from aotsym.graph.ops.ifelse import IfElse, ifelse  # noqa: F401

__all__ = ["IfElse", "ifelse"]


class _CallableModule(types.ModuleType):
    """This module's type: ``aotsym.ifelse(cond, a, b)`` is ``aotsym.ifelse.ifelse(...)``."""

    def __call__(self, condition, then_branch, else_branch, name=None):
        return ifelse(condition, then_branch, else_branch, name=name)


sys.modules[__name__].__class__ = _CallableModule
