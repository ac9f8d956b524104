"""``aotsym.tensor.nnet``: Theano's module path ``theano.tensor.nnet``.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  The module *is*
:mod:`aotsym.nnet` (``T.nnet``): importing this path returns that one module object, so
``import aotsym.tensor.nnet as nnet`` and ``from aotsym.tensor.nnet import softmax`` see the
same names as ``T.nnet``.  Theano's submodule paths are registered beside it, so that
``from theano.tensor.nnet.conv import conv2d`` (the old convolution module the classic
tutorials import) and its siblings import as written: ``conv`` and ``abstract_conv`` are
:mod:`aotsym.graph.ops.conv`, ``bn`` is :mod:`aotsym.tensor.nnet_bn`, ``neighbours`` is
:mod:`aotsym.tensor.nnet_neighbours`, ``nnet`` and ``sigm``
(where Theano kept softmax, sigmoid and the crossentropies) are :mod:`aotsym.nnet` itself.
"""

import importlib
import sys

SUBMODULES = {"conv": "aotsym.graph.ops.conv", "abstract_conv": "aotsym.graph.ops.conv",
              "bn": "aotsym.tensor.nnet_bn", "nnet": "aotsym.nnet", "sigm": "aotsym.nnet",
              "neighbours": "aotsym.tensor.nnet_neighbours"}

for _name, _target in SUBMODULES.items():
    sys.modules[f"{__name__}.{_name}"] = importlib.import_module(_target)
sys.modules[__name__] = importlib.import_module("aotsym.nnet")
