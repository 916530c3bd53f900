"""Read content from any HTTP IPFS gateway, trusting nothing: every response is re-hashed to its CID."""

from __future__ import annotations

import httpx

from backend.ipfs.cid import canonical, cid_of
from backend.ipfs.errors import CIDMismatch, IpfsError, IpfsUnavailable, NotFound


class GatewayReader:
    def __init__(self, url: str, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None):
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"GatewayReader({self.url})"

    def get(self, cid: str) -> bytes:
        cid = canonical(cid)
        try:
            response = self._client.get(f"/ipfs/{cid}")
        except httpx.TransportError as err:
            raise IpfsUnavailable(f"gateway {self.url} unreachable: {type(err).__name__}") from None
        if response.status_code == 404:
            raise NotFound(f"gateway {self.url} does not have {cid}")
        if response.status_code >= 400:
            raise IpfsError(f"gateway {self.url} answered HTTP {response.status_code} for {cid}")
        if cid_of(response.content) != cid:
            raise CIDMismatch(f"gateway {self.url} served bytes for {cid} that hash to {cid_of(response.content)}")
        return response.content

    def has(self, cid: str) -> bool:
        try:
            self.get(cid)
        except NotFound:
            return False
        return True

    def add(self, data: bytes) -> str:
        raise IpfsError("a gateway is read-only")

    def pin(self, cid: str) -> None:
        raise IpfsError("a gateway is read-only")
