"""A Kubo node (or anything speaking Kubo's RPC API, such as js-ipfs) as the content store.

Kubo's RPC API is plain multipart HTTP; `ipfshttpclient` 0.7.0 refuses every current Kubo and
0.8.0a2 is a 2021 alpha, so we call the API with httpx. Every request has a timeout, transport
errors and 5xx answers are retried a bounded number of times with exponential backoff, and the
CID the node reports (or the bytes it serves) must match what we compute ourselves.
"""

from __future__ import annotations

import json

import httpx

from backend.ipfs.cid import canonical, cid_of
from backend.ipfs.errors import CIDMismatch, IpfsError, IpfsUnavailable, NotFound
from backend.ipfs.store import check_size, max_upload_bytes
from backend.retry import RetryPolicy, TryAgain, with_retries


class KuboBackend:
    def __init__(
        self,
        url: str = "http://127.0.0.1:5001",
        *,
        timeout: float = 30.0,
        fetch_timeout: float = 10.0,
        retries: int = 4,
        backoff: float = 0.25,
        max_bytes: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        self.url = url.rstrip("/")
        self.fetch_timeout = fetch_timeout
        self.retry = RetryPolicy(attempts=retries + 1, backoff=backoff)
        self.max_bytes = max_bytes if max_bytes is not None else max_upload_bytes()
        self._client = httpx.Client(base_url=self.url + "/api/v0", timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"KuboBackend({self.url})"

    def _post(self, endpoint: str, params: dict, **kwargs) -> httpx.Response:
        """POST with bounded retries: transport errors and 5xx are retried, 4xx are not."""
        def attempt() -> httpx.Response:
            try:
                response = self._client.post(endpoint, params=params, **kwargs)
            except httpx.TransportError as err:
                raise TryAgain(f"{type(err).__name__}: {err}") from None
            if response.status_code < 500:
                if response.status_code >= 400:
                    raise IpfsError(f"ipfs node {endpoint}: HTTP {response.status_code}: {_message(response)}")
                return response
            message = _message(response)
            if "timed out" in message or "not found" in message.lower():
                raise NotFound(f"ipfs node could not provide {params.get('arg')}: {message}")
            raise TryAgain(f"HTTP {response.status_code}: {message}")

        try:
            return with_retries(attempt, self.retry, retry_on=(TryAgain,), what=f"ipfs node {self.url}{endpoint}")
        except TryAgain as last:
            raise IpfsUnavailable(f"ipfs node at {self.url} did not answer {endpoint} after "
                                  f"{self.retry.attempts} attempts ({last})") from None

    def add(self, data: bytes) -> str:
        check_size(data, self.max_bytes)
        expected = cid_of(data)
        response = self._post(
            "/add",
            {"cid-version": 1, "raw-leaves": "true", "pin": "true", "cid-base": "base32", "quieter": "true"},
            files={"file": ("blob", data, "application/octet-stream")},
        )
        lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
        reported = canonical(lines[-1]["Hash"])
        if reported != expected:
            raise CIDMismatch(f"node at {self.url} stored the content as {reported}, we compute {expected}")
        return expected

    def get(self, cid: str) -> bytes:
        cid = canonical(cid)
        data = self._post("/cat", {"arg": cid, "timeout": f"{self.fetch_timeout}s"}).content
        if cid_of(data) != cid:
            raise CIDMismatch(f"node at {self.url} served bytes for {cid} that hash to {cid_of(data)}")
        return data

    def pin(self, cid: str) -> None:
        self._post("/pin/add", {"arg": canonical(cid), "timeout": f"{self.fetch_timeout}s"})

    def has(self, cid: str) -> bool:
        try:
            self._post("/block/stat", {"arg": canonical(cid), "offline": "true", "timeout": "1s"})
        except NotFound:
            return False
        return True


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("Message", response.text))[:300]
    except ValueError:
        return response.text[:300]
