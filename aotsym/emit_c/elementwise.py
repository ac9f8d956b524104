"""Elementwise loops: ``Elemwise`` (one scalar op) and ``Composite`` (a fused program).

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  A node becomes

* a kernel: the 1-d inner loop the runtime's ``aot_loop`` calls per row.  Inputs whose type
  is broadcastable in every dimension are loaded once; when every other operand is
  unit-stride the loop runs over ``restrict`` pointers with a unit-stride index, which the
  compiler vectorizes, for the row's first multiple of a group of elements (64 bytes of the
  narrowest operand: no remainder loops are compiled).  The rest, for a program of
  GATHER_MIN_WORK or more, runs through the same unit-stride loop (its one compiled copy,
  ``AOT_ONE_COPY``): a unit-stride row's last elements (fewer than a group) copied into
  local buffers padded with copies of the last one, computed, copied back; strided rows (any
  strides, negative and zero included) through the runtime's gathering helper
  (``aot_gather_rows``, runtime/aotsym_loops.c: blocks copied into L1 buffers, padded the
  same way, computed,
  scattered back) -- so a large body is compiled once and runs vectorized on strided data
  too, and an element gets the same bits wherever it sits in a row.  A cheaper program keeps
  a direct strided loop.  Before: the body compiled four times (vector loop, narrower-vector
  and scalar remainders, strided loop); a 1,000-op chain's module cost gcc 3.7 G
  instructions, now 2.1 G.  The last elements in the kernel itself rather than through the
  helper: W4's RNN (a row of 100 float64, tanh) 8.36 -> 8.11 M instructions a call;
* a step in the function: check the input shapes (Theano's static broadcasting, with the
  reference evaluator's messages), allocate the outputs (or reuse an input's buffer for an
  in-place output), run the loop (threads for large ones);
* or, for a ``Composite`` writing over a shared variable (its input 0: the optimizer's state
  rule, :mod:`aotsym.optimizer.inplace`), two halves: the *prepare* checks the shapes and
  takes the variable's own buffer when the entry says it may be written, it has the
  output's shape, no two of its elements share memory and it overlaps no other argument —
  else a fresh buffer; the *commit*, after every other step, runs the loop (which cannot
  fail).
"""

from __future__ import annotations

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import lowers, lowers_state_write
from aotsym.emit_c.errors import EmitError
from aotsym.emit_c.scalar_code import elemwise_code
from aotsym.emit_c.templates import c_comment, c_string, render
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.graph.types import TensorType

# Relative cost of one evaluation, for the decision to use threads (a copy is 1).
_EXPENSIVE = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
              "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh",
              "arccosh", "arctanh", "erf", "erfc", "sigmoid", "softplus", "pow", "mod",
              "true_div", "int_div", "sqrt"}


# Unit-stride loops run over a multiple of this many bytes of their narrowest operand (the
# widest vector, AVX-512's), so the compiler emits no remainder loops; the row's last
# elements go through a padded block.
_VECTOR_BYTES = 64

# A program of at least this work (work_estimate) computes strided rows by gathering blocks
# into L1 and running the unit-stride loop on them: its body is compiled once, and runs
# vectorized (libmvec) on strided data too.  Cheaper programs keep a direct strided loop.
GATHER_MIN_WORK = 8


def work_estimate(program) -> int:
    return max(1, sum(8 if name in _EXPENSIVE else 1 for name, _, _ in program))


