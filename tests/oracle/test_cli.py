"""`stylemint oracle`, `oracle status` and `oracle retry` as an operator uses them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ape import accounts

from backend.dev import ape_contract as core
from backend.oracle.jobs import JobStore
from tests.support.chain import fulfill_events

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent


def stylemint(env_dir, *args, **extra_env):
    return subprocess.run([str(BIN / "stylemint"), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "STYLEMINT_DATA_DIR": str(env_dir / "data"), **extra_env})


def test_run_until_idle_then_status_and_retry(sample_chain, env):
    node, sample, store = sample_chain
    for i in range(3):
        core.mint(sample.contract, accounts.test_accounts[4 + i], sample.project_id)
    done = stylemint(env, "oracle", "--rpc", node.url, "--until-idle", "--dev-mine", "--log-json", "--poll", "0.1")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert any("event=fulfilled" in line["message"] for line in lines)
    assert any(line["message"].startswith("progress queued=0") for line in lines)
    assert len(fulfill_events(node.url, sample.deployment.address)) == 3
    dev_oracle_key = "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil account 1
    assert dev_oracle_key not in done.stderr + done.stdout

    status = stylemint(env, "oracle", "status", "--json")
    report = json.loads(status.stdout)
    assert report["counts"]["fulfilled"] == 3 and report["failed"] == []
    assert report["lag_blocks"] == 0 and report["cursor"] >= sample.deployment.block_number

    # A failed job shows up with its reason and goes back in line on `retry`.
    jobs = JobStore(env / "data" / "oracle" / "state.sqlite")
    jobs.update(jobs.for_token(1000000).id, None, state="failed", last_error="injected for the test")
    text = stylemint(env, "oracle", "status").stdout
    assert "failed token 1000000" in text and "injected for the test" in text
    assert "1 failed job(s) queued again" in stylemint(env, "oracle", "retry").stdout
    assert jobs.for_token(1000000).state == "seen"

    # Another operator's differing commitment (as countersigning records it) is named with it.
    jobs.record_disagreement(1000001, accounts.test_accounts[7].address,
                             {"seed": "0x" + "05" * 32, "metadata_digest": "0x" + "06" * 32, "weights_bps": []})
    text = stylemint(env, "oracle", "status").stdout
    assert "oracles disagree on token 1000001 (fulfilled): this oracle committed seed 0x" in text
    assert f"  {accounts.test_accounts[7].address} committed seed 0x{'05' * 32}" in text


def test_status_without_state_is_a_clear_error(env):
    result = stylemint(env, "oracle", "status")
    assert result.returncode == 2 and "the oracle has not run here" in result.stderr


def test_plain_key_on_a_public_chain_is_refused(env):
    from backend.dev.anvil import Anvil

    with Anvil(chain_id=11155111) as node:
        result = stylemint(env, "oracle", "--rpc", node.url, "--contract", "0x" + "11" * 20,
                           STYLEMINT_ORACLE_KEY="0x" + "4c" * 32)
    assert result.returncode == 2
    assert "not a local dev chain" in result.stderr and "4c4c4c" not in result.stderr


def test_cpu_workers_are_sized_to_the_cores_and_more_are_refused_with_the_reason(sample_chain, env):
    """workers x committed threads <= cores: on 2 cores at 2 threads one actor; asking for more is
    refused before Ray starts (two renders sharing two cores ran 4.5x slower, bench/oracle.py)."""
    import os

    from backend.oracle.ray_pool import TooManyWorkers, cpu_worker_limit, size_cpu_workers

    assert [cpu_worker_limit(2, cores) for cores in (1, 2, 3, 4, 16)] == [1, 1, 1, 2, 8]
    assert cpu_worker_limit(1, 2) == 2 and size_cpu_workers(2, 1, cores=2) == 2
    with pytest.raises(TooManyWorkers, match="at most 1 render"):
        size_cpu_workers(2, 2, cores=2)
    node, sample, store = sample_chain
    too_many = cpu_worker_limit(2) + 1
    done = stylemint(env, "oracle", "--rpc", node.url, "--until-idle", "--dev-mine", "--workers", str(too_many))
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"--workers {too_many}: each CPU render runs 2 threads" in done.stderr
    assert f"this machine has {os.cpu_count()} cores" in done.stderr and "Traceback" not in done.stderr
