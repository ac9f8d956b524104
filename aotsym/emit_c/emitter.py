"""From optimized function graphs to the C source of one extension module.

Part of the C emitter (graph -> optimizer -> **emit_c** -> build).  The emitter translates; it
does not optimize.  Invariants of the generated code:

* every graph variable is one ``aot_array`` ``v[k]`` (static dtype and ndim; runtime shape and
  byte strides); inputs and constants are borrowed memory, every other buffer is a pool block
  with one reference per variable that holds it;
* the memory plan: a variable's reference is released right after its last reader (views
  hold their own reference, so a buffer lives as long as any view of it), and the pool hands
  the memory to the next allocation of that size, warm;
* outputs are fresh memory the caller owns: an output that is an input, a constant, or a
  view sharing memory with an earlier output is copied;
* an in-place op (``destroy_map``) writes into its input only when that buffer is an
  intermediate nobody reads afterwards; otherwise it gets a fresh buffer (same result);
* state writes — a BLAS op writing a shared variable's update into that variable's own
  buffer (the optimizer's state rule, :mod:`aotsym.optimizer.inplace`) — never come before a
  failure.  They are the last nodes of the schedule, and are emitted in two halves: first
  every *prepare* (shape checks, the run-time test that the buffer may be written — the
  argument is writeable, BLAS can write it, it overlaps no other argument — else a fresh
  buffer, and BLAS-readable operands, copied if need be), then the outputs are handed over
  and the entry wraps them as Python objects (``ctx->before_commit``), and only then every
  *commit* (the BLAS calls, which cannot fail once their operands are ready).  An output
  written in place is handed back as the caller's own argument array, not a copy;
* every failure (shape mismatch, empty reduction, out of memory) is reported through the
  call's ``aot_ctx`` with the node's index; the module turns it into a Python exception that
  names the op and the user's source line (``describe_node``).

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
from aotsym.emit_c.templates import c_comment, c_string, render
from aotsym.graph.basic import Constant
from aotsym.graph.errors import describe_node

# op class name -> lower(fe, node, pos) -> C text of the node's step
LOWERINGS: dict = {}
# op class name -> lower(fe, node, pos, k) -> (prepare, commit) C text of a state write over
# input k (see the module docstring)
STATE_WRITES: dict = {}


def lowers(*op_class_names):
    """Register a translation for the ops with these class names."""
    def register(fn):
        for name in op_class_names:
            LOWERINGS[name] = fn
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
    """One exported function: its name in the module and its (optimized) graph."""
    name: str
    fgraph: object
    single_output: bool = False
    doc: str = ""          # the C function's docstring (signature first, Python's convention)


@dataclass
class EmittedFunction:
    name: str
    index: int
    input_types: list
    output_types: list
    single_output: bool
    node_count: int
    node_descriptions: list


@dataclass
class EmittedModule:
    """The C source of a module's functions (without the cffi glue) and what it exports."""
    source: str
    cdef: str
    functions: list
    uses_blas: bool
    profile: bool
    meta: dict = field(default_factory=dict)

    def digest(self) -> str:
        return hashlib.sha256(self.source.encode()).hexdigest()


# Variables of a function live on the C stack up to this size, on the heap beyond.
FRAME_ON_STACK_BYTES = 256 * 1024

CDEF = """
int aot_register(const char *key);
const char *aot_register_error(void);
"""


@dataclass
class CVar:
    index: int
    var: object
    role: str          # "input", "const" or "node"
    dims: int          # offset of shape (then strides) in the function's dims array

    @property
    def ref(self) -> str:
        return f"v[{self.index}]"

    @property
    def ndim(self) -> int:
        return self.var.ndim

    @property
    def itemsize(self) -> int:
        return D.itemsize(self.var.dtype)


class ModuleEmitter:
    """Collects kernels and constants shared by the functions of one module."""

    def __init__(self):
        self.kernels: dict[str, str] = {}      # text with placeholder name -> name
        self.kernel_texts: list[str] = []
        self.constants: dict = {}              # key -> C name
        self.constant_texts: list[str] = []
        self.uses_blas = False                 # a product that links the BLAS

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


