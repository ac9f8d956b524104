"""``aotsym.Module``: the tracing frontend that ``aotsym build`` compiles into one extension.

Part of the frontend (**frontend** -> graph -> optimizer -> emitters -> build)::

    mod = aotsym.Module("logreg")
    w = mod.shared(np.zeros(784), name="w")

    @mod.export(T.matrix("x"), T.vector("y"))
    def train(x, y):
        ...
        return [prediction, xent], {w: w - 0.1 * gw}

``export`` calls the Python function once with symbolic arguments and records an
:class:`Export`: its inputs, outputs and ``{shared: new value}`` updates.  The build stage turns
every export of a module into one function of the generated extension, which owns the shared
state: ``mod.assemble()`` gives each export in the calling convention the build driver takes
(:mod:`.assemble`, the same assembly as ``aotsym.function``).  ``mod.function(name)``
compiles one export in-process (same semantics, for tests).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from aotsym.emit_c.templates import py_identifier
from aotsym.frontend.shared import SharedVariable, shared
from aotsym.graph.basic import Variable, user_source_info
from aotsym.graph.convert import as_tensor_variable
from aotsym.graph.types import TensorType


@dataclass
class Export:
    name: str
    inputs: list
    outputs: list
    updates: list               # [(shared variable, new value)]
    single_output: bool
    doc: str | None = None
    trace: object = None
    arg_names: list = field(default_factory=list)


def _check_name(name, what):
    """Module, shared and export names become names of the built Python module: checked in
    the one place user text is turned into generated source (emit_c/templates.py)."""
    py_identifier(name, what)


def _split_result(result):
    """(outputs, single, updates) from what an exported function returned."""
    updates = {}
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], (dict, list)) \
            and (isinstance(result[1], dict) or all(
                isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], SharedVariable)
                for p in result[1])):
        result, updates = result
    if result is None:
        return [], False, updates
    if isinstance(result, (list, tuple)):
        return [as_tensor_variable(r) for r in result], False, updates
    return [as_tensor_variable(result)], True, updates


class Module:
    """A named collection of shared state and exported functions (one extension module)."""

    def __init__(self, name: str):
        _check_name(name, "aotsym.Module name")
        self.name = name
        self.shared_vars: dict[str, SharedVariable] = {}
        self.exports: dict[str, Export] = {}
        self.trace = user_source_info()

    def shared(self, value, name=None, **kwargs) -> SharedVariable:
        """A shared variable owned by this module (``module.NAME.get_value()`` once built)."""
        name = name or f"shared{len(self.shared_vars)}"
        _check_name(name, "shared variable name")
        if name in self.shared_vars:
            raise ValueError(f"Module {self.name!r} already has a shared variable {name!r}")
        var = shared(value, name=name, **kwargs)
        self.shared_vars[name] = var
        return var

    def export(self, *arg_types, name=None):
        """Decorator: trace the function with symbolic arguments of these types."""
        def decorate(fn):
            export_name = name or fn.__name__
            _check_name(export_name, "exported function name")
            if export_name in self.exports:
                raise ValueError(f"Module {self.name!r} already exports {export_name!r}")
            params = list(inspect.signature(fn).parameters)
            inputs = []
            for k, spec in enumerate(arg_types):
                pname = params[k] if k < len(params) else f"arg{k}"
                if isinstance(spec, TensorType):
                    spec = spec(pname)
                if not isinstance(spec, Variable) or spec.owner is not None or \
                        isinstance(spec, SharedVariable):
                    raise TypeError(f"export({export_name}): argument {k} must be a symbolic "
                                    f"input like T.matrix('x'), got {spec!r}")
                if spec.name is None:
                    spec.name = pname
                inputs.append(spec)
            if len(inputs) != len(params) and not any(
                    p.kind == p.VAR_POSITIONAL for p in inspect.signature(fn).parameters.values()):
                raise TypeError(f"export({export_name}): {len(inputs)} argument types for a "
                                f"function of {len(params)} parameters")
            outputs, single, updates = _split_result(fn(*inputs))
            pairs = list(updates.items()) if isinstance(updates, dict) else list(updates)
            self._adopt_random_states(outputs, pairs)
            for var, _ in pairs:
                if not isinstance(var, SharedVariable) or \
                        self.shared_vars.get(var.name) is not var:
                    raise ValueError(f"export({export_name}): update of {var!r}, which is not "
                                     f"a shared variable of Module {self.name!r} "
                                     "(create it with mod.shared)")
            self.exports[export_name] = Export(
                export_name, inputs, outputs, pairs, single, inspect.getdoc(fn),
                user_source_info(), [v.name for v in inputs])
            return fn
        return decorate

    def _adopt_random_states(self, outputs, pairs):
        """Register the shared variables with a ``default_update`` (random streams' states)
        that an export reads or updates as state of this module, renamed when their name is
        taken, so the built module carries them and ``save_state`` saves them."""
        from aotsym.graph.basic import graph_inputs
        found = [v for v in graph_inputs(list(outputs) + [as_tensor_variable(n)
                                                          for _, n in pairs])
                 if isinstance(v, SharedVariable)]
        found += [v for v, _ in pairs if isinstance(v, SharedVariable)]
        for var in found:
            if getattr(var, "default_update", None) is None or \
                    any(v is var for v in self.shared_vars.values()):
                continue
            base, k = var.name or "random_state", 0
            while var.name in self.shared_vars or var.name is None:
                k += 1
                var.name = f"{base}_{k}"
            self.shared_vars[var.name] = var

    def assemble(self) -> list:
        """Every export, in order, as an :class:`~aotsym.build.driver.AssembledFunction`
        (what ``aotsym build`` compiles into this module's package)."""
        from aotsym.frontend.assemble import assemble
        return [assemble(ex.inputs, ex.outputs, ex.updates, name=name,
                         single_output=ex.single_output, on_unused_input="ignore",
                         arg_names=ex.arg_names, doc=ex.doc or "", trace=ex.trace)
                for name, ex in self.exports.items()]

    def function(self, name, mode=None):
        """Compile one export in-process, as ``aotsym.function`` would."""
        from aotsym.frontend.function import function
        ex = self.exports[name]
        outs = ex.outputs[0] if ex.single_output else ex.outputs
        return function(ex.inputs, outs, updates=ex.updates, mode=mode, name=name,
                        on_unused_input="ignore")

    def __repr__(self):
        return (f"Module({self.name!r}, shared={list(self.shared_vars)}, "
                f"exports={list(self.exports)})")
