"""Every row of the scalar table has a CUDA spelling (``aotsym.emit_cuda.scalar_table``) for
every dtype kind its type rule accepts, every helper a spelling names is defined in
``runtime/aotsym_cuda_scalar.cuh``, and every spelling compiles: one ``__global__`` kernel per
row and per accepted compute dtype, built by ``nvcc -arch=sm_80 -c`` (no GPU needed)."""

import os
import re
import shutil
import subprocess

import pytest

from aotsym.emit_cuda import dtypes as CU
from aotsym.emit_cuda.scalar_table import CUDA_SCALAR, CUDA_UNSPELLED, cuda_spelling
from aotsym.graph.scalar import SCALAR_OPS, accepted_signatures
from aotsym.graph.types import DTYPES, dtype_kind
from aotsym.resources import runtime_dir

RUNTIME = runtime_dir()
HEADER = os.path.join(RUNTIME, "aotsym_cuda_scalar.cuh")


def spell(name, compute, out, args):
    template = cuda_spelling(name, dtype_kind(compute[-1]))
    return template.format(*args, f=CU.LIBM_SUFFIX.get(compute[0], ""), T=CU.COMPUTE[out])


def test_the_cuda_table_spells_exactly_the_rows_of_the_ir():
    assert sorted(set(SCALAR_OPS) - set(CUDA_SCALAR)) == [], "rows with no CUDA spelling"
    assert sorted(set(CUDA_SCALAR) - set(SCALAR_OPS)) == [], "CUDA spellings of no row"


def test_every_dtype_has_cuda_types():
    assert set(CU.STORAGE) == set(DTYPES) and set(CU.COMPUTE) == set(DTYPES)
    assert "float16" not in CU.STORAGE


@pytest.mark.parametrize("name", sorted(set(SCALAR_OPS) - set(CUDA_UNSPELLED)))
def test_every_scalar_row_has_a_cuda_spelling_for_every_accepted_kind(name):
    row = SCALAR_OPS[name]
    kinds = accepted_signatures(row)
    assert kinds, f"{name} accepts no dtype?"
    missing = sorted(k for k in kinds if cuda_spelling(name, k) is None)
    assert not missing, f"{name}: no CUDA spelling for dtype kinds {missing} " \
        f"(add them to aotsym/emit_cuda/scalar_table.py)"
    for pairs in kinds.values():
        for compute, out in pairs:
            expr = spell(name, compute, out, [f"a{k}" for k in range(row.nin)])
            assert expr and "{" not in expr and "}" not in expr, (name, compute, expr)


def test_an_unspelled_row_is_refused_at_build_time_naming_it():
    """A row in CUDA_UNSPELLED has no spelling for any kind, and a graph using it is a
    CudaEmitError when rendered, before nvcc runs."""
    import aotsym.tensor as T
    from aotsym.build.driver import _spec
    from aotsym.emit_cuda import renderer as R
    from aotsym.graph.fgraph import FunctionGraph
    from aotsym.optimizer import optimize
    for name in CUDA_UNSPELLED:
        assert all(cuda_spelling(name, k) is None for k in "biufc"), name
        x = T.vector("x")
        spec = _spec("unspelled", optimize(FunctionGraph([x], [getattr(T, name)(x) + 1]),
                                           mode="FAST_RUN", target="cuda"))
        with pytest.raises(R.CudaEmitError, match=name):
            R.emit_cuda_module([spec])


def test_the_cuda_table_names_no_c_runtime_helper():
    """CUDA spellings name the device helpers (aot_cu_*), never the C runtime's AOT_* macros
    or C99's <complex.h> functions, which do not exist in device code."""
    for name, entry in CUDA_SCALAR.items():
        for template in (entry.values() if isinstance(entry, dict) else [entry]):
            assert not re.search(r"\bAOT_|\baot_(?!cu_)|__real__|__imag__|\bc(?:exp|log|pow|"
                                 r"sqrt|sin|cos|tanh|abs)\{f\}", template), (name, template)


