"""The embedded store: round trips, atomic and verified blocks, limits, pins and CAR export."""

import os

import pytest

from backend.ipfs.cid import CHUNK_SIZE, canonical, cid_of
from backend.ipfs.embedded import EmbeddedStore
from backend.ipfs.errors import CorruptedBlock, NotFound, UploadTooLarge
from tests.ipfs.conftest import node_cat


@pytest.mark.parametrize("size", [0, 1, 100_000, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 7])
def test_round_trip(store, size):
    data = os.urandom(size)
    cid = store.add(data)
    assert cid == cid_of(data)
    assert store.get(cid) == data
    assert store.has(cid)
    assert cid in store.pins()


def test_add_is_idempotent_and_leaves_no_temp_files(store):
    data = os.urandom(CHUNK_SIZE * 2)
    assert store.add(data) == store.add(data)
    files = [p for p in store.root.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.startswith(".tmp")]
    assert len([p for p in files if "blocks" in p.parts]) == 3  # two leaves and a root


def test_unknown_cid(store):
    with pytest.raises(NotFound):
        store.get(cid_of(b"never added"))
    assert not store.has(cid_of(b"never added"))
    with pytest.raises(NotFound):
        store.pin(cid_of(b"never added"))


def test_oversized_upload_changes_nothing(tmp_path):
    store = EmbeddedStore(tmp_path / "ipfs", max_bytes=1000)
    with pytest.raises(UploadTooLarge, match="over the upload limit of 1000 bytes"):
        store.add(b"x" * 1001)
    assert not [p for p in (tmp_path / "ipfs").rglob("*") if p.is_file()]
    assert store.add(b"x" * 1000) == cid_of(b"x" * 1000)


@pytest.mark.parametrize("which", ["single raw block", "leaf of a tree"])
def test_corrupted_block_is_detected_not_served(store, which):
    data = os.urandom(10 if which == "single raw block" else CHUNK_SIZE + 5)
    cid = store.add(data)
    victim = max((p for p in store.root.glob("blocks/*/*")), key=lambda p: p.stat().st_size)
    corrupted = bytearray(victim.read_bytes())
    corrupted[0] ^= 0xFF
    victim.write_bytes(bytes(corrupted))
    with pytest.raises(CorruptedBlock, match="corrupted"):
        store.get(cid)
    # Adding the content again repairs the block.
    store.add(data)
    assert store.get(cid) == data


def test_cidv0_lookup(store):
    data = os.urandom(CHUNK_SIZE + 1)
    cid = store.add(data)
    from multiformats import CID

    v0 = str(CID.decode(cid).set(version=0, base="base58btc"))
    assert v0.startswith("Qm")
    assert store.get(v0) == data
    assert canonical(v0) == cid


@pytest.mark.parametrize("size", [5, CHUNK_SIZE + 1, CHUNK_SIZE * 175 + 3])
def test_car_export_imports_into_an_ipfs_node(js_node, store, size):
    import httpx

    data = os.urandom(size)
    cid = store.add(data)
    car = store.export_car(cid)
    response = httpx.post(
        f"{js_node.api_url}/api/v0/dag/import",
        params={"cid-base": "base32", "pin-roots": "true"},
        files={"file": ("export.car", car)},
        timeout=120,
    )
    response.raise_for_status()
    assert response.json()["Root"]["Cid"]["/"] == cid
    assert node_cat(js_node, cid) == data
