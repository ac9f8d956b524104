"""``aotsym.printing``: graphs as text (``pprint``, ``debugprint``) and pictures (``pydotprint``).

Beside the pipeline: it reads graphs (a variable, a list of them, a ``FunctionGraph``, or a
compiled ``aotsym.function`` — whose optimized graph it shows) and never changes them.  Theano's
formats are kept so tutorial output reads the same:

* ``pprint(v)`` — one infix expression, every operation in parentheses: ``(x + y)``,
  ``exp(x)``, ``x.T``, ``sum(x, axis=[0])``, ``x[1:3]``;
* ``debugprint(v)`` — the tree, one node per line, ``[id A]`` ids, `` |`` indentation; a node
  reached a second time is printed as its line only (its inputs were shown the first time);
  nodes whose ops hold inner graphs (``OpFromGraph``, later ``scan``/``ifelse``) are followed,
  as in Theano, by an ``Inner graphs:`` section: each such node's line, then its inner
  outputs' trees with lines prefixed `` >`` (nested ones get their own entry);
* ``pydotprint(v, outfile)`` — graphviz through the ``dot`` program when it is installed,
  else the ``.dot`` text and a message saying so.

Every traversal is iterative and linear in the size of what it prints: a 100,000-node chain
prints without recursion.  ``debugprint`` restarts very deep trees as new roots (``max_indent``)
so its output stays linear too, and ``pprint`` names shared subexpressions only when expanding
them would blow the text up.
"""

from __future__ import annotations

import io
import itertools
import os
import shutil
import subprocess
import sys

from aotsym.graph.basic import Apply, Constant, Variable, toposort
from aotsym.graph.ops.debugprint import Print  # noqa: F401  (Theano's printing.Print)

# ---------------------------------------------------------------------------- graph access


def _as_outputs(obj) -> tuple[list, object]:
    """(output variables, FunctionGraph or None) for anything the printers accept."""
    fgraph = None
    if hasattr(obj, "maker") and hasattr(obj, "fgraph"):  # a compiled aotsym.function
        fgraph = obj.fgraph
    elif hasattr(obj, "outputs") and hasattr(obj, "toposort") and hasattr(obj, "inputs"):
        fgraph = obj  # a FunctionGraph
    if fgraph is not None:
        return list(fgraph.outputs), fgraph
    if isinstance(obj, Variable):
        return [obj], None
    if isinstance(obj, Apply):   # Theano's: a node prints as its outputs
        return list(obj.outputs), None
    if isinstance(obj, (list, tuple)):
        out = []
        for item in obj:
            if isinstance(item, Variable):
                out.append(item)
            else:
                raise TypeError(f"aotsym.printing: cannot print {type(item).__name__} {item!r} "
                                "(a list may hold symbolic variables only)")
        return out, None
    raise TypeError(f"aotsym.printing: expected a symbolic variable, a list of them, or a "
                    f"compiled aotsym.function, got {type(obj).__name__}")


def _leaf_label(v: Variable) -> str:
    """A leaf as Theano shows it: its name, or ``TensorConstant{...}``, or its type."""
    if isinstance(v, Constant):
        return f"TensorConstant{{{_constant_text(v)}}}"
    if v.name is not None:
        return v.name
    return f"<{v.type!r}>"


def _constant_text(c: Constant) -> str:
    data = c.data
    if data.ndim == 0:
        return str(data)
    if data.size <= 8:
        return " ".join(str(data.tolist()).split())
    flat = data.reshape(-1)
    if flat.size and (flat == flat[0]).all():
        return f"{data.shape} of {flat[0]}"
    return f"{data.dtype} {data.shape}"


# ---------------------------------------------------------------------------- pprint
#
# Each operation is printed from a *format*: a list whose items are strings and input
# variables, e.g. ["(", x, " + ", y, ")"].  The writer expands variables with an explicit
# stack, so text is produced once, in order, without recursion and without copying
# sub-strings.  ``_FORMATS`` maps an op class name to a function (node, output) -> format.


def _join_args(name, args, extra=()):
    parts = [f"{name}("]
    for k, a in enumerate(args):
        if k:
            parts.append(", ")
        parts.append(a)
    for text in extra:
        parts.append(", " + text)
    parts.append(")")
    return parts


