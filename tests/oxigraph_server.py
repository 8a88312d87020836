"""A real Oxigraph server (the `oxigraph` command of the PyPI package `oxigraph`) on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def executable() -> str:
    """The `oxigraph` command beside this Python (the dev install puts it there), else on PATH."""
    beside = Path(sys.executable).with_name("oxigraph")
    found = str(beside) if beside.exists() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the oxigraph command is missing: pip install oxigraph (it is a dev dependency)")
    return found


@contextmanager
def oxigraph_server(location: Path, *options: str, union: bool = True) -> Iterator[str]:
    """`oxigraph serve --location DIR --union-default-graph` (as ecrn-kg's union default graph expects; without it
    if not `union`), more `options` if given; yield its base URL (/query, /update, /store under it)."""
    port = free_port()
    process = subprocess.Popen(
        [executable(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
         *(["--union-default-graph"] if union else []), *options], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        answering(process, f"{url}/query", 30, lambda: process.stderr.read().decode() if process.stderr else "")
        yield url
    finally:
        stop(process)


def answering(process: subprocess.Popen[bytes], query_url: str, seconds: float, said: Callable[[], str]) -> None:
    """Wait until a server just started answers ASK {} at `query_url`; RuntimeError with what it `said` if it
    ended or did not answer within `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(query_url, params={"query": "ASK {}"}, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{Path(str(process.args[0])).name} did not start: {said()}")
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server process; kill it if it has not ended within 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
