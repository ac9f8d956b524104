"""``FusedGemvPair``: ``z = alpha1 * X @ v``, a row-wise chain, then ``X.T @ d``, reading ``X``
once.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build); an optional family (few
graphs hold the op, see ``_OPTIONAL`` in :mod:`.emitter`).  The node (made by
:mod:`aotsym.optimizer.gemv_pair`) becomes

* a kernel (``gemv_pair_kernel.c.j2``): rows in blocks of :data:`ROW_BLOCK`; per block the
  dot products of its rows with ``v`` (one pass over the rows, ``v`` shared), the chain on
  them (the composite's scalar program, :func:`~aotsym.emit_c.scalar_code.elemwise_code`, the
  same C as the elementwise loop's, vectorized over the block's rows), then each row times
  its ``d`` added into ``N`` sums while the block is still in L1 (a 4-row block of 784
  float64 is 25 KB).  Rows are processed in order into one set of sums per *part*; parts are
  split over the runtime's threads (``aot_rt->parallel_for``) and their sums added in part
  order at the end, as the full reductions do (runtime/aotsym_ops.c ``aot_full_reduce_job``);
* a step: the ops' shape checks with their messages (``X @ v``'s ``Gemv``, the composite's
  broadcasting), the outputs allocated, ``X`` with non-contiguous rows (a transposed view:
  unit row stride) and ``v`` of any stride copied contiguous first (``aot_contiguous``:
  shared when they already are), the kernel, then the parts' sums added in part order.

Measured (2-core AMD EPYC, L2 1 MiB/core, 400 x 784 float64 X resident in L3, one thread):
the dot-product pass streams X at the speed of one BLAS gemv (~33 us), the in-L1 pass adds
~19 us that does not overlap it (interleaving the next block's dot products with this
block's sums, or prefetching the next block, measured slower: two blocks overflow L1), so the
kernel takes ~52-60 us against ~70 us for the two gemvs; for an X beyond L3 the single read
counts more.  Splitting over two free cores roughly halves it; aot_parallel_for_adaptive
takes the split only where it measures faster.

The sums are in the storage dtype (float32 sums in float32, as ``sgemv``), in another order
than a BLAS: results agree with the two-``Gemv`` graph to rounding; NaN and inf propagate as
there (no term is skipped: ``0 * inf`` in a product is NaN, as BLAS and NumPy give).
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import lowers
from aotsym.emit_c.scalar_code import elemwise_code
from aotsym.emit_c.templates import c_comment, c_string, render
from aotsym.graph.ops.gemv_pair import N_FIXED

ROW_BLOCK = 4   # rows per block: their dot products share each load of v
# From this many elements of X the rows are summed in PARTS parts (combined in part order),
# which may run split over the threads (the pool's wake-up costs ~5 us: below ~100 us of work
# it cannot pay); the split is taken only where the runtime's measurement
# (aot_parallel_for_adaptive, runtime/) finds it faster on the machine at hand.  The parts do not depend on
# the split nor on the number of threads: a result has the same bits however it ran.
PARALLEL_MIN = 100000
PARTS = 8   # up to 8 threads; 4 per thread on 2 cores: a slowed thread leaves its parts


def _lane(dtype) -> str:
    """The C type of one lane of the chain's block buffers for a value of ``dtype``: its
    storage type, or ``int32_t`` for one narrower than 4 bytes (bool, int8, int16 ...): a loop
    of ROW_BLOCK iterations that mixes 1- or 2-byte lanes with float64 ones has no vector type
    for them, and GCC leaves it scalar (each value round-trips exactly through int32)."""
    return D.STORAGE[dtype] if D.itemsize(dtype) >= 4 else "int32_t"


def _kernel(fe, node):
    """The node's kernel (rendered once per distinct text); returns (whether the chain
    raises an integer power's flags, its C name)."""
    op = node.op
    x = node.inputs[0]
    others = node.inputs[N_FIXED:]
    comp = op.composite
    comp_vars = op.composite_inputs(others, op.z_type(x)(None))
    steps = comp.steps([u.dtype for u in comp_vars])
    names = op.composite_inputs([f"x{k}" for k in range(len(others))], "zr")
    refs = [comp.outputs[op.d_output]] + [comp.outputs[k] for k in op.stored]
    code = elemwise_code(steps, comp.program, names, [u.dtype for u in comp_vars], refs, node)
    scalars, arrays = [], []
    for k, u in enumerate(others):
        entry = {"name": f"x{k}", "ctype": D.STORAGE[u.dtype], "lane": _lane(u.dtype), "k": k}
        (scalars if all(u.broadcastable) else arrays).append(entry)
    kept = node.outputs[1:]
    values = [expr for expr, _ in code.outputs[1:]] + (["zr"] if op.store_z else [])
    stores = [{"k": k, "ctype": D.STORAGE[out.dtype], "lane": _lane(out.dtype), "value": value}
              for k, (out, value) in enumerate(zip(kept, values))]
    rows = list(range(ROW_BLOCK))
    return code.uses_ipow, fe.module.kernel(
        "gemv_pair_kernel.c.j2", comment=c_comment(str(op)), T=D.STORAGE[x.dtype],
        nin_alloc=max(1, len(others)), nout_alloc=max(1, len(kept)), scalars=scalars,
        arrays=arrays, body=code.lines, d_value=code.outputs[0][0], stores=stores,
        rb=ROW_BLOCK, rows=rows, sums=",".join(f"s{r}" for r in rows),
        axpy=" + ".join(f"d{r} * x{r}[k]" for r in rows))


