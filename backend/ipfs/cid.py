"""CIDs exactly as Kubo computes them for `ipfs add --cid-version=1`, and CID parsing.

`multiformats` provides CIDs and multihashes, but no PyPI library builds Kubo's UnixFS file DAG,
so the two small protobuf messages involved are encoded here. Kubo's defaults with CIDv1:
raw leaves, 262,144-byte chunks, balanced layout, at most 174 links per node; a file of one
chunk (or none) is a single raw block (`bafkrei...`), anything longer a dag-pb tree.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from multiformats import CID, multihash

from backend.errors import PermanentError

CHUNK_SIZE = 262_144
MAX_LINKS = 174
RAW = 0x55
DAG_PB = 0x70
SHA2_256 = 0x12
UNIXFS_FILE = 2


class InvalidCID(ValueError, PermanentError):
    """Text that is not a CID we accept (CIDv0 or CIDv1 with a sha2-256 multihash)."""


def parse_cid(text: str | CID) -> CID:
    """Validate user input: CIDv0 (`Qm...`) or CIDv1 in any multibase, sha2-256 only."""
    if isinstance(text, CID):
        return _check_cid(text, text)
    if not isinstance(text, str) or not text or len(text) > 200 or not text.isascii() or not text.isalnum():
        raise InvalidCID(f"not a CID: {_shown(text)}")
    return _parse_cid(text)


def _shown(text) -> str:
    """Bad input as an error message shows it: at most 80 characters of it, never all of it."""
    shown = repr(text)
    return shown if len(shown) <= 80 else f"{shown[:77]}... ({len(text) if isinstance(text, str) else '?'} characters)"


@lru_cache(maxsize=65_536)
def _parse_cid(text: str) -> CID:
    """Cached: multiformats type-checks every call at run time (about 1 ms per CID here), and a
    page of 24 tokens parses each image and metadata CID again on every request."""
    try:
        cid = CID.decode(text)
    except Exception as err:  # multiformats raises several error types for bad input
        raise InvalidCID(f"not a CID: {_shown(text)} ({str(err)[:120]})") from None
    return _check_cid(cid, text)


def _check_cid(cid: CID, text) -> CID:
    if cid.hashfun.code != SHA2_256 or len(cid.raw_digest) != 32:
        raise InvalidCID(f"unsupported hash in CID {text}: only sha2-256")
    if cid.codec.code not in (RAW, DAG_PB):
        raise InvalidCID(f"unsupported codec {cid.codec.name} in CID {text}: only raw and dag-pb")
    return cid


def canonical(cid: CID | str) -> str:
    """The CIDv1 base32 text of a CID (CIDv0 converted), the form we store and compare."""
    return _canonical(parse_cid(cid))


@lru_cache(maxsize=65_536)
def _canonical(cid: CID) -> str:
    """Cached per CID (immutable and hashable), for the same reason as `_parse_cid`."""
    return str(cid.set(version=1, base="base32"))


def raw_cid(block: bytes) -> CID:
    return CID("base32", 1, "raw", multihash.digest(block, "sha2-256"))


def dag_pb_cid(block: bytes) -> CID:
    return CID("base32", 1, "dag-pb", multihash.digest(block, "sha2-256"))


def raw_digest(cid: CID | str) -> bytes:
    """The 32-byte sha2-256 digest of a single raw block's CID: what the contract stores for a
    token's metadata (it rebuilds the `bafkrei...` text in `tokenURI`). Any other CID is refused:
    metadata above one chunk (256 KiB) would be a dag-pb tree the contract cannot name."""
    cid = parse_cid(cid)
    if cid.codec.code != RAW:
        raise InvalidCID(f"{cid} is a {cid.codec.name} CID; token metadata must be one raw block (at most "
                         f"{CHUNK_SIZE} bytes)")
    return bytes(cid.raw_digest)


RAW_SHA256_PREFIX = bytes([1, RAW, SHA2_256, 32])  # CIDv1, raw codec, sha2-256 multihash of 32 bytes


def cid_of_raw_digest(digest: bytes) -> str:
    """The CIDv1 base32 text of the raw block with this sha2-256 digest (the inverse of `raw_digest`).

    One fixed shape, so the standard library's RFC 4648 base32 spells it (multibase prefix `b`,
    lowercase, unpadded), as the contract's `_rawCid` does: multiformats took 1.3 ms per call here
    (run-time type checks), which was most of a gallery page. Tested equal to multiformats."""
    if len(digest) != 32:
        raise InvalidCID(f"a sha2-256 digest is 32 bytes, got {len(digest)}")
    return "b" + base64.b32encode(RAW_SHA256_PREFIX + bytes(digest)).decode("ascii").lower().rstrip("=")


def block_matches(cid: CID, block: bytes) -> bool:
    """Re-hash a block and compare with the digest its CID promises."""
    return hashlib.sha256(block).digest() == cid.raw_digest


# -- protobuf, just the wire format dag-pb and UnixFS need ----------------------------------

def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _bytes_field(number: int, value: bytes) -> bytes:
    return _field(number, 2) + _varint(len(value)) + value


def _uint_field(number: int, value: int) -> bytes:
    return _field(number, 0) + _varint(value)


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if offset >= len(data):
            raise ValueError("truncated varint")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, offset
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


@dataclass(frozen=True)
class Link:
    cid: CID
    tsize: int  # bytes of the whole subtree's blocks
    filesize: int  # bytes of file content under it


def encode_file_node(links: list[Link]) -> bytes:
    """A dag-pb PBNode for a UnixFS file: Links (field 2) before Data (field 1), as dag-pb requires."""
    unixfs = _uint_field(1, UNIXFS_FILE) + _uint_field(3, sum(link.filesize for link in links))
    for link in links:
        unixfs += _uint_field(4, link.filesize)
    encoded = b""
    for link in links:
        pblink = _bytes_field(1, bytes(link.cid)) + _bytes_field(2, b"") + _uint_field(3, link.tsize)
        encoded += _bytes_field(2, pblink)
    return encoded + _bytes_field(1, unixfs)


def decode_file_node(block: bytes) -> tuple[list[tuple[CID, int]], bytes]:
    """Links (CID, Tsize) and the UnixFS data bytes of a dag-pb node."""
    links, data, offset = [], b"", 0
    while offset < len(block):
        key, offset = read_varint(block, offset)
        if key & 7 != 2:
            raise ValueError("unexpected wire type in dag-pb node")
        length, offset = read_varint(block, offset)
        value = block[offset:offset + length]
        if len(value) != length:
            raise ValueError("truncated dag-pb node")
        offset += length
        if key >> 3 == 2:
            link_cid, tsize, inner = None, 0, 0
            while inner < len(value):
                lkey, inner = read_varint(value, inner)
                if lkey & 7 == 2:
                    llen, inner = read_varint(value, inner)
                    if lkey >> 3 == 1:
                        link_cid = CID.decode(value[inner:inner + llen])
                    inner += llen
                else:
                    tsize, inner = read_varint(value, inner)
            if link_cid is None:
                raise ValueError("dag-pb link without a hash")
            links.append((link_cid, tsize))
        elif key >> 3 == 1:
            data = value
    return links, data


def unixfs_inline_data(unixfs: bytes) -> bytes:
    """The Data field (2) of a UnixFS message: file bytes stored in the node itself (non-raw leaves)."""
    offset, found = 0, b""
    while offset < len(unixfs):
        key, offset = read_varint(unixfs, offset)
        if key & 7 == 2:
            length, offset = read_varint(unixfs, offset)
            if key >> 3 == 2:
                found += unixfs[offset:offset + length]
            offset += length
        else:
            _, offset = read_varint(unixfs, offset)
    return found


# -- the DAG -------------------------------------------------------------------------------

def build_dag(data: bytes) -> tuple[CID, list[tuple[CID, bytes]]]:
    """The root CID and every block of `data` as Kubo lays it out, root first then depth-first."""
    if len(data) <= CHUNK_SIZE:
        return raw_cid(data), [(raw_cid(data), data)]
    layer: list[tuple[Link, list[tuple[CID, bytes]]]] = []
    for start in range(0, len(data), CHUNK_SIZE):
        chunk = data[start:start + CHUNK_SIZE]
        cid = raw_cid(chunk)
        layer.append((Link(cid, len(chunk), len(chunk)), [(cid, chunk)]))
    while len(layer) > 1:
        parents = []
        for start in range(0, len(layer), MAX_LINKS):
            group = layer[start:start + MAX_LINKS]
            node = encode_file_node([link for link, _ in group])
            cid = dag_pb_cid(node)
            link = Link(cid, len(node) + sum(child.tsize for child, _ in group), sum(child.filesize for child, _ in group))
            blocks = [(cid, node)] + [block for _, child_blocks in group for block in child_blocks]
            parents.append((link, blocks))
        layer = parents
    root_link, blocks = layer[0]
    return root_link.cid, blocks


def cid_of(data: bytes) -> str:
    """The CID Kubo's `ipfs add --cid-version=1` gives for these bytes (base32 text)."""
    return str(build_dag(data)[0])
