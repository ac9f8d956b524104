"""aotsym: an ahead-of-time compiler for symbolic tensor programs, in the line of Theano.

The pipeline, one direction of flow::

    user code -> frontend -> graph (IR) -> optimizer -> emit_c / emit_cuda -> build -> module

Importing ``aotsym`` loads the configuration, the IR and ``aotsym.tensor``; the frontend's
names (``function``, ``shared``, ``grad``, ``Module`` ...) are loaded on first use, so a later
stage imported on its own (``import aotsym.build``) does not pull the frontend in.

``aotsym.ifelse`` is both the module :mod:`aotsym.ifelse` (Theano's ``theano.ifelse``) and
callable: ``aotsym.ifelse(cond, a, b)``.

``aotsym.scan`` (with ``map``, ``reduce``, ``foldl``, ``foldr`` and Theano's
``aotsym.scan_module``) lives in :mod:`aotsym.frontend.scan`.  A feature not implemented yet
is an entry of ``NOT_IMPLEMENTED``: using it raises :class:`FeatureNotImplemented`, a
NotImplementedError saying what to write instead.
"""

__version__ = "0.1.0"

from aotsym.config import config  # noqa: E402,F401
from aotsym import graph as _graph  # noqa: E402,F401  (installs Variable methods)
from aotsym import tensor  # noqa: E402,F401
from aotsym.graph.basic import Variable  # noqa: E402,F401
from aotsym.resources import runtime_dir  # noqa: E402,F401

# name -> (module, attribute; None: the module itself), imported on first use
_LAZY = {
    "function": ("aotsym.frontend.function", "function"),
    "In": ("aotsym.frontend.function", "In"),
    "Mode": ("aotsym.frontend.function", "Mode"),
    "grad": ("aotsym.frontend.grad", "grad"),
    "shared": ("aotsym.frontend.shared", "shared"),
    "SharedVariable": ("aotsym.frontend.shared", "SharedVariable"),
    "Module": ("aotsym.frontend.module", "Module"),
    "printing": ("aotsym.printing", None),
    "pp": ("aotsym.printing", "pprint"),
    "OpFromGraph": ("aotsym.graph.ops.opfromgraph", "OpFromGraph"),
    "scan": ("aotsym.frontend.scan", "scan"),
    "map": ("aotsym.frontend.scan", "map"),
    "reduce": ("aotsym.frontend.scan", "reduce"),
    "foldl": ("aotsym.frontend.scan", "foldl"),
    "foldr": ("aotsym.frontend.scan", "foldr"),
    "scan_module": ("aotsym.scan_module", None),
    "ifelse": ("aotsym.ifelse", None),   # the module, which is callable
}


class FeatureNotImplemented(NotImplementedError, ImportError):
    """A Theano feature aotsym does not have yet.  It is also an ImportError, so that
    ``from aotsym import scan`` reports this message, and code that probes for a feature by
    catching ImportError finds it missing."""


_LOOP_HINT = ("use T.switch(cond, a, b) for an elementwise choice, or a Python loop over a "
              "fixed count (for i in range(n): ...), which unrolls into the graph")
NOT_IMPLEMENTED = {
}


def not_implemented(name: str) -> FeatureNotImplemented:
    """The error for using the not-yet-implemented feature ``name`` (``"scan"`` ...)."""
    return FeatureNotImplemented(NOT_IMPLEMENTED[name])


def __getattr__(name):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        value = mod if attr is None else getattr(mod, attr)
        globals()[name] = value
        return value
    if name in NOT_IMPLEMENTED:
        raise not_implemented(name)
    raise AttributeError(f"module 'aotsym' has no attribute {name!r}")
