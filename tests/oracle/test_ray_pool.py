"""The oracle with renders on a Ray actor pool (oracle --workers): same bytes, exactly once, even
when a render actor is killed mid-render (Ray restarts it and retries its task)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from ape import accounts

from backend.chain.client import StyleMintClient
from backend.dev import ape_contract as core
from backend.dev.anvil import Anvil
from backend.dev.sample import deploy_sample
from backend.ipfs.embedded import EmbeddedStore
from backend.oracle.jobs import JobStore
from backend.oracle.keys import DEV_ORACLE_INDEX, dev_account
from backend.oracle.ray_pool import RayRenderPool
from backend.oracle.outcomes import CRASH_ENV
from backend.render.renderer import Renderer
from backend.render.samples import tiny_manifest
from tests.oracle.conftest import make_oracle
from tests.support.chain import tokens_fulfilled_by, transactions_from
from tests.support.chain import run_until_idle

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
ORACLE = dev_account(DEV_ORACLE_INDEX).address


@pytest.fixture
def tiny_chain(env):
    """anvil + a project on the shipped stylemint-tiny model (each actor loads it from the package)."""
    from ape import networks

    with Anvil(log_path=env / "anvil.log") as node:
        with networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
            store = EmbeddedStore(env / "data" / "ipfs")
            sample = deploy_sample(node.url, store, price_wei=10**9, max_editions=100, manifest=tiny_manifest("stipple"))
            yield node, sample, store


@pytest.fixture(scope="module")
def pool():
    import ray

    pool = RayRenderPool(2, local=Renderer(device="cpu", threads=2))
    yield pool
    pool.shutdown()
    ray.shutdown()


def test_a_render_actor_killed_mid_render_changes_nothing(tiny_chain, pool, shared_renderer, env):
    node, sample, store = tiny_chain
    pool.fetch_adapter = store.get
    mints = [core.mint(sample.contract, accounts.test_accounts[4], sample.project_id) for _ in range(3)]
    state = env / "state.sqlite"
    oracle = make_oracle(node, sample, store, pool, state, batch_size=4)
    before = pool.actor_pids()
    killed = []

    def kill_one_actor_mid_render():
        jobs = JobStore(state)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the pass has handed its renders to the actors
            if any(j.activity and json.loads(j.activity)["phase"] == "rendering" for j in jobs.jobs("seen")):
                time.sleep(0.5)
                os.kill(before[0], signal.SIGKILL)
                killed.append(before[0])
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_actor_mid_render)
    killer.start()
    run_until_idle(oracle)
    killer.join()
    assert killed, "no render was seen in flight"
    after = pool.actor_pids()
    assert after[0] != before[0] and after[1] == before[1]  # Ray restarted the killed actor only

    # Exactly once, counted from what the chain holds: every transaction the oracle sent was
    # mined and succeeded, nonces without a gap, each token fulfilled by exactly one of them.
    sent = transactions_from(node.url, oracle.signer.address)
    assert all(tx["status"] == 1 for tx in sent) and sorted(tx["nonce"] for tx in sent) == list(range(len(sent)))
    fulfilled = [t for tx in sent for t in tokens_fulfilled_by(node.url, sample.deployment.address, tx["hash"])]
    assert sorted(fulfilled) == sorted(m.token_id for m in mints)
    # And each image is byte for byte the render of its seed alone, in this (test) process.
    client = StyleMintClient(node.url, sample.deployment.address)
    manifest = tiny_manifest("stipple")
    for mint in mints:
        metadata = json.loads(store.get(client.view("tokenMetadataCID", mint.token_id)))
        solo = shared_renderer.render(manifest, metadata["provenance"]["seed"])
        assert metadata["provenance"]["png_sha256"] == solo.png_sha256
        assert metadata["provenance"]["environment"]["batch_size"] == 1


def test_a_driver_killed_after_its_renders_came_back_ends_exactly_once(tiny_chain, shared_renderer, env):
    """`stylemint oracle --workers 1` SIGKILLed between the renders' return and their storing, then
    started again: the renders are lost and done again, and still each token is fulfilled once."""
    node, sample, store = tiny_chain
    mints = [core.mint(sample.contract, accounts.test_accounts[4], sample.project_id) for _ in range(2)]
    # A supervised worker (a fixed id) takes its leases back at once instead of waiting out the dead one's.
    command = [str(BIN / "stylemint"), "oracle", "--rpc", node.url, "--poll", "0.2", "--workers", "1", "--dev-mine",
               "--final-depth", "0", "--worker-id", "ray-driver"]
    environment = {**os.environ, "STYLEMINT_DATA_DIR": str(env / "data")}
    crashed = subprocess.run(command, env={**environment, CRASH_ENV: "after_render"}, capture_output=True, text=True,
                             timeout=300)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    state = JobStore(env / "data" / "oracle" / "state.sqlite")
    assert {job.state for job in state.jobs()} == {"seen"}  # nothing of the renders was kept
    done = subprocess.run(command + ["--until-idle"], env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "event=render_pool workers=1" in done.stderr

    sent = transactions_from(node.url, ORACLE)
    assert all(tx["status"] == 1 for tx in sent) and sorted(tx["nonce"] for tx in sent) == list(range(len(sent)))
    fulfilled = [t for tx in sent for t in tokens_fulfilled_by(node.url, sample.deployment.address, tx["hash"])]
    assert sorted(fulfilled) == sorted(m.token_id for m in mints)
    client = StyleMintClient(node.url, sample.deployment.address)
    for mint in mints:
        metadata = json.loads(store.get(client.view("tokenMetadataCID", mint.token_id)))
        solo = shared_renderer.render(tiny_manifest("stipple"), metadata["provenance"]["seed"])
        assert metadata["provenance"]["png_sha256"] == solo.png_sha256


def test_an_actor_renders_a_committed_batch_as_one_task_with_the_same_bytes(shared_renderer):
    """RENDER_SPEC §5a on the pool: the batch travels to one actor whole (its rows are rendered
    together), and the actor's bytes are a local render's."""
    from backend.oracle.ray_pool import RenderActorCore
    from backend.render import environment
    from backend.render.samples import sample_manifest

    manifest = sample_manifest(environment=environment.this_machine_class(batch_size=3))
    seeds = [bytes([7]) * 32, bytes([8]) * 32]
    actor = RenderActorCore({"device": "cpu", "threads": 2, "models_dir": shared_renderer.models_dir})
    remote = actor.render_committed(manifest.canonical_bytes(), {}, seeds)
    local = shared_renderer.render_committed(manifest, seeds)
    assert [r.png for r in remote] == [r.png for r in local] and [r.batch for r in remote] == [r.batch for r in local]
