"""CIDs: ours equal a real IPFS node's for every layout case; user input is validated."""

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.ipfs.cid import CHUNK_SIZE, MAX_LINKS, InvalidCID, build_dag, canonical, cid_of, parse_cid
from tests.ipfs.conftest import node_add

SIZES = {
    "empty": 0,
    "one byte": 1,
    "100 kB": 100_000,
    "exactly one chunk": CHUNK_SIZE,
    "one chunk and a byte": CHUNK_SIZE + 1,
    "1 MiB": 1024 * 1024,
    "more than 174 chunks": CHUNK_SIZE * (MAX_LINKS + 1) + 12_345,
}


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_cid_equals_the_ipfs_node(js_node, size):
    data = os.urandom(size)
    assert cid_of(data) == node_add(js_node, data)


def test_layout_shapes():
    assert cid_of(b"").startswith("bafkrei")  # a single raw block
    assert cid_of(b"x" * CHUNK_SIZE).startswith("bafkrei")
    assert cid_of(b"x" * (CHUNK_SIZE + 1)).startswith("bafybei")  # dag-pb root
    root, blocks = build_dag(os.urandom(CHUNK_SIZE * (MAX_LINKS + 1)))
    leaves = [c for c, _ in blocks if str(c).startswith("bafkrei")]
    assert len(leaves) == MAX_LINKS + 1
    assert len(blocks) == MAX_LINKS + 1 + 3  # two full-or-partial parents and a root
    assert blocks[0][0] == root


def test_known_vector():
    # `ipfs add --cid-version=1` of the 5 bytes "hello", well known.
    assert cid_of(b"hello") == "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"


def test_cidv0_input_is_accepted_and_canonicalised():
    v0 = "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n"  # dag-pb, sha2-256
    assert canonical(v0).startswith("bafybei")
    assert canonical(canonical(v0)) == canonical(v0)
    assert parse_cid(v0).version == 0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "bafy",
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4ye",  # one character short
        "../../etc/passwd",
        "bafkrei" + "a" * 300,
        "bafkqaaa",  # identity multihash
        "bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae",  # dag-cbor codec
        "Qm" + "1" * 44,
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq\n",
    ],
)
def test_malformed_cids_are_refused(text):
    with pytest.raises(InvalidCID):
        parse_cid(text)


@given(digest=st.binary(min_size=32, max_size=32))
def test_the_raw_cid_text_of_a_digest_is_multiformats_own(digest):
    from multiformats import CID, multihash

    from backend.ipfs.cid import cid_of_raw_digest, raw_digest

    text = cid_of_raw_digest(digest)
    assert text == str(CID("base32", 1, "raw", multihash.wrap(digest, "sha2-256")))
    assert raw_digest(text) == digest
