"""`GET /ipfs/<cid>`: a read-only IPFS gateway over the configured content store.

Content under a CID never changes, so responses are cached forever (`immutable`) with the CID
as ETag. Unknown CIDs are 404, malformed ones 400, and a block that fails its hash check is
reported as 500 rather than served.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, request

from backend.ipfs.cid import InvalidCID, canonical
from backend.ipfs.errors import CorruptedBlock, IpfsUnavailable, NotFound

bp = Blueprint("gateway", __name__)
IMMUTABLE = "public, max-age=31536000, immutable"

_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
]


def sniff_content_type(data: bytes) -> str:
    """Content type from the bytes (a CID carries none): images by signature, JSON, text, else binary."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            json.loads(text)
            return "application/json"
        except ValueError:
            pass
    return "text/plain; charset=utf-8"


@bp.get("/ipfs/<cid>")
def get_content(cid: str):
    try:
        name = canonical(cid)
    except InvalidCID as err:
        abort(400, description=str(err))
    etag = f'"{name}"'
    if request.headers.get("If-None-Match") in (etag, name):
        return Response(status=304, headers={"ETag": etag, "Cache-Control": IMMUTABLE})
    store = current_app.config["IPFS_STORE"]
    try:
        data = store.get(name)
    except NotFound:
        abort(404, description=f"{name} is not available from this gateway")
    except CorruptedBlock:
        current_app.logger.error("corrupted content for %s in %r", name, store)
        abort(500, description=f"the stored content of {name} is corrupted; it will not be served")
    except IpfsUnavailable:
        abort(503, description="the IPFS node behind this gateway is unavailable; try again later")
    return Response(
        data,
        content_type=sniff_content_type(data),
        headers={"ETag": etag, "Cache-Control": IMMUTABLE, "X-Ipfs-Path": f"/ipfs/{name}",
                 "X-Content-Type-Options": "nosniff"},
    )
