"""Load: N clients run the benchmark query mix against a real `ecrn-kg serve` for a while, optionally beside runaway
clients and a client sending bad requests; prints latency percentiles per query class, throughput and errors.

    .venv/bin/python bench/load.py --duration 2m --out var/bench/load/clean.json
    .venv/bin/python bench/load.py --duration 2m --runaway 4 --bad-rate 10 --compare var/bench/load/clean.json

The server runs in memory (`ecrn-kg serve --data FILE --no-validate`, on a free 127.0.0.1 port, in its own process
group, always stopped at the end) with its default settings (its time limit and per-client fair-use limits
included) but the answer cache off, so that every query runs in a query worker (`--cache` keeps the cache: then
repeated queries are answered from memory). Each client sends from its own loopback address (traffic.address).
Good clients send the nine classes of bench/queries/ in turn with 16 parameter sets, each from its own place in the
mix. Runaway clients send a counted cartesian product that no time limit lets finish. The bad client cycles through
malformed requests (traffic.bad_requests).

Exit status 1 when a good client saw an error (any status but 200, or no answer), a bad request got a 5xx or no
answer, or, with --compare, the good clients' p99 is more than --max-ratio times the compared run's. Figures only:
nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from generate import generate, parse_size
from report import num, table
from run import bindings, instantiate, load_queries
from servers import ROOT, EcrnKgMemory, Processes, ServerError, ecrn_kg_version
from traffic import BAD, GOOD, RUNAWAY, Sample, Traffic, query

DEFAULT_DATA = ROOT / "var" / "bench" / "syn-100k-s1.nt"
LOGS = ROOT / "var" / "bench" / "logs"


# ---------------------------------------------------------------------------------------------- the server
class LoadServer(EcrnKgMemory):
    """ecrn-kg in memory with the given data file; its log is var/bench/logs/ecrn-kg-load-serve.log."""

    name = "ecrn-kg-load"

    def __init__(self, procs: Processes, timeout: float, cache: bool, settings: list[str]) -> None:
        super().__init__(procs, ROOT / "var" / "bench" / "run" / "load", timeout)
        given = dict(setting.split("=", 1) for setting in settings)
        if any(not name.startswith("ECRN_") for name in given):
            raise SystemExit(f"--setting takes ECRN_NAME=VALUE, not {settings}")
        self.env = ({} if cache else {"ECRN_ANSWER_CACHE_BYTES": "0"}) | given

    @property
    def group(self) -> int:
        assert self.proc is not None, "the server is not running"
        return self.proc.pid  # started in a session of its own: its pid is its process group id


def data_file(path: Path | None) -> Path:
    """The graph to serve: the given file, or the 100k benchmark graph (generated if missing)."""
    if path is not None:
        if not path.exists():
            raise SystemExit(f"{path}: no such file")
        return path
    if not DEFAULT_DATA.exists():
        log(f"generating {DEFAULT_DATA}")
        generate(parse_size("100k"), 1, DEFAULT_DATA)
    return DEFAULT_DATA


def plan(data: Path) -> list[tuple[str, str]]:
    """The query mix: one query of each class per round, cycling through 16 parameter sets."""
    texts = {name: instantiate(text, bindings(data, seed=1)) for name, text in load_queries().items()}
    rounds = max(len(t) for t in texts.values())
    return [(name, t[i % len(t)]) for i in range(rounds) for name, t in texts.items()]


def warm_up(base_url: str, mix: list[tuple[str, str]], timeout: float) -> None:
    """Each class once, in turn; a class that fails here stops the run (the mix itself is broken)."""
    seen: set[str] = set()
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        for name, text in mix:
            if name in seen:
                continue
            seen.add(name)
            response = client.send(query(client, text))
            if response.status_code != 200:
                raise SystemExit(f"warm-up: {name} answered {response.status_code}: {response.text[:300]}")


# ---------------------------------------------------------------------------------------------- figures
def percentile(ordered: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def latency(samples: list[Sample]) -> dict[str, float | int | None]:
    """Count and latency percentiles in ms."""
    ordered = sorted(1000 * s.seconds for s in samples)
    if not ordered:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    return {"n": len(ordered), "p50_ms": percentile(ordered, 0.50), "p95_ms": percentile(ordered, 0.95),
            "p99_ms": percentile(ordered, 0.99), "max_ms": ordered[-1]}


def good_figures(samples: list[Sample]) -> dict[str, Any]:
    """Requests, errors, and the latency percentiles of the answered ones (an error counts as an error, not as a
    latency: a 429 in 2 ms would lower the percentiles, a 503 at the time limit would raise them)."""
    answered = latency([s for s in samples if not good_failed(s)])
    return {**answered, "answered": answered["n"], "n": len(samples), "errors": sum(map(good_failed, samples))}


def good_failed(sample: Sample) -> bool:
    return sample.status != 200


def bad_failed(sample: Sample) -> bool:
    """A bad request must get a 4xx; a 5xx or no answer at all is the server's failure."""
    return not 400 <= sample.status < 500


