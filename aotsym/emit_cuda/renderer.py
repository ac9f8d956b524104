"""The CUDA renderer: lowered programs to the CUDA source of one module.

Part of the CUDA renderer (graph -> optimizer -> **emit_cuda** -> build).  It spells the
lowered program (:mod:`aotsym.optimizer.program`) as :mod:`aotsym.emit_c` does, with CUDA's
tables (:mod:`.scalar_table`, :mod:`.dtypes`) and ``runtime/aotsym_cuda_runtime.cuh``:

* every slot of the program is one ``aot_cu_array v[k]`` of the host function: device data,
  shape and byte strides kept on the host (so views — ``DimShuffle``, basic ``Subtensor``,
  ``Reshape`` of a contiguous value — are descriptor arithmetic, no launch); buffers come
  from the runtime's caching allocator and are reference counted, ``step.release`` drops a
  reference after a step, as in the C backend;
* ``Elemwise`` / ``Composite``: one grid-stride kernel per node, a contiguous fast path
  (typed unit-stride indexing) and a strided path (broadcasting by stride 0);
* ``Reduce`` / ``FusedReduce`` (sum, prod, max, min, all, any over all or some axes): the
  index space is permuted so the kept dimensions come first; one block per kept element
  reduces its elements with warp shuffles and a block reduction (float32 sums accumulate in
  float64, as the C backend does; max/min of an empty axis is a ValueError);
* arguments are copied host -> device at the call, results device -> host after it
  (``runtime/aotsym_cuda_api.h``); the module's device check runs at the first call.

* structured steps: an ``ifelse`` (BRANCH) reads its condition on the host once and runs only
  the taken body, an ``OpFromGraph`` (BLOCK) runs its body inline (:mod:`.control`).

What it does not translate yet is a build-time :class:`CudaEmitError` naming the op and the
user's line: every other op class (:data:`LOWERINGS` lists the translated ones), loops
(``scan``), state writes split in two halves, complex dtypes,
``Subtensor`` with symbolic indices and ``Reshape`` to a computed shape.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import jinja2
import numpy as np

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.emitter import FunctionSpec, held_by, render_nested, split_parts
from aotsym.emit_c.errors import EmitError
from aotsym.emit_c.reductions import accumulator_dtype, combine, identity
from aotsym.emit_c.scalar_code import Spelling, elemwise_code
from aotsym.emit_c.templates import c_comment, c_string
from aotsym.emit_cuda import dtypes as CU
from aotsym.emit_cuda.scalar_table import cuda_spelling
from aotsym.graph.errors import describe_node
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.optimizer.program import COMMIT, CONSTANT, INPLACE, PREPARE, STRUCTURED

__all__ = ["CudaEmitError", "CudaFunction", "CudaModuleSource", "emit_cuda_module",
           "LOWERINGS", "CDEF"]

TEMPLATE_DIR = os.path.dirname(os.path.abspath(__file__))

# op class name -> lower(fe, step) -> host code of the step
LOWERINGS: dict = {}
# structured step kind (BLOCK, BRANCH) -> render(fe, step) -> host code lines
# (aotsym.emit_cuda.control)
STRUCTURED_RENDERERS: dict = {}

CDEF = """
#define AOT_CU_MAXDIM 32
typedef struct { const void *data; int64_t shape[AOT_CU_MAXDIM]; } aot_cu_in;
typedef struct { void *data; int64_t shape[AOT_CU_MAXDIM]; int ndim; } aot_cu_out;
typedef struct { int step; int code; char message[1024]; } aot_cu_error;
int aotcu_init(aot_cu_error *err);
int aotcu_trim(void);
void aotcu_host_free(void *p);
"""

MAXDIM = 32


class CudaEmitError(EmitError):
    """A node the CUDA renderer cannot translate (raised while building)."""

    def __init__(self, message, node=None):
        self.node = node
        where = f"\n  in node {describe_node(node)}" if node is not None else ""
        NotImplementedError.__init__(
            self, f"{message}{where}\n  (the CUDA backend, aotsym.emit_cuda, translates "
            f"{', '.join(sorted(LOWERINGS))}; build with --target c / "
            "aotsym.config.device='cpu' to run this graph on the CPU)")


def lowers(*names):
    def register(fn):
        for name in names:
            LOWERINGS[name] = fn
        return fn
    return register


def _env():
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def render(template, **values) -> str:
    return _env().get_template(template).render(**values)


# ------------------------------------------------------------------------------ scalar code


def convert(expr: str, src: str, dst: str) -> str:
    """``expr`` (of dtype ``src``) as ``dst`` in device code, with NumPy's rules."""
    if src == dst:
        return expr
    if dst == "bool":
        return f"(({expr}) != 0)"
    if D.kind(dst) in "iu" and D.kind(src) == "f":
        return f"aot_cu_f2i_{CU.F2I[dst]}((double)({expr}))"
    return f"(({CU.COMPUTE[dst]})({expr}))"


