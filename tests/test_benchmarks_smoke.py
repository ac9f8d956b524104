"""The benchmark runner in its smoke profile: it runs, and every aotsym result equals NumPy's.

No timing is asserted here (timings are the business of ``python -m benchmarks`` and
``benchmarks/RESULTS.md``).  The peers are not needed: the smoke profile compares aotsym with
NumPy only.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    cmd = [sys.executable, "-m", "benchmarks", "--smoke", "--check",
           "--json", str(out / "run.json"), "--markdown", str(out / "RESULTS.md")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    return proc, out


def test_smoke_run_passes_its_checks(smoke_run):
    proc, _ = smoke_run
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]


def test_every_aotsym_result_equals_numpys(smoke_run):
    _, out = smoke_run
    data = json.loads((out / "run.json").read_text())
    assert data["problems"] == []
    ran = 0
    for w in data["workloads"]:
        for case in w["cases"]:
            r = case["results"].get("aotsym")
            if w["id"] == "W8":
                continue
            assert r is not None, f"{w['id']} {case['name']}: no aotsym entry"
            assert r["status"] in ("ok", "not available"), (w["id"], case["name"], r)
            if r["status"] == "ok":
                assert r.get("check") == "ok", (w["id"], case["name"], r)
                ran += 1
    assert ran >= 5  # at least W1's four cases and W6 ran through aotsym


def test_report_is_written(smoke_run):
    _, out = smoke_run
    text = (out / "RESULTS.md").read_text()
    assert "## W1" in text and "## W8" in text and "ratio = peer time / aotsym time" in text


def test_a_wrong_result_is_caught():
    from benchmarks.core import Case, time_case
    from benchmarks.runner import PROFILES, problems
    x = np.arange(5.0)
    case = Case("x*2", builders={"numpy": lambda: lambda: x * 2,
                                 "aotsym": lambda: lambda: x * 2 + 1e-3})
    result = time_case(case, PROFILES["smoke"])
    assert result.results["aotsym"].check.startswith("5 of 5 values differ")
    found = problems([{"id": "W0", "cases": [result.as_dict()]}])
    assert len(found) == 1 and "MISMATCH" in found[0]


def test_a_result_that_goes_wrong_on_later_calls_is_caught():
    from benchmarks.core import Case, time_case
    from benchmarks.runner import PROFILES
    x = np.arange(5.0)
    calls = []

    def drifting():
        calls.append(1)
        return x * 2 if len(calls) == 1 else x * 3
    case = Case("x*2", builders={"numpy": lambda: lambda: x * 2, "aotsym": lambda: drifting})
    result = time_case(case, PROFILES["smoke"])
    assert result.results["aotsym"].check.startswith("after ")


def test_a_missing_peer_is_reported_not_fatal():
    from benchmarks.core import Case, time_case
    from benchmarks.peers import builders, missing
    from benchmarks.runner import PROFILES
    assert missing("surely_not_an_installed_module") == "not installed"
    x = np.arange(3.0)
    table = builders(("numpy", "surely_not_an_installed_module"), lambda key: lambda: x,
                     {"numpy", "surely_not_an_installed_module"})
    result = time_case(Case("x", builders=table), PROFILES["smoke"])
    assert result.results["surely_not_an_installed_module"].status == "not installed"
    assert result.results["numpy"].median is not None
