"""Choose the content store with one setting, `STYLEMINT_IPFS`:

    embedded                                  blocks under the data directory (default)
    kubo+http://127.0.0.1:5001                a Kubo (or js-ipfs) RPC API
    gateway+http://127.0.0.1:8080             any HTTP gateway, read-only (responses re-hashed)
    psa+https://api.example/psa               a Pinning Service API endpoint, token in
                                              STYLEMINT_PSA_TOKEN, origins in
                                              STYLEMINT_PSA_ORIGINS (comma-separated multiaddrs)
"""

from __future__ import annotations

import os
from pathlib import Path

from backend.config import data_dir
from backend.ipfs.embedded import EmbeddedStore
from backend.ipfs.kubo import KuboBackend
from backend.ipfs.pinning import PinningServiceBackend, PinningServiceClient


class IpfsConfigError(ValueError):
    """An unusable STYLEMINT_IPFS value."""


def embedded_store(root: Path | None = None) -> EmbeddedStore:
    return EmbeddedStore(root or data_dir() / "ipfs")


def store_from_config(setting: str | None = None, *, root: Path | None = None, flag: str = "--ipfs"):
    """The store a setting names; errors blame `flag` when the setting came from it, else the
    STYLEMINT_IPFS variable."""
    source = flag if setting is not None else "STYLEMINT_IPFS"
    setting = (setting if setting is not None else os.environ.get("STYLEMINT_IPFS", "embedded")).strip()
    if setting in ("", "embedded"):
        return embedded_store(root)
    kind, _, url = setting.partition("+")
    if not url.startswith(("http://", "https://")):
        raise IpfsConfigError(f"{source} {setting!r}: expected embedded, kubo+<url>, gateway+<url> or psa+<url>")
    if kind == "kubo":
        return KuboBackend(url)
    if kind == "gateway":
        from backend.ipfs.gateway_client import GatewayReader

        return GatewayReader(url)
    if kind == "psa":
        origins = [o for o in os.environ.get("STYLEMINT_PSA_ORIGINS", "").split(",") if o]
        return PinningServiceBackend(embedded_store(root), PinningServiceClient(url), origins)
    raise IpfsConfigError(f"{source} {setting!r}: unknown backend {kind!r} (embedded, kubo, gateway, psa)")
