"""The CUDA renderer: a second spelling of the lowered program, as device source.

Part of the pipeline's rendering stage (graph -> optimizer -> **emit_c / emit_cuda** -> build).
Like :mod:`aotsym.emit_c` it decides nothing the lowered program does not already state: it
spells it.  What differs from the C renderer is tables, not logic:

* :mod:`aotsym.emit_cuda.scalar_table` — how CUDA device code writes each row of the IR's
  scalar op table (:mod:`aotsym.graph.scalar`), per compute dtype kind;
* :mod:`aotsym.emit_cuda.dtypes` — the CUDA storage and compute type of each dtype;
* ``runtime/aotsym_cuda_scalar.cuh`` — the ``__device__`` helpers those expressions name
  (the device side of ``runtime/aotsym_scalar.h``).

``tests/emit_cuda/test_cuda_tables.py`` checks every row has a spelling for every dtype kind
its type rule accepts, and compiles one kernel per row and dtype with ``nvcc``.
"""
