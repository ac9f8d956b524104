"""The workloads, one module each: ``ID``, ``NAME``, ``TITLE``, a docstring that the report
prints, and either ``cases(ctx)`` (yielding ``benchmarks.core.Case``s that the runner times)
or ``run(ctx)`` (returning ``CaseResult``s it measured itself)."""

from benchmarks.workloads import (w1_elemwise, w2_logreg, w3_mlp, w4_scan, w5_ifelse,
                                  w6_overhead, w7_build, w8_references, w9_convnet)

WORKLOADS = [w8_references, w1_elemwise, w2_logreg, w3_mlp, w4_scan, w5_ifelse,
             w6_overhead, w7_build, w9_convnet]
