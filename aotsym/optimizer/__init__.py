"""The optimizer: rewrites a FunctionGraph for speed and numerical safety, then lowers it.

Third stage of the pipeline (frontend -> graph -> **optimizer** -> emit_c / emit_cuda).

``optimize(fgraph, mode)`` runs the stages of :mod:`aotsym.optimizer.pipeline` for the mode
(``FAST_COMPILE``, ``FAST_RUN``, ``DEBUG_MODE`` = FAST_RUN with every rewrite checked,
``PROFILE_MODE`` = FAST_RUN): a FunctionGraph with the same inputs and output types, which
carries what the optimizer did, an :class:`~aotsym.optimizer.engine.OptimizerStats`, as
``fgraph.meta["optimizer_stats"]`` (the stats travel with the graph to whatever is built from
it; no global keeps them).

``lower_program(fgraph)``, the last stage (:mod:`.lower`), turns an optimized graph into the
lowered program (:mod:`.program`) the emitters render: the ordered steps with every decision
made — views, in-place writes, liveness, the state writes' prepare/commit split, the output
handover, step ids.
"""

from aotsym.optimizer.engine import OptimizerStats, RewriteError  # noqa: F401
from aotsym.optimizer.lower import lower_program  # noqa: F401
from aotsym.optimizer.pipeline import STAGES, optimize  # noqa: F401
from aotsym.optimizer.program import Program  # noqa: F401
