"""Answers to repeated queries, kept until the next write: an LRU cache with ETags for conditional requests.

A query's answer depends only on the store's state (the pool's write generation), the query text and the way it is
asked (formats, dataset, row cap); queries that reach remote endpoints or call non-deterministic functions are
never cached.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from graph import Answer
from graph.lexer import tokens

VOLATILE = frozenset({"RAND", "NOW", "UUID", "STRUUID", "BNODE"})


@dataclass(frozen=True)
class Cached:
    answer: Answer
    etag: str


def cacheable(query: str, remote: frozenset[str]) -> bool:
    if remote:
        return False
    upper = query.upper()  # most queries hold none of the names, and need no lexer to tell
    return not any(name in upper for name in VOLATILE) or not any(t.keyword in VOLATILE for t in tokens(query))


def etag_of(generation: int, body: bytes) -> str:
    return f'"{generation}-{hashlib.sha256(body).hexdigest()[:24]}"'


class AnswerCache:
    """At most `max_bytes` of answer bodies, least recently used first out; entries of older generations expire."""

    def __init__(self, max_bytes: int, max_entry_bytes: int) -> None:
        self._entries: OrderedDict[tuple[object, ...], Cached] = OrderedDict()
        self._bytes, self._max_bytes, self._max_entry = 0, max_bytes, max_entry_bytes
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple[object, ...]) -> Cached | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[object, ...], cached: Cached) -> None:
        size = len(cached.answer.body)
        if size > self._max_entry:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = cached
            self._bytes += size
            while self._bytes > self._max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.answer.body)

    def forget_before(self, generation: int) -> None:
        """Drop entries of earlier generations (keys start with the generation)."""
        with self._lock:
            for key in [k for k in self._entries if k[0] != generation]:
                self._bytes -= len(self._entries.pop(key).answer.body)
