"""The Kubo RPC backend against a real js-ipfs node, and its behaviour under injected faults."""

import json
import os

import httpx
import pytest

from backend.dev.anvil import free_port
from backend.ipfs.cid import CHUNK_SIZE, cid_of
from backend.ipfs.errors import CIDMismatch, IpfsUnavailable, NotFound, UploadTooLarge
from backend.ipfs.kubo import KuboBackend
from tests.ipfs.conftest import node_cat


@pytest.mark.parametrize("size", [0, 1, 100_000, CHUNK_SIZE + 1])
def test_round_trip_through_the_node(js_node, size):
    backend = KuboBackend(js_node.api_url)
    data = os.urandom(size)
    cid = backend.add(data)
    assert cid == cid_of(data)
    assert backend.get(cid) == data
    assert node_cat(js_node, cid) == data
    assert backend.has(cid)
    backend.pin(cid)


def test_unknown_cid_is_not_found_after_the_fetch_timeout(js_node):
    backend = KuboBackend(js_node.api_url, fetch_timeout=1, retries=0)
    missing = cid_of(b"nobody has this " + os.urandom(8))
    with pytest.raises(NotFound):
        backend.get(missing)
    assert backend.has(missing) is False


def test_node_down_fails_clearly_after_bounded_retries():
    backend = KuboBackend(f"http://127.0.0.1:{free_port()}", retries=2, backoff=0.01, timeout=2)
    with pytest.raises(IpfsUnavailable, match="after 3 attempts"):
        backend.add(b"data")


class FaultyNode(httpx.BaseTransport):
    """Fault injection: answers like a Kubo node, but with the configured misbehaviour."""

    def __init__(self, *, fail_first=0, always_fail=False, wrong_cid=False, wrong_bytes=None):
        self.calls = 0
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.wrong_cid = wrong_cid
        self.wrong_bytes = wrong_bytes

    def handle_request(self, request):
        self.calls += 1
        if self.always_fail or self.calls <= self.fail_first:
            return httpx.Response(500, json={"Message": "internal error", "Code": 0, "Type": "error"})
        if request.url.path.endswith("/add"):
            body = request.read()
            payload = body.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0]
            cid = cid_of(payload + b"!" if self.wrong_cid else payload)
            return httpx.Response(200, text=json.dumps({"Name": "blob", "Hash": cid, "Size": str(len(payload))}))
        if request.url.path.endswith("/cat"):
            return httpx.Response(200, content=self.wrong_bytes)
        return httpx.Response(200, json={})


def test_transient_500s_are_retried():
    node = FaultyNode(fail_first=2)
    backend = KuboBackend("http://127.0.0.1:1", retries=3, backoff=0.01, transport=node)
    assert backend.add(b"retry me") == cid_of(b"retry me")
    assert node.calls == 3


def test_persistent_500s_give_up():
    node = FaultyNode(always_fail=True)
    backend = KuboBackend("http://127.0.0.1:1", retries=2, backoff=0.01, transport=node)
    with pytest.raises(IpfsUnavailable, match="HTTP 500"):
        backend.pin(cid_of(b"x"))
    assert node.calls == 3


def test_node_reporting_another_cid_is_an_error():
    backend = KuboBackend("http://127.0.0.1:1", transport=FaultyNode(wrong_cid=True))
    with pytest.raises(CIDMismatch, match="we compute"):
        backend.add(b"content")


def test_node_serving_other_bytes_is_an_error():
    backend = KuboBackend("http://127.0.0.1:1", transport=FaultyNode(wrong_bytes=b"forged"))
    with pytest.raises(CIDMismatch):
        backend.get(cid_of(b"genuine"))


def test_oversized_upload_is_refused_before_sending():
    node = FaultyNode()
    backend = KuboBackend("http://127.0.0.1:1", max_bytes=10, transport=node)
    with pytest.raises(UploadTooLarge):
        backend.add(b"x" * 11)
    assert node.calls == 0
