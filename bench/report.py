"""Plain-text tables of one benchmark run: servers (load, memory) and query classes (latency, throughput)."""

from __future__ import annotations

import argparse
import os
from typing import Any

BASELINE = "oxigraph-mem"
SAME = "oxigraph-mem-same"  # the baseline given the dataset ecrn-kg serves, not just the file


def num(value: float | None, unit: str = "") -> str:
    """A figure with as many decimals as its size deserves; '-' when there is none."""
    if value is None:
        return "-"
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:,.{digits}f}{unit}"


def ratio(value: float | None, base: float | None) -> str:
    return num(value / base) + "x" if value is not None and base else "-"


def cores(cpu: float | None, wall: float | None) -> str:
    """CPU seconds per wall second: how many cores a process kept busy."""
    return f"{cpu / wall:.2f}" if cpu is not None and wall else "-"


def table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def server_table(run: dict[str, Any]) -> str:
    base: dict[str, Any] = next((s for s in run["servers"] if s["server"] == BASELINE and "load_s" in s), {})
    rows = [["server", "load s", "load ÷ mem", "loader RSS MiB", "server RSS MiB", "RSS ÷ mem", "PSS MiB",
             "processes", "store MiB", "triples in store"]]
    for s in run["servers"]:
        if "skipped" in s or "load_s" not in s:
            rows.append([s["server"], s.get("skipped") or f"failed: {s.get('error', '?').splitlines()[0]}",
                         *[""] * 8])
            continue
        rows.append([s["server"], num(s["load_s"]), ratio(s["load_s"], base.get("load_s")), num(s["loader_rss_mb"]),
                     num(s.get("server_rss_mb")), ratio(s.get("server_rss_mb"), base.get("server_rss_mb")),
                     num(s.get("server_pss_mb")), str(s.get("processes", "-")), num(s["store_mb"]),
                     f"{s['triples']:,}" if s.get("triples") else "-"])
    return table(rows, right=set(range(1, 10)))


def _base(run: dict[str, Any], server: str, name: str) -> dict[str, Any]:
    return next((s["classes"].get(name, {}) for s in run["servers"] if s["server"] == server and "classes" in s), {})


def same_data(run: dict[str, Any]) -> bool:
    """Whether the run has the baseline that holds the dataset ecrn-kg serves."""
    return any(s["server"] == SAME and "classes" in s for s in run["servers"])


def class_rows(name: str, run: dict[str, Any], clients: list[int]) -> list[list[str]]:
    base, same = _base(run, BASELINE, name), _base(run, SAME, name) if same_data(run) else None
    first, last = f"c{clients[0]}", f"c{clients[-1]}"
    rows = []
    for s in run["servers"]:
        result = s.get("classes", {}).get(name)
        if result is None:
            continue
        if "error" in result:
            rows.append([name, s["server"], f"error: {result['error'][:90]}"])
            continue
        rows_flag = "*" if base.get("rows") not in (None, result["rows"]) else ""
        lead = result.get(first, {})
        row = [name, s["server"], result["rows"] + rows_flag, num(lead.get("median_ms")), num(lead.get("p95_ms"))]
        row += [num(result.get(f"c{c}", {}).get("qps")) + ("!" if result.get(f"c{c}", {}).get("error") else "")
                for c in clients]
        tail = result.get(last, {})
        row.append(cores(tail.get("server_cpu_s"), tail.get("wall_s")))
        for b in [base] if same is None else [base, same]:
            row += [ratio(lead.get("median_ms"), b.get(first, {}).get("median_ms")),
                    ratio(tail.get("qps"), b.get(last, {}).get("qps"))]
        rows.append(row)
    return rows


def class_table(run: dict[str, Any], clients: list[int]) -> str:
    names = list(dict.fromkeys(n for s in run["servers"] for n in s.get("classes", {})))
    head = ["class", "server", "rows", f"median ms @{clients[0]}", f"p95 ms @{clients[0]}",
            *[f"q/s @{c}" for c in clients], f"server CPU @{clients[-1]}"]
    for short in ["mem", "same"] if same_data(run) else ["mem"]:
        head += [f"median ÷ {short}", f"q/s @{clients[-1]} ÷ {short}"]
    rows = [head]
    for name in names:
        rows.extend(class_rows(name, run, clients))
    return table([r + [""] * (len(head) - len(r)) for r in rows], right=set(range(2, len(head))))


def problems(run: dict[str, Any]) -> list[str]:
    found = []
    for s in run["servers"]:
        if "error" in s:
            found.append(f"{s['server']}: {s['error']}")
        for name, result in s.get("classes", {}).items():
            errors = [result.get("error")] + [v.get("error") for k, v in result.items() if isinstance(v, dict)]
            found += [f"{s['server']} {name}: {e}" for e in errors if e]
    return found


def render(run: dict[str, Any], args: argparse.Namespace) -> str:
    repeats = {s["server"]: s.get("repeat") for s in run["servers"] if "repeat" in s}
    last = args.clients[-1]
    lines = [f"== {run['size']}: {run['file']} ({run['file_triples']:,} triples, {run['file_mb']:.1f} MiB)",
             "", server_table(run), "", class_table(run, args.clients), "",
             f"requests per class: {', '.join(f'{k} {v} x clients' for k, v in repeats.items())}; "
             f"at most {args.budget:g} s per class and client count; 'mix' interleaves all classes."
             + (f" The servers ran side by side: each class and client count driven {args.rounds} times per server, "
                "the servers in turn (reversed every other round); figures pool the drives." if args.rounds > 1
                else ""),
             "rows: of the first parameter set; * = differs from oxigraph-mem (ecrn-kg's default graph is the union "
             "of the data, the ontology and its RDFS entailments). ! = the drive stopped on an error (below).",
             "server RSS: sum of the peak RSS (VmHWM) of the server's processes (ecrn-kg: main process and query "
             "workers, so pages they share count more than once);",
             "PSS: their proportional set size just before the stop (shared pages split between them).",
             f"server CPU @{last}: cores the server's processes kept busy during the {last}-client drive "
             "(CPU seconds per wall second).",
             "median ÷ mem: latency ratio to oxigraph-mem (> 1 is slower); "
             "q/s ÷ mem: throughput ratio (< 1 is slower)."]
    if same_data(run):
        lines.append("÷ same: the same ratios to oxigraph-mem-same, which holds the dataset ecrn-kg serves.")
    for s in run["servers"]:
        if s.get("how"):
            lines.append(f"{s['server']}: {s['how']}" + (f"; {s['note']}" if s.get("note") else ""))
    cores = [v["client_cpu_s"] / v["wall_s"] for s in run["servers"] for r in s.get("classes", {}).values()
             for k, v in r.items() if k == f"c{args.clients[-1]}" and v.get("wall_s")]
    if cores:
        lines.append(f"the client process (httpx, {args.clients[-1]} threads) used up to {max(cores):.2f} CPU cores "
                     f"of the machine's {os.cpu_count()} while driving {args.clients[-1]} clients.")
    found = problems(run)
    if found:
        lines += ["", "errors:", *[f"  {p}" for p in found]]
    return "\n".join(lines) + "\n"
