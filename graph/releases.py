"""Releases: each change of the store's content is a numbered, dated release with its changes as an RDF Patch.

A release is recorded when the content differs from the last release's (the same checksum as
`EmbeddedStore.checksum`: SHA-256 of the sorted N-Quads). The last release's content is kept as sorted, gzipped
N-Quads: the base of the next diff, and the N-Quads dump of the store. For an on-disk store the log lives in a
directory beside the store (`store.releases`) and so survives restarts; otherwise it is kept in memory.

Files of a log: `releases.json` (the list, written last: it commits a release), `{version}.rdfp.gz` (its patch),
`{version}.nq.gz` (the content of the latest release only) and `state` (what the store's owner named its state when
the content was last read: while the store keeps that name, its content need not be read again).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from graph.errors import StoreError
from graph.store import Store

LOG = "releases.json"
STATE = "state"


@dataclass(frozen=True)
class Release:
    """One release: its number, when it was recorded, its content checksum and what changed since the last one."""

    version: int
    issued: datetime
    checksum: str
    added: int
    removed: int
    quads: int
    id: str  # the patch's `H id`, a urn:uuid

    @property
    def timestamp(self) -> str:
        """`issued` in UTC with a Z, as xsd:dateTime writes it."""
        return self.issued.astimezone(UTC).isoformat().replace("+00:00", "Z")

    @property
    def notes(self) -> str:
        return (f"Release {self.version} of {self.issued.date().isoformat()}: {self.added} quads added, "
                f"{self.removed} removed, {self.quads} in all; content SHA-256 {self.checksum}.")

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "issued": self.issued.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Release:
        return cls(**{**data, "issued": datetime.fromisoformat(data["issued"])})


class _Shelf(Protocol):
    def get(self, name: str) -> bytes | None: ...

    def put(self, name: str, data: bytes) -> None: ...

    def delete(self, name: str) -> None: ...

    def version(self, name: str) -> object: ...

    def locked(self) -> AbstractContextManager[object]: ...


class _Memory:
    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}

    def get(self, name: str) -> bytes | None:
        return self._files.get(name)

    def put(self, name: str, data: bytes) -> None:
        self._files[name] = data

    def delete(self, name: str) -> None:
        self._files.pop(name, None)

    def version(self, name: str) -> object:
        return id(self._files.get(name))

    def locked(self) -> AbstractContextManager[object]:
        return contextlib.nullcontext()


@dataclass(frozen=True)
class _Directory:
    path: Path

    def get(self, name: str) -> bytes | None:
        target = self.path / name
        return target.read_bytes() if target.exists() else None

    def put(self, name: str, data: bytes) -> None:
        """Written whole or not at all: to a temporary file that is then renamed."""
        self.path.mkdir(parents=True, exist_ok=True)
        partial = self.path / f".{name}.partial"
        partial.write_bytes(data)
        os.replace(partial, self.path / name)

    def delete(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)

    def version(self, name: str) -> object:
        """What changes when the file does (its inode changes with each rename)."""
        with contextlib.suppress(FileNotFoundError):
            found = (self.path / name).stat()
            return found.st_ino, found.st_mtime_ns, found.st_size
        return None

    @contextlib.contextmanager
    def locked(self) -> Iterator[object]:
        """The directory to itself, against other processes sharing it (replicas of the service)."""
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield lock
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def directory_for(store_path: Path) -> Path:
    """Where the log of an on-disk store lives: beside it, never inside the engine's directory."""
    return store_path.parent / f"{store_path.name}.releases"


