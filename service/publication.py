"""What the publishing routes serve, kept current with the store: releases, dump files and the resource list.

A release is recorded at start, then by a thread that looks every `interval` seconds whether writes have changed
the store (writes in between make one release: a write does not wait for a pass over the whole store), whenever
a reader needs the latest release (the list, a dump, the catalogue), and at the end. Dump files are built when
first asked for, once per release, with the write lock held so that no write lands while they are read. Every
method here blocks: call it from a worker thread.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from graph import GraphError, Namespaces, StoreError
from graph.releases import Release, ReleaseLog, directory_for
from service.backend import Backend, Pool
from service.dumps import FORMATS, DumpFile

log = logging.getLogger(__name__)


@dataclass
class Publication:
    """The releases of the store and the dump files of its latest release."""

    store: Backend
    pool: Pool
    namespaces: Namespaces
    directory: Path | None = None  # of the release log; else beside an on-disk store, or in memory
    log: ReleaseLog = field(init=False)
    _files: dict[str, DumpFile] = field(default_factory=dict, init=False)
    _building: threading.Lock = field(default_factory=threading.Lock, init=False)
    _synced: int = field(default=-1, init=False)  # the pool generation the log was last brought up to
    _stopped: threading.Event = field(default_factory=threading.Event, init=False)
    _follower: threading.Thread | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.log = ReleaseLog(self.directory or (directory_for(self.store.path) if self.store.path else None))

    def start(self, interval: float) -> None:
        """Record the content at start (the first load, or what changed while the service was stopped); then look
        for changes every `interval` seconds (a store out of reach at start is recorded once it answers)."""
        self._record()
        self._follower = threading.Thread(target=self._follow, args=(interval,), name="releases", daemon=True)
        self._follower.start()

    def close(self) -> None:
        """Stop looking, and record what the last writes changed."""
        self._stopped.set()
        if self._follower is not None:
            self._follower.join()
        self._record()

    def _follow(self, interval: float) -> None:
        while not self._stopped.wait(interval):
            if self.pool.generation != self._synced:
                self._record()

    def _record(self) -> None:
        """Record a release if writes changed the content. A failure is logged, not raised: the writes got through,
        and the next look or read records the change."""
        try:
            with self.pool.write_lock:
                self._sync()
        except (OSError, GraphError):
            log.exception("recording a release failed")

    def latest(self) -> Release:
        """The latest release, recording one first if a change went unrecorded."""
        if self.pool.generation != self._synced:
            with self.pool.write_lock:
                self._sync()
        latest = self.log.latest
        assert latest is not None, "a sync records the first release"
        return latest

    def dump(self, name: str) -> DumpFile:
        """The dump file `name` (a key of FORMATS) of the latest release, built at most once per release; a built
        file is served without waiting for another file's build."""
        cached = self._files.get(name)
        if cached is not None and self.pool.generation == self._synced and cached.release == self.log.latest:
            return cached
        with self._building:
            cached = self._files.get(name)
            if cached is not None and cached.release == self.latest():
                return cached
            with self.pool.write_lock:
                release = self._sync()
                spec = FORMATS[name]
                body = self.log.content() if spec.fmt is None else self.store.dump(
                    spec.fmt, prefixes=self.namespaces.prefixes())
            self._files[name] = DumpFile(spec, body, release)
            return self._files[name]

    def dumps(self) -> list[DumpFile]:
        """Every dump file, all of one release (a write between two of them makes it build them again, a few
        times at most: then the store is changing too fast to describe it)."""
        for _ in range(5):
            files = [self.dump(name) for name in FORMATS]
            if len({file.release for file in files}) == 1:
                return files
        raise StoreError("the store changed during each of five attempts to describe its dumps; try again")

    def _sync(self) -> Release:
        """Bring the log up to the store, unless the log already holds the store's state (a remote store whose
        replicas share the log: the first to start read it); call it holding the pool's write lock."""
        generation = self.pool.generation
        if generation != self._synced:
            state = self.pool.state  # before the content is read: a write after it names a new state
            if not self.log.knows(state):
                self.log.record(self.store, state=state)
            self._synced = generation
        latest = self.log.latest
        assert latest is not None
        return latest
