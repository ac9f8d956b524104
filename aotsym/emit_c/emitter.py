"""The C renderer: lowered programs to the C source of one extension module.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  It spells the lowered
program (:mod:`aotsym.optimizer.program`) and decides nothing the program states: which
output is a view, which is written in place, when a value is released, which state writes
are split and committed last, how each output is handed over, each step's id.  What is left
here is spelling:

* every slot of the program is one ``aot_array`` ``v[k]`` (static dtype and ndim; runtime
  shape and byte strides); arguments and constants are borrowed memory, every other buffer
  is a pool block with one reference per value that holds it; ``step.release`` drops the
  references after a step, and the pool hands the memory to the next allocation of its size;
* a step's id number is the index of its failure reports (``aot_ctx``) and of its profile
  counters; the module turns a failure into a Python exception naming the op and the
  user's source line (``describe_node`` of ``program.step_nodes[number]``);
* a state write's halves: the *prepare* spells the run-time test that the argument's buffer
  may be written (the argument is writeable, BLAS can write it, it overlaps no other
  argument — else a fresh buffer) and makes the BLAS operands ready; after every prepare the
  outputs are handed over and the entry wraps them (``ctx->before_commit``); then every
  *commit* (the BLAS calls, which cannot fail once their operands are ready).  An output
  written in place is handed back as the caller's own argument array, not a copy;
* a function whose steps run past ``PART_LINES`` lines of C is spelled as *parts*: its steps
  in consecutive noinline functions, each taking the frame (``ctx, in, out, v, dims``) and
  returning -1 on failure, called in turn by the run function, whose one cleanup path
  releases the frame (GCC's time on one function grows faster than its length).

Each op family's translation lives in its own module (``elementwise``, ``reductions``,
``views``, ``blas`` ...) and registers itself with :func:`lowers`; an op without one is an
:class:`~aotsym.emit_c.errors.EmitError` at build time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from aotsym.emit_c import dtypes as D
from aotsym.emit_c.errors import EmitError
from aotsym.emit_c.runtime import PRELUDE_END
from aotsym.emit_c.templates import c_comment, c_string, c_text, render
from aotsym.graph.errors import describe_node
from aotsym.optimizer.program import BLOCK, COMMIT, CONSTANT, NODE, PREPARE, STRUCTURED

# op class name -> lower(fe, node, pos) -> C text of the node's step
LOWERINGS: dict = {}
# op class name -> lower(fe, node, pos, k) -> (prepare, commit) C text of a state write over
# input k (see the module docstring)
STATE_WRITES: dict = {}
# structured step kind -> render(fe, step) -> C text of the step's body (nested programs)
STRUCTURED_RENDERERS: dict = {}


def lowers(*op_class_names):
    """Register a translation for the ops with these class names."""
    def register(fn):
        for name in op_class_names:
            LOWERINGS[name] = fn
        return fn
    return register


def renders_structured(kind):
    """Register the renderer of a structured step kind (BLOCK, BRANCH, LOOP)."""
    def register(fn):
        STRUCTURED_RENDERERS[kind] = fn
        return fn
    return register


def lowers_state_write(*op_class_names):
    """Register the two-halves translation of a state write for these op classes."""
    def register(fn):
        for name in op_class_names:
            STATE_WRITES[name] = fn
        return fn
    return register


@dataclass(frozen=True)
class Scratch:
    """A frame slot that is no graph variable (an operand made ready for a later call)."""
    ndim: int
    dtype: str


@dataclass
class FunctionSpec:
    """One exported function: its name in the module and its lowered program."""
    name: str
    program: object        # aotsym.optimizer.program.Program
    single_output: bool = False
    doc: str = ""          # the C function's docstring (signature first, Python's convention)

    @property
    def fgraph(self):
        return self.program.fgraph


@dataclass
class EmittedFunction:
    name: str
    index: int
    input_types: list
    output_types: list
    single_output: bool
    node_count: int
    node_descriptions: list
    # profile builds: where the counters of aotsym_profile.h keep what (``n_dims``: the
    # frame's dims[] rows, ``slot_dims``: each program slot's row offset, ``bodies``:
    # structured step number -> counter index per body, ``n_bodies``); empty otherwise
    counters: dict = field(default_factory=dict)

    @property
    def entry_name(self) -> str:
        """The entry's attribute name in the loaded module (its C name, ``c_string(name)``:
        the name itself unless it holds a NUL or a lone surrogate)."""
        return c_text(self.name)


@dataclass
class EmittedModule:
    """The C source of a module's functions (without the cffi glue) and what it exports."""
    source: str
    cdef: str
    functions: list
    uses_blas: bool
    profile: bool
    meta: dict = field(default_factory=dict)
    # the runtime's translation unit when it is compiled apart (emit_c.runtime), else ""
    runtime: str = ""
    # the nodes of Python-only ops, by callback number (emit_c.python_op)
    python_ops: list = field(default_factory=list)

    def digest(self) -> str:
        return hashlib.sha256((self.source + "\0" + self.runtime).encode()).hexdigest()


