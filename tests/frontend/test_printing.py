"""aotsym.printing: pprint's infix text, debugprint's tree, pydotprint with and without dot."""

import io
import os
import re
import stat

import numpy as np
import pytest

import aotsym
from aotsym import tensor as T
from aotsym.printing import char_id, debugprint, pprint, pydotprint


@pytest.fixture
def logreg():
    x = T.matrix("x")
    y = T.vector("y")
    w = aotsym.shared(np.zeros(4), name="w")
    b = aotsym.shared(0.0, name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    return dict(x=x, y=y, w=w, b=b, p_1=p_1, prediction=prediction, xent=xent)


def parse_tree(text):
    """debugprint text -> [(depth, label, id or None, trailing position or None)]."""
    rows = []
    for line in text.rstrip("\n").split("\n"):
        start = len(line) - len(line.lstrip(" |"))
        assert start % 2 == 0, line
        body = line[start:]
        m = re.match(r"^(.*?) \[id ([A-Z]+)\](?: '([^']*)')?(?:   (\d+))?$", body)
        assert m, line
        label, ident, _, pos = m.groups()
        rows.append((start // 2, label, ident, None if pos is None else int(pos)))
    return rows


def children(rows, k):
    """Indices of the rows that are direct children of row k."""
    depth = rows[k][0]
    out = []
    for j in range(k + 1, len(rows)):
        if rows[j][0] <= depth:
            break
        if rows[j][0] == depth + 1:
            out.append(j)
    return out


# ---------------------------------------------------------------------------- pprint


def test_pprint_theano_examples():
    x, y = T.matrices("x", "y")
    assert pprint(x + y) == "(x + y)"
    assert aotsym.pp(x + y) == "(x + y)"
    assert aotsym.printing.pp is pprint
    assert pprint(T.exp(x) * -y) == "(exp(x) * (-y))"
    assert pprint(x.T) == "x.T"
    assert pprint(x.sum(axis=0)) == "sum(x, axis=[0])"
    assert pprint(x.max()) == "max(x)"
    assert pprint(x[1:3]) == "x[1:3]"
    assert pprint(x[::2, -1]) == "x[::2, -1]"
    assert pprint(x ** 2 / 3) == "((x ** 2.0) / 3.0)"   # weak scalars take x's dtype
    assert pprint(x > y) == "(x > y)"
    assert pprint(T.cast(x, "float32")) == "cast{float32}(x)"
    assert pprint(T.switch(x > 0, x, y)) == "switch((x > 0.0), x, y)"


def test_pprint_logistic_regression(logreg):
    assert pprint(logreg["prediction"]) == \
        "((1.0 / (1.0 + exp(((-(x \\dot w)) - b)))) > 0.5)"


def test_pprint_list_and_unnamed_inputs():
    x = T.vector()
    text = pprint([x * 2, x + 1])
    assert text.split("\n") == ["(<TensorType(float64, vector)> * 2.0)",
                                "(<TensorType(float64, vector)> + 1.0)"]


def test_pprint_names_shared_subexpressions_instead_of_exploding():
    x = T.vector("x")
    y = x
    for _ in range(40):   # 2**40 leaves if expanded
        y = y * y
    text = pprint(y)
    assert len(text) < 10_000
    lines = text.split("\n")
    # short repeats stay inline; from the third level on each square is named once
    assert lines[0] == "_1 = (((x * x) * (x * x)) * ((x * x) * (x * x)))"
    assert lines[1] == "_2 = (_1 * _1)" and lines[-1] == "(_37 * _37)"


def test_pprint_rejects_non_variables():
    with pytest.raises(TypeError, match="symbolic variable"):
        pprint(3)


# ---------------------------------------------------------------------------- debugprint


def test_debugprint_logistic_regression_structure(logreg):
    text = debugprint(logreg["prediction"], file="str")
    rows = parse_tree(text)
    depth, label, ident, pos = rows[0]
    assert (depth, label, ident, pos) == (0, "Elemwise{gt}", "A", None)
    root_children = [rows[j][1] for j in children(rows, 0)]
    assert root_children == ["Elemwise{true_div}", "DimShuffle{x}"]
    labels = [r[1] for r in rows]
    for op in ("Elemwise{add}", "Elemwise{exp}", "Elemwise{sub}", "Elemwise{neg}", "Dot"):
        assert op in labels
    # the dot's inputs are the leaves x and w, one level below it
    k = labels.index("Dot")
    assert [rows[j][1] for j in children(rows, k)] == ["x", "w"]
    assert "b" in labels and "TensorConstant{0.5}" in labels
    # ids: one per distinct node, assigned in order of first appearance
    first_seen = {}
    for depth, label, ident, _ in rows:
        first_seen.setdefault(ident, label)
        assert first_seen[ident] == label
    assert list(first_seen) == [char_id(n) for n in range(len(first_seen))]
    # the broadcast constant 1 is used twice: printed in full once, then by its id only
    ones = [k for k, r in enumerate(rows) if r[1] == "DimShuffle{x}"
            and [rows[j][1] for j in children(rows, k)] == ["TensorConstant{1.0}"]]
    repeats = [k for k, r in enumerate(rows) if r[2] == rows[ones[0]][2]]
    assert len(ones) == 1 and len(repeats) == 2
    assert children(rows, repeats[1]) == []


def test_debugprint_of_compiled_function_shows_execution_order(logreg):
    predict = aotsym.function([logreg["x"]], logreg["prediction"], name="predict")
    text = debugprint(predict, file="str")
    rows = parse_tree(text)
    positions = sorted({r[3] for r in rows if r[3] is not None})
    assert positions == list(range(len(predict.maker.fgraph.toposort())))
    assert all(r[3] is None for r in rows if r[1] in ("x", "w", "b"))
    assert rows[0][3] == positions[-1]          # the output is computed last


def test_debugprint_train_function_prints_outputs_and_updates(logreg):
    w, b = logreg["w"], logreg["b"]
    cost = logreg["xent"].mean()
    gw, gb = aotsym.grad(cost, [w, b])
    train = aotsym.function([logreg["x"], logreg["y"]], [logreg["prediction"], cost],
                            updates={w: w - 0.1 * gw, b: b - 0.1 * gb})
    rows = parse_tree(debugprint(train, file="str"))
    assert sum(1 for r in rows if r[0] == 0) == 4   # two outputs, two updates


def test_debugprint_files_and_options(logreg, capsys):
    x, y = T.matrices("x", "y")
    expected = "Elemwise{add} [id A] ''\n |x [id B]\n |y [id C]\n"
    assert debugprint(x + y, file="str") == expected
    buf = io.StringIO()
    assert debugprint(x + y, file=buf) is buf and buf.getvalue() == expected
    # Theano's: printed to stdout, None returned (a prompt echoes nothing after the tree)
    assert debugprint(x + y) is None
    assert capsys.readouterr().out == expected
    typed = debugprint(x + y, file="str", print_type=True)
    assert typed.split("\n")[0] == "Elemwise{add} [id A] '' <TensorType(float64, matrix)>"
    assert debugprint(x + y, file="str", ids="") == "Elemwise{add} ''\n |x\n |y\n"
    assert "[id 0]" in debugprint(x + y, file="str", ids="int")
    named = x + y
    named.name = "total"
    assert debugprint(named, file="str").startswith("Elemwise{add} [id A] 'total'")
    deep = T.exp(T.exp(x))
    assert debugprint(deep, file="str", depth=1) == "Elemwise{exp} [id A] ''\n"
    both = debugprint([x + y, x * y], file="str")
    assert both.count("[id B]") == 2 and parse_tree(both)[3][1] == "Elemwise{mul}"
    with pytest.raises(ValueError, match="ids"):
        debugprint(x, file="str", ids="hex")
    with pytest.raises(TypeError, match="compiled"):
        debugprint({"a": 1}, file="str")


def test_char_ids():
    assert [char_id(n) for n in (0, 1, 25, 26, 27, 26 * 26)] == ["A", "B", "Z", "BA", "BB", "BAA"]


def test_debugprint_deep_graph_continues_as_new_roots():
    x = T.vector("x")
    y = x
    for _ in range(200):
        y = T.exp(y)
    text = debugprint(y, file="str", max_indent=50)
    rows = parse_tree(text.replace("  -> continued below", ""))
    assert max(r[0] for r in rows) == 50
    assert text.count("continued below") == 3
    assert len(rows) == 201 + 3                 # every node once, plus the 3 continuations
    assert max(len(line) for line in text.split("\n")) < 150


# ---------------------------------------------------------------------------- pydotprint


def test_pydotprint_without_dot_writes_dot_text(tmp_path, monkeypatch, capsys, logreg):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    out = pydotprint(logreg["prediction"], outfile=str(tmp_path / "pics" / "pred.png"))
    assert out == str(tmp_path / "pics" / "pred.dot")
    text = open(out).read()
    assert text.startswith("digraph") and "Dot" in text and "Elemwise{exp}" in text
    message = capsys.readouterr().out
    assert "dot" in message and "graphviz" in message and out in message
    assert not (tmp_path / "pics" / "pred.png").exists()


def test_pydotprint_with_dot_runs_it(tmp_path, monkeypatch, capsys, logreg):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    fake = bindir / "dot"
    fake.write_text("#!/bin/sh\n# fake graphviz: record the arguments and the input\n"
                    'echo "$@" > "$(dirname "$0")/args"\n'
                    'for a in "$@"; do last=$a; done\n'
                    'cat > "$last"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    predict = aotsym.function([logreg["x"]], logreg["prediction"])
    target = tmp_path / "predict.svg"
    out = pydotprint(predict, outfile=str(target), format="svg", var_with_name_simple=True)
    assert out == str(target)
    assert (bindir / "args").read_text().split() == ["-Tsvg", "-o", str(target)]
    assert target.read_text().startswith("digraph")
    assert capsys.readouterr().out.strip() == f"The output file is available at {target}"


def test_pydotprint_dot_format_and_alias(tmp_path, logreg):
    out = aotsym.printing.pydotprint_variables(logreg["xent"], outfile=str(tmp_path / "g.dot"),
                                               format="dot", print_output_file=False)
    text = open(out).read()
    assert text.count(" -> ") >= 10 and text.rstrip().endswith("}")


def test_pydotprint_draws_inner_graphs_in_clusters(tmp_path):
    """A scan's step (like Theano's scan in pydotprint) is drawn in a dashed cluster linked
    to the outer node."""
    x, h0 = T.vector("x"), T.scalar("h0")
    out, _ = aotsym.scan(lambda v, h: T.tanh(h + v), sequences=x, outputs_info=h0)
    text = open(pydotprint(out, outfile=str(tmp_path / "scan.dot"), format="dot")).read()
    assert text.count("subgraph cluster_") == 1
    assert "inner graph 0" in text and "style=dotted" in text
    assert "Elemwise{tanh}" in text and "input 0" in text
    names = [line.split()[0] for line in text.splitlines() if "[shape=" in line]
    assert len(names) == len(set(names))            # every DOT node name is unique
