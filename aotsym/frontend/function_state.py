"""A compiled function's state as Theano's API shows it: its containers (``f[x]``,
``f.value[x]``, ``f.container[x].value``) and the recipe of a copy with shared variables
swapped (``f.copy(swap=...)``).

Part of the frontend (**frontend** -> graph -> optimizer -> emitters), beside
:mod:`.function`, whose :class:`~aotsym.frontend.function.Function` uses these.
"""

from __future__ import annotations

import copy

from aotsym.graph.basic import Variable
from aotsym.graph.checking import filter_value


class InputContainer:
    """Theano's container of an input: ``.value`` is the default the function uses when a
    call gives none (None: the argument is required); setting it checks the value against
    the input's type, as a call does."""

    def __init__(self, function, k):
        self.function, self.k = function, k

    @property
    def value(self):
        return self.function.input_specs[self.k].value

    @value.setter
    def value(self, value):
        f, spec = self.function, self.function.input_specs[self.k]
        if value is not None:
            allow = f.allow_input_downcast if spec.allow_downcast is None \
                else spec.allow_downcast
            value = filter_value(value, spec.variable.type, strict=spec.strict,
                                 allow_downcast=allow, what=f.assembled.labels[self.k])
        # (the function's own copy of the In: the user's object, maybe another function's
        # input too, is left as it was)
        spec = copy.copy(spec)
        spec.value = value
        f.input_specs[self.k] = spec


class SharedContainer:
    """A shared variable read or set through a function (``f[w]``)."""

    def __init__(self, shared):
        self.shared = shared

    @property
    def value(self):
        return self.shared.get_value()

    @value.setter
    def value(self, value):
        self.shared.set_value(value)


def set_value(container, value):
    container.value = value


class Containers:
    """``f.value`` and ``f.container``: indexed like ``f`` itself."""

    def __init__(self, function, get, put=None):
        self.function, self.get, self.put = function, get, put

    def __getitem__(self, item):
        return self.get(self.function._container(item))

    def __setitem__(self, item, value):
        if self.put is None:
            raise TypeError("f.container[x] cannot be assigned; set f.container[x].value")
        self.put(self.function._container(item), value)

    def __contains__(self, item):
        try:
            self.function._container(item)
        except (TypeError, IndexError):
            return False
        return True


def swapped(recipe, swap: dict) -> dict:
    """``recipe`` (a function's ``_recipe``) with the shared variables in ``swap`` replaced
    everywhere they occur: in the outputs, the updates (targets and values), the givens, the
    inputs' updates and ``no_default_updates``."""
    from aotsym.frontend.assemble import normalize_givens, normalize_updates
    from aotsym.frontend.function import In, Out
    from aotsym.graph.basic import clone_replace

    def sub(v):
        if isinstance(v, Variable):
            return swap[v] if v in swap else clone_replace([v], swap)[0]
        if isinstance(v, Out):
            return Out(sub(v.variable), v.borrow)
        if isinstance(v, dict):
            return {k: sub(o) for k, o in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(sub(o) for o in v)
        return v

    out = dict(recipe, outputs=sub(recipe["outputs"]))
    if recipe["updates"] is not None:
        out["updates"] = [(sub(var), sub(val)) for var, val in normalize_updates(
            recipe["updates"])]
    if recipe["givens"]:
        out["givens"] = {sub(k): sub(v) for k, v in normalize_givens(recipe["givens"]).items()}
    if isinstance(recipe["no_default_updates"], (list, tuple)):
        out["no_default_updates"] = [swap.get(v, v) for v in recipe["no_default_updates"]]
    inputs = []
    for spec in recipe["inputs"]:
        if isinstance(spec, In) and spec.update is not None:
            spec = copy.copy(spec)
            spec.update = sub(spec.update)
        inputs.append(spec)
    out["inputs"] = inputs
    return out
