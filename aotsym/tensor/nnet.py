"""``aotsym.tensor.nnet``: Theano's module path ``theano.tensor.nnet``.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  The module *is*
:mod:`aotsym.nnet` (``T.nnet``): importing this path returns that one module object, so
``import aotsym.tensor.nnet as nnet`` and ``from aotsym.tensor.nnet import softmax`` see the
same names as ``T.nnet``.
"""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("aotsym.nnet")