# how the one scalar-program walk (aotsym.emit_c.scalar_code.elemwise_code) and the
# reductions' combine write CUDA device code
CUDA_SPELLING = Spelling("CUDA", cuda_spelling, CU.COMPUTE, CU.LIBM_SUFFIX, convert,
                         CudaEmitError)


# ------------------------------------------------------------------------------ emitters


@dataclass
class CudaFunction:
    """One exported function of a CUDA module: its C entry name and what the Python side
    needs to call it and to describe its failures."""
    name: str
    c_name: str
    input_types: list
    output_types: list
    node_descriptions: list


@dataclass
class CudaModuleSource:
    source: str
    cdef: str
    functions: list
    meta: dict = field(default_factory=dict)
    uses_cublas: bool = False      # a product step: link cuBLAS (aotsym.build.cuda)

    def digest(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


class ModuleEmitter:
    def __init__(self):
        self.kernels: dict = {}
        self.kernel_texts: list = []
        self.constants: dict = {}
        self.constant_texts: list = []
        self.uses_blas = False

    def kernel(self, template, **values) -> str:
        text = render(template, **values)
        name = self.kernels.get(text)
        if name is None:
            name = self.kernels[text] = f"aot_k{len(self.kernels)}"
            self.kernel_texts.append(text.replace("AOT_KERNEL_NAME", name))
        return name

    def constant(self, data: np.ndarray) -> str:
        key = (data.dtype.name, data.shape, data.tobytes())
        name = self.constants.get(key)
        if name is None:
            name = self.constants[key] = f"aot_c{len(self.constants)}"
            raw = np.ascontiguousarray(data).view(np.uint8).ravel()
            body = ", ".join(str(int(b)) for b in raw) or "0"
            shape = ", ".join(str(n) for n in data.shape) or "0"
            self.constant_texts.append(
                f"/* {c_comment(data.dtype.name + str(list(data.shape)))} */\n"
                f"static const unsigned char {name}[{max(1, raw.size)}] "
                f"__attribute__((aligned(16))) = {{{body}}};\n"
                f"static const int64_t {name}_shape[{max(1, data.ndim)}] = {{{shape}}};")
        return name


class FunctionEmitter:
    def __init__(self, module, spec, index):
        self.module = module
        self.spec = spec
        self.top = spec.program
        self.current = spec.program     # the program being rendered: top, or a body
        self.c_name = f"aotcu_f{index}"
        self.step = None

    @property
    def program(self):
        """The program whose steps are being rendered (a structured step's body while its
        steps are): slots are shared by the whole frame, ``slot_of`` is the body's own."""
        return self.current

    def ref(self, var) -> str:
        return f"v[{self.current.slot_of[id(var)]}]"

    def render_body(self, body) -> list:
        """The host code of a nested program's steps: :func:`render_nested`."""
        return render_nested(self, body, self.step_text)

    def body_held(self, body) -> list:
        """The body's values a run may still hold a reference to (released after it)."""
        return held_by(self.top, body)

    def _check_types(self):
        for slot in self.program.slots:
            if D.kind(slot.dtype) == "c":
                raise CudaEmitError(f"the CUDA backend does not handle complex values yet "
                                    f"({slot.dtype})", getattr(slot.var, "owner", None))
            if slot.ndim > MAXDIM:
                raise CudaEmitError(f"the CUDA backend handles at most {MAXDIM} dimensions",
                                    getattr(slot.var, "owner", None))

    def step_text(self, step) -> str:
        self.step = step
        node = step.node
        name = type(node.op).__name__
        structured = STRUCTURED_RENDERERS.get(step.kind) if step.kind in STRUCTURED else None
        if step.kind in (PREPARE, COMMIT) or (step.kind in STRUCTURED and structured is None):
            raise CudaEmitError(f"the CUDA backend cannot render a {step.kind} step of "
                                f"{name} ({node.op}) yet", node)
        lower = structured or LOWERINGS.get(name)
        if lower is None:
            raise CudaEmitError(f"the CUDA backend has no translation of the op {name} "
                                f"({node.op})", node)
        lines = lower(self, step)
        self.step = step   # (a body's steps, rendered meanwhile, set it too)
        lines += [f"aot_cu_release(&v[{s}]);" for s in step.release]
        comment = c_comment(f"{step.id}: {node.op}")
        return "\n".join([f"    {{   /* {comment} */", f"        const int step = "
                          f"{step.id.number};", "        (void)step;"]
                         + [f"        {line}" for line in lines] + ["    }"])

    def emit(self) -> str:
        program = self.program
        self._check_types()
        if program.commits:
            raise CudaEmitError("the CUDA backend cannot write shared state in place yet",
                                program.commits[0].node)
        setup = []
        for k, index in enumerate(program.inputs):
            slot = program.slots[index]
            setup.append(f"if (aot_cu_from_host(err, -1, &v[{index}], &in[{k}], {slot.ndim}, "
                         f"{D.itemsize(slot.dtype)})) goto fail;")
        for slot in program.slots:
            if slot.role == CONSTANT:
                data = np.asarray(slot.var.data)
                name = self.module.constant(data)
                setup.append(f"if (aot_cu_const(err, -1, &v[{slot.index}], {name}, "
                             f"{name}_shape, {data.ndim}, {data.dtype.itemsize})) goto fail;")
        parts: list = []   # (a long function: compiled as parts, as in C)
        steps = split_parts([self.step_text(s) for s in program.steps],
                            lambda k: f"    if ({self.c_name}_part{k}(v, err)) goto fail;",
                            parts)
        finish = [f"if (aot_cu_to_host<{max(1, program.slots[h.slot].ndim)}>(err, -1, "
                  f"&out[{j}], &v[{h.slot}])) goto fail;"
                  for j, h in enumerate(program.outputs)]
        return render("function.cu.j2", comment=c_comment(self.spec.name),
                      c_name=self.c_name, nslots=max(1, len(program.slots)), setup=setup,
                      steps=steps, parts=parts, finish=finish, nout=len(program.outputs))


def emit_cuda_module(functions: list, name: str = "module") -> CudaModuleSource:
    """CUDA source of one module exporting ``functions`` (``FunctionSpec``s)."""
    load_lowerings()
    module = ModuleEmitter()
    bodies, emitted, cdef = [], [], [CDEF]
    for index, spec in enumerate(functions):
        fe = FunctionEmitter(module, spec, index)
        bodies.append(fe.emit())
        cdef.append(f"int {fe.c_name}(const aot_cu_in *in, aot_cu_out *out, "
                    "aot_cu_error *err);")
        emitted.append(CudaFunction(
            spec.name, fe.c_name, [v.type for v in spec.fgraph.inputs],
            [v.type for v in spec.fgraph.outputs],
            [describe_node(n) for n in spec.program.step_nodes]))
    source = render("module.cu.j2", comment=c_comment(name), constants=module.constant_texts,
                    kernels=module.kernel_texts, functions=bodies, blas=module.uses_blas)
    return CudaModuleSource(source, "\n".join(cdef), emitted, uses_cublas=module.uses_blas)


def load_lowerings():
    """Import the families of translations kept beside this file (each registers its op
    classes in :data:`LOWERINGS` on import)."""
    from aotsym.emit_cuda import blas, control, shapes  # noqa: F401


# ------------------------------------------------------------------------------ elementwise


def _operands(fe, step):
    """(output refs, input refs) of a step."""
    return [fe.ref(v) for v in step.node.outputs], [fe.ref(v) for v in step.node.inputs]


def lower_elementwise(fe, step, program, steps, output_refs):
    node = step.node
    ins, outs = node.inputs, node.outputs
    nd, nin, nout = outs[0].ndim, len(ins), len(outs)
    for v in ins:
        if v.ndim != nd:
            raise CudaEmitError("the CUDA backend expects elementwise inputs of the output's "
                                "ndim", node)
    names = [f"x{i}" for i in range(nin)]
    code = elemwise_code(steps, program, names, [v.dtype for v in ins], output_refs, node,
                         CUDA_SPELLING)
    body, values, ipow = code.lines, code.outputs, code.uses_ipow
    scalars, arrays = [], []
    for i, v in enumerate(ins):
        entry = {"name": names[i], "ctype": CU.STORAGE[v.dtype], "op": nout + i}
        (scalars if all(v.broadcastable) else arrays).append(entry)
    outs_t = [{"ctype": CU.STORAGE[o.dtype], "op": j, "value": convert(e, dt, o.dtype)}
              for j, ((e, dt), o) in enumerate(zip(values, outs))]
    kernel = fe.module.kernel("elemwise_kernel.cu.j2", comment=c_comment(str(node.op)),
                              nd=max(1, nd), nops=nout + nin, scalars=scalars, arrays=arrays,
                              body=body, outs=outs_t)
    oref, iref = _operands(fe, step)
    bc = ", ".join(str(int(b)) for v in ins for b in v.broadcastable) or "0"
    lines = [f"aot_cu_array *ins[{max(1, nin)}] = {{{', '.join('&' + r for r in iref)}}};",
             f"static const unsigned char bc[{max(1, nin * nd)}] = {{{bc}}};",
             f"int64_t shape[{max(1, nd)}] = {{0}};",
             f"if (aot_cu_broadcast(err, step, {c_string(str(node.op))}, {nd}, {nin}, ins, "
             "bc, shape)) goto fail;"]
    inplace = step.inplace()
    for j, (o, var) in enumerate(zip(oref, outs)):
        lines += [f"{o}.ndim = {nd};", f"{o}.itemsize = {D.itemsize(var.dtype)};",
                  f"for (int d = 0; d < {nd}; d++) {o}.shape[d] = shape[d];"]
        if j in inplace:
            src = iref[inplace[j]]
            lines += [f"{o}.data = {src}.data;", f"aot_cu_share(&{o}, &{src});",
                      f"for (int d = 0; d < {nd}; d++) {o}.strides[d] = {src}.strides[d];"]
        else:
            lines.append(f"if (aot_cu_alloc(err, step, &{o})) goto fail;")
    nops = nout + nin
    lines += [f"aot_cu_strided<{max(1, nd)}, {nops}> L;",
              "memset(&L, 0, sizeof L);",
              f"for (int d = 0; d < {max(1, nd)}; d++) L.shape[d] = 1;",
              "int64_t n = 1;",
              f"for (int d = 0; d < {nd}; d++) {{ L.shape[d] = shape[d]; n *= shape[d]; }}",
              "int contig = 1;"]
    for k, (r, var) in enumerate(list(zip(oref, outs)) + list(zip(iref, ins))):
        isz = D.itemsize(var.dtype)
        lines += [f"L.ptr[{k}] = {r}.data;",
                  f"for (int d = 0; d < {nd}; d++) L.strides[{k}][d] = "
                  f"{r}.shape[d] == 1 ? 0 : {r}.strides[d];"]
        if not (k >= nout and all(var.broadcastable)):
            lines.append(f"contig = contig && aot_cu_strides_contiguous({r}.strides, shape, "
                         f"{nd}, {isz});")
            if k >= nout:   # a broadcast input dimension is not contiguous with the output
                lines.append(f"for (int d = 0; d < {nd}; d++) contig = contig && "
                             f"{r}.shape[d] == shape[d];")
    lines += ["if (n > 0) {",
              f"    {kernel}<<<aot_cu_blocks(n), AOT_CU_THREADS>>>(n, L, contig);",
              f"    if (aot_cu_check(err, step, cudaGetLastError(), "
              f"{c_string('the kernel of ' + str(node.op))})) goto fail;",
              "}"]
    if ipow:
        lines += ["{",
                  "    int flags = 0;",
                  "    if (aot_cu_check(err, step, cudaMemcpyFromSymbol(&flags, "
                  "aot_cu_scalar_flags, sizeof flags), \"reading the scalar flags\")) "
                  "goto fail;",
                  "    if (flags) {",
                  "        flags = 0;",
                  "        cudaMemcpyToSymbol(aot_cu_scalar_flags, &flags, sizeof flags);",
                  "        aot_cu_fail(err, step, AOT_CU_ERR_VALUE, \"Integers to negative "
                  "integer powers are not allowed.\");",
                  "        goto fail;",
                  "    }",
                  "}"]
    return lines


@lowers("Elemwise")
def lower_elemwise(fe, step):
    from aotsym.emit_c.elementwise import elemwise_program
    program, steps, refs = elemwise_program(step.node.op, [v.dtype for v in step.node.inputs])
    return lower_elementwise(fe, step, program, steps, refs)


@lowers("Composite")
def lower_composite(fe, step):
    op = step.node.op
    steps = op.steps([v.dtype for v in step.node.inputs])
    return lower_elementwise(fe, step, op.program, steps, op.outputs)


# ------------------------------------------------------------------------------ reductions


def lower_reduction(fe, step, kind, axes, what, program, steps, in_types, full_ndim):
    node = step.node
    out = node.outputs[0]
    acc = accumulator_dtype(kind, out.dtype)
    nin = len(in_types)
    names = [f"x{i}" for i in range(nin)]
    code = elemwise_code(steps, program, names, [t.dtype for t in in_types],
                         [("step", len(steps) - 1)], node, CUDA_SPELLING)
    body = code.lines
    (expr, value_dtype), = code.outputs
    kept = [d for d in range(full_ndim) if d not in axes]
    order = kept + [d for d in range(full_ndim) if d in axes]
    nd, nops = max(1, full_ndim), 1 + nin
    ident = D.literal(identity(kind, acc), acc)
    kernel = fe.module.kernel(
        "reduce_kernel.cu.j2", comment=c_comment(what), nd=nd, nops=nops,
        acc=CU.COMPUTE[acc], identity=ident,
        inputs=[{"name": names[i], "ctype": CU.STORAGE[t.dtype], "op": 1 + i}
                for i, t in enumerate(in_types)],
        body=body, value=convert(expr, value_dtype, acc), combine=combine(kind, acc, node, CUDA_SPELLING),
        out_ctype=CU.STORAGE[out.dtype], result=convert("a", acc, out.dtype))
    o = fe.ref(out)
    irefs = [fe.ref(v) for v in node.inputs]
    bc = ", ".join(str(int(b)) for t in in_types for b in t.broadcastable) or "0"
    lines = [f"aot_cu_array *ins[{nin}] = {{{', '.join('&' + r for r in irefs)}}};",
             f"static const unsigned char bc[{max(1, nin * full_ndim)}] = {{{bc}}};",
             f"int64_t full[{nd}] = {{0}};",
             f"if (aot_cu_broadcast(err, step, {c_string(what)}, {full_ndim}, {nin}, ins, bc, "
             "full)) goto fail;",
             f"{o}.ndim = {out.ndim};", f"{o}.itemsize = {D.itemsize(out.dtype)};"]
    lines += [f"{o}.shape[{j}] = full[{d}];" for j, d in enumerate(kept)]
    lines += [f"if (aot_cu_alloc(err, step, &{o})) goto fail;",
              "int64_t m = 1, r_len = 1;"]
    lines += [f"m *= full[{d}];" for d in kept] + [f"r_len *= full[{d}];" for d in axes]
    if kind in ("max", "min"):
        lines += ["if (r_len == 0 && m > 0) {",
                  f"    aot_cu_fail(err, step, AOT_CU_ERR_VALUE, "
                  f"{c_string(what + ': zero-size array to a ' + kind + ' reduction, which has no identity')});",
                  "    goto fail;", "}"]
    lines += [f"aot_cu_strided<{nd}, {nops}> L;", "memset(&L, 0, sizeof L);",
              f"for (int d = 0; d < {nd}; d++) L.shape[d] = 1;",
              f"L.ptr[0] = {o}.data;"]
    for j, d in enumerate(order):
        lines.append(f"L.shape[{j}] = full[{d}];")
        lines.append(f"L.strides[0][{j}] = " +
                     (f"{o}.strides[{kept.index(d)}];" if d in kept else "0;"))
    for i, r in enumerate(irefs):
        lines.append(f"L.ptr[{1 + i}] = {r}.data;")
        for j, d in enumerate(order):
            lines.append(f"L.strides[{1 + i}][{j}] = {r}.shape[{d}] == 1 ? 0 : "
                         f"{r}.strides[{d}];")
    lines += ["if (m > 0) {",
              "    unsigned blocks = (unsigned)(m < AOT_CU_MAX_BLOCKS ? m : AOT_CU_MAX_BLOCKS);",
              f"    {kernel}<<<blocks, AOT_CU_THREADS>>>(m, r_len, L);",
              f"    if (aot_cu_check(err, step, cudaGetLastError(), "
              f"{c_string('the kernel of ' + what)})) goto fail;",
              "}"]
    return lines


@lowers("Reduce")
def lower_reduce(fe, step):
    op = step.node.op
    (x,) = step.node.inputs
    program = [("identity", None, [("in", 0)])]
    steps = [(SCALAR_OPS["identity"], (x.dtype,), x.dtype)]
    return lower_reduction(fe, step, op.kind, op.axis, str(op), program, steps, [x.type],
                           x.ndim)


@lowers("FusedReduce")
def lower_fused_reduce(fe, step):
    op = step.node.op
    comp = op.composite
    steps = comp.steps([v.dtype for v in step.node.inputs])
    program = list(comp.program) + [("identity", None, [comp.outputs[0]])]
    out_dtype = steps[comp.outputs[0][1]][2]
    steps = list(steps) + [(SCALAR_OPS["identity"], (out_dtype,), out_dtype)]
    return lower_reduction(fe, step, op.kind, op.axis, str(op.reduce), program, steps,
                           [v.type for v in step.node.inputs], step.node.inputs[0].ndim)


# ------------------------------------------------------------------------------ views


def _view_start(o, src, ndim, itemsize):
    return [f"{o}.ndim = {ndim};", f"{o}.itemsize = {itemsize};", f"{o}.data = {src}.data;",
            f"aot_cu_share(&{o}, &{src});"]


@lowers("DimShuffle")
def lower_dimshuffle(fe, step):
    op = step.node.op
    (x,), (out,) = step.node.inputs, step.node.outputs
    src, o = fe.ref(x), fe.ref(out)
    lines = []
    for d in op.drop:
        lines += [f"if ({src}.shape[{d}] != 1) {{",
                  f"    aot_cu_fail(err, step, AOT_CU_ERR_VALUE, "
                  f"{c_string(f'{op}: dimension {d} has length %lld, expected 1')}, "
                  f"(long long){src}.shape[{d}]);", "    goto fail;", "}"]
    lines += _view_start(o, src, out.ndim, D.itemsize(out.dtype))
    for j, d in enumerate(op.new_order):
        if d == "x":
            lines += [f"{o}.shape[{j}] = 1;", f"{o}.strides[{j}] = 0;"]
        else:
            lines += [f"{o}.shape[{j}] = {src}.shape[{d}];",
                      f"{o}.strides[{j}] = {src}.strides[{d}];"]
    return lines


def _const_int(part, node):
    if part is None or isinstance(part, (int, np.integer)) and not isinstance(part, bool):
        return part
    raise CudaEmitError("the CUDA backend handles basic indexing by constant indices only "
                        "(this index is symbolic)", node)


@lowers("Subtensor")
def lower_subtensor(fe, step):
    node = step.node
    op = node.op
    x, out = node.inputs[0], node.outputs[0]
    if len(node.inputs) > 1:
        raise CudaEmitError("the CUDA backend handles basic indexing by constant indices "
                            "only (this index is symbolic)", node)
    src, o = fe.ref(x), fe.ref(out)
    lines = _view_start(o, src, out.ndim, D.itemsize(out.dtype))
    j = 0
    for d, entry in enumerate(op.idx_list):
        if isinstance(entry, tuple):
            start, stop, stride = (_const_int(p, node) for p in entry)
            stride = 1 if stride is None else stride
            if stride == 0:
                raise CudaEmitError("slice step cannot be zero", node)
            lines += ["{", "    int64_t first, count;",
                      f"    aot_cu_slice({src}.shape[{d}], {int(start is not None)}, "
                      f"{start or 0}, {int(stop is not None)}, {stop or 0}, {stride}, "
                      "&first, &count);",
                      f"    if (count > 0) {o}.data += first * {src}.strides[{d}];",
                      f"    {o}.shape[{j}] = count;",
                      f"    {o}.strides[{j}] = {stride} * {src}.strides[{d}];", "}"]
            j += 1
        else:
            index = _const_int(entry, node)
            msg = c_string(f"{op}: index {index} is out of bounds for axis {d} with size %lld")
            lines += ["{", f"    int64_t at = {index};",
                      f"    if (at < 0) at += {src}.shape[{d}];",
                      f"    if (at < 0 || at >= {src}.shape[{d}]) {{",
                      f"        aot_cu_fail(err, step, AOT_CU_ERR_INDEX, {msg}, "
                      f"(long long){src}.shape[{d}]);", "        goto fail;", "    }",
                      f"    {o}.data += at * {src}.strides[{d}];", "}"]
    for d in range(len(op.idx_list), x.ndim):
        lines += [f"{o}.shape[{j}] = {src}.shape[{d}];",
                  f"{o}.strides[{j}] = {src}.strides[{d}];"]
        j += 1
    return lines


@lowers("Reshape")
def lower_reshape(fe, step):
    node = step.node
    x, shp = node.inputs
    out = node.outputs[0]
    slot = fe.program.slot(shp)
    if slot.role != CONSTANT:
        raise CudaEmitError("the CUDA backend reshapes to constant shapes only (this shape "
                            "is computed)", node)
    want = [int(n) for n in np.asarray(shp.data).ravel()]
    src, o = fe.ref(x), fe.ref(out)
    what = str(node.op)
    lines = ["int64_t total = 1, known = 1;",
             f"for (int d = 0; d < {x.ndim}; d++) total *= {src}.shape[d];",
             f"int64_t want[{max(1, len(want))}] = {{{', '.join(map(str, want)) or '0'}}};",
             "int infer = -1;",
             f"for (int d = 0; d < {len(want)}; d++) {{",
             "    if (want[d] == -1) infer = d; else known *= want[d];", "}",
             "if (infer >= 0 && known > 0 && total % known == 0) want[infer] = total / known;",
             "else if (infer >= 0 && known == 0 && total == 0) want[infer] = 0;",
             "int64_t got = 1;",
             f"for (int d = 0; d < {len(want)}; d++) got *= want[d];",
             "if (got != total || (infer >= 0 && want[infer] < 0)) {",
             f"    aot_cu_fail(err, step, AOT_CU_ERR_VALUE, "
             f"{c_string(what + ': cannot reshape an array of size %lld into the requested shape')}, "
             "(long long)total);",
             "    goto fail;", "}",
             f"if (aot_cu_is_contiguous(&{src})) {{",
             f"    {o}.data = {src}.data;", f"    aot_cu_share(&{o}, &{src});",
             "} else {",
             f"    if (aot_cu_copy_contiguous<{max(1, x.ndim)}>(err, step, &{o}, &{src})) "
             "goto fail;", "}",
             f"{o}.ndim = {out.ndim};", f"{o}.itemsize = {D.itemsize(out.dtype)};",
             f"for (int d = 0; d < {out.ndim}; d++) {o}.shape[d] = want[d];",
             f"aot_cu_set_contiguous(&{o});"]
    return lines


def translated_op_classes() -> list:
    """The op classes the CUDA renderer translates (the coverage test reads this)."""
    load_lowerings()
    return sorted(LOWERINGS)


_ = (INPLACE, FunctionSpec)   # re-exported names the build stage uses
