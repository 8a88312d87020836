"""Crash: `kill -9` an `ecrn-kg serve --store DIR` again and again while clients send updates, and check after each
restart that no acknowledged write was lost and no update was half applied.

    .venv/bin/python bench/crash.py                    # 20 kills, a fresh store under var/bench/crash/
    .venv/bin/python bench/crash.py --kills 3 --writers 1

The server runs on an on-disk store with ECRN_WRITE_TOKEN set (and ECRN_RELEASE_INTERVAL short, so that kills also
land while a release is recorded). `--writers` clients each POST updates in turn; update n is one request
`INSERT DATA` of two triples about <urn:ecrn-crash:item:n> in the graph <urn:ecrn-crash:graph>, acknowledged when
the server answers 204. After a random `--min-delay`..`--max-delay` seconds the server's main process is killed with
SIGKILL (its workers are left to notice; any still alive 10 s later are reported as orphans and killed), then
started again on the same store. The checks: it answers again; every acknowledged update is there; every update
there has both of its triples (all or nothing); nothing is there that was never sent. Then the writes go on.
Exit status 1 on a lost acknowledged write, a half-applied update, a store that does not reopen, or a write
answered other than 204 while the server was up.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx
from servers import HOST, ROOT, Processes, directory_mb, free_port, group, status

EXE = ROOT / ".venv" / "bin" / "ecrn-kg"
GRAPH = "urn:ecrn-crash:graph"
ITEM = "urn:ecrn-crash:item:"
COUNT_ITEMS = f"SELECT ?s (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }} GROUP BY ?s"


def update(n: int) -> str:
    """Update n: two triples about one item, in one request."""
    return (f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <{ITEM}{n}> <urn:ecrn-crash:number> {n} . "
            f'<{ITEM}{n}> <urn:ecrn-crash:label> "item {n}" }} }}')


@dataclass
class Ledger:
    """What the writers sent and what the server acknowledged, across all rounds; thread-safe."""

    sent: set[int] = field(default_factory=set)
    acked: set[int] = field(default_factory=set)
    unexpected: list[str] = field(default_factory=list)  # answers other than 204 while the server was up
    numbers: itertools.count[int] = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> int:
        with self.lock:
            n = next(self.numbers)
            self.sent.add(n)
            return n


@dataclass
class Round:
    """One server life: its writers, and when it was killed."""

    base_url: str
    token: str
    ledger: Ledger
    killed_at: float = float("inf")
    stop: threading.Event = field(default_factory=threading.Event)
    statuses: Counter[str] = field(default_factory=Counter)
    orphans: list[int] = field(default_factory=list)  # processes of the server's group alive 10 s after the kill

    def write(self) -> None:
        """One writer: updates one after the other until the round stops."""
        headers = {"authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, timeout=60, headers=headers) as client:
            while not self.stop.is_set():
                n = self.ledger.next()
                try:
                    code = client.post("/sparql", data={"update": update(n)}).status_code
                except httpx.HTTPError as error:
                    code, detail = 0, f"{type(error).__name__}: {error}"
                else:
                    detail = ""
                self.record(n, code, detail)
                if code == 0:
                    return  # the server is gone (or not answering): this writer's round is over

    def record(self, n: int, code: int, detail: str) -> None:
        with self.ledger.lock:
            self.statuses[str(code)] += 1
            if code == 204:
                self.ledger.acked.add(n)
            elif code != 0 or time.monotonic() < self.killed_at:
                self.ledger.unexpected.append(f"update {n}: {code} {detail}")


class Server:
    """ecrn-kg serve on one store, restarted on a new port each time."""

    def __init__(self, store: Path, token: str, release_interval: float, timeout: float) -> None:
        self.procs = Processes(ROOT / "var" / "bench" / "logs")
        self.store, self.timeout, self.starts = store, timeout, 0
        self.env = {"ECRN_WRITE_TOKEN": token, "ECRN_RELEASE_INTERVAL": f"{release_interval:g}",
                    "ECRN_ROW_CAP": "10000000", "ECRN_LOG_FORMAT": "text"}
        self.proc: subprocess.Popen[bytes] | None = None
        self.base_url = ""

    def start(self) -> float:
        """Start and wait until it answers; return the seconds that took. SystemExit when it does not."""
        port = free_port()
        self.base_url = f"http://{HOST}:{port}"
        self.starts += 1
        argv = [str(EXE), "serve", "--store", str(self.store), "--host", HOST, "--port", str(port)]
        self.proc = self.procs.spawn(f"crash-serve-{self.starts}", argv, self.env)
        began = time.monotonic()
        while time.monotonic() - began < self.timeout:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server did not reopen the store (exit {self.proc.returncode}):\n"
                                 f"{self.procs.log_tail(f'crash-serve-{self.starts}', 30)}")
            if status(f"{self.base_url}/sparql", timeout=5) == 200:
                return time.monotonic() - began
            time.sleep(0.1)
        raise SystemExit(f"the server did not answer within {self.timeout:.0f} s of its start")

    def kill(self) -> list[int]:
        """SIGKILL the main process; return the pids of its group still alive 10 s later (then killed too)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (left := group(self.proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        if left:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.procs.stop(self.proc)
        return left

    def items(self) -> dict[int, int]:
        """Item number → how many of its triples the store holds."""
        response = httpx.post(f"{self.base_url}/sparql", data={"query": COUNT_ITEMS}, timeout=120,
                              headers={"accept": "application/sparql-results+json"})
        response.raise_for_status()
        rows = json.loads(response.content)["results"]["bindings"]
        return {int(r["s"]["value"].removeprefix(ITEM)): int(r["n"]["value"]) for r in rows}

    def stop(self) -> bool:
        """Stop it with SIGTERM; return whether it shut down cleanly (uvicorn re-raises the signal after a
        graceful shutdown, so the exit status is -15 either way: its log says)."""
        if self.proc is None:
            return False
        self.procs.stop(self.proc)
        return "Application shutdown complete." in self.procs.log_tail(f"crash-serve-{self.starts}", 5)


@dataclass
class Check:
    lost: set[int]
    half: dict[int, int]
    unknown: set[int]
    present: int
    unacked_present: int

    @property
    def ok(self) -> bool:
        return not (self.lost or self.half or self.unknown)


def check(server: Server, ledger: Ledger) -> Check:
    found = server.items()
    with ledger.lock:
        acked, sent = set(ledger.acked), set(ledger.sent)
    return Check(lost=acked - found.keys(), half={n: c for n, c in found.items() if c != 2},
                 unknown=found.keys() - sent, present=len(found), unacked_present=len(found.keys() - acked))


def one_round(server: Server, ledger: Ledger, token: str, writers: int, delay: float) -> Round:
    """Writers against the running server; SIGKILL it after `delay` s; wait for the writers."""
    current = Round(server.base_url, token, ledger)
    threads = [threading.Thread(target=current.write, daemon=True) for _ in range(writers)]
    for thread in threads:
        thread.start()
    time.sleep(delay)
    current.killed_at = time.monotonic()
    current.stop.set()
    current.orphans = server.kill()
    for thread in threads:
        thread.join(timeout=90)
    return current


def describe(numbers: set[int] | dict[int, int], limit: int = 12) -> str:
    shown = sorted(numbers)[:limit]
    return ", ".join(map(str, shown)) + (" …" if len(numbers) > limit else "")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--kills", type=int, default=20, help="how many times to kill the server (default 20)")
    parser.add_argument("--writers", type=int, default=2, help="concurrent writing clients (default 2)")
    parser.add_argument("--min-delay", type=float, default=1.0, help="least seconds between start and kill (1)")
    parser.add_argument("--max-delay", type=float, default=5.0, help="most seconds between start and kill (5)")
    parser.add_argument("--release-interval", type=float, default=2.0, help="ECRN_RELEASE_INTERVAL (default 2)")
    parser.add_argument("--store", type=Path, default=ROOT / "var" / "bench" / "crash" / "store",
                        help="the store directory; its parent is emptied first (default var/bench/crash/store)")
    parser.add_argument("--start-timeout", type=float, default=600, help="seconds a (re)start may take (600)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill delays (default 1)")
    return parser.parse_args(argv)


def on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace, server: Server, token: str) -> tuple[bool, Ledger]:
    ledger, rng, ok = Ledger(), random.Random(args.seed), True
    first = server.start()
    print(f"first start (loads the ChemClust graph into {args.store}): {first:.1f} s", flush=True)
    for kill in range(1, args.kills + 1):
        done = one_round(server, ledger, token, args.writers, rng.uniform(args.min_delay, args.max_delay))
        reopened = server.start()
        result = check(server, ledger)
        ok = ok and result.ok
        print(f"kill {kill:2d}: writes {dict(sorted(done.statuses.items()))}; reopened in {reopened:.1f} s; "
              f"{result.present} updates in the store ({result.unacked_present} not acknowledged, in flight at "
              f"the kill), {len(ledger.acked)} acknowledged so far; lost {len(result.lost)}, half applied "
              f"{len(result.half)}, never sent {len(result.unknown)}; orphans {len(done.orphans)}", flush=True)
        for label, numbers in (("LOST", result.lost), ("HALF APPLIED", result.half), ("NEVER SENT", result.unknown)):
            if numbers:
                print(f"  {label}: {describe(numbers)}", flush=True)
    return ok, ledger


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    shutil.rmtree(args.store.parent, ignore_errors=True)
    args.store.parent.mkdir(parents=True)
    token = secrets.token_urlsafe(24)
    server = Server(args.store, token, args.release_interval, args.start_timeout)
    try:
        ok, ledger = run(args, server, token)
    except KeyboardInterrupt:
        print("interrupted: the server is stopped", file=sys.stderr)
        return 130
    finally:
        clean = server.stop()
    leftovers = sorted(p.name for p in args.store.parent.iterdir() if p.name.startswith(f".{args.store.name}-"))
    print(f"summary: {args.kills} kills, {len(ledger.sent)} updates sent, {len(ledger.acked)} acknowledged; "
          f"{'every acknowledged update survived, none half applied' if ok else 'FAILURES above'}; "
          f"writes answered other than 204 while up: {len(ledger.unexpected)}; last stop clean: {clean}; "
          f"store {directory_mb(args.store):.1f} MiB; left beside it after a clean stop: {leftovers or 'nothing'}")
    for line in ledger.unexpected[:10]:
        print(f"  UNEXPECTED {line}")
    return 0 if ok and not ledger.unexpected else 1


if __name__ == "__main__":
    sys.exit(main())
