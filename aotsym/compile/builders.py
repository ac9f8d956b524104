"""``aotsym.compile.builders``: Theano's ``theano.compile.builders`` (``OpFromGraph``).

Beside the pipeline: a re-export of :mod:`aotsym.graph.ops.opfromgraph`.
"""

from aotsym.graph.ops.opfromgraph import OpFromGraph  # noqa: F401
