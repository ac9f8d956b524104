"""Profiles of profile builds: what the counters mean, gathered into one report, printed.

Part of the build stage (emit_c -> **build** -> module.so).  A profile build
(``aotsym build --profile``, ``aotsym.function(..., profile=True)``, ``mode="PROFILE_MODE"``,
the flag ``profile=True``) carries the counters of ``runtime/aotsym_profile.h``, indexed by
the lowered program's step numbers.  Two halves meet here:

* at build time, :func:`describe_function` turns one function's lowered program and what
  the emitter reports about its counters (``EmittedFunction.counters``) into a *layout*:
  plain, JSON-serializable data saying, per step number, which node it runs (op, op class,
  the apply's description with the user's line), where it sits (its parent structured step
  and body), its operands (dtype, which row of the counters' ``dims`` holds their shapes and
  strides) and each output's storage (a fresh buffer, a view, in place), plus the compile
  times.  A standalone package keeps it in ``_profile.json``;
* at run time, :func:`collect` reads the module's raw counters (``_profile(index)``) and
  joins them with the layouts: the report, a JSON-serializable dict (``FORMAT``) that
  :func:`format_report` prints in the layout Theano users know (function summary, Class,
  Ops, Apply with shapes, Memory, structured steps, Rewrites, tips) and
  :mod:`aotsym.build.profile_report` draws (HTML, Chrome trace).

Times are CLOCK_MONOTONIC nanoseconds measured in C.  A structured step's (BLOCK, BRANCH,
LOOP) own time is its total minus its body steps' (the ``self`` time): the body steps are
reported as the inner graph's nodes they run, the structured step's own time as its
overhead.  Memory counts pool blocks allocated during a call (their capacity) for the peak,
and the bytes each step asked for.

This file needs only the standard library and NumPy: a standalone package carries a copy
(``NAME/_profiling.py``) and prints its own report without aotsym installed.
"""

import json
import math
import sys

import numpy as np

FORMAT = "aotsym-profile/1"
STRUCTURED_KINDS = ("block", "branch", "loop")
SHORT_STORAGE = {"alloc": "c", "inplace": "i", "view": "v"}


# ------------------------------------------------------------------------------ build time


def describe_function(name, index, program, emitted, compile_info=None) -> dict:
    """The layout of one function's counters (module docstring): ``program`` its lowered
    program, ``emitted`` its ``EmittedFunction`` (a profile build's, whose ``counters`` say
    where the shapes and body counts are kept), ``compile_info`` what building it took
    (:func:`compile_info`)."""
    counters = emitted.counters
    slot_dims = counters.get("slot_dims", [])
    slots = program.slots
    descriptions = list(emitted.node_descriptions)

    def operand(s):
        slot = slots[s]
        entry = {"slot": s, "dtype": slot.dtype, "ndim": slot.ndim,
                 "itemsize": int(np.dtype(slot.dtype).itemsize),
                 "dims": slot_dims[s] if s < len(slot_dims) else None, "role": slot.role,
                 "name": getattr(slot.var, "name", None)}
        if slot.role == "const":
            entry["shape"] = [int(d) for d in np.shape(slot.var.data)]
        return entry

    steps, seen = [], set()
    stack = [(s, None, None, 0) for s in reversed(program.steps + program.commits)]
    while stack:
        step, parent, body_index, depth = stack.pop()
        number = step.id.number
        if number in seen:          # a state write's commit half: the prepare's id
            continue
        seen.add(number)
        op = step.node.op
        cls = type(op)
        outputs = []
        for plan in step.outputs:
            out = operand(plan.slot)
            out["storage"] = plan.storage
            out["source"] = plan.source
            outputs.append(out)
        steps.append({
            "number": number, "path": str(step.id), "kind": step.kind,
            "parent": parent, "body": body_index, "depth": depth,
            "op": str(op), "class": f"{cls.__module__}.{cls.__qualname__}",
            "class_name": cls.__name__,
            "apply": descriptions[number] if number < len(descriptions) else str(op),
            "name": f"{op}({', '.join(_label(v) for v in step.node.inputs)})",
            "inputs": [operand(s) for s in step.inputs], "outputs": outputs,
            "counters": list(counters.get("bodies", {}).get(number, [])),
            "n_bodies": len(step.body),
        })
        for k in reversed(range(len(step.body))):
            body = step.body[k]
            stack.extend((s, number, k, depth + 1) for s in reversed(body.steps + body.commits))
    steps.sort(key=lambda s: s["number"])
    arguments = [operand(s) for s in program.inputs]
    return {"name": name, "index": index, "n_steps": len(descriptions),
            "arguments": arguments, "steps": steps, "compile": compile_info or {}}


