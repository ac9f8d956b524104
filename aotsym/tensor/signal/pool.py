"""``aotsym.tensor.signal.pool``: Theano's pooling module, ``pool_2d``, ``pool_3d`` and the ops.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters); the ops themselves
(type rule, NumPy reference, gradient, shape) are :mod:`aotsym.graph.ops.pool`.
"""

from aotsym.graph.ops.pool import (AveragePoolGrad, MaxPoolGrad, Pool,  # noqa: F401
                                   max_pool_2d_same_size, pool_2d, pool_3d)
