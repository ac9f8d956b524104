"""The ops of the IR, one module per family (elementwise, reductions, BLAS, shape, indexing,
joins, neural-network helpers).  See :mod:`aotsym.graph.op` for what an op defines."""
