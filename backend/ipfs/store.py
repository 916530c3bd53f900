"""The one interface every IPFS backend offers, and the size limit they all enforce."""

from __future__ import annotations

import os
from typing import Protocol

from backend.ipfs.errors import NotFound, UploadTooLarge

DEFAULT_MAX_UPLOAD_BYTES = 128 * 1024 * 1024


def max_upload_bytes() -> int:
    """`$STYLEMINT_IPFS_MAX_BYTES`, default 128 MiB."""
    return int(os.environ.get("STYLEMINT_IPFS_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def check_size(data: bytes, limit: int) -> None:
    if len(data) > limit:
        raise UploadTooLarge(f"{len(data)} bytes is over the upload limit of {limit} bytes; nothing was stored")


class ReadThrough:
    """Read from `first`; what it does not have (NotFound), from `then` (a gateway, say). Both
    answer with bytes their caller re-hashes, so neither is trusted. Adds go to `first`."""

    def __init__(self, first, then):
        self.first, self.then = first, then

    def __repr__(self) -> str:
        return f"{self.first!r}, then {self.then!r}"

    def get(self, cid: str) -> bytes:
        try:
            return self.first.get(cid)
        except NotFound:
            return self.then.get(cid)

    def has(self, cid: str) -> bool:
        return self.first.has(cid) or self.then.has(cid)

    def add(self, data: bytes) -> str:
        return self.first.add(data)

    def pin(self, cid: str) -> None:
        self.first.pin(cid)


class ContentStore(Protocol):
    """add -> CID (Kubo-identical, CIDv1 base32), get -> the exact bytes, pin, has."""

    def add(self, data: bytes) -> str: ...

    def get(self, cid: str) -> bytes: ...

    def pin(self, cid: str) -> None: ...

    def has(self, cid: str) -> bool: ...
