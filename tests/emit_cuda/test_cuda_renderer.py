"""The CUDA renderer (aotsym.emit_cuda.renderer) and its build (aotsym.build.cuda).

Here, without a GPU: representative graphs (``a + a**10``, a fused expression with
broadcasting, sums and max/min over some or all axes, transpose / slice / reshape views) are
rendered and compiled by nvcc ahead of time into one module (a fatbin for sm_80 and sm_90 plus
PTX for compute_90, cudart static, cffi glue) — built once for this file; the module imports
and a call raises a RuntimeError naming what is missing; every op class either has a CUDA
translation or is refused at build time with the op and the user's line.

On a GPU (skipped here: no ``nvidia-smi`` or the module's device check fails): every function
of that module against the reference evaluator, NaN, inf and empty arrays included.
"""

import re
import shutil
import subprocess

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.build import cuda as B
from aotsym.build.driver import BuildOptions, _spec
from aotsym.emit_c import emitter
from aotsym.emit_cuda import renderer as R
from aotsym.graph.evaluate import evaluate
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import optimize

pytestmark = pytest.mark.skipif(shutil.which("nvcc") is None,
                                reason="nvcc is not on PATH: CUDA sources are not compiled here")


def _graphs():
    a = T.vector("a")
    x, v = T.matrix("x"), T.vector("v")
    f, fv = T.fmatrix("f"), T.fvector("fv")
    i, k = T.lmatrix("i"), T.lscalar("k")
    return {
        "apow": ([a], [a + a ** 10]),
        "fused": ([x, v], [T.exp(x) * v + 1.5, T.maximum(x, v) - T.sqrt(abs(x))]),
        "fused32": ([f, fv], [f * fv + T.tanh(f), (f - fv).sum(axis=1)]),
        "sums": ([x], [x.sum(axis=1), x.sum(axis=0), x.sum(), (x * 2 + 1).sum(axis=0)]),
        "maxmin": ([x, i], [x.max(), x.min(axis=1), x.max(axis=0), i.prod(axis=0),
                            i.sum()]),
        "views": ([x], [x.T, x[1:, ::-1][0], x[::2], x.reshape((-1,)), x.T.reshape((-1,)),
                        x.dimshuffle(1, "x", 0) * 1.0]),
        "ipow": ([i], [i ** 3 + 1]),
        # structured steps: a lazy ifelse (one body computes, the other hands an argument
        # over: a copy), and an OpFromGraph run inline
        "branch": ([x, k], [aotsym.ifelse(k > 0, T.exp(x).sum(axis=1) * 2, x[0]),
                            aotsym.ifelse(k > 0, x, x * 3.0)]),
        "block": ([x, v], [aotsym.OpFromGraph([x, v], [T.tanh(x * v) + 1])(x, v) * 2]),
    }