class ReleaseLog:
    """The releases of one store, oldest first; safe to read from several threads, and to share (in a directory)
    between the processes that serve one store: each reads the list again when another has changed it."""

    def __init__(self, directory: Path | None = None) -> None:
        self._shelf: _Shelf = _Directory(directory) if directory else _Memory()
        self._releases: list[Release] = []
        self._read: object = None
        self._lock = threading.Lock()

    @property
    def releases(self) -> list[Release]:
        with self._lock:
            self._refresh()
            return list(self._releases)

    @property
    def latest(self) -> Release | None:
        with self._lock:
            self._refresh()
            return self._releases[-1] if self._releases else None

    def _refresh(self) -> None:
        """Read the list again if it changed since it was last read."""
        version = self._shelf.version(LOG)
        if version != self._read:
            saved = self._shelf.get(LOG)
            self._releases = [Release.from_json(r) for r in json.loads(saved)] if saved else []
            self._read = version

    def knows(self, state: str | None) -> bool:
        """Whether the latest release holds the content the store had in this state (None: a state nobody named)."""
        with self._lock:
            self._refresh()
            return state is not None and bool(self._releases) and self._shelf.get(STATE) == state.encode()

    def record(self, store: Store, now: datetime | None = None, state: str | None = None) -> Release | None:
        """A new release when the store's content differs from the latest release's, else None; `state` names the
        store's state as it was before its content was read (see `knows`).

        Call it with no write running (the content must not move while it is read)."""
        lines = sorted(store.dump("nquads").splitlines())
        joined = b"\n".join(lines)
        checksum = hashlib.sha256(joined).hexdigest()
        with self._lock, self._shelf.locked():
            self._refresh()
            previous = self._releases[-1] if self._releases else None
            if state is None:
                self._shelf.delete(STATE)
            if previous is not None and previous.checksum == checksum:
                if state is not None:
                    self._shelf.put(STATE, state.encode())
                return None
            earlier = self._content(previous)
            before, after = set(earlier), set(lines)
            added, removed = [q for q in lines if q not in before], [q for q in earlier if q not in after]
            release = Release(previous.version + 1 if previous else 1, now or _now(), checksum, len(added),
                              len(removed), len(lines), uuid.uuid4().urn)
            self._save(release, previous, rdf_patch(release, previous, added, removed), joined + b"\n")
            if state is not None:
                self._shelf.put(STATE, state.encode())
            return release

    def patch(self, version: int) -> bytes | None:
        """The RDF Patch of a release (from the release before it to this one), gzipped."""
        return self._shelf.get(f"{version}.rdfp.gz")

    def content(self) -> bytes:
        """The latest release's content: sorted N-Quads, gzipped (the same bytes for the same content)."""
        with self._lock:
            self._refresh()
            latest = self._releases[-1] if self._releases else None
            return (self._shelf.get(f"{latest.version}.nq.gz") if latest else None) or _pack(b"")

    def _content(self, release: Release | None) -> list[bytes]:
        if release is None:
            return []
        packed = self._shelf.get(f"{release.version}.nq.gz")
        if packed is None:  # a patch from a guessed base would mislead whoever applies it
            raise StoreError(f"the release log lacks the content of release {release.version}; remove the log "
                             "to start it again")
        return gzip.decompress(packed).splitlines()

    def _save(self, release: Release, previous: Release | None, patch: bytes, content: bytes) -> None:
        self._shelf.put(f"{release.version}.rdfp.gz", _pack(patch))
        self._shelf.put(f"{release.version}.nq.gz", _pack(content))
        self._shelf.put(LOG, json.dumps([r.as_json() for r in [*self._releases, release]], indent=1).encode())
        self._releases.append(release)
        self._read = self._shelf.version(LOG)
        if previous is not None:
            self._shelf.delete(f"{previous.version}.nq.gz")


def rdf_patch(release: Release, previous: Release | None, added: list[bytes], removed: list[bytes]) -> bytes:
    """An RDF Patch (https://afs.github.io/rdf-patch/): headers, then one transaction of deletions and additions.

    Quads are written as N-Quads terms; blank node labels are the store's own, the same in every patch."""
    head = [f"H id <{release.id}> .".encode()]
    if previous is not None:
        head.append(f"H prev <{previous.id}> .".encode())
    body = [b"D " + q for q in removed] + [b"A " + q for q in added]
    return b"\n".join([*head, b"TX .", *body, b"TC ."]) + b"\n"


def _pack(data: bytes) -> bytes:
    """Gzip as `gzip -6` does (level 9 is four times slower for 5 % less), with no time stamp: same bytes in,
    same bytes out."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
