"""Fair use of the query workers: each client may run a few queries at once and spend a budget of worker time per
window; past either, 429 Too Many Requests with Retry-After. A client is its address (behind a trusted proxy,
uvicorn takes it from X-Forwarded-For). State lives on the event loop: no locks."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi import Request

from graph import QueryTimeoutError
from service.problems import TooManyRequestsError

SWEEP_EVERY = 1024


@dataclass
class _Client:
    running: int = 0
    spent: deque[tuple[float, float]] = field(default_factory=deque)  # (when, worker seconds), oldest first


@dataclass
class Turn:
    """One query of a client: set `seconds` to the worker time it took (a timeout is charged the worker time it
    used: none when it found no free worker)."""

    seconds: float = 0.0


class Fairness:
    """Per-client limits: `max_queries` at once (0: any number), `budget` worker seconds per `window` (0: any)."""

    def __init__(self, max_queries: int, budget: float, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_queries, self.budget, self.window, self.clock = max_queries, budget, window, clock
        self._clients: dict[str, _Client] = {}
        self._turns = 0

    @contextmanager
    def turn(self, client: str) -> Iterator[Turn]:
        """Admit one query of `client` (TooManyRequestsError if it is over a limit) and charge it afterwards."""
        self._turns += 1
        if self._turns % SWEEP_EVERY == 0:
            self._sweep()
        state = self._clients.setdefault(client, _Client())
        self._admit(state)
        state.running += 1
        turn = Turn()
        try:
            yield turn
        except QueryTimeoutError as error:
            turn.seconds = error.worker_seconds
            raise
        finally:
            state.running -= 1
            if turn.seconds:
                state.spent.append((self.clock(), turn.seconds))
            if not state.running and not state.spent:
                del self._clients[client]

    def _sweep(self) -> None:
        """Forget the clients with no query running and no charge left in the window."""
        horizon = self.clock() - self.window
        for client in [c for c, s in self._clients.items() if not s.running and (not s.spent or
                                                                                  s.spent[-1][0] <= horizon)]:
            del self._clients[client]

    def _admit(self, state: _Client) -> None:
        if self.max_queries and state.running >= self.max_queries:
            raise TooManyRequestsError(f"at most {self.max_queries} queries at once per client; wait for one to end",
                                       {"Retry-After": "1"})
        if not self.budget:
            return
        now = self.clock()
        while state.spent and state.spent[0][0] <= now - self.window:
            state.spent.popleft()
        over = sum(seconds for _, seconds in state.spent) - self.budget
        if over >= 0:
            freed, wait = 0.0, self.window
            for when, seconds in state.spent:  # the oldest charges expire first
                freed += seconds
                wait = when + self.window - now
                if freed > over:
                    break
            raise TooManyRequestsError(f"this client's queries used {self.budget:g} s of worker time in the last "
                                       f"{self.window:g} s; more after Retry-After",
                                       {"Retry-After": str(max(1, math.ceil(wait)))})


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"
