"""Crash safety with real block times: the oracle process is SIGKILLed at the moments that matter
(after signing, after broadcasting, after a render, while confirming, and once at a random
moment), then stopped once with SIGTERM, during a 30-mint run with 2-second blocks. Counted on chain afterwards: one successful
fulfill transaction per token, none reverted, nonces without a gap or a repeat, every seed
derived from its mint's canonical block.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from ape import accounts

from backend.chain.client import StyleMintClient
from backend.oracle.jobs import ACTIVE, JobStore
from backend.oracle.keys import DEV_ORACLE_INDEX, dev_account
from backend.oracle.outcomes import CRASH_ENV
from tests.oracle.conftest import use_block_time
from tests.support.chain import canonical_seed, fulfill_events, tokens_fulfilled_by, transactions_from

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BIN = Path(sys.executable).parent
CRASH_POINTS = ["after_render", "after_sign", "after_broadcast", "in_confirm"]


def start_oracle(node_url, env_dir, runs, crash_at=None):
    log = env_dir / f"oracle-{len(runs)}.log"
    runs.append(log)
    env = {**os.environ, "STYLEMINT_DATA_DIR": str(env_dir / "data")}
    env.pop(CRASH_ENV, None)
    if crash_at:
        env[CRASH_ENV] = crash_at
    # A supervised worker: restarted with the same id, it takes its own leases back at once.
    return subprocess.Popen(
        [str(BIN / "stylemint"), "oracle", "--rpc", node_url, "--poll", "0.2", "--batch", "3",
         "--worker-id", "crash-test"],
        env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
    )


def test_sigkill_at_the_moments_that_matter_loses_nothing_and_sends_nothing_twice(sample_chain, env):
    node, sample, store = sample_chain
    rng = random.Random(20261125)
    use_block_time(node, 2)
    client = StyleMintClient(node.url, sample.deployment.address)
    manifest_hash = client.project_info(sample.project_id)["manifestHash"]
    purchase, price = client.purchase_call(sample.project_id, manifest_hash)
    minted = []

    def mint_all():  # collectors' transactions, each mined whenever the next block comes
        for i in range(30):
            collector = accounts.test_accounts[4 + i % 5].address
            minted.append(purchase.transact({"from": collector, "value": price}))
            time.sleep(rng.uniform(0.05, 0.3))

    minter = threading.Thread(target=mint_all)
    minter.start()
    runs = []
    for point in CRASH_POINTS:
        process = start_oracle(node.url, env, runs, crash_at=point)
        assert process.wait(timeout=120) == -signal.SIGKILL, f"did not reach {point}: {runs[-1].read_text()[-2000:]}"
    process = start_oracle(node.url, env, runs)
    time.sleep(rng.uniform(2.0, 4.0))
    process.send_signal(signal.SIGKILL)
    process.wait()
    minter.join()
    process = start_oracle(node.url, env, runs)
    deadline = time.monotonic() + 60
    while b"event=start" not in runs[-1].read_bytes():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    process.terminate()  # graceful stop (SIGTERM): finishes or releases the job in hand
    assert process.wait(timeout=60) == 0
    assert b"event=stopping signal=15" in runs[-1].read_bytes()

    final = subprocess.run(
        [str(BIN / "stylemint"), "oracle", "--rpc", node.url, "--poll", "0.2", "--until-idle", "--worker-id",
         "crash-test"],
        env={**os.environ, "STYLEMINT_DATA_DIR": str(env / "data")}, capture_output=True, text=True, timeout=300,
    )
    assert final.returncode == 0, final.stderr[-2000:]

    # Every mint fulfilled exactly once, with the seed of its canonical block.
    mints = {m.token_id: m for m in client.mint_logs(0, client.head())}
    assert len(mints) == 30
    events = fulfill_events(node.url, sample.deployment.address)
    assert sorted(e["tokenId"] for e in events) == sorted(mints)
    for token_id, mint in mints.items():
        assert client.block_hash(mint.block_number) == mint.block_hash
        assert client.token_seed(token_id) == canonical_seed(node.url, sample.deployment.address, token_id, mint.tx_hash)

    # What the oracle's key actually sent: transactions to StyleMint only, none reverted, nonces
    # without a gap, and between them every token fulfilled exactly once (batches hold several).
    sent = transactions_from(node.url, dev_account(DEV_ORACLE_INDEX).address)
    assert {tx["to"] for tx in sent} == {sample.deployment.address}
    assert all(tx["status"] == 1 for tx in sent)
    assert sorted(tx["nonce"] for tx in sent) == list(range(len(sent)))
    fulfilled = [t for tx in sent for t in tokens_fulfilled_by(node.url, sample.deployment.address, tx["hash"])]
    assert sorted(fulfilled) == sorted(mints) and len(sent) < 30

    jobs = JobStore(env / "data" / "oracle" / "state.sqlite")
    counts = jobs.counts()
    assert counts["fulfilled"] + counts["final"] == 30 and not any(counts[s] for s in ACTIVE)  # no job stuck
    assert counts["failed"] == counts["dropped"] == 0
    assert all(job.lease_owner is None for job in jobs.jobs())