class FunctionEmitter:
    """Translates one FunctionGraph into ``<prefix>_run`` and its Python entry point."""

    def __init__(self, module: ModuleEmitter, spec: FunctionSpec, index: int):
        self.module = module
        self.spec = spec
        self.index = index
        self.prefix = f"aot_f{index}"
        self.fgraph = spec.fgraph
        self.order = list(self.fgraph.toposort())
        self.cvars: dict[int, CVar] = {}
        self.dims_total = 0
        self.setup: list[str] = []
        self.root: dict[int, int] = {}      # id(var) -> id(var owning the storage)
        self.last_use: dict[int, int] = {}  # id(var) -> position of its last reader
        self.root_last: dict[int, int] = {}  # id(root) -> last reader of any var it holds
        self.position = 0
        self.state_args: dict[int, int] = {}   # output index -> input it may be written over
        self._analyse()

    # ---------------------------------------------------------------- variables
    def _declare(self, var, role) -> CVar:
        cv = CVar(len(self.cvars), var, role, self.dims_total)
        self.cvars[id(var)] = cv
        self.dims_total += 2 * var.ndim
        self.root.setdefault(id(var), id(var))
        return cv

    def cvar(self, var) -> CVar:
        cv = self.cvars.get(id(var))
        if cv is None:
            if not isinstance(var, Constant):
                raise EmitError(f"the variable {var!r} is not computed before it is used")
            cv = self._declare(var, "const")
            name = self.module.constant(var.data)
            self.setup.append(f"aot_set_const(&{cv.ref}, (char *){name}, {name}_shape);")
        return cv

    def ref(self, var) -> str:
        return self.cvar(var).ref

    def scratch(self, ndim, dtype) -> str:
        """A fresh frame slot (released with the frame)."""
        return self._declare(Scratch(ndim, dtype), "node").ref

    def _state_write(self, node):
        """``(input index, output index)`` when ``node`` is a state write this emitter can
        split (module docstring), else None: an in-place op of STATE_WRITES over a graph
        input, whose one output is that input's update and is read by nothing else."""
        if type(node.op).__name__ not in STATE_WRITES or not getattr(node.op, "inplace", False):
            return None
        k = next((j for j, v in enumerate(self.fgraph.inputs) if v is node.inputs[0]), None)
        out = node.outputs[0]
        where = [j for j, v in enumerate(self.fgraph.outputs) if v is out]
        updates = self.fgraph.meta.get("updates", {})
        if k is None or len(node.outputs) != 1 or len(where) != 1 or \
                updates.get(where[0]) != k:
            return None
        if any(out in n.inputs for n in self.order):
            return None
        return k, where[0]

    def _analyse(self):
        for j, var in enumerate(self.fgraph.inputs):
            cv = self._declare(var, "input")
            self.setup.append(f"aot_set_input(&{cv.ref}, &in[{j}]);")
        n = len(self.order)
        for pos, node in enumerate(self.order):
            for v in node.inputs:
                self.last_use[id(v)] = pos
        for v in self.fgraph.outputs:
            self.last_use[id(v)] = n  # kept to the end

    # ---------------------------------------------------------------- aliasing
    def share_storage(self, out_var, in_var):
        """``out_var`` may alias ``in_var``'s memory (a view or an in-place result)."""
        root = self.root.get(id(in_var), id(in_var))
        self.root[id(out_var)] = root
        self.root_last[root] = max(self._root_last(root), self.last_use.get(id(out_var), -1))

    def _root_last(self, root) -> int:
        return self.root_last.get(root, self.last_use.get(root, -1))

    def root_role(self, var) -> str:
        root = self.root.get(id(var), id(var))
        cv = self.cvars.get(root)
        return cv.role if cv is not None else "const"

    def can_write_inplace(self, in_var, pos) -> bool:
        """May the node at ``pos`` overwrite ``in_var``'s buffer: an intermediate that nothing
        (``in_var``, a view of it, the buffer's other tenants) reads after ``pos``?"""
        if self.root_role(in_var) != "node":
            return False
        return self._root_last(self.root.get(id(in_var), id(in_var))) <= pos

    # ---------------------------------------------------------------- emission
    def _tail_start(self) -> int:
        """Position of the first node of the schedule's tail of state writes."""
        start = len(self.order)
        while start > 0 and self._state_write(self.order[start - 1]) is not None:
            start -= 1
        return start

    def emit(self) -> dict:
        steps, commits = [], []
        tail = self._tail_start()
        for pos, node in enumerate(self.order):
            self.position = pos
            for v in node.inputs:
                self.cvar(v)
            for v in node.outputs:
                self._declare(v, "node")
            state = self._state_write(node) if pos >= tail else None
            if state is not None and self._root_last(id(node.inputs[0])) <= pos:
                # prepare now (may fail: nothing written yet), commit after every prepare;
                # the frame keeps its buffers to the end (no release between the halves)
                k, j = state
                prepare, commit = STATE_WRITES[type(node.op).__name__](self, node, pos, k)
                self.state_args[j] = k
                # (the profile times the commit: a node counts one call)
                steps.append(f"    /* {c_comment(f'{pos}: {node.op}, prepare')} */\n"
                             f"    {{\n{prepare}\n    }}")
                commits.append(render("step.c.j2", pos=pos, body=commit, releases=[],
                                      comment=c_comment(f"{pos}: {node.op}, commit")))
                continue
            lower = LOWERINGS.get(type(node.op).__name__)
            if lower is None:
                raise EmitError(f"the C backend has no implementation of the op "
                                f"{type(node.op).__name__} ({node.op})", node)
            body = lower(self, node, pos)
            releases = [] if pos >= tail else \
                [self.cvars[id(v)].ref for v in self._dead_after(node, pos)]
            steps.append(render("step.c.j2", pos=pos, body=body, releases=releases,
                                comment=c_comment(f"{pos}: {node.op}")))
        for v in self.fgraph.outputs:
            self.cvar(v)
        finish = self._finish_outputs()
        layout = [(cv.dims, cv.ndim, cv.itemsize)
                  for cv in sorted(self.cvars.values(), key=lambda c: c.index)]
        nvars, ndims = max(1, len(layout)), max(1, self.dims_total)
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
        return {
            "prefix": self.prefix,
            "name": self.spec.name,
            "frame": frame,
            "frame_end": frame_end,
            "nvars": nvars,
            "layout": layout or [(0, 0, 1)],
            "setup": self.setup,
            "steps": steps,
            "finish": finish,
            "commits": commits,
            "n_nodes": max(1, len(self.order)),
        }

    def _dead_after(self, node, pos):
        dead = []
        seen = set()
        for v in list(node.inputs) + list(node.outputs):
            if id(v) in seen:
                continue
            seen.add(id(v))
            cv = self.cvars[id(v)]
            if cv.role == "node" and self.last_use.get(id(v), -1) <= pos:
                dead.append(v)
        return dead

    def _finish_outputs(self) -> list[str]:
        lines = []
        taken = set()
        for j, var in enumerate(self.fgraph.outputs):
            cv = self.cvar(var)
            root = self.root.get(id(var), id(var))
            fresh = self.root_role(var) == "node" and root not in taken
            taken.add(root)
            kind = "move" if fresh else "copy"
            lines.append(f"if (aot_output_{kind}(ctx, &out[{j}], &{cv.ref})) goto fail;")
        return lines

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
        return {
            "prefix": self.prefix,
            "index": self.index,
            "name": self.spec.name,
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
            "state_args": ", ".join(str(self.state_args.get(j, -1))
                                    for j in range(len(outs))) or "-1",
            "writable_args": sorted(set(self.state_args.values())),
            "commits": bool(self.state_args),
        }