def _fmt_elemwise(node, out):
    op = node.op.scalar_op
    ins = list(node.inputs)
    if op.name == "cast":
        return _join_args(f"cast{{{node.op.dtype}}}", ins)
    if op.symbol is not None and len(ins) == 2:
        return ["(", ins[0], f" {op.symbol} ", ins[1], ")"]
    if op.symbol is not None and len(ins) == 1:
        return [f"({op.symbol}", ins[0], ")"]
    name = "fill" if op.name == "second" else op.name
    return _join_args(name, ins)


def _is_padding(op) -> bool:
    """DimShuffle that only adds leading broadcastable dims (NumPy alignment): invisible."""
    order = op.new_order
    n_new = len(order) - len(op.shuffle)
    return (not op.drop and all(d == "x" for d in order[:n_new])
            and tuple(order[n_new:]) == tuple(range(len(op.input_broadcastable))))


def _fmt_dimshuffle(node, out):
    op = node.op
    (x,) = node.inputs
    if _is_padding(op):
        return [x]
    if op.new_order == (1, 0):
        return [x, ".T"]
    if op.is_transpose():
        return [x, f".transpose({', '.join(map(str, op.new_order))})"]
    order = ", ".join(repr(d) if d == "x" else str(d) for d in op.new_order)
    return [x, f".dimshuffle({order})"]


def _fmt_reduce(node, out):
    op = node.op
    (x,) = node.inputs
    extra = [] if len(op.axis) == x.ndim else [f"axis={list(op.axis)}"]
    if getattr(op, "dtype", None) is not None:
        extra.append(f"dtype={op.dtype}")
    return _join_args(op.kind, [x], extra)


def _fmt_argreduce(node, out):
    op = node.op
    extra = [] if op.axis is None else [f"axis={op.axis}"]
    return _join_args(op.kind, list(node.inputs), extra)


def _fmt_shape_i(node, out):
    return [node.inputs[0], f".shape[{node.op.i}]"]


def _fmt_shape(node, out):
    return [node.inputs[0], ".shape"]


def _fmt_dot(node, out):
    if len(node.inputs) == 2:
        return ["(", node.inputs[0], " \\dot ", node.inputs[1], ")"]
    return _join_args("dot", list(node.inputs))


def _index_parts(idx_list, extras) -> list:
    """The inside of ``[...]`` for an ``idx_list`` (see ``aotsym.graph.ops.subtensor``): ints,
    ``(start, stop, step)`` slices, and ``'?'`` / ``'a'`` for the next symbolic input."""
    extras = iter(extras)

    def part(p):
        if p is None:
            return ""
        if isinstance(p, str):  # '?' (a scalar) or 'a' (an index array): the next input
            return next(extras)
        return str(p)

    parts: list = []
    for k, entry in enumerate(idx_list):
        if k:
            parts.append(", ")
        if isinstance(entry, tuple):
            start, stop, step = entry
            parts += [part(start), ":", part(stop)]
            if step is not None:
                parts += [":", part(step)]
        else:
            parts.append(part(entry))
    return [p for p in parts if p != ""]


def _fmt_subtensor(node, out):
    """``x[1:3, i]``; the advanced forms print the same way."""
    x, *extras = node.inputs
    idx_list = getattr(node.op, "idx_list", None)
    if idx_list is None:  # AdvancedSubtensor1: x[ilist]
        return [x, "[", *extras, "]"]
    return [x, "[", *_index_parts(idx_list, extras), "]"]


def _fmt_incsubtensor(node, out):
    """``set_subtensor(x[1:3], y)`` / ``inc_subtensor(x[1:3], y)`` (Theano's spelling)."""
    x, y, *extras = node.inputs
    name = "set_subtensor" if node.op.set_instead_of_inc else "inc_subtensor"
    idx_list = getattr(node.op, "idx_list", None)
    index = extras if idx_list is None else _index_parts(idx_list, extras)
    return [f"{name}(", x, "[", *index, "], ", y, ")"]


def _fmt_reshape(node, out):
    x, shape = node.inputs
    return [x, ".reshape(", shape, ")"]


def _fmt_join(node, out):
    return ["concatenate([", *_join_args("", list(node.inputs))[1:-1],
            f"], axis={node.op.axis})"]


def _fmt_default(node, out):
    name = str(node.op)
    if len(node.outputs) > 1:
        return _join_args(name, list(node.inputs)) + [f".{out.index}"]
    return _join_args(name, list(node.inputs))