# Variables of a function live on the C stack up to this size, on the heap beyond.
FRAME_ON_STACK_BYTES = 256 * 1024

# A function's steps longer than this many lines of C are compiled as several functions
# ("parts", each taking the frame) that its run function calls in turn: GCC's time on one
# function grows faster than its length (a Lasagne U-Net's training step, 23,000 lines in
# one function: minutes at -O1 as at -O3).  A part holds tens of steps: its one call is
# small beside them (not measured apart: no benchmarked function is this long).
PART_LINES = 1500

CDEF = """
int aot_register(const char *key);
const char *aot_register_error(void);
"""


class ModuleEmitter:
    """Collects kernels and constants shared by the functions of one module."""

    def __init__(self):
        self.kernels: dict[str, str] = {}      # text with placeholder name -> name
        self.kernel_texts: list[str] = []
        self.constants: dict = {}              # key -> C name
        self.constant_texts: list[str] = []
        self.uses_blas = False                 # a product that links the BLAS
        self.profile = False                   # a profile build: write the profile hooks
        # the nodes of Python-only ops called back from C (emit_c.python_op), in the order
        # of their callbacks; None: the module may hold none (a standalone module)
        self.python_ops: list | None = None

    def kernel(self, template: str, **values) -> str:
        """Render a kernel once per distinct text; return its C name."""
        text = render(template, name="AOT_KERNEL_NAME", **values)
        name = self.kernels.get(text)
        if name is None:
            name = f"aot_k{len(self.kernels)}"
            self.kernels[text] = name
            self.kernel_texts.append(text.replace("AOT_KERNEL_NAME", name))
        return name

    def constant(self, data: np.ndarray) -> str:
        key = (data.dtype.name, data.shape, data.tobytes())
        name = self.constants.get(key)
        if name is None:
            name = f"aot_c{len(self.constants)}"
            self.constants[key] = name
            ctype, init, count = D.array_initializer(data)
            shape = ", ".join(str(n) for n in data.shape) or "0"
            self.constant_texts.append(render(
                "constant.c.j2", name=name, ctype=ctype, init=init, count=count,
                shape=shape, comment=c_comment(f"{data.dtype.name}{list(data.shape)}")))
        return name


def split_parts(rendered: list, call, parts: list) -> list:
    """The ``rendered`` steps of a function as it holds them (the C and CUDA renderers): as
    they are when they are PART_LINES lines or fewer, else the calls ``call(k)`` of
    consecutive parts of about PART_LINES lines, each a function of its own, appended to
    ``parts`` as ``(k, steps, whether it can fail)``."""
    if sum(text.count("\n") + 1 for text in rendered) <= PART_LINES:
        return rendered
    groups, current, lines = [], [], 0
    for text in rendered:
        n = text.count("\n") + 1
        if current and lines + n > PART_LINES:
            groups.append(current)
            current, lines = [], 0
        current.append(text)
        lines += n
    groups.append(current)
    held = []
    for group in groups:
        k = len(parts)
        parts.append((k, group, any("goto fail;" in text for text in group)))
        held.append(call(k))
    return held


