"""One answer per chain block for the read routes, so that a drop day's crowd costs one computation
per question per block, not one per visitor.

Measured before (bench/web.py, 2,000 tokens, 32 clients on this 2-core machine): 47.6 requests/s,
p50 530 ms, p95 1.6 s, because every request read the chain (2 to 4 RPC calls for a project). The
chain is the truth these routes report, and it only changes from block to block: an answer is
kept for the head block it was computed at, for at most `max_age` seconds (the oracle's render
progress and the token index move between blocks; max_age bounds how stale they can be). The
head itself is read from the node at most every `head_seconds`, so a new block shows within that
time. Answers are kept per path with its query; errors are never kept.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Callable

from cachetools import TTLCache, cached
from flask import current_app, request

from backend.chain.errors import ChainUnavailable

# The GET routes whose answers depend only on the chain, pinned (immutable) content, the token
# index and the oracle's progress: nothing about who asks.
CACHEABLE = frozenset({"api.contract", "api.projects", "api.project", "api.project_tokens", "api.tokens",
                       "api.token", "api.styles", "api.style"})


class ReadCache:
    def __init__(self, head: Callable[[], int], *, head_seconds: float = 0.25, max_age: float = 1.0,
                 max_entries: int = 4096):
        self._read_head = head
        self._head_seconds = head_seconds
        self._head: tuple[float, int] | None = None  # (monotonic time read, block number)
        self._head_lock = threading.Lock()
        self._answers: TTLCache = TTLCache(maxsize=max_entries, ttl=max_age)
        # One computation per question at a time: the others wait for its answer (a crowd arriving
        # as an answer expires would otherwise compute it once each, measured as a 400 ms p95).
        self._condition = threading.Condition()
        self.computed = 0

    def head(self) -> int:
        """The head block, read from the node by one thread at a time, at most every head_seconds."""
        with self._head_lock:
            now = time.monotonic()
            if self._head is None or now - self._head[0] >= self._head_seconds:
                self._head = (now, self._read_head())
            return self._head[1]

    def wrap(self, view: Callable) -> Callable:
        """`view`, answered from the cache for the same path and query at the same head block. An
        exception (a 404, the chain down) is raised to every waiter and never kept."""
        @cached(self._answers, key=lambda path, head: (path, head), condition=self._condition)
        def answer(path: str, head: int) -> tuple[bytes, str]:
            self.computed += 1
            response = view(**request.view_args)
            return response.get_data(), response.mimetype

        @functools.wraps(view)
        def cached_view(**_kwargs):
            try:
                head = self.head()
            except ChainUnavailable:
                return view(**request.view_args)  # the route itself says the chain is down
            body, mimetype = answer(request.full_path, head)
            return current_app.response_class(body, mimetype=mimetype)
        return cached_view