def _label(var) -> str:
    """How the Apply table names an input: its name, ``Op.k`` of its producer, or the
    constant (Theano's ``TensorConstant{...}``)."""
    if getattr(var, "name", None):
        return var.name
    if var.owner is not None:
        return f"{var.owner.op}.{var.owner.outputs.index(var)}"
    data = getattr(var, "data", None)
    if data is not None:
        data = np.asarray(data)
        text = str(data.tolist()) if data.size <= 4 else f"{data.shape} of {data.dtype}"
        return f"TensorConstant{{{text}}}"
    return f"<{var.type}>"


def compile_info(optimizer=None, seconds=None) -> dict:
    """What building a function took: the optimizer's summary (``stats_summary``: seconds,
    per stage seconds, per rewrite fire counts) and the other stages' seconds (``lower``,
    ``emit``, ``compile``, ``load``; a stage absent was not run, e.g. a cache hit)."""
    return {"optimizer": optimizer,
            "seconds": {k: round(float(v), 6) for k, v in (seconds or {}).items()}}


def save_layouts(path, layouts, module="", build=None):
    """Write a package's layouts (``_profile.json``)."""
    with open(path, "w") as fh:
        json.dump({"format": FORMAT, "module": module, "build": build or {},
                   "functions": layouts}, fh)


def load_layouts(path) -> dict:
    with open(path) as fh:
        return json.load(fh)


# ------------------------------------------------------------------------------ run time


def collect(fast, layouts, module="", build=None, python=None):
    """The report (module docstring) of the functions ``layouts`` (``{name: layout}``) of the
    loaded module ``fast``; None when it is not a profile build.  ``python``: per function,
    ``{"calls", "seconds"}`` measured around the Python-level call (``aotsym.function``)."""
    functions = {}
    for fname, layout in layouts.items():
        raw = fast._profile(layout["index"])
        if raw is None:
            return None
        functions[fname] = function_report(layout, raw, (python or {}).get(fname))
    try:
        pool = dict(fast._pool_stats())
    except (AttributeError, TypeError):
        pool = {}
    return {"format": FORMAT, "module": module, "clock": "CLOCK_MONOTONIC",
            "build": dict(build or {}), "pool": pool, "functions": functions}


def _seen(operand, dims):
    """(shape, strides) of an operand as last seen (constants: their own)."""
    nd = operand["ndim"]
    if operand["role"] == "const":
        shape = list(operand["shape"])
        return shape, _c_strides(shape, operand["itemsize"])
    off = operand["dims"]
    if off is None or off + 2 * nd > len(dims):
        return None, None
    return list(dims[off:off + nd]), list(dims[off + nd:off + 2 * nd])


def _c_strides(shape, itemsize):
    strides, s = [], itemsize
    for d in reversed(shape):
        strides.append(s)
        s *= max(int(d), 1)
    return list(reversed(strides))


def _contiguous(shape, strides, itemsize) -> bool:
    s = itemsize
    for d, st in zip(reversed(shape), reversed(strides)):
        if d == 0:
            return True
        if d != 1 and st != s:
            return False
        s *= d
    return True


def _operand_report(operand, dims, ran):
    shape, strides = _seen(operand, dims) if ran or operand["role"] == "const" else (None, None)
    entry = {"dtype": operand["dtype"], "role": operand["role"], "shape": shape,
             "strides": strides, "name": operand.get("name")}
    if shape is not None:
        entry["contiguous"] = _contiguous(shape, strides, operand["itemsize"])
        entry["bytes"] = int(math.prod(shape)) * operand["itemsize"]
    return entry


