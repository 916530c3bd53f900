"""`GET /api/verify/<tokenId>`: the verifier's report for the token page's Verify button.

A verification re-renders the token, so it never runs on a request thread and never under a lock
a request waits on: one worker thread takes verifications from a bounded queue (one render at a
time, as the server has one model cache), and requests for the same token share one run. A
cached report is answered at once, even while another render runs. A request waits a few seconds
for its report, else gets 202 with the state and asks again. Reports are cached per token (the
server's render environment is fixed) until the process ends; a token that is not fulfilled yet,
or that could not be reached, is never cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from flask import Blueprint, abort, current_app, jsonify

from backend.web.ids import parse_id

bp = Blueprint("verify", __name__, url_prefix="/api")
CACHE_SIZE = 512
MAX_QUEUED = 32
WAIT_SECONDS = 20.0
UNCACHED = ("not_fulfilled", "unreachable", "unknown_token", "error")
ERROR_NAMES = {404: "Not Found", 502: "Bad Gateway", 500: "Internal Server Error"}


class VerifyQueue:
    """Cached reports and one worker; the lock guards the dictionaries only, never a render."""

    def __init__(self, verifier, *, cache_size: int = CACHE_SIZE, max_queued: int = MAX_QUEUED):
        self.verifier = verifier
        self.cache_size = cache_size
        self.max_queued = max_queued
        self._cache: OrderedDict[int, dict] = OrderedDict()
        self._pending: dict[int, Future] = {}
        self._running: int | None = None
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stylemint-verify")

    def cached(self, token_id: int) -> dict | None:
        with self._lock:
            if token_id in self._cache:
                self._cache.move_to_end(token_id)
                return self._cache[token_id]
        return None

    def submit(self, token_id: int) -> Future | None:
        """The run for this token (joined if one is queued or running); None when the queue is full."""
        with self._lock:
            if token_id in self._pending:
                return self._pending[token_id]
            if len(self._pending) >= self.max_queued:
                return None
            future = self._pending[token_id] = self._worker.submit(self._run, token_id)
            return future

    def state(self, token_id: int) -> str:
        return "running" if self._running == token_id else "queued"

    def _run(self, token_id: int) -> dict:
        self._running = token_id
        try:
            report = self.verifier.verify(token_id).to_json()
        finally:
            self._running = None
        with self._lock:
            self._pending.pop(token_id, None)
            if report["outcome"] not in UNCACHED:
                self._cache[token_id] = report
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return report


def _queue() -> VerifyQueue:
    verifier = current_app.config.get("VERIFIER")
    if verifier is None:
        abort(503, description="this server has no verifier configured (no chain connection)")
    queue = current_app.extensions.get("stylemint_verify_queue")
    if queue is None or queue.verifier is not verifier:
        queue = current_app.extensions["stylemint_verify_queue"] = VerifyQueue(verifier)
    return queue


def _answer(report: dict, cached: bool):
    status = {"unknown_token": 404, "unreachable": 502, "error": 500}.get(report["outcome"], 200)
    body = report | {"cached": cached}
    if status != 200:  # error responses carry the declared error fields as well
        body |= {"error": ERROR_NAMES[status], "message": report["reason"]}
    return jsonify(body), status


@bp.get("/verify/<token_id>")
def verify_token(token_id: str):
    number = parse_id(token_id, "token id")
    queue = _queue()
    report = queue.cached(number)
    if report is not None:
        return _answer(report, cached=True)
    future = queue.submit(number)
    if future is None:
        abort(503, description=f"{queue.max_queued} verifications are queued; try again in a minute")
    try:
        report = future.result(timeout=current_app.config.get("VERIFY_WAIT_SECONDS", WAIT_SECONDS))
    except FutureTimeout:
        return jsonify(token_id=number, status=queue.state(number),
                       message="the verification is re-rendering the token; ask again"), 202, {"Retry-After": "2"}
    return _answer(report, cached=False)
