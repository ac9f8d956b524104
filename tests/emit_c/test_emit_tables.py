"""Every op of the IR has a C translation, and every row of the scalar table a C spelling
(``aotsym.emit_c.scalar_table``) for every dtype kind its type rule accepts, which the emitter
writes as the table says (or a clear EmitError, never a silent gap)."""

import importlib
import inspect
import pkgutil

import pytest

import aotsym.graph.ops as ops_pkg
from aotsym.emit_c import LOWERINGS
from aotsym.emit_c.emitter import load_all_lowerings
from aotsym.emit_c import dtypes as D
from aotsym.emit_c.scalar_code import expression
from aotsym.emit_c.scalar_table import C_SCALAR, c_spelling
from aotsym.graph.op import Op
from aotsym.graph.scalar import SCALAR_OPS, accepted_signatures
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
    """An op holding inner graphs is a structured step of the lowered program (a BLOCK the
    renderer emits inline); every other op has a lowering of its own."""
    from aotsym.graph.inner import HasInnerGraphs
    load_all_lowerings()
    classes = _op_classes()
    missing = sorted(name for name, cls in classes.items()
                     if name not in LOWERINGS and not issubclass(cls, HasInnerGraphs))
    assert not missing, f"ops without a C translation: {missing}"
    assert "OpFromGraph" in classes and "OpFromGraph" not in LOWERINGS


def test_the_c_table_spells_exactly_the_rows_of_the_ir():
    assert sorted(set(SCALAR_OPS) - set(C_SCALAR)) == [], "rows with no C spelling"
    assert sorted(set(C_SCALAR) - set(SCALAR_OPS)) == [], "C spellings of no row"


@pytest.mark.parametrize("name", sorted(SCALAR_OPS))
def test_every_scalar_row_has_a_c_spelling_for_every_accepted_kind(name):
    kinds = accepted_signatures(SCALAR_OPS[name])
    assert kinds, f"{name} accepts no dtype?"
    missing = sorted(k for k in kinds if c_spelling(name, k) is None)
    assert not missing, f"{name}: no C spelling for dtype kinds {missing} " \
        f"(add them to aotsym/emit_c/scalar_table.py)"


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
    """The emitter spells every scalar op as the C table says: each corner of NumPy's
    semantics is spelled in one place, the table, with no emitter-side exceptions."""
    row = SCALAR_OPS[name]
    for dt in DTYPES:
        try:
            compute, out = row.dtypes(*([dt] * row.nin))
        except (TypeError, ValueError):
            continue
        args = [f"a{k}" for k in range(row.nin)]
        want = c_spelling(name, D.kind(compute[-1])).format(
            *args, f=D.LIBM_SUFFIX.get(compute[0], ""), T=D.COMPUTE[out])
        assert expression(name, tuple(compute), out, args, None) == want, (name, dt)
