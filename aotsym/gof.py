"""``aotsym.gof``: Theano's ``theano.gof`` names, for ported code.

Beside the pipeline: re-exports of the IR's classes (``gof.fg.MissingInputError`` too), and
Theano's linkers as names only.
aotsym compiles a whole graph into one module whatever linker is named, so
``theano.ProfileMode(optimizer='fast_run', linker=theano.gof.OpWiseCLinker())`` ports
unchanged and the linker changes nothing.
"""

from aotsym.graph.basic import Apply, Constant, Variable  # noqa: F401
from aotsym.graph.fgraph import FunctionGraph  # noqa: F401
from aotsym.graph.op import Op  # noqa: F401
from aotsym import gof_graph as graph  # noqa: F401  (Theano's theano.gof.graph)
from aotsym.graph.fgraph import MissingInputError  # noqa: F401


class fg:   # noqa: N801 (Theano's module theano.gof.fg, for `except theano.gof.fg.X`)
    FunctionGraph = FunctionGraph
    MissingInputError = MissingInputError


class Linker:
    """A Theano linker named by ported code: accepted, changes nothing."""

    def __init__(self, *args, **kwargs):
        pass

    def __repr__(self):
        return f"{type(self).__name__}()"


class OpWiseCLinker(Linker):
    pass


class PerformLinker(Linker):
    pass


class CLinker(Linker):
    pass


class DualLinker(Linker):
    pass


class VM_Linker(Linker):
    pass