def render_nested(fe, body, render_step) -> list:
    """The steps of a nested program (a structured step's body) rendered by
    ``render_step`` with the function emitter ``fe`` looking at the body's slots
    (``fe.current``); the caller binds its inputs first and hands its outputs over after."""
    outer, fe.current = fe.current, body
    try:
        return [render_step(s) for s in body.steps]
    finally:
        fe.current = outer


def held_by(program, body) -> list:
    """The slots of ``body`` (nested in ``program``) that a run may still hold a reference
    to: its node values, released after the run."""
    return sorted({s for s in body.slot_of.values() if program.slots[s].role == NODE})


class FunctionEmitter:
    """Renders one lowered program as ``<prefix>_run`` and its Python entry point.

    Every slot of the program is the frame's ``v[slot]``; the renderer's own temporaries
    (operands made BLAS-ready for a commit) follow them.  The lowerings read the current
    step (``self.step``: its id, its outputs' storage) and spell it.
    """

    def __init__(self, module: ModuleEmitter, spec: FunctionSpec, index: int):
        self.module = module
        self.spec = spec
        self.index = index
        self.prefix = f"aot_f{index}"
        self.program = spec.program
        self.fgraph = self.program.fgraph
        self.current = self.program     # the program being rendered (a body inside a block)
        self.scratch_slots: list[Scratch] = []
        self.commit_texts: dict[int, str] = {}   # step number -> a state write's commit half
        self.step = None
        # profile counters: each program slot's row in dims[], each body's run counter
        self.slot_dims, offset = [], 0
        for slot in self.program.slots:
            self.slot_dims.append(offset)
            offset += 2 * slot.ndim
        self.body_counters: dict = {}
        for step in self.program.walk():
            if step.body and step.id.number not in self.body_counters:
                first = sum(map(len, self.body_counters.values()))
                self.body_counters[step.id.number] = list(range(first, first + len(step.body)))

    # ---------------------------------------------------------------- frame slots
    def ref(self, var) -> str:
        index = self.current.slot_of.get(id(var))
        if index is None:
            raise EmitError(f"the variable {var!r} is not in the lowered program")
        return f"v[{index}]"

    def scratch(self, ndim, dtype) -> str:
        """A fresh frame slot that is no value of the program (released with the frame)."""
        self.scratch_slots.append(Scratch(ndim, dtype))
        return f"v[{len(self.program.slots) + len(self.scratch_slots) - 1}]"

    def _layout(self) -> list:
        layout, offset = [], 0
        for item in list(self.program.slots) + self.scratch_slots:
            layout.append((offset, item.ndim, D.itemsize(item.dtype)))
            offset += 2 * item.ndim
        return layout

    def _setup(self) -> list:
        lines = []
        for k, index in enumerate(self.program.inputs):
            lines.append(f"aot_set_input(&v[{index}], &in[{k}]);")
        for slot in self.program.slots:
            if slot.role == CONSTANT:
                name = self.module.constant(slot.var.data)
                lines.append(f"aot_set_const(&v[{slot.index}], (char *){name}, {name}_shape);")
        return lines

    # ---------------------------------------------------------------- emission
    def _render_step(self, step) -> str:
        self.step = step
        node, number = step.node, step.id.number
        if step.kind == PREPARE:
            split = STATE_WRITES.get(type(node.op).__name__)
            if split is None:
                raise EmitError(f"the C backend cannot split the state write {node.op} into "
                                "a prepare and a commit", node)
            # one translation gives both halves (they share the operands made ready)
            prepare, self.commit_texts[number] = split(self, node, number, step.state_arg)
            return (f"    /* {c_comment(f'{step.id}: {node.op}, prepare')} */\n"
                    f"    {{\n{prepare}\n    }}")
        if step.kind == COMMIT:
            # (the profile times the commit: a node counts one call)
            return render("step.c.j2", pos=number, body=self.commit_texts.pop(number),
                          releases=[], comment=c_comment(f"{step.id}: {node.op}, commit"),
                          **self._profile_hooks(step))
        if step.kind in STRUCTURED:
            render_structured = STRUCTURED_RENDERERS.get(step.kind) or _optional_lowering(
                STRUCTURED_RENDERERS, step.kind)
            if render_structured is None:
                raise EmitError(f"the C backend cannot render a {step.kind} step "
                                f"({node.op})", node)
            return render("step.c.j2", pos=number, body=render_structured(self, step),
                          releases=[f"v[{s}]" for s in step.release],
                          comment=c_comment(f"{step.id}: {node.op}"),
                          **self._profile_hooks(step))
        lower = LOWERINGS.get(type(node.op).__name__) or _optional_lowering(
            LOWERINGS, type(node.op).__name__)
        if lower is None:
            from aotsym.emit_c.python_op import is_python_op, lower_python_op
            if not is_python_op(node.op):
                raise EmitError(f"the C backend has no implementation of the op "
                                f"{type(node.op).__name__} ({node.op})", node)
            lower = lower_python_op
        body = lower(self, node, number)
        return render("step.c.j2", pos=number, body=body,
                      releases=[f"v[{s}]" for s in step.release],
                      comment=c_comment(f"{step.id}: {node.op}"),
                      **self._profile_hooks(step))

    # ---------------------------------------------------------------- profile hooks
    def _dims_snapshot(self, slots) -> list:
        return [f"AOT_PROF_DIMS(ctx, dims, {self.slot_dims[s]}, "
                f"{2 * self.program.slots[s].ndim});"
                for s in slots if self.program.slots[s].ndim]

    def _profile_hooks(self, step) -> dict:
        """The lines around a step in a profile build (none otherwise): its timer, then the
        shapes and strides of its outputs as they were made."""
        if not self.module.profile:
            return {"before": [], "after": []}
        n = step.id.number
        return {"before": [f"AOT_PROF_BEGIN(ctx, {n});"],
                "after": [f"AOT_PROF_END(ctx, {n});"]
                + self._dims_snapshot([o.slot for o in step.outputs])}

    def profile_body_lines(self, step, k, body) -> list:
        """What a structured step's renderer writes at the start of each run of its body
        ``k`` (after binding the body's inputs), in a profile build: count the run (a LOOP's
        iteration, a BRANCH's taken branch) and record the inputs' shapes.  None otherwise."""
        if not self.module.profile:
            return []
        counter = self.body_counters[step.id.number][k]
        return [f"    {line}" for line in
                [f"AOT_PROF_BODY(ctx, {counter});"] + self._dims_snapshot(body.inputs)]

    def render_body(self, body) -> list:
        """The C steps of a nested program (a structured step's body): :func:`render_nested`."""
        return render_nested(self, body, self._render_step)

    def body_held(self, body) -> list:
        """The body's values a run may still hold a reference to (release after a run)."""
        return held_by(self.program, body)

    def emit(self) -> dict:
        program = self.program
        parts: list = []

        def call(k):
            return f"    if ({self.prefix}_part{k}(ctx, in, out, v, dims)) goto fail;"
        steps = split_parts([self._render_step(s) for s in program.steps], call, parts)
        commits = split_parts([self._render_step(s) for s in program.commits], call, parts)
        self.step = None
        finish = [f"if (aot_output_{h.how}(ctx, &out[{j}], &v[{h.slot}])) goto fail;"
                  for j, h in enumerate(program.outputs)]
        layout = self._layout()
        nvars = max(1, len(layout))
        ndims = max(1, sum(2 * nd for _, nd, _ in layout))
        if nvars * 48 + ndims * 8 <= FRAME_ON_STACK_BYTES:
            frame = [f"int64_t dims[{ndims}];", f"aot_array v[{nvars}];"]
            frame_end = []
        else:  # a huge graph: its frame goes on the heap, not the C stack
            frame = [f"int64_t *dims = (int64_t *)malloc({ndims} * sizeof(int64_t));",
                     f"aot_array *v = (aot_array *)malloc({nvars} * sizeof(aot_array));",
                     "if (!dims || !v) {",
                     "    free(dims);",
                     "    free(v);",
                     f"    return aot_fail_nomem(ctx, -1, {nvars} * sizeof(aot_array));",
                     "}"]
            frame_end = ["free(dims);", "free(v);"]
        profile = self.module.profile
        n_bodies = sum(map(len, self.body_counters.values()))
        self.counters = {"n_dims": ndims, "slot_dims": list(self.slot_dims),
                         "bodies": {n: list(c) for n, c in self.body_counters.items()},
                         "n_bodies": n_bodies} if profile else {}
        return {
            "prefix": self.prefix,
            "profile": profile,
            "n_dims": ndims,
            "n_bodies": max(1, n_bodies),
            # profile builds: time the run, record the arguments' shapes and strides
            "prof_begin": ["AOT_PROF_RUN_BEGIN(ctx);"] + self._dims_snapshot(program.inputs)
            if profile else [],
            "prof_ok": ["AOT_PROF_RUN_END(ctx, 1);"] if profile else [],
            "prof_fail": ["AOT_PROF_RUN_END(ctx, 0);"] if profile else [],
            "name": c_comment(self.spec.name),
            "frame": frame,
            "frame_end": frame_end,
            "nvars": nvars,
            "layout": layout or [(0, 0, 1)],
            "setup": self._setup(),
            "steps": steps,
            "finish": finish,
            "commits": commits,
            "parts": parts,
            "n_nodes": max(1, program.n_step_ids),
        }

    def entry(self) -> dict:
        fg = self.fgraph
        args = []
        offset = 0
        for k, var in enumerate(fg.inputs):
            args.append({
                "k": k, "ndim": var.ndim, "typenum": D.TYPENUM[var.dtype], "dims": offset,
                "bcast": [d for d, b in enumerate(var.broadcastable) if b],
            })
            offset += 2 * var.ndim
        outs = []
        out_offset = 0
        for var in fg.outputs:
            outs.append({"dims": out_offset, "ndim": var.ndim, "itemsize": D.itemsize(var.dtype),
                         "typenum": D.TYPENUM[var.dtype]})
            out_offset += 2 * var.ndim
        state_args = [h.state_arg for h in self.program.outputs]
        return {
            "prefix": self.prefix,
            "index": self.index,
            "name": c_comment(self.spec.name),
            "c_name": c_string(self.spec.name),
            "args": args,
            "nargs": len(args),
            "nargs_alloc": max(1, len(args)),
            "in_dims": max(1, offset),
            "outs": outs,
            "nout": len(outs),
            "nout_alloc": max(1, len(outs)),
            "out_dims": max(1, out_offset),
            "single": int(self.spec.single_output and len(outs) == 1),
            "typenums": ", ".join(o["typenum"] for o in outs) or "0",
            # per output: the argument whose buffer a state write may have written it in
            "state_args": ", ".join(map(str, state_args)) or "-1",
            "writable_args": sorted({k for k in state_args if k >= 0}),
            "commits": any(k >= 0 for k in state_args),
            # profile builds: the function's counters, and the timer of its entry
            "prof_table": f"&{self.prefix}_prof" if self.module.profile else "NULL",
            "entry_begin": [f"AOT_PROF_ENTRY_BEGIN(&{self.prefix}_prof);"]
            if self.module.profile else [],
            "entry_end": [f"AOT_PROF_ENTRY_END(&{self.prefix}_prof);"]
            if self.module.profile else [],
        }