def failures(samples: list[Sample]) -> list[dict[str, Any]]:
    """Failed requests grouped by kind, class, status and the start of the detail; most frequent first."""
    counted = Counter((s.kind, s.name, s.status, s.detail[:160]) for s in samples)
    return [{"kind": k, "name": n, "status": st, "detail": d, "count": c}
            for (k, n, st, d), c in counted.most_common()]


def summarise(samples: list[Sample], elapsed: float) -> dict[str, Any]:
    good = [s for s in samples if s.kind == GOOD]
    classes = {name: good_figures([s for s in good if s.name == name]) for name in dict.fromkeys(s.name for s in good)}
    classes["all"] = good_figures(good)
    runaway = [s for s in samples if s.kind == RUNAWAY]
    bad = [s for s in samples if s.kind == BAD]
    return {
        "elapsed_s": elapsed,
        "throughput_qps": classes["all"]["answered"] / elapsed if elapsed > 0 else None,
        "classes": classes,
        "good_errors": classes["all"]["errors"],
        "good_clients": len({s.client for s in good}),
        "good_clients_with_errors": len({s.client for s in good if good_failed(s)}),
        "runaway": {**latency(runaway), "statuses": dict(Counter(str(s.status) for s in runaway))},
        "bad": {name: {**latency([s for s in bad if s.name == name]),
                       "statuses": dict(Counter(str(s.status) for s in bad if s.name == name))}
                for name in dict.fromkeys(s.name for s in bad)},
        "bad_failures": sum(map(bad_failed, bad)),
        "failures": failures([s for s in good if good_failed(s)] + [s for s in bad if bad_failed(s)]),
    }


def statuses(counted: dict[str, int]) -> str:
    return ", ".join(f"{status}: {n}" for status, n in sorted(counted.items())) or "-"


