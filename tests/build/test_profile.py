"""Profile builds, as a user meets them: ``aotsym build --profile`` of the seed's logistic
regression imported where aotsym cannot be, run N times; ``aotsym.function(profile=True)``,
``PROFILE_MODE``, the flag ``profile`` (the report printed at exit), ``debugprint`` with
times; a BLOCK step's body counted as the inner graph's nodes; non-profile builds carry no
timer."""

import io
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from test_build_cli import ROOT, _env, aotsym_build, isolated_python
from seed_logreg import logreg_step

import aotsym
from aotsym import tensor as T
from aotsym.build import BuildOptions, build_module
from aotsym.emit_c import FunctionSpec, emit_module
from aotsym.graph.fgraph import FunctionGraph
from aotsym.graph.ops.opfromgraph import OpFromGraph
from aotsym.optimizer.lower import lower_program

N = 7
SECTIONS = ("Function profiling", "Class\n---", "Ops\n---", "Apply\n------", "Memory Profile",
            "Memory saved by views", "Rewrites\n---", "Here are tips")
TIMERS = ("AOT_PROF_", "aot_now_ns", "aot_prof_")


@pytest.fixture(scope="module")
def logreg_run(tmp_path_factory):
    """The example built with --profile, run N times in a process without aotsym."""
    root = tmp_path_factory.mktemp("prof")
    proc = aotsym_build(os.path.join(ROOT, "examples", "logreg_module.py"), "-o",
                        str(root / "dist"), "--profile")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = isolated_python(root, root / "dist", textwrap.dedent(f'''
        import io, json, time
        import numpy as np
        import logreg
        rng = np.random.RandomState(1)
        X, Y = rng.randn(400, 784), rng.randint(0, 2, 400).astype("float64")
        t0 = time.perf_counter()
        for _ in range({N}):
            pred, err = logreg.train(X, Y)
        wall = time.perf_counter() - t0
        report = logreg.profile()
        text = io.StringIO()
        logreg.print_profile(text)
        logreg.reset_profile()
        after_reset = logreg.profile()["functions"]["train"]["calls"]
        print(json.dumps({{"report": report, "wall": wall, "text": text.getvalue(),
                          "largest": max(pred.nbytes, err.nbytes),
                          "after_reset": after_reset}}))
    '''))
    result = json.loads(out.strip().splitlines()[-1])
    with open(root / "profile.json", "w") as fh:
        json.dump(result["report"], fh)
    return root, result


def test_the_report_counts_every_call(logreg_run):
    _, result = logreg_run
    report = result["report"]
    json.dumps(report)                                     # JSON-serializable
    train = report["functions"]["train"]
    assert train["calls"] == N and train["failures"] == 0
    assert all(s["calls"] == N for s in train["steps"]), [s["calls"] for s in train["steps"]]
    assert report["functions"]["predict"]["calls"] == 0
    assert result["after_reset"] == 0


def test_times_are_consistent_with_the_wall_clock(logreg_run):
    _, result = logreg_run
    train = result["report"]["functions"]["train"]
    steps = train["steps"]
    assert all(s["seconds"] >= 0 and s["self_seconds"] >= 0 for s in steps)
    t = train["time"]
    assert 0 <= sum(s["self_seconds"] for s in steps) <= t["run_s"] <= t["entry_s"]
    assert t["entry_s"] <= result["wall"]
    assert t["overhead_s"] >= 0
    assert sum(o["seconds"] for o in train["ops"]) == pytest.approx(t["steps_s"])


def test_shapes_storage_and_memory(logreg_run):
    _, result = logreg_run
    train = result["report"]["functions"]["train"]
    assert [a["shape"] for a in train["arguments"][:2]] == [[400, 784], [400]]
    storages = {o["storage"] for s in train["steps"] for o in s["outputs"]}
    assert storages == {"alloc", "view", "inplace"}
    # x @ w and x.T @ d are one FusedGemvPair; its x.T @ d is a view as a column for w's update
    column = [s for s in train["steps"] if s["op"] == "DimShuffle{0,x}"]
    assert column and column[0]["outputs"][0]["shape"] == [784, 1]
    memory = train["memory"]
    assert memory["peak_bytes"] >= result["largest"]
    assert memory["saved_by_view"] >= 784 * 8             # the column is a view
    assert memory["saved_by_inplace"] > 0
    assert len(memory["timeline"]) == len(train["steps"])
    assert train["compile"]["optimizer"]["rewrites"]      # rewrites with fire counts
    assert {"emit", "compile"} <= set(train["compile"]["seconds"])


def test_the_printed_report_has_the_seeds_sections(logreg_run):
    _, result = logreg_run
    text = result["text"]
    for section in SECTIONS:
        assert section in text, section
    assert f"Time in {N} calls to train()" in text
    assert "input 0: dtype=float64, shape=(400, 784), strides=c" in text
    assert "float64 inputs" in text                       # a tip


def test_non_profile_builds_have_no_timer():
    x, w = T.matrix("x"), T.vector("w")
    fg = FunctionGraph([x, w], [T.exp(T.dot(x, w)) + 1])
    spec = FunctionSpec("f", lower_program(fg))
    plain = emit_module([spec], profile=False).source
    prof = emit_module([FunctionSpec("f", lower_program(fg))], profile=True).source
    generated = plain[plain.index("/* ------------------------------------------------------"
                                  "------------------ constants */"):]
    assert not any(t in generated for t in TIMERS)
    assert "#define AOT_PROFILE 1" not in plain
    assert "AOT_PROF_BEGIN" in prof and "AOT_PROF_RUN_BEGIN" in prof


