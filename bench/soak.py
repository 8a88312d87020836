"""Soak: the load of bench/load.py for a long time (default 1 h), sampling the server's memory, threads and open
file descriptors every 10 s from /proc; prints the memory growth after warm-up and whether threads and fds stay
flat.

    .venv/bin/python bench/soak.py                                  # 16 clients, 1 h, 5 min warm-up
    .venv/bin/python bench/soak.py --duration 10m --warmup 2m --runaway 4 --bad-rate 10

The main process (uvicorn, the store) is sampled apart from its children (query workers, the fork server and
sandboxes of an on-disk store), whose figures are summed. Memory is RSS and PSS: a forked worker shares the main
process's pages, which RSS counts in full in each process (so a worker forked later, from a larger main process,
adds its RSS though it costs little memory); PSS splits shared pages between the processes, so the sum of PSS is
the memory the server uses. Growth compares the mean of the last `--window` samples with the mean of the first
`--window` samples after the warm-up, of the main process's RSS and of the total PSS (target < 10 %). Threads and
fds are flat when their maximum in the last third of the run after warm-up is no higher than in its first third.
Exit status 1 when a good client saw an error, a bad request got a 5xx or no answer, or a target is missed.
Every option of load.py applies; with --out the JSON also holds every sample.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import load
from report import num, table
from servers import group
from traffic import Traffic

GROWTH_TARGET = 0.10


@dataclass(frozen=True)
class Usage:
    """One sample of the server's processes; children (workers and other helpers) summed."""

    at: float  # seconds since the traffic started
    main_rss_mib: float
    main_pss_mib: float
    main_threads: int
    main_fds: int
    children: int
    children_rss_mib: float
    children_pss_mib: float
    children_threads: int
    children_fds: int
    children_pids: tuple[int, ...] = ()

    @property
    def total_rss_mib(self) -> float:
        return self.main_rss_mib + self.children_rss_mib

    @property
    def total_pss_mib(self) -> float:
        return self.main_pss_mib + self.children_pss_mib


def _status(pid: int) -> dict[str, str]:
    try:
        text = (Path("/proc") / str(pid) / "status").read_text()
    except OSError:
        return {}
    return {key: value.strip() for key, _, value in (line.partition(":") for line in text.splitlines())}


def _fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def _pss_kib(pid: int) -> int:
    try:
        text = (Path("/proc") / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)


def process_usage(pid: int) -> tuple[float, float, int, int]:
    """RSS and PSS in MiB, threads and open fds of one process (zeros when it is gone)."""
    status = _status(pid)
    rss_kib = int(status.get("VmRSS", "0 kB").split()[0])
    return rss_kib / 1024, _pss_kib(pid) / 1024, int(status.get("Threads", "0")), _fds(pid)


def sample(main: int, at: float) -> Usage:
    """The main process and the sum of the other processes of its group."""
    pids = tuple(pid for pid in group(main) if pid != main)
    children = [process_usage(pid) for pid in pids]
    return Usage(at, *process_usage(main), len(children), *(sum(c[i] for c in children) for i in range(2)),
                 *(sum(c[i] for c in children) for i in range(2, 4)), pids)


def sampler(every: float, samples: list[Usage]) -> load.During:
    def during(server: load.LoadServer, traffic: Traffic, duration: float) -> None:
        end = time.monotonic() + duration
        while True:
            samples.append(sample(server.group, time.monotonic() - traffic.recorder.started))
            load.log(progress(samples[-1]))
            if traffic.stop.wait(min(every, max(end - time.monotonic(), 0))) or time.monotonic() >= end:
                return

    return during


def progress(u: Usage) -> str:
    return (f"{u.at:6.0f} s  main RSS {u.main_rss_mib:7.1f} MiB, {u.main_threads} threads, {u.main_fds} fds; "
            f"{u.children} children: RSS {u.children_rss_mib:7.1f} MiB, {u.children_threads} threads, "
            f"{u.children_fds} fds; PSS in all {u.total_pss_mib:7.1f} MiB")


