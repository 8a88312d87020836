"""Query workers forked from the server keep none of its sockets: no client connection held open behind the server's
back, and no worker left running when the server is killed."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graph import EmbeddedStore, QueryPool

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")

ASK = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
POOL_IN_A_CHILD = """
import time
from graph import EmbeddedStore, QueryPool
pool = QueryPool(EmbeddedStore(), 2)
pool.start()
print(" ".join(str(worker.process.pid) for worker in list(pool._idle)), flush=True)
time.sleep(120)
"""


def sockets_of(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    return sum(os.readlink(fds / fd).startswith("socket:") for fd in os.listdir(fds))


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_a_forked_worker_keeps_no_socket_but_its_own_pipe() -> None:
    client_connection = socket.socketpair()  # open in the server while its workers are forked
    pool = QueryPool(EmbeddedStore(), 2)
    pool.start()
    try:
        for _ in range(2):  # each worker answers once, so each has started
            assert pool.select(ASK, 30) == []
        for worker in list(pool._idle):
            assert sockets_of(worker.process.pid) == 1
    finally:
        pool.close()
        for end in client_connection:
            end.close()


def test_a_replacement_worker_holds_no_more_descriptors_than_the_first_ones() -> None:
    """Found by the soak: a worker forked later inherited the other workers' pipes and sentinels; now every worker
    keeps stdio, its pipe, its sentinel and its /dev/null stdin."""
    pool = QueryPool(EmbeddedStore(), 2)
    pool.start()
    try:
        first = list(pool._idle)
        for _ in range(2):
            assert pool.select(ASK, 30) == []
        counts = {len(os.listdir(f"/proc/{w.process.pid}/fd")) for w in first}
        for _ in range(3):
            pool._replace(pool._idle.popleft())
        later = [w for w in pool._idle if w not in first]
        assert len(later) == 2 and all(pool.select(ASK, 30) == [] for _ in later)
        assert {len(os.listdir(f"/proc/{w.process.pid}/fd")) for w in later} == counts == {6}
    finally:
        pool.close()


def test_workers_end_when_the_process_that_forked_them_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", POOL_IN_A_CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        workers = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(workers) == 2
    finally:
        parent.kill()
        parent.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:
        os.kill(pid, 9)
    assert left == []
