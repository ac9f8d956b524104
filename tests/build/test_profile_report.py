"""``aotsym profile-report profile.json --html report.html --trace trace.json`` on the report
of a profile build run in a process without aotsym (test_profile's fixture): both files
exist and parse; the page is self-contained; the trace's events are well formed and the
steps nest inside their function's call."""

import json
import subprocess
import sys
from html.parser import HTMLParser

from test_build_cli import _env
from test_profile import logreg_run  # noqa: F401 (the fixture)


def _report_files(root):
    html, trace = root / "report.html", root / "trace.json"
    proc = subprocess.run([sys.executable, "-m", "aotsym.cli", "profile-report",
                           str(root / "profile.json"), "--html", str(html), "--trace",
                           str(trace)], capture_output=True, text=True, env=_env(),
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return html.read_text(), json.loads(trace.read_text())


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.links = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]


def test_html_page_is_self_contained(logreg_run):  # noqa: F811
    root, _ = logreg_run
    page, _ = _report_files(root)
    parser = _Tags()
    parser.feed(page)
    # per function a bar chart of time per op; a memory timeline for train (predict never ran)
    assert parser.tags.count("svg") == 3
    assert "polyline" in parser.tags and "rect" in parser.tags
    assert "script" not in parser.tags and parser.links == []
    assert "Gemv{inplace}" in page


def test_trace_events_are_well_formed_and_nested(logreg_run):  # noqa: F811
    root, result = logreg_run
    _, trace = _report_files(root)
    events = trace["traceEvents"]
    complete = [e for e in events if e["ph"] == "X"]
    for e in events:
        assert {"name", "ph", "pid", "tid"} <= set(e)
        if e["ph"] in ("X", "C"):
            assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0
    assert all(e["dur"] >= 0 for e in complete)
    (call,) = [e for e in complete if e["cat"] == "function"]
    steps = [e for e in complete if e["cat"] != "function"]
    n_steps = len(result["report"]["functions"]["train"]["steps"])
    assert len(steps) == n_steps
    eps = 1e-3
    for e in steps:                                      # inside the call
        assert call["ts"] - eps <= e["ts"] and e["ts"] + e["dur"] <= call["ts"] + call["dur"] + eps
    ordered = sorted(steps, key=lambda e: e["ts"])       # steps of one level do not overlap
    for a, b in zip(ordered, ordered[1:]):
        assert a["ts"] + a["dur"] <= b["ts"] + eps
    counters = [e for e in events if e["ph"] == "C"]
    assert len(counters) == n_steps and all("live" in e["args"] for e in counters)