def render(summary: dict[str, Any]) -> str:
    rows = [["class", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"]]
    for name, c in summary["classes"].items():
        rows.append([name, str(c["n"]), str(c["errors"]), num(c["p50_ms"]), num(c["p95_ms"]), num(c["p99_ms"]),
                     num(c["max_ms"])])
    lines = ["good clients (latency of the requests answered 200; errors apart):", table(rows, set(range(1, 7))),
             f"throughput: {num(summary['throughput_qps'])} good requests/s answered 200 over "
             f"{summary['elapsed_s']:.0f} s; errors seen by good clients: {summary['good_errors']} (by "
             f"{summary['good_clients_with_errors']} of {summary['good_clients']} clients)"]
    if "load_average" in summary:
        lines.append("machine load average (1 min, {} cores) at the start and the end: {:.2f}, {:.2f}".format(
            os.cpu_count(), *summary["load_average"]))
    run = summary["runaway"]
    if run["n"]:
        lines.append(f"runaway queries: {run['n']}, statuses {statuses(run['statuses'])}; latency p50 "
                     f"{num(run['p50_ms'])} ms, max {num(run['max_ms'])} ms")
    if summary["bad"]:
        rows = [["bad request", "sent", "statuses", "p50 ms", "max ms"]]
        rows += [[name, str(b["n"]), statuses(b["statuses"]), num(b["p50_ms"]), num(b["max_ms"])]
                 for name, b in summary["bad"].items()]
        lines += ["bad client:", table(rows, {1, 3, 4}),
                  f"bad requests answered with a 5xx or not at all: {summary['bad_failures']}"]
    for f in summary["failures"][:12]:
        lines.append(f"  FAILED {f['count']}x {f['kind']} {f['name']}: status {f['status']}: {f['detail']}")
    return "\n".join(lines)


def compare(summary: dict[str, Any], path: Path, max_ratio: float) -> tuple[str, bool]:
    """The good clients' p99 per class against those of an earlier run (its --out file)."""
    earlier = json.loads(path.read_text())["summary"]["classes"]
    rows = [["class", "p99 ms", "compared p99 ms", "ratio"]]
    for name, c in summary["classes"].items():
        before = earlier.get(name, {}).get("p99_ms")
        ratio = c["p99_ms"] / before if c["p99_ms"] is not None and before else None
        rows.append([name, num(c["p99_ms"]), num(before), num(ratio, "x")])
    before_all, now_all = earlier["all"]["p99_ms"], summary["classes"]["all"]["p99_ms"]
    within = before_all is not None and now_all is not None and now_all <= max_ratio * before_all
    met = within and summary["good_errors"] == 0
    verdict = (f"good clients' p99 {num(now_all)} ms vs {num(before_all)} ms in {path}: "
               f"{'within' if within else 'NOT within'} {max_ratio:g}x; with {summary['good_errors']} errors the "
               f"target (0 errors, p99 within {max_ratio:g}x) is {'met' if met else 'MISSED'}")
    return f"{table(rows, {1, 2, 3})}\n{verdict}", met


# ---------------------------------------------------------------------------------------------- the run
def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def seconds(value: str) -> float:
    """90, 90s, 10m, 1h → seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", value.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {value!r} (say 90, 90s, 10m or 1h)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def parser(description: str | None = None, duration: str = "10m") -> argparse.ArgumentParser:
    """The options of the load (soak.py adds its own)."""
    doc = __doc__ or ""
    p = argparse.ArgumentParser(description=description or doc.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=16, help="good clients (default 16)")
    p.add_argument("--duration", type=seconds, default=seconds(duration), help=f"how long (default {duration})")
    p.add_argument("--data", type=Path, help=f"N-Triples to serve (default {DEFAULT_DATA.relative_to(ROOT)}, "
                                             "generated if missing)")
    p.add_argument("--runaway", type=int, default=0, help="clients sending a query past the time limit (default 0)")
    p.add_argument("--runaway-limit", type=float, help="the time limit runaway queries ask for (default: the "
                                                       "server's, 30 s)")
    p.add_argument("--bad-rate", type=float, default=0.0, help="bad requests per second from one client (default 0)")
    p.add_argument("--cache", action="store_true", help="keep the server's answer cache on (default: off)")
    p.add_argument("--setting", action="append", default=[], metavar="ECRN_NAME=VALUE",
                   help="a setting for the server (repeatable), e.g. ECRN_QUERY_WORKERS=4")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds a client waits for one answer")
    p.add_argument("--out", type=Path, help="write the figures and every request as JSON")
    p.add_argument("--compare", type=Path, help="an earlier --out file: print the good clients' p99 against it")
    p.add_argument("--max-ratio", type=float, default=2.0, help="with --compare: the p99 ratio that fails (2)")
    return p


def on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


During = Callable[[LoadServer, Traffic, float], None]


def drive(args: argparse.Namespace, during: During | None = None) -> tuple[dict[str, Any], list[Sample]]:
    """Start the server, warm up, run the traffic for the duration (calling `during` meanwhile, if given), stop."""
    data = data_file(args.data)
    mix = plan(data)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    procs = Processes(LOGS)
    server = LoadServer(procs, timeout=600, cache=args.cache, settings=args.setting)
    try:
        log(f"starting ecrn-kg serve --data {data.name} (answer cache {'on' if args.cache else 'off'})")
        started = server.start(data)
        base = started.query_url.removesuffix("/sparql")
        log(f"serving at {base} after {started.load_seconds:.1f} s; warming up")
        warm_up(base, mix, args.timeout)
        traffic = Traffic(base, mix, args.clients, args.runaway, args.runaway_limit, args.bad_rate, args.timeout)
        log(f"{args.clients} good clients, {args.runaway} runaway, bad rate {args.bad_rate:g}/s for "
            f"{args.duration:.0f} s")
        before = os.getloadavg()[0]
        traffic.start()
        try:
            if during is None:
                time.sleep(args.duration)
            else:
                during(server, traffic, args.duration)
        finally:
            elapsed = traffic.finish()
        samples = traffic.recorder.snapshot()
        return {**summarise(samples, elapsed), "load_average": [before, os.getloadavg()[0]]}, samples
    except ServerError as error:
        raise SystemExit(f"the server did not start: {error}") from None
    finally:
        server.stop()
        procs.stop_all()


def header(args: argparse.Namespace) -> str:
    return (f"ecrn-kg {ecrn_kg_version()}; {args.clients} good clients, {args.runaway} runaway"
            f"{f' (time limit {args.runaway_limit:g} s)' if args.runaway_limit else ''}, bad client "
            f"{args.bad_rate:g}/s, {args.duration:.0f} s, data {(args.data or DEFAULT_DATA).name}, answer cache "
            f"{'on' if args.cache else 'off'}{''.join(f', {s}' for s in args.setting)}")


def save(path: Path, args: argparse.Namespace, summary: dict[str, Any], samples: list[Sample]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [[s.kind, s.name, s.status, round(1000 * s.seconds, 3), round(s.at, 3)] for s in samples]
    path.write_text(json.dumps({"run": header(args), "args": {k: str(v) for k, v in vars(args).items()},
                                "summary": summary, "requests": [["kind", "name", "status", "ms", "at_s"], *rows]}))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        summary, samples = drive(args)
    except KeyboardInterrupt:
        log("interrupted: the server is stopped")
        return 130
    print(header(args))
    print(render(summary))
    met = True
    if args.compare:
        text, met = compare(summary, args.compare, args.max_ratio)
        print(text)
    if args.out:
        save(args.out, args, summary, samples)
        log(f"figures and every request in {args.out}")
    return 0 if summary["good_errors"] == 0 and summary["bad_failures"] == 0 and met else 1


if __name__ == "__main__":
    sys.exit(main())
