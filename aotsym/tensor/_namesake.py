"""A module of ``aotsym.tensor`` that has the name of one of its functions (Theano's
``theano.tensor.sort`` and ``theano.tensor.var`` are both).

Beside the pipeline.  Importing ``aotsym.tensor.var`` makes the package's attribute ``var``
that module (Python's import system sets it), where ``T.var(x)`` must stay the variance:
the module is made callable as the function it shadows.
"""

import sys
import types


def stand_in_for(module_name: str, function) -> None:
    """Make the module ``module_name`` callable as ``function``."""
    class _NamesakeModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return function(*args, **kwargs)

    _NamesakeModule.__doc__ = function.__doc__
    sys.modules[module_name].__class__ = _NamesakeModule