_FORMATS = {
    "Elemwise": _fmt_elemwise,
    "DimShuffle": _fmt_dimshuffle,
    "Reduce": _fmt_reduce,
    "ArgReduce": _fmt_argreduce,
    "Shape_i": _fmt_shape_i,
    "Shape": _fmt_shape,
    "Dot": _fmt_dot,
    "Subtensor": _fmt_subtensor,
    "AdvancedSubtensor1": _fmt_subtensor,
    "AdvancedSubtensor": _fmt_subtensor,
    "Reshape": _fmt_reshape,
    "Join": _fmt_join,
    "Alloc": lambda node, out: _join_args("alloc", list(node.inputs)),
    "IncSubtensor": _fmt_incsubtensor,
    "AdvancedIncSubtensor1": _fmt_incsubtensor,
    "AdvancedIncSubtensor": _fmt_incsubtensor,
}


def _format(var):
    node = var.owner
    fmt = _FORMATS.get(type(node.op).__name__, _fmt_default)
    return fmt(node, var)


def _pprint_leaf(v) -> str:
    if isinstance(v, Constant) and v.name is None and v.data.size <= 8:
        return _constant_text(v)
    return _leaf_label(v)


EXPAND_FACTOR = 4  # name shared subexpressions when expanding would grow the text past this
_SMALL = 8        # ... but never ones this short (a broadcast constant): repeat those


_SIZE_CAP = 1 << 60


def _expanded_sizes(order, formats):
    """Nodes each variable expands to: a DAG's tree size, which can grow exponentially, so it
    saturates at ``_SIZE_CAP`` (keeping the arithmetic on small ints)."""
    size: dict[int, int] = {}
    for node in order:
        for out in node.outputs:
            total = 1
            for item in formats[id(out)]:
                if isinstance(item, Variable):
                    total += size.get(id(item), 1)
            size[id(out)] = min(total, _SIZE_CAP)
    return size


def pprint(obj) -> str:
    """One readable infix expression per output (Theano's ``pprint``).

    ``pprint(x + y) == '(x + y)'``.  Subexpressions used several times are repeated, unless
    that would make the text more than a few times larger than the graph: then they are
    given names (``_1 = ...`` lines before the expression).
    """
    outputs, _ = _as_outputs(obj)
    order = toposort(outputs)
    formats = {id(out): _format(out) for node in order for out in node.outputs}
    sizes = _expanded_sizes(order, formats)
    bound: dict[int, str] = {}
    if sum(sizes.get(id(o), 1) for o in outputs) > EXPAND_FACTOR * len(formats) + 1000:
        uses: dict[int, int] = {}
        for node in order:
            for v in node.inputs:
                uses[id(v)] = uses.get(id(v), 0) + 1
        for node in order:
            for out in node.outputs:
                if uses.get(id(out), 0) > 1 and sizes[id(out)] > _SMALL:
                    bound[id(out)] = out.name or f"_{len(bound) + 1}"

    def write(root, buf, expand_root):
        stack = [root]
        first = True
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                buf.append(item)
                continue
            if item.owner is None:
                buf.append(_pprint_leaf(item))
                continue
            if id(item) in bound and not (first and expand_root):
                buf.append(bound[id(item)])
                first = False
                continue
            first = False
            stack.extend(reversed(formats[id(item)]))

    lines = []
    for node in order:
        for out in node.outputs:
            if id(out) in bound:
                buf = [bound[id(out)], " = "]
                write(out, buf, True)
                lines.append("".join(buf))
    for out in outputs:
        buf: list = []
        write(out, buf, False)
        lines.append("".join(buf))
    return "\n".join(lines)


pp = pprint


# ---------------------------------------------------------------------------- debugprint


def char_id(number: int) -> str:
    """Theano's ids: 0 -> 'A', 25 -> 'Z', 26 -> 'BA' (base 26, digits A..Z)."""
    text = ""
    while True:
        number, rem = divmod(number, 26)
        text = chr(ord("A") + rem) + text
        if number == 0:
            return text


