"""``aotsym profile-report profile.json [--html report.html] [--trace trace.json]``: pictures
of a profile.

Part of the build stage (emit_c -> **build** -> module.so).  ``aotsym/cli.py`` registers this
subcommand through :func:`add_arguments` and :func:`run`.  Its input is a report as a profile
build's ``profile()`` returns it (:mod:`aotsym.build.profiling`), saved with ``json.dump``:

* :func:`html_page`: one self-contained page (no script, no network): per function the
  summary, an inline SVG bar chart of the time per op, the memory timeline of the last call
  (live pool bytes after each step) and the top steps;
* :func:`trace_events`: the Chrome trace-event format (Perfetto, chrome://tracing): per
  function (one ``tid`` each) a complete ``"X"`` event for its last call and one per step of
  that call, at the times the counters recorded — a structured step's body steps lie inside
  it, so they nest — and ``"C"`` counter events with the live bytes after each step.

Only the standard library: the report is plain data.
"""

from __future__ import annotations

import html
import json
import sys

BAR_COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1")


# ------------------------------------------------------------------------------ the trace


def trace_events(report) -> dict:
    """The report's last calls as a Chrome trace (``{"traceEvents": [...], ...}``)."""
    events = [{"name": "process_name", "ph": "M", "pid": 1, "tid": 0,
               "args": {"name": f"aotsym {report.get('module') or ''}".strip()}}]
    starts = [f["last_call"]["begin_ns"] for f in report["functions"].values()
              if f["calls"] and f["last_call"]["begin_ns"]]
    origin = min(starts) if starts else 0
    for tid, (name, f) in enumerate(report["functions"].items(), 1):
        events.append({"name": "thread_name", "ph": "M", "pid": 1, "tid": tid,
                       "args": {"name": name}})
        if not f["calls"]:
            continue
        call = f["last_call"]
        events.append({"name": f"{name}()", "cat": "function", "ph": "X", "pid": 1,
                       "tid": tid, "ts": (call["begin_ns"] - origin) / 1000.0,
                       "dur": call["dur_ns"] / 1000.0,
                       "args": {"calls": f["calls"], "seconds": f["time"]["run_s"]}})
        for s in sorted((s for s in f["steps"] if s["last"]), key=_start_then_longest):
            events.append({
                "name": s["op"], "cat": s["kind"], "ph": "X", "pid": 1, "tid": tid,
                "ts": (s["last"]["begin_ns"] - origin) / 1000.0,
                "dur": s["last"]["dur_ns"] / 1000.0,
                "args": {"step": s["path"], "apply": s["name"], "calls": s["calls"],
                         "total_s": s["seconds"], "self_s": s["self_seconds"],
                         "outputs": [{"shape": o["shape"], "dtype": o["dtype"],
                                      "storage": o["storage"]} for o in s["outputs"]]}})
        for point in f["memory"]["timeline"]:
            events.append({"name": f"{name} live bytes", "ph": "C", "pid": 1, "tid": tid,
                           "ts": (point["t_ns"] - origin) / 1000.0,
                           "args": {"live": point["live"]}})
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"format": report.get("format"), "module": report.get("module")}}


def _start_then_longest(s):
    return (s["last"]["begin_ns"], -s["last"]["dur_ns"])


# ------------------------------------------------------------------------------ the page


def _bar_chart(rows, width=720, bar=18) -> str:
    """Horizontal bars: time per op."""
    rows = [r for r in rows if r["seconds"] > 0][:25] or rows[:1]
    top = max((r["seconds"] for r in rows), default=0.0) or 1.0
    label_w, height = 300, bar * len(rows) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="time per op">']
    for k, r in enumerate(rows):
        y = 5 + k * bar
        w = (width - label_w - 110) * r["seconds"] / top
        name = r["name"] if len(r["name"]) <= 45 else r["name"][:42] + "..."
        parts.append(f'<text x="{label_w - 6}" y="{y + bar * 0.7:.1f}" text-anchor="end" '
                     f'font-size="11">{html.escape(name)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{bar - 4}" '
                     f'fill="{BAR_COLORS[k % len(BAR_COLORS)]}"><title>'
                     f'{html.escape(r["name"])}: {r["seconds"]:.3e}s in {r["calls"]} calls'
                     '</title></rect>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar * 0.7:.1f}" '
                     f'font-size="11">{r["seconds"] * 1e3:.3f} ms</text>')
    parts.append("</svg>")
    return "".join(parts)