def test_every_helper_the_table_names_is_defined_in_the_header():
    header = open(HEADER).read()
    used = set()
    for entry in CUDA_SCALAR.values():
        for template in (entry.values() if isinstance(entry, dict) else [entry]):
            used |= set(re.findall(r"\baot_cu_\w+", template))
    undefined = sorted(n for n in used if not re.search(rf"\b{n}\s*\(", header))
    assert not undefined, f"named by the CUDA table, not defined in the .cuh: {undefined}"


# ------------------------------------------------------------------------ nvcc build test


def kernel(name, compute, out):
    """One ``__global__`` kernel applying row ``name`` elementwise in these dtypes."""
    nin = len(compute)
    args = [f"a{k}" for k in range(nin)]
    params = ", ".join(f"const {CU.COMPUTE[c]}* __restrict__ p{k}"
                       for k, c in enumerate(compute))
    loads = "".join(f"    const {CU.COMPUTE[c]} a{k} = p{k}[i];\n    (void)a{k};\n"
                    for k, c in enumerate(compute))  # (void): some spellings ignore an arg
    ident = "_".join([name, *compute, out])
    return (f"// {name}: ({', '.join(compute)}) -> {out}\n"
            f"__global__ void k_{ident}({params}, {CU.COMPUTE[out]}* __restrict__ out, "
            f"long long n)\n{{\n"
            f"    const long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;\n"
            f"    if (i >= n) return;\n"
            f"{loads}"
            f"    const {CU.COMPUTE[out]} t0 = {spell(name, compute, out, args)};\n"
            f"    out[i] = t0;\n}}\n\n")


def f2i_kernel(dt):
    """The runtime's float -> integer conversion the renderer uses for casts."""
    return (f"__global__ void k_f2i_{dt}(const double* __restrict__ p0, "
            f"{CU.STORAGE[dt]}* __restrict__ out, long long n)\n{{\n"
            f"    const long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;\n"
            f"    if (i < n) out[i] = aot_cu_f2i_{CU.F2I[dt]}(p0[i]);\n}}\n\n")


def all_kernels():
    """(source, {first line: 'row (dtypes) -> out'}) of every row in every accepted dtype."""
    parts = ['#include "aotsym_cuda_scalar.cuh"\n\n']
    starts, line = {}, 3
    for name in sorted(set(SCALAR_OPS) - set(CUDA_UNSPELLED)):
        for pairs in accepted_signatures(SCALAR_OPS[name]).values():
            for compute, out in pairs:
                text = kernel(name, compute, out)
                starts[line] = f"{name} ({', '.join(compute)}) -> {out}"
                parts.append(text)
                line += text.count("\n")
    for dt in sorted(CU.F2I):
        text = f2i_kernel(dt)
        starts[line] = f"cast float64 -> {dt} (aot_cu_f2i_{CU.F2I[dt]})"
        parts.append(text)
        line += text.count("\n")
    return "".join(parts), starts


def test_kernel_count_covers_every_row():
    source, starts = all_kernels()
    rows = {label.split(" ")[0] for label in starts.values()}
    assert rows >= set(SCALAR_OPS) - set(CUDA_UNSPELLED)
    assert len(starts) == source.count("__global__")


@pytest.mark.skipif(shutil.which("nvcc") is None,
                    reason="nvcc is not on PATH: the CUDA spellings are not compiled here")
def test_every_cuda_spelling_compiles_with_nvcc(tmp_path):
    source, starts = all_kernels()
    cu = tmp_path / "scalar_rows.cu"
    cu.write_text(source)
    cmd = ["nvcc", "-arch=sm_80", "-c", "--Werror", "all-warnings", "-I", RUNTIME,
           str(cu), "-o", str(tmp_path / "scalar_rows.o")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode:
        lines = sorted(starts)
        culprits = set()
        for m in re.finditer(r"scalar_rows\.cu\((\d+)\)", proc.stderr):
            at = int(m.group(1))
            before = [s for s in lines if s <= at]
            culprits.add(starts[before[-1]] if before else "the header")
        pytest.fail(f"{' '.join(cmd)} failed for: {sorted(culprits) or 'the header'}\n"
                    + "\n".join(proc.stderr.splitlines()[:40]))
    assert (tmp_path / "scalar_rows.o").stat().st_size > 0