class _Ids:
    def __init__(self, kind):
        if kind not in ("CHAR", "int", "id", ""):
            raise ValueError(f"debugprint: ids must be 'CHAR', 'int', 'id' or '', got {kind!r}")
        self.kind = kind
        self.ids: dict[int, str] = {}

    def __call__(self, key_obj) -> str:
        key = id(key_obj)
        if self.kind == "":
            return ""
        if key not in self.ids:
            n = len(self.ids)
            self.ids[key] = {"CHAR": char_id(n), "int": str(n), "id": str(key)}[self.kind]
        return f" [id {self.ids[key]}]"


def debugprint(obj, file=None, print_type=False, ids="CHAR", depth=-1, max_indent=64,
               stop_on_name=False, print_profile=False):
    """The graph as an indented tree, Theano's format.

    ``obj``: a variable, a list of variables, a ``FunctionGraph`` or a compiled function (its
    optimized graph; apply lines then end with the node's position in the execution order).
    ``file``: None prints to stdout and returns None (Theano's: nothing more is echoed at a
    prompt), ``'str'`` returns the text, anything with ``write`` receives it and is
    returned.  ``print_type`` adds each variable's type; ``ids`` is
    ``'CHAR'`` (A, B, ... Z, BA ...), ``'int'``, ``'id'`` (Python ids) or ``''``.  ``depth``
    limits how deep the tree is shown; at ``max_indent`` levels a node's line ends with
    ``-> continued below`` and its subtree is printed as a new tree after the current one, so a
    100,000-node chain prints in linear time.  ``stop_on_name``: do not show the inputs of named
    variables.
    ``print_profile``: for a profiled function (``aotsym.function(..., profile=True)``), each
    apply line also shows the node's share of the time, its seconds and calls.
    """
    outputs, fgraph = _as_outputs(obj)
    if fgraph is not None:
        order = fgraph.toposort()
        position = {id(node): k for k, node in enumerate(order)}
        if print_profile:
            position = _with_profile(obj, position)
    else:
        position = None
    id_of = _Ids(ids)
    done: set[int] = set()
    lines: list[str] = []
    roots = list(outputs)
    holders: list = []
    k = 0
    while k < len(roots):
        _debugprint_tree(roots[k], lines, id_of, done, position, print_type, depth,
                         max_indent, stop_on_name, roots, holders=holders)
        k += 1
    if holders:
        _debugprint_inner(holders, lines, id_of, done, print_type, depth, max_indent,
                          stop_on_name)
    text = "\n".join(lines) + "\n"
    if file == "str":
        return text
    if file is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return None
    file.write(text)
    return file


def _with_profile(f, position) -> dict:
    """The positions of debugprint's apply lines, each followed by the node's profile."""
    node_profile = getattr(f, "node_profile", None)
    if node_profile is None:
        raise TypeError("debugprint(print_profile=True) needs a profiled function "
                        "(aotsym.function(..., profile=True) or mode='PROFILE_MODE')")
    steps = node_profile()
    total = sum(s["self_seconds"] for s in steps.values()) or 1.0
    out = {}
    for key, k in position.items():
        s = steps.get(key)
        out[key] = k if s is None else (
            f"{k}  {100 * s['self_seconds'] / total:5.1f}% {s['self_seconds']:.2e}s "
            f"{s['calls']} calls")
    return out


def _debugprint_line(var, id_of, position, print_type, prefix):
    node = var.owner
    if node is None:
        label = _leaf_label(var) + id_of(var)
    else:
        name = str(node.op)
        if len(node.outputs) > 1:
            name += f".{var.index}"
        label = f"{name}{id_of(node)} '{var.name or ''}'"
    if print_type:
        label += f" <{var.type!r}>"
    if node is not None and position is not None and id(node) in position:
        label += f"   {position[id(node)]}"
    return prefix + label


def _debugprint_inner(holders, lines, id_of, done, print_type, depth, max_indent,
                      stop_on_name):
    """Theano's "Inner graphs:" section: per node holding inner graphs (nested ones too,
    as they are reached), its line, then each inner output's tree prefixed `` >``."""
    from aotsym.graph.inner import inner_graphs_of
    lines += ["", "Inner graphs:"]
    seen: set[int] = set()
    k = 0
    while k < len(holders):
        node = holders[k]
        k += 1
        if id(node) in seen:
            continue
        seen.add(id(node))
        lines.append("")
        lines.append(_debugprint_line(node.outputs[0], id_of, None, print_type, ""))
        for graph in inner_graphs_of(node.op):
            roots = list(graph.outputs)
            j = 0
            while j < len(roots):
                _debugprint_tree(roots[j], lines, id_of, done, None, print_type, depth,
                                 max_indent, stop_on_name, roots, holders=holders,
                                 prefix=" >")
                j += 1


