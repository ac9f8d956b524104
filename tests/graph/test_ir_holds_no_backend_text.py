"""The IR holds no backend text: a scalar row is semantics only, and no source file under
``aotsym/graph/`` spells C or CUDA.  The spellings live beside their renderers
(``aotsym/emit_c/scalar_table.py``, ``aotsym/emit_cuda/scalar_table.py``)."""

import dataclasses
import os
import re

import pytest

import aotsym.graph
from aotsym.graph.scalar import SCALAR_OPS, ScalarOp

GRAPH = os.path.dirname(aotsym.graph.__file__)

# What backend text looks like: runtime helper names, the tables' placeholders, C / CUDA
# type names, GNU complex accessors, a spelling column passed to a row.
BACKEND_TEXT = re.compile(
    r"\baot_\w+|\bAOT_\w+|\{f\}|\{T\}|\bu?int(?:8|16|32|64)_t\b|\b_Bool\b|\b_Complex\b"
    r"|__real__|__imag__|thrust::|__device__|__global__|\bc_expr\b"
    r"|\b(?:c|cuda)\s*=\s*[\"'{]")


def test_a_scalar_row_holds_semantics_only():
    fields = {f.name for f in dataclasses.fields(ScalarOp)}
    assert fields == {"name", "nin", "numpy", "dtypes", "grad", "commutative", "associative",
                      "symbol"}
    assert not hasattr(ScalarOp, "c_expr")
    for row in SCALAR_OPS.values():
        assert not hasattr(row, "c") and not hasattr(row, "cuda"), row.name


def _graph_sources():
    for folder, _dirs, files in os.walk(GRAPH):
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(folder, name), GRAPH)


@pytest.mark.parametrize("path", sorted(_graph_sources()))
def test_no_backend_text_in_the_ir(path):
    with open(os.path.join(GRAPH, path)) as f:
        hits = [f"{path}:{n}: {line.strip()}" for n, line in enumerate(f, 1)
                if BACKEND_TEXT.search(line)]
    assert not hits, "backend text in the IR (move it to the backend's table):\n" + \
        "\n".join(hits)


def test_the_pattern_sees_the_old_spellings():
    for text in ('row("exp", 1, np.exp, floating, {"f": "exp{f}({0})"})',
                 'c="AOT_FMAX({0}, {1})"', "cuda={'c': 'x'}", "(({T}){0})", "int64_t"):
        assert BACKEND_TEXT.search(text), text
