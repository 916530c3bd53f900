"""IPFS fixtures: a real js-ipfs node (127.0.0.1, no peers, no discovery) and fresh stores."""

import json

import httpx
import pytest

from backend.ipfs.embedded import EmbeddedStore
from backend.dev.ipfs_node import JsIpfsNode


@pytest.fixture(scope="session")
def js_node(tmp_path_factory):
    with JsIpfsNode(tmp_path_factory.mktemp("jsipfs") / "repo") as node:
        yield node


@pytest.fixture
def store(tmp_path):
    return EmbeddedStore(tmp_path / "ipfs", max_bytes=64 * 1024 * 1024)


def node_add(node: JsIpfsNode, data: bytes) -> str:
    """`ipfs add --cid-version=1` straight through the node's RPC API (independent of our client)."""
    response = httpx.post(
        f"{node.api_url}/api/v0/add",
        params={"cid-version": 1, "raw-leaves": "true", "cid-base": "base32"},
        files={"file": ("f", data)},
        timeout=120,
    )
    response.raise_for_status()
    return json.loads(response.text.splitlines()[-1])["Hash"]


def node_cat(node: JsIpfsNode, cid: str) -> bytes:
    response = httpx.post(f"{node.api_url}/api/v0/cat", params={"arg": cid, "timeout": "5s"}, timeout=30)
    response.raise_for_status()
    return response.content
