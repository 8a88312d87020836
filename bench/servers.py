"""The servers under test: each starts on a free 127.0.0.1 port, loads one file and is always stopped.

Every child process runs in its own process group and is listed in `Processes`; `stop_all` ends each of them by
its own group id (SIGTERM, then SIGKILL after a grace period), also when the run is interrupted or fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from graph.load import default_files

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / "var" / "bench" / "venvs"
HOST = "127.0.0.1"
ASK_NOTHING = "ASK {}"

PINNED = {"oxigraph": ["oxigraph==0.5.13"], "rdflib-endpoint": ["rdflib-endpoint[cli]==0.6.3"]}


class ServerError(Exception):
    """A server did not load or start; the message says why, with the tail of its log."""


@dataclass
class Started:
    """What starting (and loading) a server measured."""

    query_url: str
    load_seconds: float
    loader_rss_mb: float | None = None
    note: str = ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (so fields[2] is the process group)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def group(pgid: int) -> list[int]:
    """The processes of a process group: a server and the workers it forked."""
    members = []
    for entry in Path("/proc").iterdir():
        fields = _stat(int(entry.name)) if entry.name.isdigit() else None
        if fields and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def group_cpu_seconds(pgid: int) -> float | None:
    """User + system CPU seconds of a process group so far, including its reaped children."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats = [f for f in (_stat(pid) for pid in group(pgid)) if f]
    return sum(int(f[11]) + int(f[12]) + int(f[13]) + int(f[14]) for f in stats) / ticks if stats else None


def _status_kib(pid: int, key: str, name: str = "status") -> int:
    try:
        text = (Path("/proc") / str(pid) / name).read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith(key)), 0)


@dataclass
class Memory:
    """Memory of a server's process group just before it stops."""

    peak_rss_mb: float  # sum of each process's high-water mark (VmHWM): shared pages count once per process
    pss_mb: float  # sum of proportional set sizes now: shared pages split between the processes
    processes: int

    def __add__(self, other: Memory) -> Memory:
        return Memory(self.peak_rss_mb + other.peak_rss_mb, self.pss_mb + other.pss_mb,
                      self.processes + other.processes)


def memory(pgid: int) -> Memory:
    pids = group(pgid)
    peak = sum(_status_kib(pid, "VmHWM:") for pid in pids)
    pss = sum(_status_kib(pid, "Pss:", "smaps_rollup") for pid in pids)
    return Memory(peak / 1024, pss / 1024, len(pids))


def directory_mb(path: Path) -> float:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0
    return total / 2**20


def child_env() -> dict[str, str]:
    """The environment without ECRN_* settings, so a developer's settings cannot change what is measured."""
    return {k: v for k, v in os.environ.items() if not k.startswith("ECRN_")}


