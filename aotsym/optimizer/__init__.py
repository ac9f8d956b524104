"""The optimizer: rewrites a FunctionGraph for speed and numerical safety.

Third stage of the pipeline (frontend -> graph -> **optimizer** -> emit_c / emit_cuda).  Input
and output are :class:`~aotsym.graph.fgraph.FunctionGraph` s with the same inputs and the
same output types; the emitters get the optimized graph and, from :func:`plan_memory`, the
buffer plan.

``optimize(fgraph, mode)`` runs the stages of :mod:`aotsym.optimizer.pipeline` for the mode
(``FAST_COMPILE``, ``FAST_RUN``, ``DEBUG_MODE`` = FAST_RUN with every rewrite checked,
``PROFILE_MODE`` = FAST_RUN) and attaches what it did, an
:class:`~aotsym.optimizer.engine.OptimizerStats`, as ``fgraph.meta["optimizer_stats"]``:
the stats travel with the graph to whatever is built from it (no global keeps them).
"""

from aotsym.optimizer.engine import OptimizerStats, RewriteError  # noqa: F401
from aotsym.optimizer.memory import MemoryPlan, plan_memory  # noqa: F401
from aotsym.optimizer.pipeline import STAGES, optimize  # noqa: F401
