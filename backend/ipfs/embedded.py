"""The embedded block store: IPFS blocks as files under the data directory.

The default backend: no daemon to run, yet every CID is the one Kubo would compute and the
content can leave at any time as a CAR file. Blocks are written atomically (temp file, fsync,
rename) so a crash never leaves a half block, and every read is re-hashed so a block corrupted
on disk is reported instead of served.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

from multiformats import CID

from backend.ipfs.cid import DAG_PB, _varint, block_matches, build_dag, canonical, decode_file_node, parse_cid, unixfs_inline_data
from backend.ipfs.errors import CorruptedBlock, NotFound
from backend.ipfs.store import check_size, max_upload_bytes


class EmbeddedStore:
    def __init__(self, root: Path, *, max_bytes: int | None = None):
        self.root = Path(root)
        self.max_bytes = max_bytes if max_bytes is not None else max_upload_bytes()
        (self.root / "blocks").mkdir(parents=True, exist_ok=True)
        (self.root / "pins").mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"EmbeddedStore({self.root})"

    # -- blocks -----------------------------------------------------------------------------

    def _block_path(self, cid: CID) -> Path:
        name = canonical(cid)
        return self.root / "blocks" / name[-3:-1] / name

    def _write_atomic(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def put_block(self, cid: CID, block: bytes) -> None:
        if not block_matches(cid, block):
            raise CorruptedBlock(f"block does not hash to {canonical(cid)}; not stored")
        path = self._block_path(cid)
        if path.exists() and block_matches(cid, path.read_bytes()):
            return
        self._write_atomic(path, block)

    def get_block(self, cid: CID | str) -> bytes:
        cid = parse_cid(cid)
        path = self._block_path(cid)
        try:
            block = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"{canonical(cid)} is not in the embedded store") from None
        if not block_matches(cid, block):
            raise CorruptedBlock(f"block {canonical(cid)} at {path} is corrupted (its bytes no longer hash to its CID)")
        return block

    def has_block(self, cid: CID | str) -> bool:
        return self._block_path(parse_cid(cid)).exists()

    # -- files ------------------------------------------------------------------------------

    def add(self, data: bytes) -> str:
        check_size(data, self.max_bytes)
        root, blocks = build_dag(data)
        for cid, block in blocks:
            self.put_block(cid, block)
        self.pin(str(root))
        return str(root)

    def get(self, cid: str) -> bytes:
        return b"".join(self._file_parts(parse_cid(cid)))

    def _file_parts(self, cid: CID) -> Iterator[bytes]:
        block = self.get_block(cid)
        if cid.codec.code != DAG_PB:
            yield block
            return
        links, unixfs = decode_file_node(block)
        yield unixfs_inline_data(unixfs)
        for child, _ in links:
            yield from self._file_parts(child)

    def has(self, cid: str) -> bool:
        return self.has_block(cid)

    # -- pins -------------------------------------------------------------------------------

    def pin(self, cid: str) -> None:
        name = canonical(cid)
        if not self.has_block(name):
            raise NotFound(f"cannot pin {name}: not in the embedded store")
        marker = self.root / "pins" / name
        if not marker.exists():
            self._write_atomic(marker, b"")

    def pins(self) -> list[str]:
        return sorted(p.name for p in (self.root / "pins").iterdir() if not p.name.startswith("."))

    # -- CAR export ---------------------------------------------------------------------------

    def dag_blocks(self, cid: CID | str) -> Iterator[tuple[CID, bytes]]:
        """Every block under a root, root first, depth-first, each re-hashed."""
        cid = parse_cid(cid)
        block = self.get_block(cid)
        yield cid, block
        if cid.codec.code == DAG_PB:
            for child, _ in decode_file_node(block)[0]:
                yield from self.dag_blocks(child)

    def export_car(self, root: str) -> bytes:
        """A CARv1 of one root: importable into any IPFS node or pinning service."""
        root_cid = parse_cid(root)
        root_bytes = bytes(root_cid)
        # dag-cbor {"roots": [CID], "version": 1}: keys in length-first order; CID = tag 42 over 0x00 ‖ cid.
        header = (
            b"\xa2" + b"\x65roots" + b"\x81" + b"\xd8\x2a" + _cbor_bytes_head(len(root_bytes) + 1) + b"\x00" + root_bytes
            + b"\x67version" + b"\x01"
        )
        out = [_varint(len(header)), header]
        for cid, block in self.dag_blocks(root_cid):
            raw = bytes(cid)
            out += [_varint(len(raw) + len(block)), raw, block]
        return b"".join(out)


def _cbor_bytes_head(length: int) -> bytes:
    if length < 24:
        return bytes([0x40 | length])
    if length < 256:
        return bytes([0x58, length])
    return bytes([0x59]) + length.to_bytes(2, "big")
