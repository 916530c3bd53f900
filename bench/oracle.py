"""Oracle throughput on anvil with the reference model on this CPU; prints `key: value` lines.

    .venv/bin/python bench/oracle.py [--mints 100] [--batch 4] [--block-times 0,2] [--workers 0,1,2]
    .venv/bin/python bench/oracle.py --operators 1,2 --block-times 2 --threads 1   # the quorum's cost

`--operators 2` deploys a quorum of two oracle keys, both of which must sign (M = 2), and runs
operator A in this process and operator B as its own `stylemint oracle` process, each with its own
key, state, renderer and attestation server, peers of each other; `--threads 1` gives each render
one thread so that two operators on this 2-core machine stand for two machines (the
single-operator run uses the same count).

`--workers N` renders on N Ray actors (oracle --workers; each token alone, batch 1, each actor
with the committed thread count); 0 renders in the oracle's process (also batch 1). `--batch` is the
jobs claimed per pass.

Mints are sent first (from several accounts), then the oracle runs until idle, once with instant
mining and once per given anvil block time (fulfillments are pipelined: a pass signs and sends
every ready job with consecutive nonces, then collects receipts as blocks come). Latency is from
each mint's receipt (the moment the collector starts waiting) to its fulfill receipt.
"""

from __future__ import annotations

import argparse
import subprocess
from collections import Counter
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.config import ensure_toolchain_env  # noqa: E402

ensure_toolchain_env()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, timeout: float = 120.0) -> None:
    """Until `url` answers (an operator process finished starting)."""
    import requests

    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer in {timeout:.0f} s")
        time.sleep(0.2)


def count_rpc_calls(client) -> Counter:
    """Count every JSON-RPC request the oracle's client sends, by method (scans included)."""
    calls: Counter[str] = Counter()
    send = client.w3.provider.make_request

    def counted(method, params):
        calls[str(method)] += 1
        return send(method, params)

    client.w3.provider.make_request = counted
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description="stylemint oracle benchmark")
    parser.add_argument("--mints", type=int, default=100)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--block-times", default="0,2",
                        help="Comma-separated anvil block times, whole seconds (0: instant mining).")
    parser.add_argument("--workers", default="0",
                        help="Comma-separated render actor counts (0: render in the oracle's process).")
    parser.add_argument("--operators", default="1",
                        help="Comma-separated operator counts; with N > 1 all N must sign (M = N).")
    parser.add_argument("--threads", type=int, default=None, help="Threads per render (default: the renderer's).")
    args = parser.parse_args()
    for operators in (int(o) for o in args.operators.split(",")):
        for workers in (int(w) for w in args.workers.split(",")):
            for block_time in (int(b) for b in args.block_times.split(",")):
                figures = run(args.mints, args.batch, block_time, workers, operators, args.threads)
                for key, value in figures.items():
                    print(f"{key}: {value}")
                print()


