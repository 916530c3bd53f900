"""`GET /api/verify/<tokenId>`: the verifier's report for the token page's Verify button.

A render is the expensive part, so reports are cached per (token, render environment): the same
token verified in the same environment gives the same answer until the chain changes it, and a
token that is not fulfilled yet is never cached.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

from flask import Blueprint, abort, current_app, jsonify

from backend.render import environment

bp = Blueprint("verify", __name__, url_prefix="/api")
CACHE_SIZE = 512
_lock = threading.Lock()


def _cache() -> OrderedDict:
    return current_app.extensions.setdefault("stylemint_verify_cache", OrderedDict())


@bp.get("/verify/<token_id>")
def verify_token(token_id: str):
    if not token_id.isdigit() or len(token_id) > 30:
        abort(400, description=f"token id must be a non-negative integer, got {token_id!r}")
    verifier = current_app.config.get("VERIFIER")
    if verifier is None:
        abort(503, description="this server has no verifier configured (no chain connection)")
    env = environment.fingerprint(verifier.device or environment.default_device(), "float32",
                                  verifier.threads or environment.default_threads(), verifier.batch_size or 1)
    key = (int(token_id), json.dumps(env, sort_keys=True))
    cache = _cache()
    with _lock:
        if key in cache:
            cache.move_to_end(key)
            return jsonify(cache[key] | {"cached": True})
        report = verifier.verify(int(token_id)).to_json()
        if report["outcome"] not in ("not_fulfilled", "unreachable", "unknown_token"):
            cache[key] = report
            while len(cache) > CACHE_SIZE:
                cache.popitem(last=False)
    status = {"unknown_token": 404, "unreachable": 502}.get(report["outcome"], 200)
    return jsonify(report | {"cached": False}), status