def emit_module(functions: list, profile: bool = False, threads: bool = True,
                runtime_source: str = "") -> EmittedModule:
    """C source for one extension module exporting ``functions`` (``FunctionSpec``s)."""
    _load_lowerings()
    module = ModuleEmitter()
    bodies, entries, emitted = [], [], []
    for index, spec in enumerate(functions):
        fe = FunctionEmitter(module, spec, index)
        body = fe.emit()
        bodies.append(render("function.c.j2", **body))
        entries.append(render("entry.c.j2", **fe.entry(), profile=profile))
        emitted.append(EmittedFunction(
            spec.name, index, [v.type for v in spec.fgraph.inputs],
            [v.type for v in spec.fgraph.outputs], spec.single_output, len(fe.order),
            [describe_node(n) for n in fe.order]))
    defines = (["#define AOT_PROFILE 1"] if profile else []) + \
        ([] if threads else ["#define AOT_NO_THREADS 1"])
    source = render(
        "module.c.j2",
        defines=defines,
        runtime=runtime_source,
        constants=module.constant_texts,
        kernels=module.kernel_texts,
        functions=bodies,
        entries=entries,
        methods=[{"name": c_string(s.name), "entry": f"aot_f{i}_entry",
                  "exact": f"aot_f{i}_exact", "doc": c_string(s.doc or "")}
                 for i, s in enumerate(functions)],
        profile_tables=[{"prefix": f"aot_f{i}", "n": max(1, f.node_count)}
                        for i, f in enumerate(emitted)],
        n_tables=len(emitted),
        n_functions=len(functions),
    )
    return EmittedModule(source, CDEF, emitted, module.uses_blas, profile)


def _load_lowerings():
    # importing registers each family's translations
    from aotsym.emit_c import (blas, elementwise, nnet, reductions, shapes,  # noqa: F401
                               structure, views)
