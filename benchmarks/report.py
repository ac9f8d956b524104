"""Formatting a run: console lines while it goes, RESULTS.md and the chart of ratios after.

Everything here reads the run's JSON-shaped dict, so a saved ``--json`` file can be
re-rendered: ``python -m benchmarks.report run.json [RESULTS.md]``.

The ratio is always *peer time / aotsym time*: above 1 aotsym is faster, below 1 the peer
is.  Fractions of the limit: effective GB/s over the copy bandwidth, GFLOP/s over NumPy's
dgemm (float64) or sgemm (float32) — both measured in the same run (W8).
"""

from __future__ import annotations

import os
import sys

from benchmarks.core import OK, TIMEOUT
from benchmarks.peers import DESCRIPTIONS, LABELS

DISTURBED = 0.10   # share of the CPUs taken by other processes that the report flags
DEFAULT_MARKDOWN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
CHART_NAME = "results.png"


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def ratio(case: dict, impl: str):
    """peer time / aotsym time, or None."""
    mine = case["results"].get("aotsym", {}).get("median")
    other = case["results"].get(impl, {}).get("median")
    if impl == "aotsym" or not mine or not other:
        return None
    return other / mine


def limit_fraction(case: dict, impl: str, refs: dict):
    """(text, fraction) of the machine's limit reached, or (None, None)."""
    med = case["results"].get(impl, {}).get("median")
    if not med or case.get("unit") != "time":
        return None, None
    if case.get("bytes") and refs.get("copy_gbps"):
        gbps = case["bytes"] / med / 1e9
        frac = gbps / refs["copy_gbps"]
        return f"{gbps:.3g} GB/s = {frac:.0%} of copy", frac
    key = "sgemm_gflops" if case.get("dtype") == "float32" else "dgemm_gflops"
    if case.get("flops") and refs.get(key):
        gflops = case["flops"] / med / 1e9
        frac = gflops / refs[key]
        return f"{gflops:.3g} GFLOP/s = {frac:.0%} of {key[:5]}", frac
    return None, None


def status_text(r: dict) -> str:
    if r["status"] == TIMEOUT:
        return f"> {r.get('extra', {}).get('timeout_s', '?')} s"
    return r["status"]


def stage_text(r: dict) -> str:
    """" (graph 1 ms, optimize 2 ms, ...)" for a build time split into stages, else ""."""
    stages = [f"{k[:-2]} {fmt_time(v)}" for k, v in r.get("extra", {}).items()
              if k.endswith("_s") and k not in ("total_s", "function_s", "timeout_s")
              and v >= 0.0005]
    return f" ({', '.join(stages)})" if stages else ""


# -------------------------------------------------------------------------------- console

def console_case(result, refs=None) -> str:
    case = result.as_dict() if hasattr(result, "as_dict") else result
    lines = [f"  {case['name']}"]
    for impl, r in case["results"].items():
        if r["status"] == OK and r.get("median") is not None:
            text = f"{fmt_time(r['median']):>10}{stage_text(r)}"
            q = ratio(case, impl)
            if q is not None:
                text += f"   ratio {q:6.2f}"
            lim, _ = limit_fraction(case, impl, refs or {})
            if lim:
                text += f"   {lim}"
        else:
            text = status_text(r)
        if r.get("error"):
            text += f": {r['error']}"
        if r.get("check") not in (None, "ok"):
            text += f"   !! MISMATCH with NumPy: {r['check']}"
        if r.get("note"):
            text += f"   ({r['note']})"
        lines.append(f"    {LABELS.get(impl, impl):11} {text}")
    return "\n".join(lines)


# ------------------------------------------------------------------------------- markdown

