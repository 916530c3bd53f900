"""The web API over a large collection: 10,000 fulfilled tokens on anvil; prints `key: value` lines.

    .venv/bin/python bench/web.py [--tokens 10000] [--requests 200]

Mints go out from five dev accounts through anvil's unlocked `eth_sendTransaction`, a few hundred
per block; every token is fulfilled (`fulfillBatch` of 100) with small pinned metadata carrying
two traits. Then the token index catches up from the deployment block (`index_events_per_s`:
Mint, Transfer and TokenFulfilled logs per second, including the trait loads), and the API is
timed in-process (Flask's test client, so the figures are the app's, not a socket's): the
project (its sale included), its gallery page, an owner's tokens and one token, `--requests` each,
p50 and p95. Then a drop day: `--concurrency` clients for `--duration` s over a mix of page and
API routes through the real HTTP server (waitress in its own process on loopback, the read routes
answered once per block as `stylemint serve` does), with throughput, p50, p95, errors.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.config import ensure_toolchain_env  # noqa: E402

ensure_toolchain_env()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def send_all(w3, calls: list[dict], per_block: int) -> None:
    """Send unlocked-account transactions with automine off, mining a block every `per_block`."""
    w3.provider.make_request("evm_setAutomine", [False])
    for start in range(0, len(calls), per_block):
        hashes = [w3.eth.send_transaction(call) for call in calls[start:start + per_block]]
        w3.provider.make_request("evm_mine", [])
        for tx_hash in hashes[-1:]:
            receipt = w3.eth.get_transaction_receipt(tx_hash)
            assert receipt["status"] == 1, receipt
    w3.provider.make_request("evm_setAutomine", [True])


def concurrent_run(app, args, project_id: int, owner: str) -> dict:
    """`--concurrency` clients for `--duration` seconds over a mix of page and API routes, through
    the real HTTP server on loopback (waitress with `stylemint serve`'s default threads): a drop day."""
    import multiprocessing
    import threading

    import httpx
    from waitress import create_server

    import logging

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "Task queue depth" is the point here
    # The server runs in a process of its own, as `stylemint serve` does: the 32 clients' Python
    # would otherwise share one interpreter lock with it and the figures would be the bench's.
    # Waitress starts its worker threads when the server is made, so it is made in the child.
    context = multiprocessing.get_context("fork")
    ports = context.Queue()

    def serve() -> None:
        server = create_server(app, host="127.0.0.1", port=0, threads=16, ident="stylemint")
        ports.put(server.effective_port)
        server.run()

    process = context.Process(target=serve, daemon=True)
    process.start()
    base = f"http://127.0.0.1:{ports.get(timeout=60)}"
    routes = ["/", f"/project?id={project_id}", "/api/projects", f"/api/projects/{project_id}",
              f"/api/projects/{project_id}/tokens?page=2", f"/api/tokens/{project_id * 1_000_000 + 7}",
              f"/api/tokens?owner={owner}&limit=24", "/api/styles", "/api/contract", "/static/js/wallet.js"]
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + args.duration

    def client(n: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as session:
            i = n
            while time.monotonic() < deadline:
                route = routes[i % len(routes)]
                i += 1
                started = time.perf_counter()
                try:
                    ok = session.get(route).status_code == 200
                except httpx.HTTPError:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    times.append(elapsed)
                    errors[0] += 0 if ok else 1

    clients = [threading.Thread(target=client, args=(n,)) for n in range(args.concurrency)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    process.terminate()
    process.join(timeout=10)
    return {"concurrent_clients": args.concurrency, "concurrent_seconds": args.duration,
            "concurrent_requests": len(times), "concurrent_requests_per_s": round(len(times) / args.duration, 1),
            "concurrent_p50_ms": round(statistics.median(times), 1), "concurrent_p95_ms": round(percentile(times, 0.95), 1),
            "concurrent_errors": errors[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32,
                        help="clients at once against the real HTTP server (waitress, as `stylemint serve`); 0: skip")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of the concurrent run")
    args = parser.parse_args()

    from ape import networks

    from backend.chain import settlement
    from backend.chain.client import StyleMintClient
    from backend.chain.indexer import TokenIndex
    from backend.chain.settlement import Commitment
    from backend.dev.anvil import Anvil
    from backend.dev.sample import deploy_sample
    from backend.ipfs.cid import raw_digest
    from backend.ipfs.embedded import EmbeddedStore
    from backend.oracle.keys import dev_account
    from backend.web import create_app
    from backend.web.catalog import Catalog
    from backend.web.server import SERVED_READ_CACHE

    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp, Anvil(accounts=10) as node, \
            networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
        store = EmbeddedStore(Path(tmp) / "ipfs")
        sample = deploy_sample(node.url, store, price_wei=10**9, max_editions=args.tokens)
        client = StyleMintClient(node.url, sample.deployment.address)
        w3, contract = client.w3, client.contract
        collectors = w3.eth.accounts[4:9]
        manifest_hash = bytes(client.project_info(sample.project_id)["manifestHash"])
        minter_address, price = client.project_price(sample.project_id)  # the fixed-price minter sells it
        minter = client.minter(minter_address)
        started = time.perf_counter()
        send_all(w3, [{"from": collectors[i % len(collectors)], "to": minter_address, "value": price, "gas": 300_000,
                       "data": minter.encode_abi("purchase", [sample.project_id, manifest_hash])}
                      for i in range(args.tokens)], per_block=250)
        figures["mint_seconds"] = round(time.perf_counter() - started, 1)
        client.mine_dev_blocks(3)
        mint_blocks = {m.token_id: m.block_number for m in client.mint_logs(sample.deployment.block_number, client.head())}
        randomness = {}
        requests = []
        for invocation in range(args.tokens):
            token_id = sample.project_id * 1_000_000 + invocation
            document = {"name": f"Token {token_id}", "image": f"ipfs://{sample.manifest_cid}",
                        "attributes": [{"trait_type": "Colour", "value": ("red", "amber", "blue")[invocation % 3]},
                                       {"trait_type": "Shape", "value": ("circle", "square")[invocation % 2]}]}
            number = mint_blocks[token_id] + client.randomness_delay()
            if number not in randomness:
                randomness[number] = bytes.fromhex(client.block_hash(number)[2:])
            requests.append(Commitment.of(token_id, (invocation + 1).to_bytes(32, "big"),
                                          raw_digest(store.add(json.dumps(document).encode())), "", [],
                                          client.block_hash(mint_blocks[token_id]), randomness[number]))
        started = time.perf_counter()
        oracle, domain = dev_account(1), client.settlement_domain()  # the sample's oracle, a quorum of one
        batches = [requests[i:i + 100] for i in range(0, len(requests), 100)]
        send_all(w3, [{"from": oracle.address, "to": client.address, "gas": 12_000_000,
                       "data": contract.encode_abi("fulfillBatch", [[c.request() for c in batch],
                                                                    [settlement.sign(oracle.key, domain, batch)]])}
                      for batch in batches], per_block=2)
        figures["fulfill_seconds"] = round(time.perf_counter() - started, 1)

        metadata = lambda cid: json.loads(store.get(cid)) if store.has(cid) else None  # noqa: E731
        index = TokenIndex(Path(tmp) / "index.sqlite", client, start_block=sample.deployment.block_number,
                           metadata=metadata)
        started = time.perf_counter()
        events = index.sync()
        elapsed = time.perf_counter() - started
        figures["tokens"] = args.tokens
        figures["index_events"] = events
        figures["index_seconds"] = round(elapsed, 1)
        figures["index_events_per_s"] = round(events / elapsed)

        view = Catalog(client, store, index=index)
        app = create_app({"IPFS_STORE": store, "CATALOG": view})
        http = app.test_client()
        owner = collectors[0]
        pages = max(1, args.tokens // 24)
        endpoints = {
            "project": lambda i: f"/api/projects/{sample.project_id}",
            "gallery": lambda i: f"/api/projects/{sample.project_id}/tokens?page={i % pages + 1}",
            "owner": lambda i: f"/api/tokens?owner={owner}",
            "token": lambda i: f"/api/tokens/{sample.project_id * 1_000_000 + (i * 37) % args.tokens}",
        }
        for name, url in endpoints.items():
            times = []
            for i in range(args.requests):
                started = time.perf_counter()
                reply = http.get(url(i))
                times.append((time.perf_counter() - started) * 1000)
                assert reply.status_code == 200, (url(i), reply.get_json())
            figures[f"{name}_p50_ms"] = round(statistics.median(times), 1)
            figures[f"{name}_p95_ms"] = round(percentile(times, 0.95), 1)
        figures["owner_tokens"] = len(http.get(endpoints["owner"](0)).get_json()["tokens"])
        if args.concurrency:  # the app as `stylemint serve` builds it: read routes answered once per block
            served = create_app({"IPFS_STORE": store, "CATALOG": view, "READ_CACHE": SERVED_READ_CACHE})
            figures.update(concurrent_run(served, args, sample.project_id, owner))
    figures["machine"] = "this 2-core CPU, anvil on 127.0.0.1, Flask test client; concurrent: waitress in its own process on loopback, read cache on"
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