def function_report(layout, raw, python=None) -> dict:
    """One function's part of the report: its layout joined with its raw counters."""
    dims = raw["dims"]
    runs = raw["runs"]
    steps = []
    last_begin = raw["last_begin"]
    for st in layout["steps"]:
        n = st["number"]
        calls, ns = raw["calls"][n], raw["ns"][n]
        ran = calls > 0
        outputs = []
        for o in st["outputs"]:
            out = _operand_report(o, dims, ran)
            out["storage"] = o["storage"]
            outputs.append(out)
        in_last = ran and raw["begin"][n] >= last_begin and runs > 0
        steps.append({
            "number": n, "path": st["path"], "kind": st["kind"], "parent": st["parent"],
            "body": st["body"], "depth": st["depth"], "op": st["op"], "class": st["class"],
            "class_name": st["class_name"], "apply": st["apply"], "name": st["name"],
            "calls": calls, "seconds": ns * 1e-9, "self_seconds": ns * 1e-9,
            "per_call_s": ns * 1e-9 / calls if calls else 0.0,
            "bytes": raw["bytes"][n], "allocs": raw["allocs"][n],
            "live_after": raw["live"][n] if ran else None,
            "last": {"begin_ns": raw["begin"][n], "dur_ns": raw["dur"][n]} if in_last else None,
            "inputs": [_operand_report(o, dims, ran) for o in st["inputs"]],
            "outputs": outputs,
            "bodies": [{"index": k, "runs": raw["bodies"][c] if c < len(raw["bodies"]) else 0}
                       for k, c in enumerate(st["counters"])],
        })
    by_number = {s["number"]: s for s in steps}
    for s in steps:   # a structured step's own time: its total minus its body steps'
        if s["parent"] is not None and s["parent"] in by_number:
            by_number[s["parent"]]["self_seconds"] -= s["seconds"]
    for s in steps:
        s["self_seconds"] = max(0.0, s["self_seconds"])
    steps_s = sum(s["seconds"] for s in steps if s["parent"] is None)
    entry_s = raw["entry_ns"] * 1e-9
    time = {"calls": runs, "entry_calls": raw["entry_calls"], "entry_s": entry_s,
            "run_s": raw["run_ns"] * 1e-9, "steps_s": steps_s}
    if python:
        time["python_calls"] = python["calls"]
        time["python_s"] = python["seconds"]
    outer = time.get("python_s", entry_s) or time["run_s"]
    time["overhead_s"] = max(0.0, outer - steps_s)
    time["per_call_s"] = outer / runs if runs else 0.0
    report = {
        "name": layout["name"], "index": layout["index"], "calls": runs,
        "failures": raw["failures"], "time": time,
        "compile": layout.get("compile", {}),
        "arguments": [_operand_report(a, dims, runs > 0) for a in layout["arguments"]],
        "steps": steps,
        "memory": _memory(steps, raw, runs),
    }
    report["ops"] = _aggregate(steps, "op")
    report["classes"] = _aggregate(steps, "class")
    report["structured"] = [_structured(s) for s in steps if s["kind"] in STRUCTURED_KINDS]
    report["last_call"] = {"begin_ns": raw["last_begin"], "dur_ns": raw["last_dur"]}
    report["tips"] = tips(report)
    return report


def _memory(steps, raw, runs) -> dict:
    per = 1.0 / runs if runs else 0.0
    allocated = sum(raw["bytes"]) * per
    saved = {"view": 0.0, "inplace": 0.0}
    for s in steps:
        for o in s["outputs"]:
            if o["storage"] in saved and o.get("bytes") is not None:
                saved[o["storage"]] += o["bytes"] * s["calls"] * per
    timeline = sorted((s for s in steps if s["last"] is not None),
                      key=lambda s: s["last"]["begin_ns"] + s["last"]["dur_ns"])
    return {
        "peak_bytes": raw["peak"], "last_peak_bytes": raw["last_peak"],
        "allocated_per_call": allocated,
        "output_copies_per_call": raw["bytes"][-1] * per,
        "saved_by_view": saved["view"], "saved_by_inplace": saved["inplace"],
        "saved_by_release": max(0.0, allocated - raw["last_peak"]),
        "max_without_release": allocated,
        "max_without_view_inplace_release": allocated + saved["view"] + saved["inplace"],
        "timeline": [{"step": s["number"], "live": s["live_after"],
                      "t_ns": s["last"]["begin_ns"] + s["last"]["dur_ns"]} for s in timeline],
    }


def _aggregate(steps, key) -> list:
    rows: dict = {}
    for s in steps:
        row = rows.setdefault(s[key], {"name": s[key], "class": s["class"], "seconds": 0.0,
                                       "calls": 0, "applies": 0, "bytes": 0})
        row["seconds"] += s["self_seconds"]
        row["calls"] += s["calls"]
        row["applies"] += 1
        row["bytes"] += s["bytes"]
    for row in rows.values():
        row["per_call_s"] = row["seconds"] / row["calls"] if row["calls"] else 0.0
    return sorted(rows.values(), key=lambda r: -r["seconds"])