class Processes:
    """Starts child processes in their own process groups, logs their output, and stops them."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[subprocess.Popen[bytes]] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def spawn(self, label: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{label}.log").open("wb")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=ROOT, env={**child_env(), **(env or {})}, start_new_session=True)
        log.close()
        self.running.append(proc)
        return proc

    def log_text(self, label: str) -> str:
        path = self.log_dir / f"{label}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tail(self, label: str, lines: int = 15) -> str:
        return "\n".join(self.log_text(label).splitlines()[-lines:])

    def wait(self, proc: subprocess.Popen[bytes], label: str, timeout: float) -> tuple[int, float]:
        """Wait (at most `timeout` s) for a process to exit; return its exit code and its peak RSS in MiB."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                proc.returncode = os.waitstatus_to_exitcode(status)
                self.running.remove(proc)
                return proc.returncode, usage.ru_maxrss / 1024
            time.sleep(0.05)
        self.stop(proc)
        raise ServerError(f"{label} did not finish within {timeout:.0f} s; stopped")

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            self._signal(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.wait(timeout=15)
        if proc in self.running:
            self.running.remove(proc)

    @staticmethod
    def _signal(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)  # the group this run created for this child (start_new_session)

    def stop_all(self) -> None:
        for proc in list(self.running):
            self.stop(proc)


def status(url: str, timeout: float = 5.0) -> int | None:
    """The HTTP status of ASK {} at `url`, or None when nothing answers (yet)."""
    try:
        response = httpx.post(url, data={"query": ASK_NOTHING}, timeout=timeout,
                              headers={"accept": "application/sparql-results+json"})
    except httpx.HTTPError:
        return None
    return response.status_code


def answers(url: str, timeout: float = 5.0) -> bool:
    return status(url, timeout) == 200


class Server:
    """One server kind; subclasses say how to load and serve."""

    name = ""
    notes = ""
    env: dict[str, str] = {}  # noqa: RUF012 - read-only per-class settings

    def __init__(self, procs: Processes, workdir: Path, timeout: float) -> None:
        self.procs = procs
        self.workdir = workdir
        self.timeout = timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.store: Path | None = None

    def start(self, data: Path) -> Started:
        raise NotImplementedError

    def serve(self, argv: list[str], url: str, env: dict[str, str] | None = None) -> None:
        """Start the serving process and wait (bounded) until it answers ASK {}."""
        self.proc = self.spawn_answering("serve", argv, url, self.env if env is None else env)

    def spawn_answering(self, role: str, argv: list[str], url: str,
                        env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start a process (logged as NAME-ROLE) and wait (bounded) until it answers ASK {} at `url`."""
        label = f"{self.name}-{role}"
        proc = self.procs.spawn(label, argv, env)
        deadline = time.monotonic() + self.timeout
        try:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise ServerError(f"{label} exited with {proc.returncode}:\n{self.procs.log_tail(label)}")
                code = status(url)
                if code == 200:
                    return proc
                if code is not None:
                    raise ServerError(f"{label} answered ASK {{}} at {url} with HTTP {code}")
                time.sleep(0.2)
            raise ServerError(f"{label} did not answer within {self.timeout:.0f} s")
        except ServerError:
            self.procs.stop(proc)
            raise

    def fresh_store(self) -> Path:
        self.store = self.workdir / f"{self.name}-store"
        shutil.rmtree(self.store, ignore_errors=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        return self.store

    def load_with(self, argv: list[str]) -> tuple[float, float]:
        """Run a loader process to its end; return its wall time and its peak RSS."""
        started = time.perf_counter()
        proc = self.procs.spawn(f"{self.name}-load", argv)
        code, rss = self.procs.wait(proc, f"{self.name} load", self.timeout)
        if code != 0:
            raise ServerError(f"{self.name} load exited with {code}:\n{self.procs.log_tail(f'{self.name}-load')}")
        return time.perf_counter() - started, rss

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def cpu_seconds(self) -> float | None:
        return group_cpu_seconds(self.proc.pid) if self.proc else None

    def stop(self) -> Memory | None:
        """Stop the server; return the memory of its processes, read just before they stop."""
        if self.proc is None:
            return None
        used = memory(self.proc.pid)
        self.procs.stop(self.proc)
        self.proc = None
        return used

    def store_mb(self) -> float | None:
        return directory_mb(self.store) if self.store else None


def ecrn_kg_version() -> str:
    """The commit of the working tree ecrn-kg runs from (an editable install), marked when graph/ or service/ differ."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=ROOT, timeout=30).stdout.strip()

    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if git("status", "--porcelain", "graph",
                                                                                   "service") else "")


class EcrnKg(Server):
    name = "ecrn-kg"
    notes = ("ecrn-kg load --no-validate (adds the ontology and RDFS entailments), then ecrn-kg serve --store, "
             "default settings (answer cache on) but no fair-use limits: every client comes from one address")
    exe = ROOT / ".venv" / "bin" / "ecrn-kg"
    env = {"ECRN_CLIENT_MAX_QUERIES": "0", "ECRN_CLIENT_QUERY_SECONDS": "0"}  # noqa: RUF012

    def start(self, data: Path) -> Started:
        store = self.fresh_store()
        seconds, rss = self.load_with([str(self.exe), "load", str(data), "--store", str(store), "--no-validate"])
        port = free_port()
        self.serve([str(self.exe), "serve", "--store", str(store), "--host", HOST, "--port", str(port)],
                   f"http://{HOST}:{port}/sparql")
        said = self.procs.log_tail(f"{self.name}-load", 1)
        return Started(f"http://{HOST}:{port}/sparql", seconds, rss,
                       note=f"commit {ecrn_kg_version()}; {self.malloc()}; load said: {said}")

    def malloc(self) -> str:
        """Which malloc the serving process runs with (ECRN_ALLOCATOR, ECRN_HUGE_PAGES), read from its memory map
        and environment."""
        assert self.proc is not None
        if "libjemalloc" not in Path(f"/proc/{self.proc.pid}/maps").read_text():
            return "malloc: the C library's"
        environ = Path(f"/proc/{self.proc.pid}/environ").read_bytes().split(b"\0")
        conf = next((e.split(b"=", 1)[1].decode() for e in environ if e.startswith(b"MALLOC_CONF=")), None)
        return f"malloc: jemalloc (preloaded, MALLOC_CONF={conf})" if conf else "malloc: jemalloc (preloaded)"


class EcrnKgNoCache(EcrnKg):
    name = "ecrn-kg-nocache"
    notes = "the same with ECRN_ANSWER_CACHE_BYTES=0: every query runs in a worker"
    env = {**EcrnKg.env, "ECRN_ANSWER_CACHE_BYTES": "0"}  # noqa: RUF012


class EcrnKgMemory(EcrnKg):
    name = "ecrn-kg-mem"
    notes = ("ecrn-kg serve --data FILE --no-validate: in memory like oxigraph-mem (load = start until it answers), "
             "ECRN_ANSWER_CACHE_BYTES=0: every query runs in a worker")
    env = {**EcrnKg.env, "ECRN_ANSWER_CACHE_BYTES": "0"}  # noqa: RUF012
    workers = 1  # uvicorn worker processes (`serve --workers`)

    def start(self, data: Path) -> Started:
        port = free_port()
        started = time.perf_counter()
        self.serve_data(data, port, self.env, self.workers)
        return Started(f"http://{HOST}:{port}/sparql", time.perf_counter() - started,
                       note=f"commit {ecrn_kg_version()}; {self.malloc()}; load time includes start-up and loading "
                            "the ChemClust graph")

    def serve_data(self, data: Path | None, port: int, env: dict[str, str], workers: int) -> None:
        """`ecrn-kg serve [--data FILE --no-validate] [--workers N]`; return when every worker has started."""
        argv = [str(self.exe), "serve", "--host", HOST, "--port", str(port)]
        argv += ["--data", str(data), "--no-validate"] if data else []
        self.serve(argv + (["--workers", str(workers)] if workers > 1 else []), f"http://{HOST}:{port}/sparql", env)
        if workers > 1:
            self.wait_for_workers(workers)

    def wait_for_workers(self, workers: int) -> None:
        """Wait (bounded) until each uvicorn worker has logged the end of its start-up (its own load)."""
        label = f"{self.name}-serve"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise ServerError(f"{label} exited:\n{self.procs.log_tail(label)}")
            if self.procs.log_text(label).lower().count("application startup complete") >= workers:
                return
            time.sleep(0.2)
        raise ServerError(f"{label}: not all {workers} workers started within {self.timeout:.0f} s")


class EcrnKgMemorySystemMalloc(EcrnKgMemory):
    name = "ecrn-kg-mem-malloc"
    notes = "the same with ECRN_ALLOCATOR=system: the C library's malloc, not jemalloc"
    env = {**EcrnKgMemory.env, "ECRN_ALLOCATOR": "system"}  # noqa: RUF012


class EcrnKgMemoryW4(EcrnKgMemory):
    name = "ecrn-kg-mem-w4"
    notes = ("the same with --workers 4: four uvicorn workers, each loads its own copy in memory and has its own "
             "query workers (load = start until all four have started)")
    workers = 4


def oxigraph_exe() -> Path:
    local = VENVS / "oxigraph" / "bin" / "oxigraph"
    found = shutil.which("oxigraph")
    return local if local.exists() or not found else Path(found)


class OxigraphDisk(Server):
    name = "oxigraph-disk"
    notes = "oxigraph load --location DIR, then oxigraph serve --location DIR (RocksDB on disk)"

    def start(self, data: Path) -> Started:
        exe = str(oxigraph_exe())
        store = self.fresh_store()
        seconds, rss = self.load_with([exe, "load", "--location", str(store), "--file", str(data)])
        port = free_port()
        self.serve([exe, "serve", "--location", str(store), "--bind", f"{HOST}:{port}"], f"http://{HOST}:{port}/query")
        return Started(f"http://{HOST}:{port}/query", seconds, rss)


class OxigraphMemory(Server):
    name = "oxigraph-mem"
    notes = "oxigraph serve (in memory), file POSTed to /store?default"

    def start(self, data: Path) -> Started:
        return self.serve_posted(data, "store?default", "application/n-triples", [])

    def serve_posted(self, data: Path, target: str, media_type: str, options: list[str]) -> Started:
        """`oxigraph serve OPTIONS` in memory, then `data` POSTed to `/TARGET` (load = the POST)."""
        port = free_port()
        base = f"http://{HOST}:{port}"
        self.serve([str(oxigraph_exe()), "serve", *options, "--bind", f"{HOST}:{port}"], f"{base}/query")
        started = time.perf_counter()
        with data.open("rb") as body:
            response = httpx.post(f"{base}/{target}", content=body, timeout=self.timeout,
                                  headers={"content-type": media_type})
        if response.status_code not in (200, 201, 204):
            raise ServerError(f"{self.name}: POST /store answered {response.status_code}: {response.text[:500]}")
        return Started(f"{base}/query", time.perf_counter() - started)


class OxigraphMemorySame(OxigraphMemory):
    name = "oxigraph-mem-same"
    notes = ("oxigraph serve --union-default-graph (in memory) holding the dataset ecrn-kg-mem serves (the ChemClust "
             "graph, the ontology, FILE and their RDFS entailments, a named graph each), POSTed as N-Quads to /store; "
             "the dataset is made, untimed, by ecrn-kg load --no-validate into a store on disk and ecrn-kg export, "
             "its quads grouped by subject as ecrn-kg loads them in memory (the engine walks a subject's quads "
             "faster when they were allocated together); it answers what ecrn-kg answers")

    def start(self, data: Path) -> Started:
        store, dump = self.fresh_store(), self.workdir / f"{self.name}.nq"
        exe = str(EcrnKg.exe)
        self.load_with([exe, "load", *map(str, default_files()), str(data), "--store", str(store), "--no-validate"])
        self.load_with([exe, "export", "--store", str(store), "--output", str(dump)])
        shutil.rmtree(store, ignore_errors=True)
        group_by_subject(dump)
        self.store = None  # the server holds the dataset in memory
        try:
            return self.serve_posted(dump, "store", "application/n-quads", ["--union-default-graph"])
        finally:
            dump.unlink(missing_ok=True)


def group_by_subject(path: Path) -> None:
    """Rewrite an N-Quads file with each subject's quads together, the subjects in the order first met."""
    groups: dict[bytes, list[bytes]] = {}
    with path.open("rb") as lines:
        for line in lines:
            groups.setdefault(line.split(b" ", 1)[0], []).append(line)
    with path.open("wb") as out:
        for group in groups.values():
            out.writelines(group)


class RdflibEndpoint(Server):
    name = "rdflib-endpoint"
    notes = "rdflib-endpoint serve FILE (rdflib in-memory Dataset, endpoint at /); load = start until it answers"
    exe = VENVS / "rdflib-endpoint" / "bin" / "rdflib-endpoint"

    def start(self, data: Path) -> Started:
        port = free_port()
        started = time.perf_counter()
        self.serve([str(self.exe), "serve", str(data), "--host", HOST, "--port", str(port)], f"http://{HOST}:{port}/")
        return Started(f"http://{HOST}:{port}/", time.perf_counter() - started,
                       note="load time includes Python start-up")


class EcrnKgRemote(EcrnKgMemory):
    name = "ecrn-kg-remote"
    notes = ("oxigraph serve --location DIR --union-default-graph (RocksDB), then ecrn-kg serve --data FILE "
             "--no-validate with ECRN_REMOTE_QUERY_URL/ECRN_REMOTE_UPDATE_URL pointing to it, which loads the "
             "ChemClust graph and FILE into it (load = ecrn-kg start until it answers), ECRN_ANSWER_CACHE_BYTES=0; "
             "RSS, PSS and CPU are of both servers; ECRN_QUERY_TIMEOUT=600, as the load's last update (one MOVE of "
             "every graph) takes longer than the default 30 s at 1M triples (no query of the mix comes near either)")
    env = {**EcrnKgMemory.env, "ECRN_QUERY_TIMEOUT": "600"}  # noqa: RUF012

    def __init__(self, procs: Processes, workdir: Path, timeout: float) -> None:
        super().__init__(procs, workdir, timeout)
        self.triplestore: subprocess.Popen[bytes] | None = None

    def start(self, data: Path) -> Started:
        """Start the triplestore, load it by one ecrn-kg process serving `data`; with several workers, serve it
        again with them (not loading: concurrent loads by the workers race, see bench/README.md)."""
        store, store_port, port = self.fresh_store(), free_port(), free_port()
        remote = f"http://{HOST}:{store_port}"
        self.triplestore = self.spawn_answering("oxigraph", [
            str(oxigraph_exe()), "serve", "--location", str(store), "--union-default-graph",
            "--bind", f"{HOST}:{store_port}"], f"{remote}/query")
        env = {**self.env, "ECRN_REMOTE_QUERY_URL": f"{remote}/query", "ECRN_REMOTE_UPDATE_URL": f"{remote}/update"}
        started = time.perf_counter()
        self.serve_data(data, port, env, 1)
        seconds, note = time.perf_counter() - started, f"commit {ecrn_kg_version()}; load time includes start-up"
        if self.workers > 1:
            assert self.proc is not None
            self.procs.stop(self.proc)
            port, restarted = free_port(), time.perf_counter()
            self.serve_data(None, port, env, self.workers)
            note += f"; then {self.workers} workers served the store, started in {time.perf_counter() - restarted:.1f}s"
        return Started(f"http://{HOST}:{port}/sparql", seconds, note=f"{note}; store MiB: Oxigraph's directory")

    def cpu_seconds(self) -> float | None:
        if self.proc is None or self.triplestore is None:
            return None
        ours, theirs = group_cpu_seconds(self.proc.pid), group_cpu_seconds(self.triplestore.pid)
        return None if ours is None or theirs is None else ours + theirs

    def stop(self) -> Memory | None:
        """Stop ecrn-kg, then the triplestore; the memory of both, read just before."""
        used = super().stop()
        if self.triplestore is None:
            return used
        store_used = memory(self.triplestore.pid)
        self.procs.stop(self.triplestore)
        self.triplestore = None
        return store_used if used is None else used + store_used


class EcrnKgRemoteW4(EcrnKgRemote):
    name = "ecrn-kg-remote-w4"
    notes = ("the same store, loaded the same way by one ecrn-kg process (load s), which is then stopped; then "
             "ecrn-kg serve --workers 4 (no --data) on it: four uvicorn workers, each with its own query slots")
    workers = 4


SERVERS: dict[str, type[Server]] = {
    s.name: s for s in (EcrnKg, EcrnKgNoCache, EcrnKgMemory, EcrnKgMemorySystemMalloc, OxigraphMemory,
                        OxigraphMemorySame, OxigraphDisk, RdflibEndpoint, EcrnKgMemoryW4, EcrnKgRemote, EcrnKgRemoteW4)}
DEFAULT_SERVERS = ("ecrn-kg", "ecrn-kg-nocache", "ecrn-kg-mem", "oxigraph-mem", "oxigraph-disk", "rdflib-endpoint")


def missing(name: str) -> str | None:
    """Why a server cannot run here (its executable is missing), or None."""
    oxigraph = oxigraph_exe()
    exes = {"rdflib-endpoint": [RdflibEndpoint.exe], "oxigraph-mem": [oxigraph], "oxigraph-disk": [oxigraph],
            "ecrn-kg-remote": [EcrnKg.exe, oxigraph], "ecrn-kg-remote-w4": [EcrnKg.exe, oxigraph]}
    absent = [exe for exe in exes.get(name, [EcrnKg.exe]) if not exe.exists()]
    if not absent:
        return None
    return f"{absent[0]} is missing: run `.venv/bin/python bench/run.py --setup` (or `make install` for ecrn-kg)"


def setup(python: str = "python3") -> None:
    """Create the separate virtual environments of the comparison servers under var/bench/venvs/."""
    for name, requirements in PINNED.items():
        venv = VENVS / name
        if not (venv / "bin" / "python").exists():
            subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *requirements], check=True)
        print(f"{name}: {venv}")
