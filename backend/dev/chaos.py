"""One seeded chaos run of the command-line oracle (`stylemint oracle` as its own OS process)
against anvil: mints from three wallets in two waves, SIGKILLs at moments the seed picks, a reorg
after the first wave is fulfilled (every mint moves to a later block), a reorg while the second
wave renders (one mint abandoned for good), and a node that answers "not found" for blocks for a
while. Used by bench/chaos.py (many seeds, figures) and tests/oracle/test_chaos.py (one seed each
at 2-second and instant blocks).

What is counted comes from the chain and the process table, not from the oracle's own report:
every canonical mint fulfilled once with its canonical seed, the oracle's transactions that
reverted, and the times the oracle process exited without being killed.
"""

from __future__ import annotations

import json
import socket
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
# Deep enough that the reorgs below (right after a wave is fulfilled) come before finality: a
# reorg deeper than the final depth is beyond the oracle's model, as beyond Ethereum's.
FINAL_DEPTH = 24


class AnsweringRpcProxy:
    """A JSON-RPC proxy on 127.0.0.1 in front of a node: forwards every request, except those
    that `answer(request)` answers itself (a JSON-RPC reply body such as {"error": ...}; None
    forwards). Counts what it answered. `cut_reply(body)` True after forwarding drops the
    connection instead of replying: the request took effect, the caller never hears so."""

    def __init__(self, target_url: str, answer=None, cut_reply=None):
        import http.server

        proxy = self
        self.target_url, self.answer, self.answered = target_url, answer, 0
        self.cut_reply = cut_reply

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = json.loads(body)
                own = proxy.answer(request) if proxy.answer and isinstance(request, dict) else None
                if own is not None:
                    proxy.answered += 1
                    reply = json.dumps({"jsonrpc": "2.0", "id": request.get("id"), **own}).encode()
                else:
                    forward = urllib.request.Request(proxy.target_url, data=body,
                                                     headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(forward, timeout=30) as response:
                        reply = response.read()
                    if proxy.cut_reply and proxy.cut_reply(body):
                        self.close_connection = True
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()


def block_not_found(request: dict) -> dict | None:
    """The error some nodes give for a numbered block they do not have (not yet, or no longer)."""
    if request.get("method") == "eth_getBlockByNumber" and str(request["params"][0]).startswith("0x"):
        return {"error": {"code": -32001, "message": f"block {request['params'][0]} not found"}}
    return None


@dataclass
class ChaosResult:
    seed: int
    block_time: float | None
    canonical_mints: int = 0
    fulfilled_once: int = 0
    wrong_seeds: list[int] = field(default_factory=list)
    unfulfilled: list[int] = field(default_factory=list)
    fulfilled_twice: list[int] = field(default_factory=list)
    oracle_transactions: int = 0
    oracle_reverted_txs: int = 0
    oracle_crashes: int = 0
    kills: int = 0
    not_found_answers: int = 0
    failed_jobs: int = 0
    max_mint_to_final_s: float = 0.0
    seconds: float = 0.0

    @property
    def held(self) -> bool:
        """The promise: every canonical mint fulfilled exactly once with its canonical seed, no
        oracle transaction reverted, the oracle never exited by itself, no job failed."""
        return (self.fulfilled_once == self.canonical_mints > 0 and not self.wrong_seeds and not self.unfulfilled
                and not self.fulfilled_twice and self.oracle_reverted_txs == 0 and self.oracle_crashes == 0
                and self.failed_jobs == 0)


class OracleProcess:
    """The command-line oracle as a child process; knows whether it exited by itself."""

    def __init__(self, rpc_url: str, data_dir: Path, instant: bool, log_path: Path):
        self.command = [str(BIN / "stylemint"), "oracle", "--rpc", rpc_url, "--poll", "0.2", "--batch", "4",
                        "--final-depth", str(FINAL_DEPTH), "--worker-id", "chaos", *(["--dev-mine"] if instant else [])]
        self.env = {**os.environ, "STYLEMINT_DATA_DIR": str(data_dir)}
        self.log_path, self.process, self.crashes = log_path, None, 0

    def start(self) -> None:
        self.check()
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def check(self) -> None:
        """Count an exit that nobody asked for, and start it again (as a supervisor would)."""
        if self.process is not None and self.process.poll() is not None:
            self.crashes += 1
            self.process = None
            self.start()

    def kill(self) -> None:
        self.check()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        self.check()
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None


def run_chaos(seed: int, block_time: float | None, workdir: Path, *, mints_per_wave: int = 10,
              timeout: float = 240.0, echo=lambda *_: None) -> ChaosResult:
    """One seeded run; `block_time` None is instant mining (the oracle mines with --dev-mine)."""
    from ape import accounts, networks

    from backend.chain.client import StyleMintClient
    from backend.dev.anvil import Anvil
    from backend.dev.sample import deploy_sample
    from backend.ipfs.embedded import EmbeddedStore
    from backend.oracle.jobs import JobStore
    from backend.oracle.keys import DEV_ORACLE_INDEX, dev_account

    rng = random.Random(seed)
    result = ChaosResult(seed=seed, block_time=block_time)
    started = time.monotonic()
    data_dir = workdir / "data"
    previous = os.environ.get("STYLEMINT_DATA_DIR")
    os.environ["STYLEMINT_DATA_DIR"] = str(data_dir)  # deploy_sample records the deployment there
    try:
        with Anvil(log_path=workdir / "anvil.log") as node, \
                networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
            sample = deploy_sample(node.url, EmbeddedStore(data_dir / "ipfs"), price_wei=10**9, max_editions=1000)
            client = StyleMintClient(node.url, sample.deployment.address)
            w3 = client.w3
            info = client.project_info(sample.project_id)
            wallets = [accounts.test_accounts[4 + i] for i in range(3)]
            if block_time:
                for method, params in (("evm_setIntervalMining", [int(block_time)]), ("evm_setAutomine", [False])):
                    reply = w3.provider.make_request(method, params)  # whole seconds: anvil refuses 2.0
                    if "error" in reply:
                        raise RuntimeError(f"{method}{params}: {reply['error']}")
            losing = threading.Event()
            proxy = AnsweringRpcProxy(node.url, lambda request: block_not_found(request) if losing.is_set() else None)
            oracle = OracleProcess(proxy.url, data_dir, block_time is None, workdir / "oracle.log")
            minted_at: dict[str, float] = {}

            def rpc(method, *params):
                reply = w3.provider.make_request(method, list(params))
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

            purchase, price = client.purchase_call(sample.project_id, info["manifestHash"])

            def mint_wave() -> list[str]:
                hashes = []
                for i in range(mints_per_wave):
                    tx = purchase.transact({"from": wallets[i % len(wallets)].address, "value": price})
                    hashes.append(tx.to_0x_hex())
                    minted_at[hashes[-1]] = time.monotonic()
                for h in hashes:
                    w3.eth.wait_for_transaction_receipt(h, timeout=60)
                return hashes

            def reorg(snapshot, keep: list[str]) -> None:
                """Blocks since `snapshot` leave the chain; the mints in `keep` come back later."""
                raws = [rpc("eth_getRawTransactionByHash", h) for h in keep]
                rpc("evm_revert", snapshot)
                rpc("evm_mine", int(time.time()) + 100)
                for raw in raws:
                    rpc("eth_sendRawTransaction", raw)
                for h in keep:
                    w3.eth.wait_for_transaction_receipt(h, timeout=60)
                    minted_at[h] = time.monotonic()

            def kill_within(seconds: float) -> None:
                time.sleep(rng.uniform(0.2, seconds))
                oracle.kill()
                result.kills += 1
                echo(f"seed {seed}: SIGKILL")
                oracle.start()

            def wait_for(condition, limit: float) -> bool:
                deadline = time.monotonic() + limit
                while time.monotonic() < deadline:
                    oracle.check()
                    if condition():
                        return True
                    if block_time is None:
                        rpc("anvil_mine", "0x1")  # an instant chain only grows when asked: let tokens get deep
                    time.sleep(0.25)
                return False

            def all_fulfilled(hashes) -> bool:
                receipts = [client.receipt(h) for h in hashes]
                tokens = [m.token_id for r in receipts if r for m in client.mint_logs_in_receipt(r)]
                return all(client.is_fulfilled(t) for t in tokens)

            oracle.start()
            # Wave 1: a kill while it works, fulfilled, then a reorg takes mints and fulfillments
            # away; every mint comes back in a later block (a new seed).
            first_snapshot = rpc("evm_snapshot")
            first = mint_wave()
            kill_within(4.0)
            wait_for(lambda: all_fulfilled(first), timeout / 3)
            reorg(first_snapshot, first)
            echo(f"seed {seed}: reorg after fulfilment")
            # The node loses blocks for a while (the scan cursor's among them).
            losing.set()
            time.sleep(rng.uniform(0.5, 2.0))
            losing.clear()
            # Wave 2: a reorg while it renders; one wallet's last mint is abandoned for good.
            second_snapshot = rpc("evm_snapshot")
            second = mint_wave()
            time.sleep(rng.uniform(0.5, 3.0))
            if rng.random() < 0.5:
                kill_within(2.0)
            abandoned = second[-1]
            reorg(second_snapshot, second[:-1])
            minted_at.pop(abandoned, None)
            echo(f"seed {seed}: reorg during render, 1 mint abandoned")

            canonical = lambda: {m.token_id: m for m in client.mint_logs(0, client.head())}  # noqa: E731
            jobs = JobStore(data_dir / "oracle" / "state.sqlite")

            def settled() -> bool:
                done = jobs.counts()
                return all(client.is_fulfilled(t) for t in canonical()) and not any(
                    done[s] for s in ("seen", "rendered", "pinned", "submitted")) and done["fulfilled"] == 0

            finals: dict[int, float] = {}

            def watch_finals() -> bool:
                for job in jobs.jobs("final"):
                    finals.setdefault(job.token_id, time.monotonic())
                return settled()

            wait_for(watch_finals, timeout)
            oracle.stop()
            proxy.close()
            result.not_found_answers = proxy.answered
            result.oracle_crashes = oracle.crashes

            mints = canonical()
            result.canonical_mints = len(mints)
            fulfilled_events = [int(e["args"]["tokenId"]) for e in client.contract.events.TokenFulfilled.get_logs(
                from_block=0)]
            for token_id, mint in mints.items():
                count = fulfilled_events.count(token_id)
                if count == 0:
                    result.unfulfilled.append(token_id)
                elif count > 1:
                    result.fulfilled_twice.append(token_id)
                else:
                    result.fulfilled_once += 1
                randomness = client.block_randomness(mint.block_number + client.randomness_delay())
                from backend.render.seed import derive_seed

                expected = derive_seed(client.chain_id(), client.address, token_id, mint.tx_hash, randomness[1])
                if client.is_fulfilled(token_id) and client.token_seed(token_id) != expected:
                    result.wrong_seeds.append(token_id)
                if token_id in finals and mint.tx_hash in minted_at:
                    result.max_mint_to_final_s = max(result.max_mint_to_final_s,
                                                     finals[token_id] - minted_at[mint.tx_hash])
            signer = dev_account(DEV_ORACLE_INDEX).address.lower()
            for number in range(client.head() + 1):
                for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
                    if tx["from"].lower() == signer:
                        result.oracle_transactions += 1
                        result.oracle_reverted_txs += w3.eth.get_transaction_receipt(tx["hash"])["status"] == 0
            result.failed_jobs = jobs.counts()["failed"]
    finally:
        if previous is None:
            os.environ.pop("STYLEMINT_DATA_DIR", None)
        else:
            os.environ["STYLEMINT_DATA_DIR"] = previous
    result.seconds = round(time.monotonic() - started, 1)
    result.max_mint_to_final_s = round(result.max_mint_to_final_s, 1)
    return result