def _fgraph(ins, outs, name=""):
    if name == "block":   # every mode inlines an OpFromGraph first: lowered as made
        return FunctionGraph(ins, outs)
    return optimize(FunctionGraph(ins, outs), mode="FAST_RUN")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One CUDA module holding every representative graph (one nvcc build for this file).
    Its functions are split into parts of a few steps each (``PART_LINES``, as a long
    model's are; the other CUDA test files build them whole), so the parts compile here and
    run on a GPU."""
    graphs = _graphs()
    specs = [_spec(name, _fgraph(ins, outs, name)) for name, (ins, outs) in graphs.items()]
    options = BuildOptions.from_config(cache_dir=str(tmp_path_factory.mktemp("cuda_cache")))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(emitter, "PART_LINES", 12)
        module = B.build_cuda_module(specs, options)
    return module, graphs


# ------------------------------------------------------------------ here (no GPU needed)


def test_long_functions_are_compiled_as_parts(built):
    """The module fixture's source, rendered again: each function's steps in parts that it
    calls in turn (the fixture's nvcc build compiled them)."""
    _, graphs = built
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(emitter, "PART_LINES", 12)
        ins, outs = graphs["fused"]
        source = R.emit_cuda_module([_spec("fused", _fgraph(ins, outs))]).source
    defined = set(re.findall(r"static __attribute__\(\(noinline\)\) int (aotcu_f0_part\d+)\(",
                             source))
    called = set(re.findall(r"if \((aotcu_f0_part\d+)\(v, err\)\) goto fail;", source))
    assert len(defined) >= 2 and defined == called


def test_the_module_is_a_fatbin_for_sm80_sm90_and_ptx_with_static_cudart():
    assert B.GENCODE == ["-gencode", "arch=compute_80,code=sm_80",
                         "-gencode", "arch=compute_90,code=sm_90",
                         "-gencode", "arch=compute_90,code=compute_90"]


def test_the_generated_source_compiles_and_imports_without_a_gpu(built):
    module, graphs = built
    assert [f.name for f in module.emitted.functions] == list(graphs)
    source = module.emitted.source
    assert "__shfl_down_sync" in open(f"{aotsym.resources.runtime_dir()}/"
                                      "aotsym_cuda_runtime.cuh").read()
    assert source.count("__global__") >= 8          # one kernel per fused node / reduction
    assert hasattr(module.ext.lib, "aotcu_f0") and hasattr(module.ext.lib, "aotcu_init")


def test_the_generated_source_compiles_for_each_architecture(built, tmp_path):
    """The same .cu as a cubin for sm_80 and for sm_90 (nvcc, no GPU needed)."""
    module, _ = built
    cu = tmp_path / "m.cu"
    cu.write_text(module.emitted.source)
    for arch in ("sm_80", "sm_90"):
        proc = subprocess.run(["nvcc", "-std=c++17", f"-arch={arch}", "-cubin", "-I",
                               aotsym.resources.runtime_dir(), str(cu), "-o",
                               str(tmp_path / f"m_{arch}.cubin")],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]


def test_a_call_without_a_gpu_raises_a_clear_runtime_error(built):
    module, _ = built
    if module.device_ready():
        pytest.skip("a GPU is present: the call runs (see the GPU tests)")
    with pytest.raises(RuntimeError, match=r"cannot run the CUDA function apow\(\): "
                       r"(no NVIDIA driver|no CUDA device|the NVIDIA driver supports|"
                       r"the CUDA device .* compute capability)"):
        module.runners[0]([np.array([0.0, 1.0, 2.0])])


def test_aotsym_function_with_device_cuda_goes_through_the_cuda_build(tmp_path):
    a = T.vector("a")
    with aotsym.config.change_flags(device="cuda", cache_dir=str(tmp_path)):
        f = aotsym.function([a], a + a ** 10)
    assert isinstance(f._run, B.CudaRunner)
    if not f._run.module.device_ready():
        with pytest.raises(RuntimeError, match="cannot run the CUDA function"):
            f([0.0, 1.0, 2.0])
    else:
        np.testing.assert_array_equal(f([0.0, 1.0, 2.0]), [0.0, 2.0, 1026.0])


def test_a_standalone_cuda_profile_package_is_refused_clearly(tmp_path):
    """(standalone CUDA packages themselves: tests/build/test_build_cuda_package.py)"""
    from aotsym.build.driver import build_package
    with pytest.raises(NotImplementedError, match="profile builds of the CUDA target"):
        build_package(None, [], str(tmp_path), options=BuildOptions(target="cuda",
                                                                    profile=True))


# ------------------------------------------------------------------ coverage

TRANSLATED = ["Alloc", "Composite", "DimShuffle", "Dot", "Elemwise", "FusedReduce", "Gemm",
              "Gemv", "Ger", "Reduce", "Reshape", "Shape", "Shape_i", "Subtensor"]


def test_the_op_classes_with_a_cuda_translation():
    assert R.translated_op_classes() == TRANSLATED


def _untranslated_graphs():
    x, v = T.matrix("x"), T.vector("v")
    k, idx, im = T.lscalar("k"), T.lvector("idx"), T.lmatrix("im")
    return {
        "Dot": ([im], [T.dot(im, im)]),                # integers: not through cuBLAS
        "Softmax": ([x], [T.nnet.softmax(x)]),
        "Join": ([x], [T.concatenate([x, x])]),
        "ArgReduce": ([x], [T.argmax(x, axis=1)]),
        "AdvancedSubtensor1": ([x, idx], [x[idx]]),
        "Subtensor": ([x, k], [x[k]]),                  # a symbolic index
        "IncSubtensor": ([x], [T.set_subtensor(x[0], 1.0)]),
        "loop": ([v], [aotsym.scan(lambda t: t * 2, sequences=[v])[0]]),
    }


@pytest.mark.parametrize("what", sorted(_untranslated_graphs()))
def test_every_other_op_is_a_build_time_error_naming_the_op_and_the_line(what):
    ins, outs = _untranslated_graphs()[what]
    spec = _spec(what, _fgraph(ins, outs))
    with pytest.raises(R.CudaEmitError) as info:
        R.emit_cuda_module([spec])
    message = str(info.value)
    assert "CUDA backend" in message, message
    if what == "loop":      # the scan's length (Shape_i, made by the optimizer) comes first
        assert "Shape_i" in message or "loop step" in message, message
        return
    assert "test_cuda_renderer.py" in message, message     # the user's line
    assert what in message, message


def test_ifelse_and_opfromgraph_render_as_host_control_flow():
    """An ifelse reads its condition once (on the host) and launches only the taken body's
    kernels; an OpFromGraph's body runs inline; both compile (the module fixture)."""
    graphs = _graphs()
    ins, outs = graphs["branch"]
    source = R.emit_cuda_module([_spec("branch", _fgraph(ins, outs))]).source
    body = source[source.index("aotcu_f0"):]
    assert body.count("aot_cu_host_int(") == 1 and "if (cond != 0) {" in body
    assert "} else {" in body and "aot_cu_set_input(" in body
    assert "aot_cu_output_copy<" in body          # the argument x handed over: a copy
    taken, untaken = body.split("} else {")[0], body.split("} else {")[1]
    assert "<<<" not in body.split("if (cond != 0) {")[0].split("aot_cu_host_int(")[-1]
    assert taken.count("aot_k") >= 1               # exp/sum kernels only in the taken body
    ins, outs = graphs["block"]
    source = R.emit_cuda_module([_spec("block", _fgraph(ins, outs, "block"))]).source
    assert "aot_cu_set_input(" in source and "aot_cu_output_" in source


# ------------------------------------------------------------------ on a GPU


def _values(name, rng, specials=False, empty=False):
    shapes = {"apow": [(7,)], "fused": [(5, 3), (3,)], "fused32": [(4, 6), (6,)],
              "sums": [(6, 9)], "maxmin": [(4, 5), (4, 5)], "views": [(4, 5)],
              "ipow": [(3, 4)], "branch": [(4, 5), ()], "block": [(4, 5), (5,)]}[name]
    if empty:
        shapes = [tuple(0 if d == 0 else n for d, n in enumerate(s)) for s in shapes]
    out = []
    for s, var in zip(shapes, _graphs()[name][0]):
        if var.dtype.startswith("int"):
            out.append(rng.randint(-5, 6, size=s).astype(var.dtype))
            continue
        value = rng.randn(*s).astype(var.dtype)
        if specials and value.size >= 3:
            value.flat[0], value.flat[1], value.flat[2] = np.nan, np.inf, -np.inf
        out.append(value)
    return out


@pytest.mark.parametrize("case", ["plain", "specials", "empty"])
def test_on_a_gpu_every_function_matches_the_reference_evaluator(built, case):
    module, graphs = built
    if not module.device_ready():
        pytest.skip("no usable GPU here (nvidia-smi absent or the device check failed)")
    rng = np.random.RandomState(0)
    for k, (name, (ins, outs)) in enumerate(graphs.items()):
        values = _values(name, rng, specials=case == "specials", empty=case == "empty")
        fg = module.specs[k].fgraph
        try:
            want = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
        except ValueError as exc:                 # max/min of an empty axis
            with pytest.raises(ValueError, match="zero-size"):
                module.runners[k](values)
            assert "zero-size" in str(exc)
            continue
        got = module.runners[k](values)
        for g, w in zip(got, want):
            assert g.shape == np.shape(w) and g.dtype == np.asarray(w).dtype, name
            rtol = 1e-5 if g.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol, equal_nan=True,
                                       err_msg=f"{name} ({case})")


def test_on_a_gpu_ifelse_runs_either_branch_as_the_reference(built):
    module, graphs = built
    if not module.device_ready():
        pytest.skip("no usable GPU here (nvidia-smi absent or the device check failed)")
    k = list(graphs).index("branch")
    fg = module.specs[k].fgraph
    x = np.random.RandomState(1).randn(4, 5)
    for cond in (-3, 0, 2):
        values = [x, np.array(cond, dtype="int64")]
        want = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
        got = module.runners[k](values)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=f"k={cond}")
        assert not np.shares_memory(got[1], x)      # the argument was copied out
