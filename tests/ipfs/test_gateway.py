"""`GET /ipfs/<cid>` of the web app over the embedded store."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from backend.ipfs.cid import cid_of
from backend.web import create_app


@pytest.fixture
def client(store):
    return create_app({"IPFS_STORE": store, "TESTING": True}).test_client()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, content_type",
    [
        (png_bytes(), "image/png"),
        (json.dumps({"name": "Tidal Glass #1"}).encode(), "application/json"),
        (b"plain words", "text/plain; charset=utf-8"),
        (bytes(range(256)), "application/octet-stream"),
    ],
)
def test_serves_content_with_type_etag_and_immutable_caching(client, store, data, content_type):
    cid = store.add(data)
    response = client.get(f"/ipfs/{cid}")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == content_type
    assert response.headers["ETag"] == f'"{cid}"'
    assert "immutable" in response.headers["Cache-Control"]
    again = client.get(f"/ipfs/{cid}", headers={"If-None-Match": f'"{cid}"'})
    assert again.status_code == 304 and again.data == b""


def test_unknown_cid_is_404_json(client):
    response = client.get(f"/ipfs/{cid_of(b'absent')}")
    assert response.status_code == 404
    assert response.is_json and "not available" in response.json["message"]


def test_malformed_cid_is_400_json(client):
    response = client.get("/ipfs/not-a-cid")
    assert response.status_code == 400
    assert "not a CID" in response.json["message"]


def test_corrupted_content_is_reported_not_served(client, store):
    cid = store.add(b"precious")
    (block,) = store.root.glob("blocks/*/*")
    block.write_bytes(b"tampered")
    response = client.get(f"/ipfs/{cid}")
    assert response.status_code == 500
    assert b"tampered" not in response.data and b"precious" not in response.data
    assert "corrupted" in response.json["message"]
