"""The C of ``Nonzero`` (``aotsym/emit_c/nonzero.py``): it compiles without warnings at -Wall
-Wextra -Werror for every dtype and for a checked boolean mask, with the runtime pasted in
and apart, and runs clean under AddressSanitizer and UBSan; the step walks its input as it
is (no contiguous copy) and spells NumPy's message for a mask of the wrong length; the CUDA
renderer refuses it at build time, naming it."""


import numpy as np
import pytest

import aotsym
import aotsym.tensor as T
from aotsym.build.driver import _spec
from aotsym.emit_c import FunctionSpec, emit_module
from aotsym.emit_cuda import renderer as R
from aotsym.graph.fgraph import FunctionGraph
from aotsym.optimizer import lower_program, optimize
from emit_helpers import compile_strictly, libasan, run_sanitized

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64", "complex64", "complex128"]


def _cases():
    cases = []
    for dtype in DTYPES:
        v, t = T.tensor(dtype, (False,), name="v"), T.tensor(dtype, (False,) * 3, name="t")
        cases.append((f"nonzero_{dtype}", [v, t],
                      [*T.nonzero(t), T.flatnonzero(v), T.nonzero_values(t)]))
    x, m = T.tensor3("x"), T.matrix("m", dtype="bool")
    cases.append(("masks", [x, m], [x[m], x[:, m[0]], T.set_subtensor(x[m], 0.0)]))
    return [FunctionSpec(name, lower_program(FunctionGraph(ins, outs)))
            for name, ins, outs in cases]


def test_nonzero_compiles_without_warnings(tmp_path):
    specs = _cases()
    for apart in (False, True):
        emitted = emit_module(specs, profile=False, runtime_apart=apart)
        compile_strictly(emitted, tmp_path, f"nonzero{int(apart)}")


def test_the_step_walks_the_input_in_place_and_spells_numpys_mask_message():
    x, m = T.tensor3("x"), T.matrix("m", dtype="bool")
    emitted = emit_module([FunctionSpec("f", lower_program(FunctionGraph([x, m], [x[m]])))],
                          profile=False)
    source = emitted.source
    step = source[source.index(": Nonzero{mask at axis 0} */"):]
    step = step[:step.index("goto fail")]
    assert "boolean index did not match indexed array along axis 1" in step
    assert "_count(&v[1])" in step and "aot_contiguous" not in step


def test_a_3d_negative_stride_input_gives_numpys_indices():
    """The walk over strides on the widest case: every dimension reversed or transposed."""
    t = T.tensor("int32", (False,) * 3, name="t")
    f = aotsym.function([t], T.nonzero(t, return_matrix=True))
    rng = np.random.default_rng(0)
    value = rng.integers(0, 2, (4, 5, 6)).astype("int32")
    for view in (value[::-1, ::-2, ::-3], value.transpose(2, 0, 1)[:, ::-1], value[:, 1:2]):
        np.testing.assert_array_equal(f(view), np.array(np.nonzero(view)))


def test_cuda_refuses_nonzero_at_build_time_naming_it():
    x = T.vector("x")
    y = x[x > 0]                       # the user's line
    spec = _spec("masked", optimize(FunctionGraph([x], [y * 2]), mode="FAST_RUN"))
    with pytest.raises(R.CudaEmitError) as info:
        R.emit_cuda_module([spec])
    message = str(info.value)
    assert "Nonzero" in message and "y = x[x > 0]" in message, message


_SANITIZED = r'''
import sys
import numpy as np
import aotsym
import aotsym.tensor as T
from emit_helpers import build
from collections import namedtuple

aotsym.config.cache_dir = sys.argv[1]
Case = namedtuple("Case", "name inputs outputs")
x, m, v = T.tensor3("x"), T.matrix("m", dtype="bool"), T.vector("v")
cases = [Case("nz", [x], [T.nonzero(x, return_matrix=True), T.nonzero_values(x)]),
         Case("mask", [x, m], [x[m], T.inc_subtensor(x[m], 1.0)]),
         Case("flat", [v], [T.flatnonzero(v > 0)])]
entries = build(cases, cflags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined "
                "-fno-sanitize-recover=all")
rng = np.random.default_rng(0)
for shape in [(3, 4, 5), (2, 0, 3), (1, 1, 1), (6, 7, 9)]:
    xv = rng.standard_normal(shape)
    xv[rng.random(shape) < 0.5] = 0.0
    for view in (xv, xv[::-1, :, ::-2], xv.transpose(2, 0, 1)[:, ::-1]):
        got = entries["nz"](view)
        assert np.array_equal(got[0], np.array(np.nonzero(view)).reshape(3, -1))
        mv = view.sum(axis=-1) > 0
        assert np.array_equal(entries["mask"](view, mv)[0], view[mv])
        try:
            entries["mask"](view, np.ones((view.shape[0] + 1, view.shape[1]), bool))
            raise AssertionError("no IndexError")
        except IndexError:
            pass
for n in (0, 1, 7, 1000):
    vv = rng.standard_normal(n)
    assert np.array_equal(entries["flat"](vv)[0], np.flatnonzero(vv > 0))
print("sanitized run ok")
'''


@pytest.mark.skipif(libasan() is None, reason="needs gcc with AddressSanitizer")
def test_nonzero_and_masks_run_clean_under_asan_and_ubsan(tmp_path):
    run_sanitized(["-c", _SANITIZED], tmp_path / "cache")