def growth(values: list[float], window: int) -> float | None:
    if len(values) < 2 * window:
        return None
    first = statistics.fmean(values[:window])
    return (statistics.fmean(values[-window:]) - first) / first if first else None


def flat(values: list[int]) -> bool:
    third = max(len(values) // 3, 1)
    return max(values[-third:]) <= max(values[:third])


def judge(samples: list[Usage], warmup: float, window: int) -> tuple[str, bool]:
    """The report on the samples after warm-up, and whether every target is met."""
    after = [u for u in samples if u.at >= warmup]
    if len(after) < 2 * window:
        return f"only {len(after)} samples after the warm-up of {warmup:.0f} s: too few to judge", False
    rss = {"main RSS": [u.main_rss_mib for u in after], "children RSS": [u.children_rss_mib for u in after],
           "total RSS": [u.total_rss_mib for u in after], "main PSS": [u.main_pss_mib for u in after],
           "children PSS": [u.children_pss_mib for u in after], "total PSS": [u.total_pss_mib for u in after]}
    rows = [["memory MiB", "at warm-up", "min", "max", "last", "growth"]]
    grown: dict[str, float | None] = {}
    for name, values in rss.items():
        grown[name] = growth(values, window)
        rows.append([name, num(values[0]), num(min(values)), num(max(values)), num(values[-1]),
                     num(pct(grown[name]), " %")])
    counts = {"main threads": [u.main_threads for u in after], "main fds": [u.main_fds for u in after],
              "children threads": [u.children_threads for u in after], "children fds": [u.children_fds for u in after],
              "children": [u.children for u in after]}
    replaced = len({pid for u in after for pid in u.children_pids} - set(after[0].children_pids))
    rows2 = [["count", "at warm-up", "min", "max", "last", "flat"]]
    rows2 += [[name, str(v[0]), str(min(v)), str(max(v)), str(v[-1]), "yes" if flat(v) else "NO"]
              for name, v in counts.items()]
    memory_ok = all(g is not None and g < GROWTH_TARGET for g in (grown["main RSS"], grown["total PSS"]))
    counts_ok = all(flat(counts[k]) for k in ("main threads", "main fds", "children fds"))
    verdict = (f"memory growth after warm-up: main RSS {num(pct(grown['main RSS']), ' %')}, total PSS "
               f"{num(pct(grown['total PSS']), ' %')} (target < {100 * GROWTH_TARGET:g} %): "
               f"{'met' if memory_ok else 'MISSED'}; threads and fds {'flat' if counts_ok else 'NOT flat'}; "
               f"{replaced} workers started after the warm-up (replacing others)")
    return f"{table(rows, {1, 2, 3, 4, 5})}\n{table(rows2, {1, 2, 3, 4})}\n{verdict}", memory_ok and counts_ok


def pct(value: float | None) -> float | None:
    return None if value is None else 100 * value


def main(argv: list[str] | None = None) -> int:
    p = load.parser((__doc__ or "").split("\n\n")[0], duration="1h")
    p.add_argument("--every", type=load.seconds, default=10.0, help="seconds between samples (default 10)")
    p.add_argument("--warmup", type=load.seconds, default=300.0, help="samples before this are not judged (5m)")
    p.add_argument("--window", type=int, default=6, help="samples averaged at each end for RSS growth (6)")
    args = p.parse_args(argv)
    samples: list[Usage] = []
    try:
        summary, requests = load.drive(args, during=sampler(args.every, samples))
    except KeyboardInterrupt:
        load.log("interrupted: the server is stopped")
        return 130
    print(load.header(args))
    print(load.render(summary))
    text, met = judge(samples, args.warmup, args.window)
    print(text)
    if args.out:
        load.save(args.out, args, summary, requests)
        saved = json.loads(args.out.read_text())
        args.out.write_text(json.dumps({**saved, "usage": [asdict(u) for u in samples]}))
        load.log(f"figures, every request and every sample in {args.out}")
    return 0 if summary["good_errors"] == 0 and summary["bad_failures"] == 0 and met else 1


if __name__ == "__main__":
    sys.exit(main())