def emit_module(functions: list, profile: bool = False, threads: bool = True,
                runtime_source: str = "", runtime_unit: str = "",
                python_ops: bool = False) -> EmittedModule:
    """C source for one extension module exporting ``functions`` (``FunctionSpec``s);
    ``python_ops``: Python-only ops are called back (an in-process module), else they are
    a build error."""
    _load_lowerings()
    module = ModuleEmitter()
    module.profile = profile
    module.python_ops = [] if python_ops else None
    bodies, entries, emitted = [], [], []
    for index, spec in enumerate(functions):
        fe = FunctionEmitter(module, spec, index)
        body = fe.emit()
        bodies.append(render("function.c.j2", **body))
        entries.append(render("entry.c.j2", **fe.entry()))
        emitted.append(EmittedFunction(
            spec.name, index, [v.type for v in spec.fgraph.inputs],
            [v.type for v in spec.fgraph.outputs], spec.single_output,
            spec.program.n_step_ids, [describe_node(n) for n in spec.program.step_nodes],
            fe.counters))
    defines = (["#define AOT_PROFILE 1"] if profile else []) + \
        ([] if threads else ["#define AOT_NO_THREADS 1"])
    source = render(
        "module.c.j2",
        defines=defines,
        runtime=runtime_source,
        prelude_end=PRELUDE_END,
        constants=module.constant_texts,
        kernels=module.kernel_texts,
        functions=bodies,
        entries=entries,
        methods=[{"name": c_string(s.name), "entry": f"aot_f{i}_entry",
                  "exact": f"aot_f{i}_exact", "doc": c_string(s.doc or "")}
                 for i, s in enumerate(functions)],
        profile=profile,
        python_ops=bool(module.python_ops),
        profile_tables=[f"aot_f{i}" for i in range(len(emitted))],
        n_tables=len(emitted),
        n_functions=len(functions),
    )
    runtime = "" if not runtime_unit else "\n".join(
        ["/* Generated by aotsym's C emitter (aotsym/emit_c): do not edit. */", *defines,
         "#pragma GCC diagnostic ignored \"-Wunused-function\"", runtime_unit])
    return EmittedModule(source, CDEF, emitted, module.uses_blas, profile, runtime=runtime,
                         python_ops=module.python_ops or [])