def _debugprint_tree(root, lines, id_of, done, position, print_type, depth, max_indent,
                     stop_on_name, roots, holders=None, prefix=""):
    # Stack of (variable, prefix for its line, prefix for its children's lines, level).
    # ``holders`` collects the nodes holding inner graphs; ``prefix`` starts every line.
    stack = [(root, prefix, prefix, 0)]
    while stack:
        var, line_prefix, child_prefix, level = stack.pop()
        line = _debugprint_line(var, id_of, position, print_type, line_prefix)
        node = var.owner
        if node is None:
            lines.append(line)
            continue
        if id(node) in done:
            lines.append(line)
            continue
        if level >= max_indent > 0 and level > 0:
            lines.append(line + "  -> continued below")
            roots.append(var)
            continue
        lines.append(line)
        done.add(id(node))
        if holders is not None and getattr(node.op, "inner_graphs", None):
            holders.append(node)
        if 0 <= depth <= level + 1 or (stop_on_name and var.name is not None and level > 0):
            continue
        ins = node.inputs
        for j in range(len(ins) - 1, -1, -1):
            last = j == len(ins) - 1
            stack.append((ins[j], child_prefix + " |",
                          child_prefix + ("  " if last else " |"), level + 1))


# ---------------------------------------------------------------------------- pydotprint


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def graph_to_dot(obj, max_label_size=70) -> str:
    """The graph in graphviz's DOT language: ellipses for operations, boxes for variables
    (green: inputs, grey: constants, blue: outputs), edges labelled with input positions.
    An op holding inner graphs (scan's step, ifelse's branches, OpFromGraph's body) has each
    drawn beside it in a dashed cluster, linked to it by a dotted edge, as Theano draws
    scan's inner graph."""
    from aotsym.graph.inner import inner_graphs_of
    outputs, fgraph = _as_outputs(obj)
    order = fgraph.toposort() if fgraph is not None else toposort(outputs)
    lines = ["digraph aotsym {", "  rankdir=TB;", '  node [fontname="Helvetica"];']
    counter = [0]

    def short(text):
        return text if len(text) <= max_label_size else text[:max_label_size - 3] + "..."

    def fresh(prefix):
        counter[0] += 1
        return f"{prefix}{counter[0]}"

    def draw(order, outputs, indent, labels=None):
        """Draw one graph; returns the DOT names of its op nodes, by node."""
        names: dict[int, str] = {}
        output_ids = {id(v): k for k, v in enumerate(outputs)}

        def var_node(v):
            key = id(v)
            if key in names:
                return names[key]
            name = names[key] = fresh("v")
            if isinstance(v, Constant):
                style = 'style=filled, fillcolor="#dddddd"'
            elif v.owner is None:
                style = 'style=filled, fillcolor="#88dd88"'
            else:
                style = 'style=filled, fillcolor="#88bbff"'
            if v.owner is None:
                label = (labels or {}).get(key) or _leaf_label(v)
            else:
                label = v.name or f"out{output_ids[key]}"
            lines.append(f"{indent}{name} [shape=box, {style}, "
                         f"label={_dot_quote(short(label + ' ' + str(v.type)))}];")
            return name

        for node in order:
            nname = names[id(node)] = fresh("n")
            lines.append(f"{indent}{nname} [shape=ellipse, "
                         f"label={_dot_quote(short(str(node.op)))}];")
            for j, v in enumerate(node.inputs):
                src = names.get(id(v.owner)) if v.owner is not None else var_node(v)
                label = f"{j} {v.type}" if len(node.inputs) > 1 else str(v.type)
                lines.append(f"{indent}{src} -> {nname} [label={_dot_quote(label)}];")
            for b, inner in enumerate(inner_graphs_of(node.op)):
                cluster = fresh("cluster_")
                lines.append(f"{indent}subgraph {cluster} {{")
                lines.append(f"{indent}  label={_dot_quote(f'{node.op}: inner graph {b}')};")
                lines.append(f"{indent}  style=dashed;")
                inner_labels = {id(v): f"input {k}" for k, v in enumerate(inner.inputs)}
                inner_names = draw(inner.nodes(), list(inner.outputs), indent + "  ",
                                   inner_labels)
                lines.append(f"{indent}}}")
                first = next(iter(inner_names.values()), None)
                if first is not None:
                    lines.append(f"{indent}{first} -> {nname} [style=dotted, "
                                 f"lhead={cluster}, label={_dot_quote('inner graph')}];")
        for k, v in enumerate(outputs):
            if v.owner is None:
                var_node(v)
                continue
            src = names[id(v.owner)]
            names.pop(id(v), None)
            out = var_node(v)
            lines.append(f"{indent}{src} -> {out};")
        return names

    draw(order, outputs, "  ")
    lines.append("}")
    return "\n".join(lines) + "\n"


