"""Source lines beside the graph: a node records the user's line that made it, or the line it
stands for when aotsym builds it on the user's behalf (``traced_as``, ``apply(trace=)``,
``rebuild``); rebuilding keeps each output's line."""

import inspect
import threading

from aotsym import tensor as T
from aotsym.graph.basic import (SourceInfo, apply, clone_replace, rebuild, trace_of,
                                traced_as, user_source_info)
from aotsym.graph.errors import describe_node
from aotsym.graph.ops import math as m


def here() -> int:
    """The caller's line number."""
    return inspect.currentframe().f_back.f_lineno


def test_a_node_records_the_users_line():
    x = T.vector("x")
    line = here() + 1
    y = T.exp(x) + 1
    assert y.tag.trace.filename == __file__ and y.tag.trace.lineno == line
    assert "y = T.exp(x) + 1" in str(y.tag.trace)


def test_traced_as_overrides_the_stack_and_nests():
    x = T.vector("x")
    outer = SourceInfo("model.py", 10, "f")
    inner = SourceInfo("model.py", 20, "g")
    with traced_as(outer):
        a = T.sin(x)
        with traced_as(inner):
            b = T.cos(x)
        c = T.tan(x)
        d = T.tanh(x)
    with traced_as(None):
        e = T.sqrt(x)
    assert a.tag.trace is outer and b.tag.trace is inner and c.tag.trace is outer
    assert d.tag.trace is outer and e.tag.trace is None
    f = T.arcsin(x)
    assert f.tag.trace.filename == __file__        # outside: the stack again


def test_an_existing_equal_node_keeps_its_line():
    x = T.vector("x")
    y = T.sinh(x)
    with traced_as(SourceInfo("model.py", 3, "f")):
        again = T.sinh(x)
    assert again is y and y.tag.trace.filename == __file__


def test_the_override_is_per_thread():
    x = T.vector("x")
    seen = {}
    with traced_as(SourceInfo("model.py", 1, "f")):
        t = threading.Thread(target=lambda: seen.update(v=T.arccos(x)))
        t.start()
        t.join()
    assert seen["v"].tag.trace.filename == __file__


def test_apply_with_an_explicit_trace():
    x = T.vector("x")
    where = SourceInfo("model.py", 5, "f")
    node = apply(m.cosh(x).owner.op, [T.vector("z")], trace=where)
    assert trace_of(node) is where


def test_rebuild_keeps_the_line_of_every_output_and_fused_lines():
    x, z = T.vector("x"), T.vector("z")
    node = T.exp(x).owner
    node.outputs[0].tag.fused_traces = (SourceInfo("model.py", 1, "f"),)
    new = rebuild(node, [z])
    assert new is not node and trace_of(new) is trace_of(node)
    assert new.outputs[0].tag.fused_traces == node.outputs[0].tag.fused_traces
    assert rebuild(node, [z]) is new                # interned: the same node, untouched


def test_clone_replace_keeps_the_users_lines():
    x, z = T.vector("x"), T.vector("z")
    line = here() + 1
    y = T.log(x) * 3
    (cloned,) = clone_replace([y], {x: z})
    assert cloned is not y and cloned.tag.trace.lineno == line
    assert cloned.owner.inputs[0].tag.trace.lineno == line


def test_a_note_and_the_description_of_a_fused_node():
    x = T.vector("x")
    y = T.exp(x)
    trace = y.tag.trace.noted("in the gradient taken at model.py:9")
    assert str(trace).endswith("(in the gradient taken at model.py:9)")
    y.owner.outputs[0].tag.fused_traces = (
        SourceInfo("/a/model.py", 12, "f"), SourceInfo("/a/model.py", 4, "f"),
        SourceInfo("/a/lib.py", 7, "g"))
    text = describe_node(y.owner)
    assert "fusing the expressions at model.py lines 4, 12; lib.py line 7" in text
    del y.owner.outputs[0].tag.fused_traces


def test_user_source_info_is_the_innermost_user_frame():
    line = here() + 1
    info = user_source_info()
    assert info.filename == __file__ and info.lineno == line
