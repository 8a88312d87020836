"""Backups of an on-disk store, taken while it serves, and their restoration while it does not.

A backup is a new store that receives every quad of the store opened read-only beside the serving process, which
sees every acknowledged write (a RocksDB checkpoint of a read-only store would miss the writes still in its
write-ahead log); the release log beside the store is copied with it. A backup is itself a store directory:
restoring copies it into place, and only when no process has the store open.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from graph.errors import StoreError
from graph.releases import directory_for
from graph.store import EmbeddedStore


def backup(store_path: Path, target: Path) -> int:
    """Copy the store at `store_path` (in use or not) to the new directory `target`; return its quads."""
    if target.exists():
        raise StoreError(f"{target} exists: a backup goes to a new directory")
    if not store_path.is_dir():
        raise StoreError(f"there is no store at {store_path}")
    source, copy = EmbeddedStore(store_path, read_only=True), EmbeddedStore(target)
    try:
        copy.fill_from(source)
        copy.flush()
        quads = len(copy)
    finally:
        source.close()
        copy.close()
    if directory_for(store_path).is_dir():
        shutil.copytree(directory_for(store_path), directory_for(target))
    return quads


def restore(source: Path, store_path: Path, replace: bool = False) -> int:
    """Put the backup at `source` in place of the store at `store_path`, which no process may have open; an existing
    store is replaced only when `replace` is set. Return the quads restored."""
    copy = EmbeddedStore(source, read_only=True)  # a backup that does not open is refused before anything moves
    copy.close()
    if store_path.exists():
        if not replace:
            raise StoreError(f"{store_path} exists: restore with replace to overwrite it")
        EmbeddedStore(store_path).close()  # StoreError while a service holds it: stop the service first
        shutil.rmtree(store_path)
        shutil.rmtree(directory_for(store_path), ignore_errors=True)
    shutil.copytree(source, store_path)
    if directory_for(source).is_dir():
        shutil.copytree(directory_for(source), directory_for(store_path))
    restored = EmbeddedStore(store_path)
    try:
        return len(restored)
    finally:
        restored.close()