def _cell(case, impl, refs, footnotes):
    r = case["results"].get(impl)
    if r is None:
        return "–"
    if r["status"] != OK or r.get("median") is None:
        text = status_text(r)
        if r.get("error"):
            footnotes.append(f"{LABELS.get(impl, impl)}, {case['name']}: {r['error']}")
            text += f" [{len(footnotes)}]"
        return text
    parts = [fmt_time(r["median"]) + stage_text(r)]
    q = ratio(case, impl)
    if q is not None:
        parts.append(f"**{q:.2f}**")
    lim, _ = limit_fraction(case, impl, refs)
    if lim:
        parts.append(lim.split(" = ")[1].replace(" of copy", " BW"))
    text = " · ".join(parts)
    if impl == "aotsym" and r.get("check") == "ok":
        text += " ✓"
    if r.get("check") not in (None, "ok"):
        footnotes.append(f"{LABELS.get(impl, impl)}, {case['name']}: result differs from "
                         f"NumPy's: {r['check']}")
        text += f" **MISMATCH** [{len(footnotes)}]"
    if r.get("note"):
        footnotes.append(f"{LABELS.get(impl, impl)}, {case['name']}: {r['note']}")
        text += f" [{len(footnotes)}]"
    return text


def markdown(data: dict, chart: str | None) -> str:
    refs = data.get("references", {})
    m = data["machine"]
    impls = [i for i in data["impls"]]
    out = ["# aotsym benchmark results", "",
           "Written by `python -m benchmarks --%s --markdown` — do not edit by hand; rerun it."
           % data["profile"], "",
           f"- date: {data['date']}; profile `{data['profile']}` (median of {data['repeats']} "
           f"samples after warm-up; a sample is as many calls as fill "
           f"{data['min_sample_s'] * 1e3:g} ms; all in one process, one implementation after "
           f"the other, each warmed up and then sampled back to back); "
           f"whole run {data['elapsed_s']} s",
           f"- machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), "
           f"{m['memory_gib']} GiB, SIMD {', '.join(m['simd']) or 'baseline'}; {m['os']}; "
           f"Python {m['python']}; C compiler: {m['compiler'] or 'none found'}; thread "
           "settings: " + (", ".join(f"`{k}={v}`" for k, v in m.get("thread_env", {}).items())
                           or "library defaults"),
           "- versions: " + ", ".join(f"{k} {v}" for k, v in data["versions"].items()),
           *([f"- PyTensor C's BLAS: `{data['pytensor_blas']}`"]
             if data.get("pytensor_blas") else []),
           "- limits measured in this run (best sample, W8): "
           + (f"copy bandwidth {refs['copy_gbps']:.3g} GB/s (best of 1 and all cores), "
              if "copy_gbps" in refs else "")
           + (f"dgemm {refs['dgemm_gflops']:.3g} GFLOP/s, " if "dgemm_gflops" in refs else "")
           + (f"sgemm {refs['sgemm_gflops']:.3g} GFLOP/s" if "sgemm_gflops" in refs else ""),
           "",
           "Each cell: median time per call · **ratio = peer time / aotsym time** (above 1: "
           "aotsym is faster; below 1: the peer is) · fraction of the machine's limit "
           "(effective bandwidth, bytes read + written, over the copy bandwidth; or GFLOP/s "
           "over NumPy's dgemm/sgemm).  ✓: aotsym's result equals NumPy's (`np.allclose`).",
           "",
           f"Implementations: aotsym (`aotsym.function`, default mode FAST_RUN; engine: "
           f"{data.get('aotsym_engine', '?')}); "
           + "; ".join(f"{LABELS[k]}: {DESCRIPTIONS[k]}" for k in impls if k in DESCRIPTIONS)
           + ".", ""]
    busy = [w for w in data["workloads"] if (w.get("other_cpu") or 0) > DISTURBED]
    if (data.get("other_cpu") or 0) > DISTURBED or busy:
        out += [f"**Disturbed run:** other processes used {data['other_cpu']:.0%} of the CPUs "
                "during it (" + ", ".join(f"{w['id']} {w['other_cpu']:.0%}" for w in busy)
                + "); those timings are less trustworthy than the ratios of a quiet run.", ""]
    if data.get("problems"):
        out += ["**aotsym problems in this run:**", ""]
        out += [f"- {p}" for p in data["problems"]] + [""]
    if chart:
        out += [f"![ratios: peer time / aotsym time]({chart})", ""]
    summary = headline(data)
    if summary:
        out += ["## Headline", "", "Ratio = peer time / aotsym time, per case; above 1 aotsym "
                "is faster.", ""] + summary + [""]
    for w in data["workloads"]:
        footnotes: list[str] = []
        body = w["about"].split("\n\n", 1)[1:]   # the docstring less its title line
        out += [f"## {w['id']} — {w['title']}", ""] + body + [""]
        cols = [i for i in impls if any(i in c["results"] for c in w["cases"])]
        out.append("| # | case | " + " | ".join(LABELS.get(c, c) for c in cols) + " |")
        out.append("|---" * (len(cols) + 2) + "|")
        for k, case in enumerate(w["cases"], 1):
            out.append(f"| {w['id']}.{k} | {case['name']} | "
                       + " | ".join(_cell(case, c, refs, footnotes) for c in cols) + " |")
        out.append("")
        for note in w.get("notes", []):
            out.append(f"- {note}")
        for k, note in enumerate(footnotes, 1):
            out.append(f"- [{k}] {note}")
        if w.get("notes") or footnotes:
            out.append("")
    return "\n".join(out).replace("\n\n\n", "\n\n")


