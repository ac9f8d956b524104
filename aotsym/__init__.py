"""aotsym: an ahead-of-time compiler for symbolic tensor programs, in the line of Theano.

The pipeline, one direction of flow::

    user code -> frontend -> graph (IR) -> optimizer -> emit_c / emit_cuda -> build -> module
"""

__version__ = "0.1.0"

from aotsym.config import config  # noqa: E402,F401
from aotsym import graph as _graph  # noqa: E402,F401  (installs Variable methods)
from aotsym import tensor  # noqa: E402,F401
from aotsym.frontend.function import In, function  # noqa: E402,F401
from aotsym.frontend.grad import grad  # noqa: E402,F401
from aotsym.frontend.shared import SharedVariable, shared  # noqa: E402,F401
from aotsym.graph.basic import Variable  # noqa: E402,F401
from aotsym.resources import runtime_dir  # noqa: E402,F401


def __getattr__(name):
    import importlib
    lazy = {"printing": "aotsym.printing", "Module": "aotsym.frontend.module",
            "scan": "aotsym.frontend.scan", "ifelse": "aotsym.frontend.ifelse",
            "pp": "aotsym.printing", "Mode": "aotsym.frontend.function",
            "OpFromGraph": "aotsym.graph.ops.opfromgraph"}
    if name in lazy:
        mod = importlib.import_module(lazy[name])
        if name == "printing":
            return mod
        if name == "pp":
            return mod.pprint
        return getattr(mod, name)
    raise AttributeError(f"module 'aotsym' has no attribute {name!r}")
