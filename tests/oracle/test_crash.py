"""Crash safety: the oracle process is SIGKILLed at random moments during a 30-mint run."""

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

from backend.dev import ape_contract as core
from backend.oracle.jobs import ACTIVE, JobStore
from tests.oracle.helpers import fulfill_events

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
BIN = Path(sys.executable).parent


def start_oracle(node_url, env_dir, runs):
    log = env_dir / f"oracle-{len(runs)}.log"
    runs.append(log)
    return subprocess.Popen(
        [str(BIN / "stylemint"), "oracle", "--rpc", node_url, "--poll", "0.2", "--batch", "2", "--worker-id", "crash-test"],
        env={**os.environ, "STYLEMINT_DATA_DIR": str(env_dir / "data")},
        stdout=open(log, "wb"), stderr=subprocess.STDOUT,
    )


def test_sigkill_at_five_random_moments_loses_nothing_and_doubles_nothing(chain, env):
    node, sample, store = chain
    rng = random.Random(20261125)
    minted = []

    def mint_all():
        for i in range(30):
            minted.append(core.mint(sample.contract, accounts.test_accounts[4 + i % 5], sample.project_id))
            time.sleep(rng.uniform(0.05, 0.4))

    minter = threading.Thread(target=mint_all)
    runs = []
    process = start_oracle(node.url, env, runs)
    minter.start()
    kills = []
    for _ in range(5):
        time.sleep(rng.uniform(1.5, 5.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills.append(len(fulfill_events(node.url, sample.deployment.address)))
        process = start_oracle(node.url, env, runs)
    minter.join()
    deadline = time.monotonic() + 60
    while b"event=start" not in runs[-1].read_bytes():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    process.terminate()  # graceful stop (SIGTERM): finishes or releases the job in hand
    assert process.wait(timeout=60) == 0
    assert b"event=stopping signal=15" in runs[-1].read_bytes()

    final = subprocess.run(
        [str(BIN / "stylemint"), "oracle", "--rpc", node.url, "--poll", "0.2", "--until-idle"],
        env={**os.environ, "STYLEMINT_DATA_DIR": str(env / "data")}, capture_output=True, text=True, timeout=300,
    )
    assert final.returncode == 0, final.stderr[-2000:]

    events = fulfill_events(node.url, sample.deployment.address)
    tokens = [e["tokenId"] for e in events]
    assert sorted(tokens) == sorted(m.token_id for m in minted)  # every mint fulfilled, none twice
    assert sum(k < 30 for k in kills) >= 3, kills  # the kills really landed mid-run
    jobs = JobStore(env / "data" / "oracle" / "state.sqlite")
    counts = jobs.counts()
    assert counts["fulfilled"] == 30 and not any(counts[s] for s in ACTIVE)  # no job stuck
    assert all(job.lease_owner is None for job in jobs.jobs())