def elementwise_kernel(module, comment, program, steps, output_refs, in_types, out_dtypes,
                       where, restrict=True, extra_lines=()):
    """Render the inner-loop kernel of a scalar program; returns (kernel name, ScalarCode).

    Operands: the outputs first (0 .. nout-1), then the inputs.
    """
    nout = len(out_dtypes)
    names = [f"x{i}" for i in range(len(in_types))]
    code = elemwise_code(steps, program, names, [t.dtype for t in in_types], output_refs,
                         where, invariant={i for i, t in enumerate(in_types)
                                           if all(t.broadcastable)})
    scalars, arrays = [], []
    for i, t in enumerate(in_types):
        entry = {"name": names[i], "ctype": D.STORAGE[t.dtype], "op": nout + i,
                 "ptr": f"i{i}"}
        (scalars if all(t.broadcastable) else arrays).append(entry)
    outs = [{"ptr": f"o{j}", "ctype": D.STORAGE[dt], "op": j, "value": expr}
            for j, ((expr, _), dt) in enumerate(zip(code.outputs, out_dtypes))]
    sizes = {o["op"]: D.itemsize(dt) for o, dt in zip(outs, out_dtypes)}
    sizes.update((x["op"], D.itemsize(in_types[x["op"] - nout].dtype)) for x in arrays)
    contig = " && ".join(f"s[{op}] == {size}" for op, size in sizes.items())
    group = _VECTOR_BYTES // min(sizes.values())
    nops = nout + len(in_types)
    gather, block, offsets, at = "", group, [0] * nops, 0
    if work_estimate(program) >= GATHER_MIN_WORK and set(sizes.values()) <= {1, 2, 4, 8, 16}:
        gather = "aot_gather_rows"                     # (runtime/aotsym_loops.c)
        block = _gather_block(sum(sizes.values()), group)
        for op, size in sorted(sizes.items()):
            offsets[op] = at
            at += -(-block * size // 64) * 64          # each buffer 64-byte aligned
    name = module.kernel(
        "elemwise_kernel.c.j2", comment=c_comment(comment), scalars=scalars, arrays=arrays,
        outs=outs, body=list(extra_lines) + code.lines, contig=contig,
        fast_body=code.fast_lines and list(extra_lines) + code.fast_lines,
        wide="AOT_WIDE " if work_estimate(program) >= GATHER_MIN_WORK else "",
        pow_bases=code.pow_bases,
        restrict="restrict " if restrict else "",
        out_itemsize=min(D.itemsize(dt) for dt in out_dtypes), group=group, nops=nops,
        gather=gather, block=block,
        gather_sizes=", ".join(str(sizes.get(k, 0)) for k in range(nops)),
        gather_offsets=", ".join(map(str, offsets)), gather_bytes=at)
    return name, code


def _gather_block(bytes_per_element, group) -> int:
    """Elements per gathered block: a power of two of at most 256, the buffers of all
    operands within 16 KiB (half an L1), at least one group."""
    block = 256
    while block > group and block * bytes_per_element > 16384:
        block //= 2
    return block


def lower_elementwise(fe, node, pos, program, steps, output_refs):
    ins, outs = node.inputs, node.outputs
    ndim = outs[0].ndim
    inplace_ok = fe.step.inplace()     # {output: input} the lowered program granted
    kernel, code = elementwise_kernel(
        fe.module, str(node.op), program, steps, output_refs, [v.type for v in ins],
        [v.dtype for v in outs], node, restrict=not inplace_ok)
    out0 = fe.ref(outs[0])
    setup = []
    for j, out in enumerate(outs):
        ref = fe.ref(out)
        if j in inplace_ok:
            src = fe.ref(ins[inplace_ok[j]])
            setup.append(f"aot_share(&{ref}, &{src});")
            setup.append(f"aot_copy_shape(&{ref}, &{src});")
            continue
        if j:
            setup.append(f"aot_copy_shape(&{ref}, &{out0});")
        setup.append(f"if (aot_alloc(ctx, {pos}, &{ref})) goto fail;")
    refs = [fe.ref(v) for v in ins]
    bcast = [str(int(b)) for v in ins for b in v.broadcastable] or ["0"]
    after = []
    if code.uses_ipow:
        after.append(f"if (aot_check_scalar_flags(ctx, {pos})) goto fail;")
    body = render(
        "elemwise_step.c.j2", pos=pos, what=c_string(str(node.op)), nin=len(ins),
        in_refs=", ".join(f"&{r}" for r in refs), nbc=len(bcast), bcast=", ".join(bcast),
        ndim=ndim, shape=f"{out0}.shape", out_setup=setup,
        nops=len(outs) + len(ins),
        op_refs=", ".join([f"&{fe.ref(v)}" for v in outs] + [f"&{r}" for r in refs]),
        kernel=kernel, work=work_estimate(program) * len(outs), after=after)
    return body


@lowers_state_write("Composite")
def state_write(fe, node, pos, k):
    """(prepare, commit) of a Composite writing over argument ``k``, its input 0 (module
    docstring)."""
    op, ins, (out,) = node.op, node.inputs, node.outputs
    steps = op.steps([v.dtype for v in ins])
    kernel, code = elementwise_kernel(
        fe.module, str(op), op.program, steps, op.outputs, [v.type for v in ins],
        [out.dtype], node, restrict=False)
    if code.uses_ipow:
        raise EmitError(f"{op}: a step that can fail cannot write over a shared variable", node)
    zr, outr = fe.ref(ins[0]), fe.ref(out)
    refs = [fe.ref(v) for v in ins]
    bcast = [str(int(b)) for v in ins for b in v.broadcastable] or ["0"]
    nargs = len(fe.fgraph.inputs)
    prepare = [
        f"aot_array *ins[{len(ins)}] = {{{', '.join(f'&{r}' for r in refs)}}};",
        f"static const unsigned char bc[{len(bcast)}] = {{{', '.join(bcast)}}};",
        f"if (aot_broadcast_shape(ctx, {pos}, {c_string(str(op))}, {len(ins)}, ins, bc, "
        f"{out.ndim}, {outr}.shape)) goto fail;",
        "int same = 1;",
        *([f"for (int d = 0; d < {out.ndim}; d++) same &= {outr}.shape[d] == {zr}.shape[d];"]
          if out.ndim else []),
        f"if (same && ctx->writable && ctx->writable[{k}] && aot_elements_distinct(&{zr}) &&",
        f"        !aot_overlaps_others(in, {nargs}, {k})) {{",
        f"    aot_share(&{outr}, &{zr});          /* written in place at the commit */",
        f"    aot_copy_shape(&{outr}, &{zr});",
        "} else {",
        f"    if (aot_alloc(ctx, {pos}, &{outr})) goto fail;",
        "}",
    ]
    commit = [
        f"aot_array *ops[{1 + len(ins)}] = {{&{outr}, {', '.join(f'&{r}' for r in refs)}}};",
        f"aot_loop_arrays({out.ndim}, {outr}.shape, {1 + len(ins)}, ops, {kernel}, NULL, "
        f"{work_estimate(op.program)}, 0, 0);",
    ]
    return (render("lines_step.c.j2", lines=prepare), render("lines_step.c.j2", lines=commit))


def elemwise_program(op, in_dtypes):
    """An Elemwise as a one-step program."""
    name = op.scalar_op.name
    cast = op.dtype if name == "cast" else None
    program = [(name, cast, [("in", i) for i in range(len(in_dtypes))])]
    compute, out = op.dtypes(in_dtypes)
    steps = [(op.scalar_op, tuple(compute), out)]
    return program, steps, [("step", 0)]


@lowers("Elemwise")
def lower_elemwise(fe, node, pos):
    program, steps, refs = elemwise_program(node.op, [v.dtype for v in node.inputs])
    return lower_elementwise(fe, node, pos, program, steps, refs)


@lowers("Composite")
def lower_composite(fe, node, pos):
    op = node.op
    steps = op.steps([v.dtype for v in node.inputs])
    return lower_elementwise(fe, node, pos, op.program, steps, op.outputs)


def cast_kernel(module, src_dtype, dst_dtype, ndim, where) -> str:
    """A kernel converting an array of ``src_dtype`` into one of ``dst_dtype`` (operands: out,
    in)."""
    kernel, _ = elementwise_kernel(
        module, f"cast {src_dtype} to {dst_dtype}", [("cast", dst_dtype, [("in", 0)])],
        [(SCALAR_OPS["cast"], (src_dtype,), dst_dtype)], [("step", 0)],
        [TensorType(src_dtype, (False,) * ndim)], [dst_dtype], where)
    return kernel


def converted(fe, node, var, dtype, name):
    """C lines declaring ``name``: the aot_array of ``var`` converted to ``dtype`` (a fresh
    C-contiguous temporary), or a view of it holding no reference when it already has that
    dtype.  The lines set ``rc`` on failure (declared by the step).  Returns (lines, names of
    temporaries to release)."""
    ref = fe.ref(var)
    lines = [f"aot_array {name} = {ref};", f"{name}.block = NULL;"]
    if var.dtype == dtype:
        return lines, []
    kernel = cast_kernel(fe.module, var.dtype, dtype, var.ndim, node)
    nd = var.ndim
    lines += [
        f"int64_t {name}_dims[{max(1, 2 * nd)}];",
        f"{name}.shape = {name}_dims;",
        f"{name}.strides = {name}_dims + {nd};",
        f"{name}.itemsize = {D.itemsize(dtype)};",
        f"for (int d = 0; d < {nd}; d++) {name}.shape[d] = {ref}.shape[d];",
        f"if (!rc) rc = aot_alloc(ctx, {fe.step.id.number}, &{name});",
        f"aot_array *{name}_ops[2] = {{&{name}, &{ref}}};",
        f"if (!rc) aot_loop_arrays({nd}, {name}.shape, 2, {name}_ops, {kernel}, NULL, 1, 0, 0);",
    ]
    return lines, [name]
