"""Formatting a run: console lines while it goes, RESULTS.md and the chart of ratios after.

Everything here reads the run's JSON-shaped dict, so a saved ``--json`` file can be
re-rendered: ``python -m benchmarks.report run.json [RESULTS.md]``.

The ratio is always *peer time / aotsym time*: above 1 aotsym is faster, below 1 the peer
is.  Fractions of the limit: effective GB/s over the copy bandwidth, GFLOP/s over NumPy's
dgemm (float64) or sgemm (float32) — both measured in the same run (W8).

Beside aotsym's times, the figures that do not depend on the clock: the least bytes a call
must move (its inputs read once, its outputs written once) with the bandwidth that makes at
the measured time, and the instructions per call counted under callgrind (the small cases).
``aotsym-1t`` is aotsym with ``AOTSYM_NUM_THREADS=1``; its "ratio" is its time over
aotsym's with the threads left unset, and a case where unset is more than
``THREADS_SLOWER`` slower is flagged.
"""

from __future__ import annotations

import os
import sys

from benchmarks.core import OK, TIMEOUT
from benchmarks.peers import DESCRIPTIONS, LABELS

DISTURBED = 0.10   # share of the CPUs taken by other processes that the report flags
THREADS_SLOWER = 0.05  # aotsym with its threads unset this much slower than =1 is flagged
DEFAULT_MARKDOWN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
CHART_NAME = "results.png"


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_count(n: float) -> str:
    for scale, unit in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if n >= scale:
            return f"{n / scale:.3g}{unit}"
    return f"{n:.3g}"


def fmt_bytes(n: float) -> str:
    return fmt_count(n) + "B" if n >= 1e3 else f"{n:g} B"


def ratio(case: dict, impl: str):
    """peer time / aotsym time, or None; for a variant timed beside its own baseline (a
    paired child: aotsym-1t), its time over that baseline's."""
    r = case["results"].get(impl, {})
    mine = r.get("extra", {}).get("baseline_median") or \
        case["results"].get("aotsym", {}).get("median")
    other = r.get("median")
    if impl == "aotsym" or not mine or not other:
        return None
    return other / mine


def limit_fraction(case: dict, impl: str, refs: dict):
    """(text, fraction) of the machine's limit reached, or (None, None)."""
    med = case["results"].get(impl, {}).get("median")
    if not med or case.get("unit") != "time":
        return None, None
    limit = case.get("limit", "auto")
    if limit == "auto":
        limit = "flops" if case.get("flops") else "bandwidth"
    if limit == "bandwidth" and case.get("bytes") and refs.get("copy_gbps"):
        gbps = case["bytes"] / med / 1e9
        frac = gbps / refs["copy_gbps"]
        return f"{gbps:.3g} GB/s = {frac:.0%} of copy", frac
    key = "sgemm_gflops" if case.get("dtype") == "float32" else "dgemm_gflops"
    if limit == "flops" and case.get("flops") and refs.get(key):
        gflops = case["flops"] / med / 1e9
        frac = gflops / refs[key]
        return f"{gflops:.3g} GFLOP/s = {frac:.0%} of {key[:5]}", frac
    return None, None


def status_text(r: dict) -> str:
    if r["status"] == TIMEOUT:
        return f"> {r.get('extra', {}).get('timeout_s', '?')} s"
    return r["status"]


def stage_text(r: dict) -> str:
    """" (graph 1 ms, optimize 2 ms, ...)" for a build time split into stages, " (unset
    1 ms)" for a time beside its paired baseline, else ""."""
    extra = r.get("extra", {})
    # a build found in the cache by its graph key has no optimizer stage: its ``function``
    # call (the key, the lookup, loading) is shown whole, beside the user's graph building
    shown = ("total_s", "timeout_s") if "graph_s" in extra and "optimize_s" not in extra \
        else ("total_s", "function_s", "timeout_s")
    stages = [f"{k[:-2]} {fmt_time(v)}" for k, v in extra.items()
              if k.endswith("_s") and k not in shown and v >= 0.0005]
    if stages:
        return f" ({', '.join(stages)})"
    base = r.get("extra", {}).get("baseline_median")
    return f" (unset {fmt_time(base)})" if base else ""


