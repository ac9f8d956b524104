"""``aotsym.tensor.var``: Theano's ``theano.tensor.var`` names, for ported code.

Beside the pipeline: re-exports only.  Theano's tensor variable classes are aotsym's one
variable class (a tensor's operators are on :class:`aotsym.graph.basic.Variable`), so
``isinstance(v, theano.tensor.var.TensorVariable)`` holds for every symbolic tensor.
"""

from aotsym.frontend.shared import SharedVariable as TensorSharedVariable  # noqa: F401
from aotsym.graph.basic import Constant as TensorConstant  # noqa: F401
from aotsym.graph.basic import Variable as TensorVariable  # noqa: F401
from aotsym.graph.basic import Variable as _tensor_py_operators  # noqa: F401
from aotsym.graph.ops.reduce import var as _var
from aotsym.tensor._namesake import stand_in_for

stand_in_for(__name__, _var)   # T.var(x) stays the variance once this module is imported
