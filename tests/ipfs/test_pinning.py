"""The Pinning Service API client and backend.

No pinning service is reachable from here and none is installable, so the service is a small
local server that follows the IPFS Pinning Service API spec (Bearer auth, POST/GET /pins,
queued -> pinning -> pinned|failed), with switches for the faults under test.
"""

import logging
import threading
import uuid

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from backend.ipfs.cid import cid_of
from backend.ipfs.embedded import EmbeddedStore
from backend.ipfs.errors import IpfsError, IpfsUnavailable, PinFailed
from backend.ipfs.pinning import PinningServiceBackend, PinningServiceClient

TOKEN = "psa-secret-token-do-not-log-8f3a"


class PinningService:
    def __init__(self):
        self.requests: dict[str, dict] = {}
        self.polls: dict[str, int] = {}
        self.fail_cids: set[str] = set()
        self.error_500 = False
        app = Flask("psa")

        @app.before_request
        def auth():
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return jsonify(error={"reason": "UNAUTHORIZED", "details": "bad token"}), 401
            if self.error_500:
                return jsonify(error={"reason": "INTERNAL"}), 500

        @app.post("/pins")
        def add():
            body = request.get_json()
            request_id = uuid.uuid4().hex
            self.requests[request_id] = {"cid": body["cid"], "origins": body.get("origins", [])}
            self.polls[request_id] = 0
            return jsonify(self._status(request_id, "queued")), 202

        @app.get("/pins/<request_id>")
        def get(request_id):
            if request_id not in self.requests:
                return jsonify(error={"reason": "NOT_FOUND"}), 404
            self.polls[request_id] += 1
            cid = self.requests[request_id]["cid"]
            if self.polls[request_id] < 2:
                state = "pinning"
            else:
                state = "failed" if cid in self.fail_cids else "pinned"
            return jsonify(self._status(request_id, state))

        self.server = make_server("127.0.0.1", 0, app)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _status(self, request_id, state):
        pin = self.requests[request_id]
        return {"requestid": request_id, "status": state, "created": "2026-11-25T00:00:00Z",
                "pin": {"cid": pin["cid"], "origins": pin["origins"]}, "delegates": []}


@pytest.fixture
def service():
    svc = PinningService()
    yield svc
    svc.server.shutdown()


def client(service, token=TOKEN, **kwargs):
    return PinningServiceClient(service.url, token, poll_interval=0.01, backoff=0.01, **kwargs)


def test_pin_polls_until_pinned_with_origins(service):
    cid = cid_of(b"pin me")
    status = client(service).pin(cid, origins=["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWTest"])
    assert status["status"] == "pinned"
    (request_id,) = service.requests
    assert service.polls[request_id] == 2  # saw "pinning" first, kept polling
    assert service.requests[request_id]["origins"] == ["/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWTest"]


def test_failed_pin_is_surfaced(service):
    cid = cid_of(b"doomed")
    service.fail_cids.add(cid)
    with pytest.raises(PinFailed, match="failed"):
        client(service).pin(cid)


def test_pin_that_never_finishes_times_out(service):
    svc_client = client(service, pin_timeout=0.0)
    request_id = svc_client.add_pin(cid_of(b"slow"))["requestid"]
    with pytest.raises(PinFailed, match="still 'pinning'"):
        svc_client.wait(request_id)


def test_service_500_is_retried_then_surfaced(service):
    service.error_500 = True
    with pytest.raises(IpfsUnavailable, match="HTTP 500"):
        client(service, retries=2).pin(cid_of(b"x"))


def test_token_never_appears_in_errors_or_logs(service, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(IpfsError) as refused:
        client(service, token="wrong-" + TOKEN).pin(cid_of(b"x"))
    assert "refused the access token" in str(refused.value)
    service.error_500 = True
    with pytest.raises(IpfsUnavailable) as unavailable:
        client(service, retries=1).pin(cid_of(b"x"))
    good = client(service)
    for text in (str(refused.value), str(unavailable.value), repr(good), caplog.text):
        assert TOKEN not in text


def test_missing_token_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("STYLEMINT_PSA_TOKEN", raising=False)
    with pytest.raises(IpfsError, match="set STYLEMINT_PSA_TOKEN"):
        PinningServiceClient("https://psa.example")


def test_backend_round_trip_keeps_content_local_and_pins_remotely(service, tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEMINT_PSA_TOKEN", TOKEN)
    backend = PinningServiceBackend(
        EmbeddedStore(tmp_path / "ipfs"), PinningServiceClient(service.url, poll_interval=0.01),
        origins=["/ip4/127.0.0.1/tcp/4001"],
    )
    cid = backend.add(b"artwork bytes")
    assert cid == cid_of(b"artwork bytes")
    assert backend.get(cid) == b"artwork bytes" and backend.has(cid)
    assert [r["cid"] for r in service.requests.values()] == [cid]
    service.fail_cids.add(cid_of(b"refused artwork"))
    with pytest.raises(PinFailed):
        backend.add(b"refused artwork")