def figures(case: dict) -> str:
    """aotsym's clock-free figures: "2.51 MB → 17.8 GB/s · 1.02 M instr/call", or ""."""
    r = case["results"].get("aotsym")
    if r is None:
        return ""
    parts = []
    if case.get("bytes") and case.get("unit") == "time":
        text = fmt_bytes(case["bytes"])
        if r.get("median"):
            text += f" → {case['bytes'] / r['median'] / 1e9:.3g} GB/s"
        parts.append(text)
    extra = r.get("extra", {})
    if "instructions" in extra:
        parts.append(f"{fmt_count(extra['instructions'])} instr/call")
    elif "instructions_error" in extra:
        parts.append(f"instructions not counted ({extra['instructions_error']})")
    return " · ".join(parts)


def threads_unset_slower(case: dict):
    """How much slower aotsym with its threads unset is than with AOTSYM_NUM_THREADS=1 (a
    fraction; negative: faster), or None without both times.  Unset: the child timed just
    before the =1 child, or (without it) the runner's own measurement."""
    q = ratio(case, "aotsym-1t")
    return 1 / q - 1 if q else None


def threads_slower(data: dict) -> list[str]:
    """A line per case where aotsym with its threads unset is more than THREADS_SLOWER
    slower than with AOTSYM_NUM_THREADS=1."""
    out = []
    for w in data["workloads"]:
        for k, case in enumerate(w["cases"], 1):
            q = threads_unset_slower(case)
            if q is not None and q > THREADS_SLOWER:
                one = case["results"]["aotsym-1t"]["median"]
                out.append(f"{w['id']}.{k} {case['name']}: aotsym with threads unset "
                           f"{q:.0%} slower than AOTSYM_NUM_THREADS=1 "
                           f"({fmt_time(one * (1 + q))} vs {fmt_time(one)})")
    return out


def load_text(load: dict | None) -> str:
    if not load:
        return "none (no `--load`)"
    where = f"pinned to core {load['core']}" if load.get("core") is not None else "unpinned"
    return (f"{load['processes']} process spinning ({load['what']}, {where}) for the whole "
            "run (`--load`)")


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
        lines.append(f"    {LABELS.get(impl, impl):15} {text}")
    more = figures(case)
    if more:
        lines.append(f"    {'':15} aotsym: {more}")
    q = threads_unset_slower(case)
    if q is not None and q > THREADS_SLOWER:
        lines.append(f"    !! aotsym with threads unset is {q:.0%} slower than "
                     "AOTSYM_NUM_THREADS=1")
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
    if impl.startswith("aotsym") and impl != "aotsym-profile" and r.get("check") == "ok":
        text += " ✓"
    q = threads_unset_slower(case) if impl == "aotsym-1t" else None
    if q is not None and q > THREADS_SLOWER:
        text += f" ⚠ unset {q:.0%} slower"
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
           f"- load: {load_text(m.get('load'))}"
           + ("; the load's own CPU time is not counted as other processes'"
              if m.get("load") else ""),
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
           "Last column, aotsym's figures that do not depend on the clock: the least bytes a "
           "call must move (its inputs read once, its outputs written once, from the shapes "
           "and dtypes) → the bandwidth that makes at aotsym's median time; and, for the "
           "small cases, the instructions per call counted by `valgrind --tool=callgrind` "
           "(one thread, over many calls, less a do-nothing call; "
           + ("counted in this run" if data.get("callgrind") else "not counted in this run")
           + ").", "",
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
    if data.get("one_thread"):
        slower = data.get("threads_slower") or threads_slower(data)
        out += [f"**Threads unset vs `AOTSYM_NUM_THREADS=1`** (column aotsym 1 thread; "
                f"flagged where unset is more than {THREADS_SLOWER:.0%} slower): "
                + ("none flagged." if not slower else ""), ""]
        out += [f"- {line}" for line in slower] + ([""] if slower else [])
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
        more = [figures(c) for c in w["cases"]]
        head = [LABELS.get(c, c) for c in cols] + (
            ["aotsym: least bytes → GB/s · instr/call"] if any(more) else [])
        out.append("| # | case | " + " | ".join(head) + " |")
        out.append("|---" * (len(head) + 2) + "|")
        for k, case in enumerate(w["cases"], 1):
            cells = [_cell(case, c, refs, footnotes) for c in cols]
            if any(more):
                cells.append(more[k - 1] or "–")
            out.append(f"| {w['id']}.{k} | {case['name']} | " + " | ".join(cells) + " |")
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
