"""Preview renders of a draft manifest: what an artist sees before anything is pinned or sent.

A render costs the operator real compute, and any visitor can ask, so this is bounded three ways:
per client (a rate limit set in the app factory, PREVIEW_RATE_LIMIT), per request (at most
MAX_PREVIEW_IMAGES seeds, each at most PREVIEW_MAX_PIXEL_STEPS width x height x steps) and per
server (one preview renders at a time; a request that cannot start within PREVIEW_WAIT seconds is
told to come back). Nothing is pinned: the images come back inline, without attribution.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time

from flask import Blueprint, abort, current_app, jsonify, request

from backend.errors import StyleMintError
from backend.render.renderer import Renderer
from backend.web.api import checked_manifest, server_renderer

bp = Blueprint("preview", __name__, url_prefix="/api")
MAX_PREVIEW_IMAGES = 4
PREVIEW_MAX_PIXEL_STEPS = 128 * 128 * 30  # the shipped 64x64 model at 10 steps is 40,960
PREVIEW_WAIT = 30.0


class PreviewRenderer:
    """One renderer for previews (loaded on first use), used by one request at a time."""

    def __init__(self, renderer: Renderer | None = None):
        self._renderer = renderer
        self._lock = threading.Lock()

    def render(self, manifest, seeds: list[bytes], *, wait: float):
        if not self._lock.acquire(timeout=wait):
            abort(503, description="the preview renderer is busy with another artist's preview; try again shortly")
        try:
            if self._renderer is None:
                self._renderer = server_renderer()
            return self._renderer.render_batch(manifest, seeds)
        finally:
            self._lock.release()


def _previewer() -> PreviewRenderer:
    return current_app.extensions.setdefault("stylemint_preview", PreviewRenderer(current_app.config.get("PREVIEW_RENDERER")))


@bp.post("/manifests/preview")
def preview():
    """Render `?count=` (1-4, default 4) random seeds of the posted manifest; returns each image
    as a data URL with its seed, prompt and traits. Checked like a pin (schema, operator policy,
    `?styles=`), and capped in size x steps."""
    try:
        count = int(request.args.get("count", MAX_PREVIEW_IMAGES))
    except ValueError:
        abort(400, description="count must be a whole number from 1 to 4")
    if not 1 <= count <= MAX_PREVIEW_IMAGES:
        abort(400, description=f"count must be from 1 to {MAX_PREVIEW_IMAGES}")
    manifest = checked_manifest()
    limit = current_app.config.get("PREVIEW_MAX_PIXEL_STEPS", PREVIEW_MAX_PIXEL_STEPS)
    cost = manifest.width * manifest.height * manifest.steps
    if cost > limit:
        abort(422, description=f"a preview renders at most {limit:,} pixel-steps (width x height x steps); "
                               f"{manifest.width}x{manifest.height} at {manifest.steps} steps is {cost:,}: "
                               "preview with fewer steps or a smaller size")
    seeds = [secrets.token_bytes(32) for _ in range(count)]
    started = time.perf_counter()
    try:
        results = _previewer().render(manifest, seeds, wait=current_app.config.get("PREVIEW_WAIT", PREVIEW_WAIT))
    except StyleMintError as err:  # an adapter not in this server's store, a model hash mismatch, ...
        abort(422, description=f"this manifest cannot be rendered here: {err}")
    return jsonify(pinned=False, seconds=round(time.perf_counter() - started, 3), images=[
        {"seed": r.seed, "prompt": r.prompt, "traits": r.traits,
         "png": "data:image/png;base64," + base64.b64encode(r.png).decode()} for r in results])