def _structured(s) -> dict:
    entry = {"number": s["number"], "kind": s["kind"], "op": s["op"], "calls": s["calls"],
             "seconds": s["seconds"], "overhead_s": s["self_seconds"],
             "bodies": [dict(b, per_call=b["runs"] / s["calls"] if s["calls"] else 0.0)
                        for b in s["bodies"]]}
    if s["kind"] == "loop" and entry["bodies"]:
        entry["iterations_per_call"] = entry["bodies"][0]["per_call"]
    return entry


def tips(report) -> list:
    """Suggestions from what the profile saw (Theano's "Here are tips ...")."""
    out = []
    steps = report["steps"]
    f64_args = [a.get("name") or f"argument {k}" for k, a in enumerate(report["arguments"])
                if a["dtype"] == "float64"]
    if f64_args:
        out.append(f"float64 inputs ({', '.join(map(str, f64_args))}) in a graph that could "
                   "be float32: try the flag floatX=float32 (AOTSYM_FLAGS=floatX=float32) and "
                   "float32 data; it halves the memory traffic")
    for k, a in enumerate(report["arguments"]):
        if a.get("contiguous") is False:
            readers = [s for s in steps if s["bytes"] and any(
                i["role"] == "input" and i.get("contiguous") is False for i in s["inputs"])]
            copied = f"; {readers[0]['op']} copies it on every call" if readers else ""
            out.append(f"a non-contiguous input ({a.get('name') or f'argument {k}'}, strides "
                       f"{a['strides']}) is read through strides{copied}: pass "
                       "np.ascontiguousarray(...) once, outside the loop")
    dots = [s for s in steps if s["class_name"] == "Dot"]
    if dots:
        out.append(f"a dot left unfused: {dots[0]['name']} runs as a plain "
                   "Dot, not a BLAS Gemv/Gemm with its scale and addition fused in (a matrix "
                   "product whose result is added to or scaled may be written as "
                   "alpha*dot(a, b) + beta*c)")
    t = report["time"]
    outer = t.get("python_s", t["entry_s"])
    if report["calls"] and outer > 0 and t["overhead_s"] > 0.5 * outer:
        out.append(f"{100 * t['overhead_s'] / outer:.0f}% of the time is spent outside the "
                   "graph's steps (argument checks, calls from Python): give each call more "
                   "work (bigger batches)")
    return out


# ------------------------------------------------------------------------------ printing


def _fmt_bytes(n) -> str:
    n = float(n or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.1f}GB"


def _fmt_strides(o) -> str:
    if o["strides"] is None:
        return "?"
    return "c" if o.get("contiguous") and o["strides"] == _c_strides(
        o["shape"], np.dtype(o["dtype"]).itemsize) else str(tuple(o["strides"]))


def _table(lines, rows, total, name_of, extra_of, limit, what):
    cum = 0.0
    for row in rows[:limit]:
        cum += row["seconds"]
        pct = 100 * row["seconds"] / total if total else 0.0
        cpct = 100 * cum / total if total else 0.0
        lines.append(f"  {pct:6.1f}%  {cpct:6.1f}%  {row['seconds']:10.6f}s  "
                     f"{row['per_call_s']:10.2e}s  {extra_of(row)}  {name_of(row)}")
    rest = rows[limit:]
    if rest or limit == 0:
        sec = sum(r["seconds"] for r in rest)
        pct = 100 * sec / total if total else 0.0
        lines.append(f"   ... (remaining {len(rest)} {what} account for {pct:6.2f}%"
                     f"({sec:.2f}s) of the runtime)")


