"""The IPFS Pinning Service API (Pinata, web3.storage-style services and others implement it).

No maintained generic Python client exists, so this is a small httpx client: pin a CID with
origins (addresses where the service can fetch it), then poll until `pinned` or `failed`. The
service has no upload endpoint; content lives in a local store and the service fetches it from
the origins, so `PinningServiceBackend` pairs the embedded store with remote pins. The Bearer
token comes from the environment and is never logged or put into an error message.
"""

from __future__ import annotations

import os
import time

import httpx

from backend.ipfs.cid import canonical
from backend.ipfs.embedded import EmbeddedStore
from backend.ipfs.errors import IpfsError, IpfsUnavailable, PinFailed
from backend.retry import RetryPolicy, TryAgain, with_retries
TOKEN_ENV = "STYLEMINT_PSA_TOKEN"


class PinningServiceClient:
    def __init__(
        self,
        endpoint: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.25,
        poll_interval: float = 1.0,
        pin_timeout: float = 600.0,
    ):
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        if not token:
            raise IpfsError(f"pinning service {endpoint}: no access token (set {TOKEN_ENV})")
        self.endpoint = endpoint.rstrip("/")
        self.retry = RetryPolicy(attempts=retries + 1, backoff=backoff)
        self.poll_interval = poll_interval
        self.pin_timeout = pin_timeout
        self._client = httpx.Client(
            base_url=self.endpoint, timeout=timeout, headers={"Authorization": f"Bearer {token}"}
        )

    def __repr__(self) -> str:  # never shows the token
        return f"PinningServiceClient({self.endpoint})"

    def _request(self, method: str, path: str, **kwargs) -> dict:
        """One API call with bounded retries: transport errors, 5xx and 429 are retried."""
        def attempt() -> dict:
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as err:
                raise TryAgain(type(err).__name__) from None  # the message could echo the request
            if response.status_code >= 500 or response.status_code == 429:
                raise TryAgain(f"HTTP {response.status_code}")
            if response.status_code in (401, 403):
                raise IpfsError(f"pinning service {self.endpoint} refused the access token (HTTP {response.status_code})")
            if response.status_code >= 400:
                raise IpfsError(f"pinning service {self.endpoint}{path}: HTTP {response.status_code}: {_reason(response)}")
            return response.json() if response.content else {}

        try:
            return with_retries(attempt, self.retry, retry_on=(TryAgain,), what=f"pinning service {self.endpoint}{path}")
        except TryAgain as last:
            raise IpfsUnavailable(f"pinning service {self.endpoint} did not answer {method} {path} ({last})") from None

    def add_pin(self, cid: str, *, name: str | None = None, origins: list[str] | None = None) -> dict:
        body = {"cid": canonical(cid)}
        if name:
            body["name"] = name
        if origins:
            body["origins"] = origins
        return self._request("POST", "/pins", json=body)

    def get_pin(self, request_id: str) -> dict:
        return self._request("GET", f"/pins/{request_id}")

    def wait(self, request_id: str) -> dict:
        """Poll a pin request until `pinned`; `failed` or a timeout raise PinFailed."""
        deadline = time.monotonic() + self.pin_timeout
        while True:
            status = self.get_pin(request_id)
            state = status.get("status")
            if state == "pinned":
                return status
            if state == "failed":
                raise PinFailed(f"pinning service reported {status.get('pin', {}).get('cid')} as failed")
            if time.monotonic() > deadline:
                raise PinFailed(f"pin request {request_id} still '{state}' after {self.pin_timeout} s")
            time.sleep(self.poll_interval)

    def pin(self, cid: str, *, name: str | None = None, origins: list[str] | None = None) -> dict:
        return self.wait(self.add_pin(cid, name=name, origins=origins)["requestid"])


class PinningServiceBackend:
    """Content in the embedded store, durability from a remote pinning service."""

    def __init__(self, local: EmbeddedStore, client: PinningServiceClient, origins: list[str] | None = None):
        self.local = local
        self.client = client
        self.origins = origins or []

    def __repr__(self) -> str:
        return f"PinningServiceBackend({self.client.endpoint}, local={self.local.root})"

    def add(self, data: bytes) -> str:
        cid = self.local.add(data)
        self.pin(cid)
        return cid

    def get(self, cid: str) -> bytes:
        return self.local.get(cid)

    def pin(self, cid: str) -> None:
        self.local.pin(cid)
        self.client.pin(cid, origins=self.origins)

    def has(self, cid: str) -> bool:
        return self.local.has(cid)


def _reason(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return f"{error.get('reason', '')} {error.get('details', '')}".strip()[:300]
    except ValueError:
        return response.text[:300]
