"""``aotsym.compile.pfunc``: Theano's ``pfunc`` (the function behind ``theano.function``).

Beside the pipeline: ``pfunc(params, outputs, ...)`` is ``aotsym.function`` under Theano's
older name and argument order (``params``: variables or :class:`~aotsym.compile.io.In`).
As in Theano, ``from theano.compile import pfunc`` gives the function: this module is
callable (calling it calls :func:`pfunc`), so both ``aotsym.compile.pfunc(...)`` and
``aotsym.compile.pfunc.pfunc(...)`` work in either import order.
"""

import sys
import types

__all__ = ["pfunc"]


def pfunc(params, outputs=None, mode=None, updates=None, givens=None,
          no_default_updates=False, accept_inplace=False, name=None, rebuild_strict=True,
          allow_input_downcast=None, profile=None, on_unused_input=None, output_keys=None):
    """Theano's ``pfunc``: ``aotsym.function(params, outputs, ...)``.  ``output_keys`` (the
    keys of a dictionary output) is not needed: pass the dictionary as ``outputs``."""
    from aotsym.frontend.function import function
    if output_keys is not None:
        outputs = dict(zip(output_keys, outputs))
    return function(params, outputs, mode=mode, updates=updates, givens=givens,
                    no_default_updates=no_default_updates, accept_inplace=accept_inplace,
                    name=name, rebuild_strict=rebuild_strict,
                    allow_input_downcast=allow_input_downcast, profile=bool(profile),
                    on_unused_input=on_unused_input)


class _CallableModule(types.ModuleType):
    """This module's type: ``aotsym.compile.pfunc(...)`` is ``pfunc(...)``."""

    def __call__(self, *args, **kwargs):
        return pfunc(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