def pydotprint(obj, outfile=None, format="png", var_with_name_simple=False,
               max_label_size=70, print_output_file=True, **_theano_options):
    """Draw the graph with graphviz (the ``dot`` program; Debian package ``graphviz``).

    Writes ``outfile`` (default ``aotsym.pydotprint.<format>`` in the cache directory) and
    returns its path.  Without ``dot`` installed it writes the DOT text beside it (``.dot``
    suffix), says so, and returns that path; ``format='dot'`` always writes the DOT text.
    Theano's other keyword options are accepted and ignored.
    """
    dot_text = graph_to_dot(obj, max_label_size=max_label_size)
    if outfile is None:
        from aotsym.config import config
        os.makedirs(config.cache_dir, exist_ok=True)
        outfile = os.path.join(config.cache_dir, f"aotsym.pydotprint.{format}")
    outfile = os.fspath(outfile)
    if format == "dot":
        _write(outfile, dot_text)
        return _announce(outfile, print_output_file)
    dot = shutil.which("dot")
    if dot is None:
        dot_file = os.path.splitext(outfile)[0] + ".dot"
        _write(dot_file, dot_text)
        message = (f"graphviz's `dot` program is not installed, so no {format} was drawn; "
                   f"wrote the graph in DOT format to {dot_file} (install graphviz, e.g. "
                   f"`apt-get install graphviz`, then run `dot -T{format} {dot_file} -o "
                   f"{outfile}`)")
        if print_output_file:
            print(message)
        return dot_file
    proc = subprocess.run([dot, f"-T{format}", "-o", outfile], input=dot_text.encode(),
                          capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pydotprint: dot -T{format} failed: "
                           f"{proc.stderr.decode(errors='replace').strip()}")
    return _announce(outfile, print_output_file)


pydotprint_variables = pydotprint

# Theano's flag that code checks before calling pydotprint: here, whether graphviz's `dot`
# can draw (without it pydotprint still writes the DOT text)
pydot_imported = shutil.which("dot") is not None
pydot_imported_msg = "" if pydot_imported else "graphviz's `dot` program is not installed"


def _write(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with io.open(path, "w") as fh:
        fh.write(text)


def _announce(path, print_output_file):
    if print_output_file:
        print(f"The output file is available at {path}")
    return path


def min_informative_str(obj, indent_level=0, _prev_obs=None, _tag_generator=None) -> str:
    """Theano's ``min_informative_str``: ``obj``'s graph printed only as deep as needed to
    reach named variables and constants, each line tagged ``A.``, ``B.`` ... (a variable
    seen before is ``<tag>``), indented one space per level::

        A. Elemwise{add,no_inplace}
         B. C
         C. Elemwise{add,no_inplace}
          D. D
          E. E
    """
    if _prev_obs is None:
        _prev_obs = {}
    if _tag_generator is None:
        _tag_generator = itertools.count()
    indent = " " * indent_level
    if id(obj) in _prev_obs:
        return indent + "<" + _prev_obs[id(obj)] + ">"
    tag = _prev_obs[id(obj)] = char_id(next(_tag_generator))
    if hasattr(obj, "__array__") and not isinstance(obj, Variable):
        name = "<ndarray>"
    elif getattr(obj, "name", None) is not None:
        name = obj.name
    elif getattr(obj, "owner", None) is not None:
        name = str(obj.owner.op)
        for ipt in obj.owner.inputs:
            name += "\n" + min_informative_str(ipt, indent_level + 1, _prev_obs,
                                               _tag_generator)
    else:
        name = str(obj)
    return indent + tag + ". " + name