def _logreg_graph():
    step = logreg_step(np.random.RandomState(0).randn(20), l2=0)
    return step.inputs, step.outputs, step.updates


@pytest.mark.parametrize("how", [{"profile": True}, {"mode": "PROFILE_MODE"}])
def test_function_profile(how):
    inputs, outputs, updates = _logreg_graph()
    f = aotsym.function(inputs, outputs, updates=updates, name="train", **how)
    X, Y = np.random.RandomState(2).randn(30, 20), np.ones(30)
    for _ in range(N):
        f(X, Y)
    f(X.astype("float32"), Y)                             # a converted call counts once
    report = f.profile()
    train = report["functions"]["train"]
    assert train["calls"] == N + 1 and train["time"]["python_calls"] == N + 1
    assert all(s["calls"] == N + 1 for s in train["steps"])
    t = train["time"]
    assert t["steps_s"] <= t["run_s"] <= t["entry_s"] <= t["python_s"]
    buf = io.StringIO()
    f.print_profile(buf)
    assert "Function profiling" in buf.getvalue() and "Apply" in buf.getvalue()
    tree = aotsym.printing.debugprint(f, file="str", print_profile=True)
    assert " calls" in tree and "%" in tree
    f.reset_profile()
    assert f.profile()["functions"]["train"]["calls"] == 0


def test_a_block_body_is_counted_as_its_nodes():
    a, b = T.vectors("a", "b")
    ofg = OpFromGraph([a, b], [T.exp(a) * b + 1])
    x, y = T.vectors("x", "y")
    fg = FunctionGraph([x, y], [ofg(x, T.sin(y)) * 2])
    program = lower_program(fg)
    loaded = build_module([FunctionSpec("f", program)],
                          BuildOptions.from_config(cflags="-O1", profile=True))
    for _ in range(N):
        loaded.entries[0](np.ones(5), np.arange(5.0))
    from aotsym.build.driver import profile_layouts
    from aotsym.build.profiling import collect, format_report
    report = collect(loaded.fast, profile_layouts(loaded.specs, loaded.emitted, {}))
    f = report["functions"]["f"]
    (block,) = [s for s in f["steps"] if s["kind"] == "block"]
    body = [s for s in f["steps"] if s["parent"] == block["number"]]
    assert len(body) == len(ofg.inner.nodes()) and all(s["calls"] == N for s in body)
    assert {s["path"].count(".") for s in body} == {2}    # ids nested in the block's
    (structured,) = f["structured"]
    assert structured["bodies"] == [{"index": 0, "runs": N, "per_call": 1.0}]
    assert 0 <= structured["overhead_s"] <= block["seconds"]
    assert block["seconds"] >= sum(s["seconds"] for s in body)
    assert body[0]["inputs"][0]["shape"] == [5]           # body inputs' shapes recorded
    assert "Structured steps" in format_report(report)


def test_the_profile_flag_prints_every_profiled_function_at_exit(tmp_path):
    code = textwrap.dedent('''
        import numpy as np
        import aotsym
        from aotsym import tensor as T
        x = T.vector("x")
        f = aotsym.function([x], T.exp(x) * 2, name="doubled")
        assert hasattr(f, "print_profile")
        for _ in range(3):
            f(np.ones(4))
        print("done")
    ''')
    env = _env()
    env["AOTSYM_FLAGS"] = f"profile=True,cache_dir={tmp_path}"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "done"
    assert "Function profiling" in proc.stderr and "Time in 3 calls to doubled()" in \
        proc.stderr


def test_a_scan_step_is_counted_per_iteration_and_a_branch_per_run():
    """The seed's promise for loops: the step graph's nodes are counted n_steps times per
    call (the loop's own overhead apart), and an ifelse says how often each branch ran."""
    x, h0, c = T.vector("x"), T.scalar("h0"), T.scalar("c")
    hs, _ = aotsym.scan(lambda v, h: T.tanh(h * 0.5 + v), sequences=x, outputs_info=h0)
    out = aotsym.ifelse(c > 0, hs[-1] * 2, hs.sum())
    f = aotsym.function([x, h0, c], [hs, out], profile=True, name="loopy")
    steps = 7
    for k in range(N):
        f(np.linspace(-1, 1, steps), 0.1, 1.0 if k < 2 else -1.0)
    prof = f.profile()["functions"]["loopy"]
    loops = [s for s in prof["structured"] if s["kind"] == "loop"]
    branches = [s for s in prof["structured"] if s["kind"] == "branch"]
    (loop,) = loops
    assert loop["bodies"][0]["runs"] == N * steps
    assert loop["iterations_per_call"] == steps
    inner = [s for s in prof["steps"] if s["parent"] == loop["number"]]
    assert inner and all(s["calls"] == N * steps for s in inner)
    (branch,) = branches
    assert [b["runs"] for b in branch["bodies"]] == [2, N - 2]
    text = io.StringIO()
    f.print_profile(file=text)
    assert "Structured steps" in text.getvalue()