def run(mints: int, batch: int, block_time: int, workers: int = 0, operators: int = 1,
        threads: int | None = None) -> dict:
    import os

    from ape import accounts, networks

    from backend.chain.client import StyleMintClient
    from backend.dev import ape_contract as core
    from backend.dev.anvil import Anvil, rpc_call
    from backend.dev.sample import deploy_sample
    from backend.ipfs.embedded import EmbeddedStore
    from backend.oracle.factory import make_oracle
    from backend.oracle.jobs import JobStore
    from backend.oracle.keys import OracleSigner, dev_account
    from backend.oracle.service import OracleConfig
    from backend.render.renderer import Renderer
    from backend.render.samples import sample_manifest

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STYLEMINT_DATA_DIR"] = tmp
        with Anvil() as node, \
                networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
            store = EmbeddedStore(Path(tmp) / "ipfs")
            keys = [1, 8, 9][:operators]
            manifest = sample_manifest()
            if threads and manifest.environment is not None:  # a project that commits to that thread count
                manifest = manifest.model_copy(update={"environment": manifest.environment.model_copy(
                    update={"threads": threads})})
            sample = deploy_sample(node.url, store, price_wei=10**9, max_editions=mints, oracle_accounts=keys,
                                   threshold=operators, manifest=manifest)
            sized = workers
            if workers:
                from backend.oracle.ray_pool import RayRenderPool, TooManyWorkers, cpu_worker_limit, size_cpu_workers

                # Every actor renders with the thread count the project commits to (its environment
                # class): fewer threads per actor would change the bytes the verifier re-renders. As
                # `stylemint oracle --workers` does, actors hold that many cores each; a request the
                # cores cannot run at once is refused there, and measured here at the sized count.
                local = Renderer(device="cpu", **({"threads": threads} if threads else {}))
                try:
                    size_cpu_workers(workers, local.threads)
                except TooManyWorkers as err:
                    sized = cpu_worker_limit(local.threads)
                    print(f"workers_{workers}_refused: {err}", flush=True)
                renderer = RayRenderPool(sized, local=local, fetch_adapter=store.get, cpus_per_worker=local.threads)
                batch = max(batch, sized)
                renderer.render_batch(sample_manifest(), [bytes([i + 1]) * 32 for i in range(sized)])  # load
            else:  # batch 1: the sample project commits to it (a token's bytes never depend on its companions)
                renderer = Renderer(device="cpu", batch_size=1, **({"threads": threads} if threads else {}))
                renderer.render_batch(sample_manifest(), [b"\x01" * 32])  # build the model
            mint_times = {}
            for i in range(mints):
                record = core.mint(sample.contract, accounts.test_accounts[4 + i % 6], sample.project_id)
                mint_times[record.token_id] = time.time()
            if block_time:  # the backlog is minted; the oracle works under real block times
                rpc_call(node.url, "evm_setIntervalMining", [block_time])
                rpc_call(node.url, "evm_setAutomine", [False])

            client = StyleMintClient(node.url, sample.deployment.address)
            rpc_calls = count_rpc_calls(client)
            ports = [free_port() for _ in keys]
            peers = lambda n: [f"http://127.0.0.1:{p}" for m, p in enumerate(ports) if m != n]  # noqa: E731
            # Operator A runs in this process (its time shares are printed); every other operator is
            # its own `stylemint oracle` process, as on its own machine, started (and its imports
            # done: its attestation server answers) before the clock starts.
            others = [subprocess.Popen(
                [str(Path(sys.executable).parent / "stylemint"), "oracle", "--rpc", node.url, "--contract",
                 sample.deployment.address, "--state", str(Path(tmp) / f"state-{n}.sqlite"), "--listen",
                 f"127.0.0.1:{ports[n]}", "--poll", "0.05", "--batch", str(batch), "--until-idle",
                 "--worker-id", f"bench-operator-{n}", *(a for url in peers(n) for a in ("--peer", url)),
                 *([] if block_time else ["--dev-mine"])],
                env={**os.environ, "STYLEMINT_ORACLE_KEY": dev_account(key).key.hex(),
                     **({"STYLEMINT_RENDER_THREADS": str(threads)} if threads else {})},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for n, key in enumerate(keys) if n > 0]
            for n in range(1, len(keys)):
                wait_for(f"http://127.0.0.1:{ports[n]}/v1/oracle")
            config = OracleConfig(start_block=sample.deployment.block_number, batch_size=batch, poll_interval=0.05,
                                  dev_mine=not block_time,  # instant mining: ask for blocks
                                  peers=peers(0), worker_id="bench-operator-0")
            oracle = make_oracle(client=client, store=store, renderer=renderer, state=Path(tmp) / "state-0.sqlite",
                                 config=config, signer=OracleSigner(dev_account(keys[0]), f"dev account {keys[0]}"))
            server = oracle.serve_attestations("127.0.0.1", ports[0])
            started = time.time()
            oracle.run(threading.Event(), until_idle=True)
            for process in others:
                process.wait(timeout=600)
            total = time.time() - started
            server.close()

            fulfilled = len(client.contract.events.TokenFulfilled.get_logs(from_block=0))
            sent = sum(client.transaction_count(dev_account(key).address) for key in keys)
            # anvil stamps blocks in whole seconds; use the job rows' update times for sub-second
            # latency (with several operators: the first that saw the token settled).
            seen = {}
            for n in range(len(keys)):
                for job in JobStore(Path(tmp) / f"state-{n}.sqlite").jobs("fulfilled"):
                    seen[job.token_id] = min(seen.get(job.token_id, job.updated_at), job.updated_at)
            latencies = [at - mint_times[token] for token, at in seen.items()]
            spent = oracle.times.render + oracle.times.pin + oracle.times.chain
            blocks = client.head() - sample.deployment.block_number
            if workers:
                import ray

                renderer.shutdown()
                ray.shutdown()

    return {
        "operators": f"{operators} ({operators} of {operators} signatures settle a token)",
        "workers": workers or "0 (in-process)",
        "workers_run": sized or "0 (in-process)",
        "threads_per_render": renderer.threads,
        "block_time": f"{block_time} s" if block_time else "instant",
        "mints": mints,
        "fulfilled": fulfilled,
        "transactions_sent": f"{sent} (all operators)",
        "blocks_used": blocks,
        "render_batch": f"{batch} jobs per pass (each render at batch {renderer.batch_size})",
        "total_seconds": round(total, 2),
        "fulfilled_per_minute": round(fulfilled / total * 60, 1),
        "latency_p50_s": round(percentile(latencies, 0.5), 2),
        "latency_p95_s": round(percentile(latencies, 0.95), 2),
        "share_render": round(oracle.times.render / spent, 3),
        "share_pin": round(oracle.times.pin / spent, 3),
        "share_chain": round(oracle.times.chain / spent, 3),
        "rpc_calls_per_fulfilled_token": round(sum(rpc_calls.values()) / max(1, fulfilled), 1),
        "rpc_calls_by_method": ", ".join(f"{m} {n}" for m, n in rpc_calls.most_common()),
        "note": "latency counts from mint receipt, all mints sent before the oracle started (a backlog); RPC calls "
                "are operator A's",
    }


if __name__ == "__main__":
    main()