def _check(pos, cond, message, refs) -> str:
    return render("blas_check.c.j2", pos=pos, conditions=[(cond, c_string(message), refs)])


@lowers("FusedGemvPair")
def lower_gemv_pair(fe, node, pos):
    op = node.op
    x, v, alpha1 = node.inputs[:N_FIXED]
    others = node.inputs[N_FIXED:]
    xr, vr = fe.ref(x), fe.ref(v)
    uses_ipow, kernel = _kernel(fe, node)
    # the reference's checks, in its order: X @ v, then the chain's broadcasting
    gemv = "Gemv{no_inplace}: shapes y%s, A%s, x%s do not match"
    first_check = _check(pos, f"{xr}.shape[1] != {vr}.shape[0]", gemv, ["zs", xr, vr])
    comp_refs = op.composite_inputs([f"&{fe.ref(u)}" for u in others], "&zs")
    comp_bcast = op.composite_inputs([str(int(u.broadcastable[0])) for u in others],
                                     str(int(x.broadcastable[0])))
    kept = [fe.ref(o) for o in node.outputs[1:]]
    other_refs = [fe.ref(u) for u in others]
    # the parts: a fixed layout, whether or not they run split over the threads (taken where
    # it measures faster: aot_parallel_for_adaptive), so every call sums the same way
    split = [f"if (M * N >= {PARALLEL_MIN} && M >= {PARTS * ROW_BLOCK}) nparts = {PARTS};"]
    run = [f"aot_parallel_for_adaptive(AOT_ADAPT_GEMV_PAIR, M * N, nparts, {kernel}, &job);"]
    return render(
        "gemv_pair_step.c.j2", pos=pos, x=xr, v=vr, alpha1=fe.ref(alpha1),
        g=fe.ref(node.outputs[0]), stored=kept,
        itemsize=D.itemsize(x.dtype), T=D.STORAGE[x.dtype], kernel=kernel,
        first_check=first_check, nc=len(comp_refs),
        in_refs=", ".join(comp_refs), bcast=", ".join(comp_bcast),
        what=c_string(str(op.composite)),
        in_data=", ".join(f"{r}.data" for r in other_refs) or "NULL",
        in_strides=", ".join("0" if all(u.broadcastable) else f"{r}.strides[0]"
                             for u, r in zip(others, other_refs)) or "0",
        out_data=", ".join(f"{r}.data" for r in kept) or "NULL",
        out_strides=", ".join(f"{r}.strides[0]" for r in kept) or "0",
        split=split, run=run,
        after=[f"if (aot_check_scalar_flags(ctx, {pos})) goto fail;"] if uses_ipow else [])
