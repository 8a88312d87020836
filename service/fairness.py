"""Fair use of the query workers: each client may run a few queries at once (more wait a moment in line for one
of them to end) and spend a budget of worker time per window; past either, 429 Too Many Requests with Retry-After.
A client is its address (behind a trusted proxy, uvicorn takes it from X-Forwarded-For). State lives on the event
loop: no locks."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import Request

from graph import QueryTimeoutError
from service.problems import TooManyRequestsError

SWEEP_EVERY = 1024
LINE_PER_SLOT = 8  # queries a client may have waiting, per query it may run at once


@dataclass
class _Client:
    running: int = 0
    spent: deque[tuple[float, float]] = field(default_factory=deque)  # (when, worker seconds), oldest first
    total: float = 0.0  # the sum of `spent`'s seconds, kept as charges come and go (a sum per query cost O(queries))
    waiting: deque[asyncio.Future[None]] = field(default_factory=deque)  # in line for a slot, first come first


@dataclass
class Turn:
    """One query of a client: set `seconds` to the worker time it took (a timeout is charged the worker time it
    used: none when it found no free worker)."""

    seconds: float = 0.0


class Fairness:
    """Per-client limits: `max_queries` at once (0: any number), more waiting up to `wait` seconds for a slot (0:
    refused at once); `budget` worker seconds per `window` (0: any)."""

    def __init__(self, max_queries: int, budget: float, window: float, wait: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_queries, self.budget, self.window, self.wait, self.clock = max_queries, budget, window, wait, clock
        self._clients: dict[str, _Client] = {}
        self._turns = 0

    @asynccontextmanager
    async def turn(self, client: str) -> AsyncIterator[Turn]:
        """Admit one query of `client` (TooManyRequestsError if it is over a limit) and charge it afterwards."""
        self._turns += 1
        if self._turns % SWEEP_EVERY == 0:
            self._sweep()
        state = self._clients.setdefault(client, _Client())
        try:
            self._within_budget(state)
            if await self._slot(state):
                self._recheck(state)  # the queries it waited behind were charged meanwhile
        except BaseException:
            self._forget_if_idle(client, state)
            raise
        turn = Turn()
        try:
            yield turn
        except QueryTimeoutError as error:
            turn.seconds = error.worker_seconds
            raise
        finally:
            if turn.seconds:
                state.spent.append((self.clock(), turn.seconds))
                state.total += turn.seconds
            self._release(state)
            self._forget_if_idle(client, state)

    async def _slot(self, state: _Client) -> bool:
        """Take one of the client's slots, waiting in line for one if all are taken (a slot freed goes to the first
        in line, so none is taken twice); whether it waited."""
        if not self.max_queries or (state.running < self.max_queries and not state.waiting):
            state.running += 1
            return False
        if not self.wait or len(state.waiting) >= self.max_queries * LINE_PER_SLOT:
            raise TooManyRequestsError(f"at most {self.max_queries} queries at once per client; wait for one to end",
                                       {"Retry-After": "1"})
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        state.waiting.append(handed)
        try:
            await asyncio.wait({handed}, timeout=self.wait)
        except asyncio.CancelledError:  # the request went away
            self._leave(state, handed)
            raise
        if not handed.done():
            self._leave(state, handed)
            raise TooManyRequestsError(f"at most {self.max_queries} queries at once per client, and "
                                       f"{self.wait:g} s passed before one ended", {"Retry-After": "1"})
        return True

    def _recheck(self, state: _Client) -> None:
        """The budget again, for a query that holds a slot: over it, the slot goes to the next in line."""
        try:
            self._within_budget(state)
        except TooManyRequestsError:
            self._release(state)
            raise

    def _leave(self, state: _Client, handed: asyncio.Future[None]) -> None:
        """Leave the line; or give back the slot handed over meanwhile."""
        if handed.done():
            self._release(state)
        else:
            handed.cancel()
            state.waiting.remove(handed)

    def _release(self, state: _Client) -> None:
        """Give the slot to the first still in line, else free it."""
        while state.waiting:
            first = state.waiting.popleft()
            if not first.done():
                first.set_result(None)
                return
        state.running -= 1

    def _forget_if_idle(self, client: str, state: _Client) -> None:
        if not state.running and not state.spent and not state.waiting and self._clients.get(client) is state:
            del self._clients[client]

    def _sweep(self) -> None:
        """Forget the clients with no query running and no charge left in the window."""
        horizon = self.clock() - self.window
        for client, state in list(self._clients.items()):
            if not state.running and not state.waiting and (not state.spent or state.spent[-1][0] <= horizon):
                del self._clients[client]

    def _within_budget(self, state: _Client) -> None:
        if not self.budget:
            return
        now = self.clock()
        while state.spent and state.spent[0][0] <= now - self.window:
            state.total -= state.spent.popleft()[1]
        if not state.spent:
            state.total = 0.0  # no rounding left over
        over = state.total - self.budget
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