@renders_structured(BLOCK)
def render_block(fe, step) -> str:
    """A structured step with one body run once, inline: the body's inputs borrow the step's
    input values, its steps run in the same frame, its outputs are handed over to the step's
    outputs, and every value of the body still held is released."""
    if len(step.body) != 1:
        raise EmitError(f"the C backend cannot render {step.node.op}: a block with "
                        f"{len(step.body)} bodies", step.node)
    (body,) = step.body
    lines = [f"    aot_set_input(&v[{b}], &v[{o}]);" for b, o in zip(body.inputs, step.inputs)]
    lines += fe.profile_body_lines(step, 0, body)
    lines += fe.render_body(body)
    lines += [f"    if (aot_output_{h.how}(ctx, &v[{plan.slot}], &v[{h.slot}])) goto fail;"
              for h, plan in zip(body.outputs, step.outputs)]
    lines += [f"    aot_release(&v[{s}]);" for s in fe.body_held(body)]
    return "\n".join(lines)


def _load_lowerings():
    # importing registers each family's translations; the families few graphs hold
    # (_OPTIONAL) are imported when a graph first needs one (_optional_lowering)
    from aotsym.emit_c import (blas, elementwise, nnet, reductions, shapes,  # noqa: F401
                               structure, views)


_OPTIONAL = ("aotsym.emit_c.control", "aotsym.emit_c.loops", "aotsym.emit_c.conv",
             "aotsym.emit_c.random", "aotsym.emit_c.gemv_pair", "aotsym.emit_c.debugprint",
             "aotsym.emit_c.sorting", "aotsym.emit_c.cumulative", "aotsym.emit_c.nonzero",
             "aotsym.emit_c.linalg")


def _optional_lowering(registry, key):
    """``registry[key]`` after importing the optional families, or None."""
    import importlib
    for name in _OPTIONAL:
        importlib.import_module(name)
    return registry.get(key)


def load_all_lowerings():
    """Every family's translations (for the coverage tests)."""
    _load_lowerings()
    _optional_lowering(LOWERINGS, None)
