"""IPFS throughput; prints `key: value` lines.

    .venv/bin/python bench/ipfs.py

CID computation (Kubo layout) for 1 MiB and 64 MiB of random bytes, the embedded store's add
and get (fsync per block included), and the same adds through a local js-ipfs node's RPC API,
all in one run on this machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.ipfs.cid import cid_of  # noqa: E402
from backend.ipfs.embedded import EmbeddedStore  # noqa: E402
from backend.ipfs.kubo import KuboBackend  # noqa: E402
from backend.dev.ipfs_node import JsIpfsNode  # noqa: E402

MIB = 1024 * 1024


def rate(size: int, seconds: float) -> float:
    return round(size / MIB / seconds, 1)


def timed(function, repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - started) / repeat


def main() -> None:
    inputs = {"1mib": os.urandom(MIB), "64mib": os.urandom(64 * MIB)}
    repeats = {"1mib": 20, "64mib": 2}
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore(Path(tmp) / "embedded")
        with JsIpfsNode(Path(tmp) / "jsipfs") as node:
            node_backend = KuboBackend(node.api_url, timeout=300)
            for name, data in inputs.items():
                n = repeats[name]
                figures[f"cid_{name}_mb_per_s"] = rate(len(data), timed(lambda: cid_of(data), n))
                fresh = [os.urandom(len(data)) for _ in range(n)]  # new content: every block is written
                started = time.perf_counter()
                cids = [store.add(d) for d in fresh]
                figures[f"embedded_add_{name}_mb_per_s"] = rate(len(data), (time.perf_counter() - started) / n)
                started = time.perf_counter()
                for cid in cids:
                    store.get(cid)
                figures[f"embedded_get_{name}_mb_per_s"] = rate(len(data), (time.perf_counter() - started) / n)
                started = time.perf_counter()
                for d in fresh:
                    node_backend.add(d)  # includes our own CID check of the node's answer
                figures[f"jsipfs_add_{name}_mb_per_s"] = rate(len(data), (time.perf_counter() - started) / n)
    figures["note"] = "MB = MiB; js-ipfs 0.66.1 (ipfs npm) on 127.0.0.1 through its RPC API"
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
