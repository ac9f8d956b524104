"""Every op of the IR has a C translation, and every row of the scalar table a C expression
for the compute dtypes its type rule produces (or a clear EmitError, never a silent gap)."""

import importlib
import inspect
import pkgutil

import pytest

import aotsym.graph.ops as ops_pkg
from aotsym.emit_c import LOWERINGS
from aotsym.emit_c.emitter import _load_lowerings
from aotsym.emit_c.scalar_code import expression
from aotsym.graph.op import Op
from aotsym.graph.scalar import SCALAR_OPS
from aotsym.graph.types import DTYPES


def _op_classes():
    found = {}
    for info in pkgutil.iter_modules(ops_pkg.__path__):
        module = importlib.import_module(f"{ops_pkg.__name__}.{info.name}")
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and issubclass(cls, Op) and cls is not Op and \
                    cls.__module__ == module.__name__ and not name.startswith("_"):
                found[name] = cls
    return found


def test_every_op_class_has_a_c_translation():
    _load_lowerings()
    missing = sorted(set(_op_classes()) - set(LOWERINGS))
    assert not missing, f"ops without a C translation: {missing}"


@pytest.mark.parametrize("name", sorted(n for n in SCALAR_OPS if n != "cast"))
def test_every_scalar_row_has_c_for_every_accepted_dtype(name):
    row = SCALAR_OPS[name]
    covered = 0
    for dt in DTYPES:
        try:
            compute, out = row.dtypes(*([dt] * row.nin))
        except (TypeError, ValueError):
            continue  # the type rule rejects it
        expr = expression(name, tuple(compute), out, [f"a{k}" for k in range(row.nin)], None)
        assert expr and "{" not in expr, (name, dt, expr)
        covered += 1
    assert covered, f"{name} accepts no dtype?"


@pytest.mark.parametrize("name", sorted(n for n in SCALAR_OPS if n != "cast"))
def test_the_c_expression_is_the_tables_own(name):
    """The emitter spells every scalar op as the table's C column says: NumPy's semantics
    are fixed in one place, the table, with no emitter-side exceptions."""
    from aotsym.emit_c import dtypes as D
    row = SCALAR_OPS[name]
    for dt in DTYPES:
        try:
            compute, out = row.dtypes(*([dt] * row.nin))
        except (TypeError, ValueError):
            continue
        args = [f"a{k}" for k in range(row.nin)]
        want = row.c_expr(D.kind(compute[-1])).format(
            *args, f=D.LIBM_SUFFIX.get(compute[0], ""), T=D.COMPUTE[out])
        assert expression(name, tuple(compute), out, args, None) == want, (name, dt)