def _memory_chart(points, width=720, height=180) -> str:
    """A step line: live bytes after each step of the last call."""
    if not points:
        return "<p>(no call recorded)</p>"
    top = max(p["live"] or 0 for p in points) or 1
    left, bottom = 70, height - 25
    step_w = (width - left - 10) / max(1, len(points))
    coords = []
    for k, p in enumerate(points):
        y = bottom - (bottom - 10) * (p["live"] or 0) / top
        coords += [f"{left + k * step_w:.1f},{y:.1f}", f"{left + (k + 1) * step_w:.1f},{y:.1f}"]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'role="img" aria-label="memory timeline">'
            f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#888"/>'
            f'<line x1="{left}" y1="10" x2="{left}" y2="{bottom}" stroke="#888"/>'
            f'<text x="{left - 4}" y="16" text-anchor="end" font-size="11">{_bytes(top)}</text>'
            f'<text x="{left - 4}" y="{bottom}" text-anchor="end" font-size="11">0</text>'
            f'<text x="{left}" y="{height - 6}" font-size="11">steps of the last call, in the '
            f'order they ended ({len(points)})</text>'
            f'<polyline fill="none" stroke="#e15759" stroke-width="2" '
            f'points="{" ".join(coords)}"/></svg>')


def _bytes(n) -> str:
    n = float(n or 0)
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.1f}GB"


def html_page(report) -> str:
    """The report as one self-contained HTML page (no script, no external resource)."""
    e = html.escape
    title = f"aotsym profile: {report.get('module') or ''}"
    body = [f"<h1>{e(title)}</h1>"]
    for name, f in report["functions"].items():
        t, m = f["time"], f["memory"]
        outer = t.get("python_s", t["entry_s"])
        body.append(f"<h2>{e(name)}()</h2>")
        body.append(
            "<table class='summary'>"
            f"<tr><th>calls</th><td>{f['calls']}</td></tr>"
            f"<tr><th>time in calls</th><td>{outer:.6e} s</td></tr>"
            f"<tr><th>time in steps</th><td>{t['steps_s']:.6e} s</td></tr>"
            f"<tr><th>overhead</th><td>{t['overhead_s']:.6e} s</td></tr>"
            f"<tr><th>memory peak</th><td>{_bytes(m['peak_bytes'])}</td></tr>"
            f"<tr><th>saved by views / in place</th><td>{_bytes(m['saved_by_view'])} / "
            f"{_bytes(m['saved_by_inplace'])}</td></tr></table>")
        body.append("<h3>Time per op</h3>" + _bar_chart(f["ops"]))
        body.append("<h3>Memory timeline (last call)</h3>" + _memory_chart(m["timeline"]))
        body.append("<h3>Steps</h3><table><tr><th>step</th><th>apply</th><th>calls</th>"
                    "<th>self s</th><th>outputs</th></tr>")
        for s in sorted(f["steps"], key=lambda s: -s["self_seconds"])[:50]:
            outs = ", ".join(f"{o['dtype']}{tuple(o['shape']) if o['shape'] is not None else '?'}"
                             f" {o['storage']}" for o in s["outputs"])
            body.append(f"<tr><td>{e(s['path'])}</td><td>{e(s['name'])}</td>"
                        f"<td>{s['calls']}</td><td>{s['self_seconds']:.3e}</td>"
                        f"<td>{e(outs)}</td></tr>")
        body.append("</table>")
        if f["tips"]:
            body.append("<h3>Tips</h3><ul>" + "".join(f"<li>{e(x)}</li>" for x in f["tips"])
                        + "</ul>")
    style = ("body{font-family:sans-serif;margin:2em;max-width:1000px}"
             "table{border-collapse:collapse;font-size:12px;margin:0.5em 0}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}")
    return (f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{e(title)}</title>"
            f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


# ------------------------------------------------------------------------------ the command


def add_arguments(parser) -> None:
    parser.add_argument("profile", help="a report saved as JSON (json.dump(NAME.profile(), f))")
    parser.add_argument("--html", help="write a self-contained HTML page here")
    parser.add_argument("--trace", help="write a Chrome trace-event file here (Perfetto, "
                        "chrome://tracing)")


def run(args) -> int:
    try:
        with open(args.profile) as fh:
            report = json.load(fh)
    except (OSError, ValueError) as exc:
        print(f"aotsym profile-report: cannot read {args.profile}: {exc}", file=sys.stderr)
        return 1
    if not isinstance(report, dict) or "functions" not in report:
        print(f"aotsym profile-report: {args.profile} is not an aotsym profile (save the "
              "dict that a profile build's profile() returns)", file=sys.stderr)
        return 1
    if not args.html and not args.trace:
        from aotsym.build.profiling import print_report
        print_report(report)
        return 0
    if args.html:
        with open(args.html, "w") as fh:
            fh.write(html_page(report))
        print(f"wrote {args.html}")
    if args.trace:
        with open(args.trace, "w") as fh:
            json.dump(trace_events(report), fh)
        print(f"wrote {args.trace}")
    return 0
