"""``aotsym.compile``: Theano's ``theano.compile`` names, for ported code.

Beside the pipeline: re-exports only.  ``aotsym.compile.builders.OpFromGraph`` is
:class:`aotsym.graph.ops.opfromgraph.OpFromGraph`; ``function`` is ``aotsym.function``;
``SharedVariable`` / ``shared`` are :mod:`aotsym.frontend.shared`'s (Lasagne collects a
model's parameters with ``isinstance(v, theano.compile.SharedVariable)``); ``mode`` has
``get_mode`` / ``get_default_mode``; ``nanguardmode.NanGuardMode`` finds the node that makes a
nan; ``monitormode.MonitorMode`` runs the user's callbacks around every node;
``debugmode.DebugMode`` is the DEBUG_MODE mode; ``function_module`` has the compiled
function's errors; ``io`` (``In``, ``Out``), ``sharedvalue`` and ``pfunc`` (callable, Theano's older
``theano.function``) are Theano's module names; ``config`` is ``aotsym.config``.
"""

from aotsym.compile import (builders, debugmode, function_module, io, mode,  # noqa: F401
                            monitormode, nanguardmode, ops, pfunc, sharedvalue)
from aotsym.compile.debugmode import DebugMode  # noqa: F401
from aotsym.compile.builders import OpFromGraph  # noqa: F401
from aotsym.compile.mode import get_default_mode, get_mode  # noqa: F401
from aotsym.compile.monitormode import MonitorMode  # noqa: F401
from aotsym.compile.ops import as_op  # noqa: F401
from aotsym.config import config  # noqa: F401
from aotsym.frontend.assemble import UnusedInputError  # noqa: F401
from aotsym.frontend.function import In, Mode, Out, function  # noqa: F401
from aotsym.frontend.shared import SharedVariable, shared  # noqa: F401
