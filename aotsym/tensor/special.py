"""Theano tensor functions beyond the core table: gradient stops, sort, special functions.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters).  ``aotsym.tensor``
reads this module's ``__all__`` for names not in its own export table (``_MORE``), so
``T.sort``, ``T.gammaln``, ``T.zero_grad``, ``T.advanced_inc_subtensor`` ... resolve here;
each name is defined once, in the op module it belongs to, and only re-exported here.
"""

from __future__ import annotations

from aotsym.gradient import consider_constant, disconnected_grad, zero_grad  # noqa: F401
from aotsym.graph.ops.math import (chi2sf, erfcinv, erfcx, erfinv, gamma,  # noqa: F401
                                   gammainc, gammaincc, gammal, gammaln, gammau, i0, i1,
                                   iv, j0, j1, jv, psi, tri_gamma)
from aotsym.graph.ops.sort import argsort, sort  # noqa: F401
from aotsym.tensor.subtensor import (advanced_inc_subtensor,  # noqa: F401
                                     advanced_inc_subtensor1, advanced_set_subtensor,
                                     advanced_set_subtensor1, advanced_subtensor1)

__all__ = ["zero_grad", "consider_constant", "disconnected_grad", "sort", "argsort",
           "gammaln", "gamma", "psi", "tri_gamma", "erfinv", "erfcinv",
           "erfcx", "chi2sf", "gammainc", "gammaincc", "gammau", "gammal", "j0", "j1", "jv",
           "i0", "i1", "iv",
           "advanced_inc_subtensor", "advanced_inc_subtensor1", "advanced_set_subtensor",
           "advanced_set_subtensor1", "advanced_subtensor1"]