def format_function(f, n_ops=20, n_apply=20) -> str:
    """One function's report as text (the seeds' layout)."""
    t, c = f["time"], f.get("compile", {})
    calls = f["calls"]
    outer = t.get("python_s", t["entry_s"])
    lines = ["Function profiling", "==================",
             f"  Message: {f['name']}()",
             f"  Time in {calls} calls to {f['name']}(): {outer:e}s"]
    if "python_s" in t:
        lines.append(f"  Time in the compiled module's entry (checks, run, outputs): "
                     f"{t['entry_s']:e}s ({_pct(t['entry_s'], outer)})")
    lines += [f"  Time in the run: {t['run_s']:e}s ({_pct(t['run_s'], outer)})",
              f"  Time in steps: {t['steps_s']:e}s ({_pct(t['steps_s'], outer)})",
              f"  Overhead (outside the steps): {t['overhead_s']:e}s "
              f"({_pct(t['overhead_s'], outer)})"]
    if f.get("failures"):
        lines.append(f"  Failed calls: {f['failures']}")
    seconds = dict(c.get("seconds") or {})
    opt = c.get("optimizer") or {}
    total_compile = sum(seconds.values()) + (opt.get("seconds") or 0.0)
    lines.append(f"  Total compile time: {total_compile:e}s")
    lines.append(f"    Number of steps: {len(f['steps'])}")
    if opt:
        lines.append(f"    Optimizer time: {opt.get('seconds', 0.0):e}s "
                     f"(mode {opt.get('mode', '?')})")
        for stage, sec in (opt.get("stages") or {}).items():
            lines.append(f"       {stage}: {sec:e}s")
    names = {"lower": "Lowering time", "emit": "Emit time (C code generation)",
             "compile": "C compile time", "load": "Import time"}
    for key, label in names.items():
        if key in seconds:
            lines.append(f"    {label}: {seconds[key]:e}s")
    if "compile" not in seconds and seconds:
        lines.append("    C compile time: 0 (the module came from the cache)")
    lines.append("")
    total = sum(s["self_seconds"] for s in f["steps"])
    lines += ["Class", "---",
              "<% time> <sum %> <apply time> <time per call> <#call> <#apply> <Class name>"]
    _table(lines, f["classes"], total, lambda r: r["name"],
           lambda r: f"{r['calls']:7d} {r['applies']:5d}", n_ops, "Classes")
    lines += ["", "Ops", "---",
              "<% time> <sum %> <apply time> <time per call> <#call> <#apply> <Op name>"]
    _table(lines, f["ops"], total, lambda r: r["name"],
           lambda r: f"{r['calls']:7d} {r['applies']:5d}", n_ops, "Ops")
    lines += ["", "Apply", "------",
              "<% time> <sum %> <apply time> <time per call> <#call> <id> <Apply name>"]
    ranked = sorted(f["steps"], key=lambda s: -s["self_seconds"])
    cum = 0.0
    for s in ranked[:n_apply]:
        cum += s["self_seconds"]
        kind = "" if s["kind"] in ("apply", "prepare", "commit") else f" [{s['kind']}, own time]"
        lines.append(f"  {_pct(s['self_seconds'], total, 6)}  {_pct(cum, total, 6)}  "
                     f"{s['self_seconds']:10.6f}s  {s['per_call_s']:10.2e}s  {s['calls']:7d} "
                     f"{s['path']:>6}  {s['name']}{kind}")
        for k, o in enumerate(s["inputs"]):
            lines.append(f"    input {k}: dtype={o['dtype']}, shape={_shape(o)}, "
                         f"strides={_fmt_strides(o)}")
        for k, o in enumerate(s["outputs"]):
            lines.append(f"    output {k}: dtype={o['dtype']}, shape={_shape(o)}, "
                         f"strides={_fmt_strides(o)}, {o['storage']}")
    rest = ranked[n_apply:]
    if rest:
        sec = sum(s["self_seconds"] for s in rest)
        lines.append(f"   ... (remaining {len(rest)} Apply instances account for "
                     f"{_pct(sec, total)}({sec:.2f}s) of the runtime)")
    m = f["memory"]
    lines += ["", "Memory Profile", "(pool blocks held by one call; views, in-place writes and "
              "releases from the lowered program)", "---",
              f"    Peak: {_fmt_bytes(m['peak_bytes'])} (last call "
              f"{_fmt_bytes(m['last_peak_bytes'])})",
              f"    Allocated per call: {_fmt_bytes(m['allocated_per_call'])} (of which output "
              f"copies {_fmt_bytes(m['output_copies_per_call'])})",
              f"    Max without releases, views and in-place: "
              f"{_fmt_bytes(m['max_without_view_inplace_release'])}",
              f"    Memory saved by views: {_fmt_bytes(m['saved_by_view'])}",
              f"    Memory saved by in-place operations: {_fmt_bytes(m['saved_by_inplace'])}",
              f"    Memory saved by releasing buffers after their last use (reused by the "
              f"pool): {_fmt_bytes(m['saved_by_release'])}", "---", "",
              "    <Sum apply outputs (bytes)> <Apply outputs shape> <created/inplace/view> "
              "<Apply node>", ""]
    by_size = sorted(f["steps"], key=lambda s: -sum(o.get("bytes") or 0 for o in s["outputs"]))
    for s in by_size[:n_apply]:
        size = sum(o.get("bytes") or 0 for o in s["outputs"])
        shapes = [tuple(o["shape"]) if o["shape"] is not None else "?" for o in s["outputs"]]
        how = "".join(SHORT_STORAGE.get(o["storage"], "?") for o in s["outputs"])
        lines.append(f"    {size:>12d}B  {shapes} {how} {s['name']}")
    if len(by_size) > n_apply:
        lines.append(f"   ... (remaining {len(by_size) - n_apply} Apply not shown)")
    lines += ["", "    <created/inplace/view> is the lowered program's decision for that output "
              "(c: a fresh buffer, i: written over an input, v: a view)."]
    if f["structured"]:
        lines += ["", "Structured steps", "---",
                  "<#call> <total> <own time (overhead)> <body runs per call> <Op>"]
        for s in f["structured"]:
            runs = ", ".join(f"body {b['index']}: {b['per_call']:.3g}" for b in s["bodies"])
            lines.append(f"  {s['calls']:7d} {s['seconds']:10.6f}s {s['overhead_s']:10.6f}s  "
                         f"[{runs or '-'}]  {s['kind']} {s['op']}")
    rewrites = (opt.get("rewrites") or {}) if opt else {}
    if rewrites:
        lines += ["", "Rewrites", "---", "<#fired> <rewrite>"]
        for name, fired in sorted(rewrites.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {fired:7d}  {name}")
    lines += ["", "Here are tips to potentially make your code run faster",
              "                 (test them first, they are not guaranteed to always provide "
              "a speedup)."]
    lines += [f"  - {tip}" for tip in f["tips"]] or ["  Sorry, no tip for today."]
    return "\n".join(lines)


def _pct(part, whole, width=0) -> str:
    text = f"{100 * part / whole:.1f}%" if whole else "0.0%"
    return f"{text:>{width}}" if width else text


def _shape(o):
    return "?" if o["shape"] is None else str(tuple(o["shape"]))


def format_report(report, n_ops=20, n_apply=20) -> str:
    """The whole report as text: a summary of the functions, then each function's profile."""
    if report is None:
        return "not a profile build (aotsym build --profile, aotsym.function(profile=True))"
    functions = report["functions"]
    lines = [f"Profile of {report.get('module') or 'an aotsym module'} "
             f"({len(functions)} functions, {report.get('clock', 'monotonic')} clock)",
             "<% total time> <total time> <time per call> <#call> <function>"]
    totals = {n: f["time"].get("python_s", f["time"]["entry_s"]) for n, f in functions.items()}
    grand = sum(totals.values())
    for n, f in sorted(functions.items(), key=lambda kv: -totals[kv[0]]):
        lines.append(f"  {_pct(totals[n], grand, 6)}  {totals[n]:10.6f}s  "
                     f"{f['time']['per_call_s']:10.2e}s  {f['calls']:7d}  {n}")
    text = "\n".join(lines)
    for f in functions.values():
        text += "\n\n" + format_function(f, n_ops, n_apply)
    return text + "\n"


def print_report(report, file=None, n_ops=20, n_apply=20):
    """Print :func:`format_report` to ``file`` (default stdout)."""
    print(format_report(report, n_ops, n_apply), file=file or sys.stdout, end="")


def summary_line(name, f) -> str:
    """One line per function (the interpreter-exit summary)."""
    t = f["time"]
    outer = t.get("python_s", t["entry_s"])
    top = f["ops"][0]["name"] if f["ops"] else "-"
    return (f"{name}: {f['calls']} calls, {outer:.6f}s ({t['steps_s']:.6f}s in steps), "
            f"peak {_fmt_bytes(f['memory']['peak_bytes'])}, most time in {top}")


def save_report(report, path):
    """Write the report as JSON (what ``aotsym profile-report`` reads)."""
    with open(path, "w") as fh:
        json.dump(report, fh, indent=1)
