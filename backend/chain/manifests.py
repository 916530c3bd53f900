"""The manifest in force at a token's mint: the one rule the oracle renders by and the verifier
checks by.

A project's manifest can change until it is locked, so a token is rendered with the manifest its
project had when the Mint log was emitted: the last ProjectCreated/ProjectManifestSet before it in
chain order, whose hash must be the hash the Mint log carries, and whose bytes, fetched by CID,
must hash to it. A later change, even one that sets the same hash under another CID string, never
touches an earlier token.
"""

from __future__ import annotations

from typing import Callable

from backend.chain.types import MintLog
from backend.errors import PermanentError
from backend.render.manifest import StyleManifest, parse_manifest


class ManifestNotInForce(PermanentError):
    """The Mint log names a manifest hash that its project did not have at the mint."""


def manifest_at_mint(chain, mint: MintLog, fetch: Callable[[str], bytes]) -> tuple[StyleManifest, str]:
    """(manifest, CID) in force at `mint`: its bytes from `fetch(cid)` (which may raise the
    caller's own errors: a verifier and an oracle treat missing content differently), parsed
    strictly and checked against the Mint log's hash (ManifestError otherwise)."""
    in_force = chain.manifest_in_force(mint)
    if in_force is None or in_force[1] != mint.manifest_hash:
        raise ManifestNotInForce(f"no manifest with hash 0x{mint.manifest_hash.hex()} was in force on project "
                                 f"{mint.project_id} at the mint of token {mint.token_id}")
    cid = in_force[0]
    return parse_manifest(fetch(cid), expected_sha256=mint.manifest_hash.hex()), cid
