"""``aotsym.scan_module`` (Theano's ``theano.scan_module``): ``scan`` and ``until``,
``scan_checkpoints``; its submodule ``scan_utils`` has Theano's ``equal_computations``,
``scan_op`` the op class (``scan_op.Scan``).

Beside the pipeline: the names Theano code imports from here; they live in the frontend
(:mod:`aotsym.frontend.scan`) and the IR (:mod:`aotsym.graph.ops.scan`).
"""

from aotsym.frontend.scan import foldl, foldr, map, reduce, scan, until  # noqa: F401
from aotsym.graph.ops.scan import Scan  # noqa: F401
from aotsym.scan_module import scan_op, scan_utils  # noqa: F401,E402
from aotsym.scan_module.scan_checkpoints import scan_checkpoints  # noqa: F401,E402
