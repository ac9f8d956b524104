"""aotsym: an ahead-of-time compiler for symbolic tensor programs, in the line of Theano.

The pipeline, one direction of flow::

    user code -> frontend -> graph (IR) -> optimizer -> emit_c / emit_cuda -> build -> module

Importing ``aotsym`` loads the configuration, the IR and ``aotsym.tensor``; the frontend's
names (``function``, ``shared``, ``grad``, ``Module`` ...) are loaded on first use, so a later
stage imported on its own (``import aotsym.build``) does not pull the frontend in.

``aotsym.ifelse`` is both the module :mod:`aotsym.ifelse` (Theano's ``theano.ifelse``) and
callable: ``aotsym.ifelse(cond, a, b)``.

``aotsym.scan`` (with ``map``, ``reduce``, ``foldl``, ``foldr`` and Theano's
``aotsym.scan_module``) lives in :mod:`aotsym.frontend.scan`.
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
    "function_dump": ("aotsym.frontend.function", "function_dump"),
    "In": ("aotsym.frontend.function", "In"),
    "Mode": ("aotsym.frontend.function", "Mode"),
    "ProfileMode": ("aotsym.frontend.function", "ProfileMode"),
    "Out": ("aotsym.frontend.function", "Out"),
    "Param": ("aotsym.frontend.function", "Param"),   # Theano's old In (default second)
    "clone": ("aotsym.frontend.function", "clone"),
    "dot": ("aotsym.graph.ops.blas", "dot"),
    "Rop": ("aotsym.gradient", "Rop"),
    "Lop": ("aotsym.gradient", "Lop"),
    "subgraph_grad": ("aotsym.gradient", "subgraph_grad"),
    "gof": ("aotsym.gof", None),
    "compile": ("aotsym.compile", None),
    "as_op": ("aotsym.compile.ops", "as_op"),
    "Op": ("aotsym.graph.op", "Op"),
    "Apply": ("aotsym.graph.basic", "Apply"),
    "Constant": ("aotsym.graph.basic", "Constant"),
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
    "scan_checkpoints": ("aotsym.scan_module.scan_checkpoints", "scan_checkpoints"),
    "ifelse": ("aotsym.ifelse", None),   # the module, which is callable
    "gradient": ("aotsym.gradient", None),   # theano.gradient.jacobian / hessian / Lop / Rop
    "scalar": ("aotsym.scalar", None),
    "RandomStreams": ("aotsym.frontend.random", "RandomStreams"),
    "MRG_RandomStreams": ("aotsym.frontend.random", "MRG_RandomStreams"),
    "sandbox": ("aotsym.sandbox", None),
    "gpuarray": ("aotsym.gpuarray", None),   # theano.gpuarray.pygpu_activated: False
    "configparser": ("aotsym.configparser", None),
    "change_flags": ("aotsym.configparser", "change_flags"),
    "updates": ("aotsym.updates", None),   # theano.updates.OrderedUpdates
    "compat": ("aotsym.compat", None),   # theano.compat: izip, OrderedDict, PY3 ...
    "_asarray": ("aotsym.misc.safe_asarray", "_asarray"),
}



def __getattr__(name):
    if name in _LAZY:
        import importlib
        module, attr = _LAZY[name]
        mod = importlib.import_module(module)
        value = mod if attr is None else getattr(mod, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aotsym' has no attribute {name!r}")
