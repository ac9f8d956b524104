"""Every op class of the IR has a CUDA translation, or building it for the CUDA target is a
build-time ``CudaEmitError`` naming the op and the user's line — never a silent gap.

The op classes are enumerated as the C backend's coverage test enumerates them
(``tests/emit_c/test_emit_tables.py``); each is either translated (the renderer's
``LOWERINGS``, every family loaded), a structured step (ifelse and OpFromGraph rendered by
``aotsym/emit_cuda/control.py``, scan refused as a step kind), or listed in
``NOT_TRANSLATED`` below with what it would take.  A new op class
or a new translation fails :func:`test_every_op_class_is_translated_or_listed` until this
file says which.  The refusal itself is one code path for every untranslated op
(``FunctionEmitter.step_text``), shown here on an op class the renderer cannot know.
"""

import importlib.util
import os

import numpy as np
import pytest

from aotsym import tensor as T
from aotsym.build.driver import _spec
from aotsym.emit_cuda import renderer as R
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.inner import HasInnerGraphs
from aotsym.graph.op import Op
from aotsym.graph.ops.opfromgraph import OpFromGraph
from aotsym.optimizer import optimize

# op class -> what it needs on the GPU (each is refused at build time today)
NOT_TRANSLATED = {
    "ARange": "a fill kernel from host scalars",
    "AbstractConv2d": "im2col kernel + cuBLAS gemm (or cuDNN)",
    "AbstractConv2d_gradInputs": "col2im kernel + cuBLAS gemm",
    "AbstractConv2d_gradWeights": "im2col kernel + cuBLAS gemm",
    "AdvancedIncSubtensor": "a scatter kernel with atomics",
    "AdvancedIncSubtensor1": "a scatter kernel with atomics",
    "AdvancedSubtensor": "a gather kernel",
    "AdvancedSubtensor1": "a gather kernel",
    "ArgReduce": "a block argmax/argmin reduction",
    "ArgSort": "a segmented stable sort of (value, index) pairs (CUB)",
    "AveragePoolGrad": "a pooling kernel",
    "BinomialDraw": "runtime/aotsym_cuda_random.cuh's Philox, wired to a step",
    "ChoiceDraw": "Philox, wired to a step",
    "Cholesky": "cuSOLVER potrf on a device copy, info read back",
    "Det": "cuSOLVER getrf, then the product of the diagonal",
    "Eig": "cuSOLVER geev (its C build calls NumPy back)",
    "Eigh": "cuSOLVER syevd",
    "Eigvalsh": "cuSOLVER syevd without vectors",
    "Expm": "cuBLAS gemm for the Pade products, cuSOLVER getrf + getrs for the quotient",
    "Eye": "a fill kernel",
    "FusedGemvPair": "two cuBLAS gemv calls",
    "IncSubtensor": "a copy/add kernel into a view",
    "Join": "one copy per input into slices of the output",
    "LogSoftmax": "a row kernel (max, sum of exp) like runtime softmax",
    "Lstsq": "cuSOLVER gels (its C build calls NumPy back)",
    "MatrixInverse": "cuSOLVER getrf + getrs against the identity",
    "MatrixPinv": "cuSOLVER gesvd, then two gemm",
    "MaxPoolGrad": "a pooling kernel",
    "MultinomialDraw": "Philox, wired to a step",
    "Nonzero": "a count (block reduction), a scan of the counts, then a scatter of indices",
    "NormalDraw": "Philox, wired to a step",
    "PermutationDraw": "Philox, wired to a step",
    "Pool": "a pooling kernel",
    "Print": "a host-side step: copy to the host, print through Python",
    "QR": "cuSOLVER geqrf + orgqr",
    "SLogDet": "cuSOLVER getrf, then a log-sum of the diagonal",
    "SVD": "cuSOLVER gesvd",
    "Softmax": "a row kernel (max, sum of exp)",
    "Solve": "cuSOLVER getrf + getrs (cuBLAS trsm for the triangular structures)",
    "Sort": "a segmented stable sort (CUB)",
    "SortAnyAxis": "the segmented sort on the axis read at run time (C calls NumPy back)",
    "SpecifyShape": "a host-side shape check (no kernel)",
    "SumToShape": "a view of the gradient, or a block reduction over the dimensions an "
                  "indexed write broadcast at run time",
    "TopKOp": "a segmented selection (CUB radix select; its C build calls NumPy back)",
    "UniformDraw": "Philox, wired to a step",
}


def _op_classes():
    """The C coverage test's enumeration of op classes (one way of doing it)."""
    path = os.path.join(os.path.dirname(__file__), "..", "emit_c", "test_emit_tables.py")
    spec = importlib.util.spec_from_file_location("_emit_c_tables", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._op_classes()


def test_every_op_class_is_translated_or_listed():
    classes = _op_classes()
    translated = set(R.translated_op_classes())
    structured = {n for n, c in classes.items() if issubclass(c, HasInnerGraphs)}
    untranslated = set(classes) - translated - structured
    assert sorted(untranslated - set(NOT_TRANSLATED)) == [], \
        "op classes with neither a CUDA translation nor an entry in NOT_TRANSLATED"
    assert sorted(set(NOT_TRANSLATED) & translated) == [], \
        "NOT_TRANSLATED lists classes that are translated now"
    assert translated <= set(classes), sorted(translated - set(classes))
    # (OpFromGraph's subclasses, T.nnet.relu's Relu, are inlined by the optimizer like it)
    assert {n for n in structured if not issubclass(classes[n], OpFromGraph)} == \
        {"IfElse", "Scan"} and "OpFromGraph" in structured


class Frobnicate(Op):
    """An op class no backend has heard of."""
    __props__ = ()

    def output_types(self, inputs):
        return [inputs[0].type]

    def perform(self, node, inputs):
        return [np.asarray(inputs[0]) + 1]


def test_an_op_class_the_renderer_does_not_know_is_refused_naming_it_and_the_line():
    x = T.vector("x")
    y = Frobnicate()(x * 2)          # the user's line
    spec = _spec("frob", optimize(FunctionGraph([x], [y + 1]), mode="FAST_RUN"))
    with pytest.raises(R.CudaEmitError) as info:
        R.emit_cuda_module([spec])
    message = str(info.value)
    assert "no translation of the op Frobnicate" in message, message
    assert "test_cuda_coverage.py" in message and "y = Frobnicate()(x * 2)" in message, message
    assert "--target c" in message, message          # what to do instead


def test_a_refusal_happens_before_nvcc_runs(monkeypatch):
    """Refused at render time: the build never reaches the compiler."""
    from aotsym.build import cuda as B
    from aotsym.build.driver import BuildOptions

    def no_nvcc(*args, **kwargs):
        raise AssertionError("nvcc ran for a graph the renderer refuses")

    monkeypatch.setattr(B, "compile_cuda_object", no_nvcc)
    x = T.matrix("x")
    spec = _spec("sm", optimize(FunctionGraph([x], [T.nnet.softmax(x)]), mode="FAST_RUN"))
    with pytest.raises(R.CudaEmitError, match="Softmax"):
        B.build_cuda_module([spec], BuildOptions.from_config())