def headline(data: dict) -> list[str]:
    """A table: per peer, the geometric mean of the run-time ratios, where each side wins,
    and the build-time ratios apart (they are not the same kind of number)."""
    import math
    rows = []
    for impl in data["impls"]:
        if impl == "aotsym":
            continue
        run, build = [], []
        for w in data["workloads"]:
            for k, c in enumerate(w["cases"], 1):
                q = ratio(c, impl)
                if q:
                    (build if c.get("unit") == "build" else run).append((f"{w['id']}.{k}", q))
        if not run and not build:
            continue
        geo = f"{math.exp(sum(math.log(q) for _, q in run) / len(run)):.2f}" if run else "–"
        ahead = ", ".join(f"{wid} {q:.2f}" for wid, q in run if q >= 1) or "none"
        behind = ", ".join(f"{wid} {q:.2f}" for wid, q in run if q < 1) or "none"
        builds = ", ".join(f"{cid} {q:.2f}" for cid, q in build) or "–"
        rows.append(f"| {LABELS[impl]} | {len(run)} | {geo} | {ahead} | {behind} | {builds} |")
    if not rows:
        return []
    return ["| peer | run-time cases | geometric mean ratio | aotsym faster (ratio) | "
            "peer faster (ratio) | build-time ratios (W7) |", "|---|---|---|---|---|---|"] + rows


def chart(data: dict, path: str) -> str | None:
    """A horizontal bar chart of the ratios (log scale); None without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    peers = [i for i in data["impls"] if i != "aotsym"]
    rows = []
    for w in data["workloads"]:
        for k, c in enumerate(w["cases"], 1):
            qs = {p: ratio(c, p) for p in peers}
            if any(qs.values()):
                rows.append((f"{w['id']}.{k} {c['name']}".replace("`", ""), qs))
    height = max(3.0, 0.13 * len(rows) * max(1, len(peers)) + 1.5)
    fig, ax = plt.subplots(figsize=(11, height))
    bar = 0.8 / max(1, len(peers))
    for k, p in enumerate(peers):
        ys = [i + k * bar for i, (_, qs) in enumerate(rows) if qs[p]]
        xs = [qs[p] for _, qs in rows if qs[p]]
        if xs:  # from 1: left of it the peer is faster, right of it aotsym
            ax.barh(ys, [x - 1 for x in xs], height=bar, left=1, label=LABELS[p])
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_yticks([i + 0.4 - bar / 2 for i in range(len(rows))])
    ax.set_yticklabels([r[0] for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("peer time / aotsym time  (right of 1: aotsym faster; left: the peer)")
    ax.set_title(f"aotsym vs peers — {data['machine']['cpu']}, {data['date'][:10]}, "
                 f"profile {data['profile']}", fontsize=9)
    if not rows:
        ax.text(0.5, 0.5, "no aotsym result to compare", transform=ax.transAxes, ha="center")
    else:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def write_markdown(data: dict, path: str) -> list[str]:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    png = os.path.join(os.path.dirname(os.path.abspath(path)), CHART_NAME)
    written = []
    if chart(data, png):
        written.append(png)
    with open(path, "w") as fh:
        fh.write(markdown(data, CHART_NAME if written else None))
    return [path] + written


if __name__ == "__main__":
    import json
    with open(sys.argv[1]) as fh:
        run = json.load(fh)
    for p in write_markdown(run, sys.argv[2] if len(sys.argv) > 2 else DEFAULT_MARKDOWN):
        print("wrote", p)
