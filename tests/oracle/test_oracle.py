"""The oracle end to end on anvil, the embedded store and the reference model."""

import threading
import time

import pytest
from ape import accounts

from backend.dev import ape_contract as core
from backend.ipfs.cid import cid_of
from backend.render.samples import sample_manifest
from tests.oracle.conftest import make_oracle, make_oracle_for
from tests.support.chain import (
    FlakyProxy, FlakyStore, canonical_seed, fulfill_events, metadata_of, run_until_idle, tokens_fulfilled_by,
    transactions_from,
)

pytestmark = pytest.mark.e2e


def second_project(sample, store):
    """Another project with another manifest (another prompt and scheduler)."""
    manifest = sample_manifest(name="Salt Fields", prompt="salt fields under {sky}", variables={"sky": ["rain", "sun"]},
                               scheduler={"name": "ddim"}, guidance_scale=1.0)
    cid = store.add(manifest.canonical_bytes())
    project_id = core.create_project(sample.contract, accounts.test_accounts[5], name=manifest.name, manifest_cid=cid,
                                     manifest_hash=manifest.sha256(), price_wei=10**9, max_editions=50, unpause=True,
                                     approve_by=accounts.test_accounts[0])
    return project_id, manifest


def test_twenty_mints_across_two_projects_fulfilled_exactly_once(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    other_project, other_manifest = second_project(sample, store)
    minted = []
    for i in range(20):
        project = sample.project_id if i % 2 else other_project
        minted.append(core.mint(sample.contract, accounts.test_accounts[6 + i % 4], project))
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite", batch_size=4)
    run_until_idle(oracle)

    events = fulfill_events(node.url, sample.deployment.address)
    assert sorted(e["tokenId"] for e in events) == sorted(m.token_id for m in minted)  # each exactly once
    manifests = {sample.project_id: sample_manifest(), other_project: other_manifest}
    for mint in minted:
        seed = canonical_seed(node.url, sample.deployment.address, mint.token_id, mint.tx_hash)
        assert bytes(sample.contract.tokenSeed(mint.token_id)) == seed
        metadata = metadata_of(store, sample.contract, mint.token_id)
        image = store.get(metadata["image"].removeprefix("ipfs://"))
        assert image == shared_renderer.render(manifests[mint.project_id], seed).png
        provenance = metadata["provenance"]
        assert provenance["seed"] == "0x" + seed.hex()
        assert (provenance["mint_tx"], provenance["mint_block_hash"]) == (mint.tx_hash, mint.block_hash)
        assert provenance["chain_id"] == 31337 and provenance["contract"] == sample.deployment.address
        assert provenance["manifest_sha256"] == "0x" + manifests[mint.project_id].sha256_hex()
        assert metadata["name"] == f"{manifests[mint.project_id].name} #{mint.token_id % 1_000_000 + 1}"
        assert sample.contract.tokenURI(mint.token_id) == f"ipfs://{sample.contract.tokenMetadataCID(mint.token_id)}"
    assert oracle.status()["counts"]["fulfilled"] == 20


def test_a_round_of_jobs_goes_out_in_one_batch_transaction(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    minted = [core.mint(sample.contract, accounts.test_accounts[4 + i % 4], sample.project_id) for i in range(8)]
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite", batch_size=4)
    run_until_idle(oracle)
    sent = transactions_from(node.url, oracle.signer.address)
    assert all(tx["status"] == 1 for tx in sent) and [tx["nonce"] for tx in sent] == list(range(len(sent)))
    per_tx = [tokens_fulfilled_by(node.url, sample.deployment.address, tx["hash"]) for tx in sent]
    assert sorted(t for tokens in per_tx for t in tokens) == sorted(m.token_id for m in minted)  # each once
    assert len(sent) == 2 and [len(tokens) for tokens in per_tx] == [4, 4]  # two rounds of four
    for mint in minted:
        job = oracle.jobs.for_token(mint.token_id)
        assert job.state == "fulfilled" and job.fulfill_tx in {tx["hash"] for tx in sent}
        assert bytes(sample.contract.tokenSeed(mint.token_id)) == canonical_seed(
            node.url, sample.deployment.address, mint.token_id, mint.tx_hash)


def test_fulfillment_by_another_oracle_is_detected_not_resent(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    admin, rival = accounts.test_accounts[0], accounts.test_accounts[7]
    core.grant_oracle(sample.contract, rival, admin)
    honest = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    liar = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    rival_cid = cid_of(b"the rival's metadata")
    core.randomness_block(sample.contract, honest.token_id)  # the honest seed needs its randomness block
    core.fulfill(sample.contract, honest.token_id,
                canonical_seed(node.url, sample.deployment.address, honest.token_id, honest.tx_hash), rival_cid, rival)
    core.fulfill(sample.contract, liar.token_id, bytes.fromhex(liar.tx_hash[2:]), rival_cid, rival)  # bare tx hash

    # Another seed fails the job only once its fulfillment is final_depth deep (a reorg could
    # still take a shallower one back).
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite", final_depth=5)
    sample.contract.chain_manager.mine(5)
    nonce_before = oracle.chain.w3.eth.get_transaction_count(oracle.signer.address)
    run_until_idle(oracle)
    assert oracle.chain.w3.eth.get_transaction_count(oracle.signer.address) == nonce_before  # sent nothing
    assert oracle.jobs.for_token(honest.token_id).state in ("fulfilled", "final")  # 5 deep: may be final
    failed = oracle.jobs.for_token(liar.token_id)
    assert failed.state == "failed" and "fulfilled by another oracle with seed" in failed.last_error
    assert len(fulfill_events(node.url, sample.deployment.address)) == 2


def test_a_job_row_that_disagrees_with_its_receipt_is_taken_from_the_receipt(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    oracle.scan()
    # A row that says project 99 (a corrupt state file): the receipt's Mint log is what counts.
    oracle.jobs.update(oracle.jobs.for_token(mint.token_id).id, None, project_id=99)
    run_until_idle(oracle)
    job = oracle.jobs.for_token(mint.token_id)
    assert job.state == "fulfilled" and job.project_id == sample.project_id
    assert bytes(sample.contract.tokenSeed(mint.token_id)) == canonical_seed(
        node.url, sample.deployment.address, mint.token_id, mint.tx_hash)


def test_persistent_failure_is_visible_then_retried_on_command(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    # A project whose manifest was never pinned where the oracle looks.
    manifest = sample_manifest(name="Unpinned", steps=4)
    project_id = core.create_project(sample.contract, accounts.test_accounts[3], name="Unpinned",
                                     manifest_cid=cid_of(manifest.canonical_bytes()), manifest_hash=manifest.sha256(),
                                     price_wei=0, max_editions=3, unpause=True,
                                     approve_by=accounts.test_accounts[0])
    mint = core.mint(sample.contract, accounts.test_accounts[4], project_id)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite", max_attempts=3)
    run_until_idle(oracle)
    job = oracle.jobs.for_token(mint.token_id)
    assert job.state == "failed" and "gave up after 3 attempts" in job.last_error and "NotFound" in job.last_error
    # The artist pins the manifest (the same bytes, so the CID named on chain).
    store.add(manifest.canonical_bytes())
    assert oracle.jobs.retry_failed() == 1
    run_until_idle(oracle)
    assert oracle.jobs.for_token(mint.token_id).state == "fulfilled"


def test_manifest_changed_after_the_mint_renders_with_the_manifest_of_the_mint(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    changed = sample_manifest(prompt="a changed style, {hour}, {palette}")
    sample.contract.setProjectManifest(sample.project_id, store.add(changed.canonical_bytes()), changed.sha256(),
                                       sender=accounts.test_accounts[3])
    sample.contract.approveProject(sample.project_id, changed.sha256(), sample.contract.stylesConfigHash(sample.project_id), sender=accounts.test_accounts[0])
    later = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    run_until_idle(oracle)
    first = metadata_of(store, sample.contract, mint.token_id)["provenance"]
    second = metadata_of(store, sample.contract, later.token_id)["provenance"]
    assert first["manifest_sha256"] == "0x" + sample_manifest().sha256_hex()
    assert second["manifest_sha256"] == "0x" + changed.sha256_hex()
    assert first["prompt"].startswith("a study of tidal glass") and second["prompt"].startswith("a changed style")


def test_reorg_drops_a_vanished_mint_and_reseeds_a_reincluded_one(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    w3 = make_oracle(node, sample, store, shared_renderer, env / "probe.sqlite").chain.w3
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    vanished = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    moved = core.mint(sample.contract, accounts.test_accounts[5], sample.project_id)
    raw_moved = w3.provider.make_request("eth_getRawTransactionByHash", [moved.tx_hash])["result"]

    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    oracle.scan()  # both mints seen, nothing fulfilled yet
    assert {j.token_id for j in oracle.jobs.jobs("seen")} == {vanished.token_id, moved.token_id}

    w3.provider.make_request("evm_revert", [snapshot])  # both blocks leave the chain
    w3.provider.make_request("evm_mine", [int(time.time()) + 100])
    # Only the second collector's signed transaction comes back, in another block.
    w3.provider.make_request("eth_sendRawTransaction", [raw_moved])
    receipt = w3.eth.wait_for_transaction_receipt(moved.tx_hash)
    new_block_hash = receipt["blockHash"].to_0x_hex()
    assert new_block_hash != moved.block_hash
    minted_id = oracle.chain.mint_logs_in_receipt(receipt)[0].token_id

    run_until_idle(oracle)
    if minted_id != moved.token_id:
        # The re-included transaction minted the first free id; the old id of the vanished mint is gone.
        assert oracle.jobs.for_token(minted_id).state == "fulfilled"
    assert bytes(sample.contract.tokenSeed(minted_id)) == canonical_seed(node.url, sample.deployment.address, minted_id,
                                                                         moved.tx_hash)
    states = {j.token_id: j.state for j in oracle.jobs.jobs()}
    assert states[minted_id] == "fulfilled"
    assert "dropped" in states.values()  # the vanished mint was dropped, never fulfilled
    assert len(fulfill_events(node.url, sample.deployment.address)) == 1


def test_outages_of_ipfs_and_rpc_are_waited_out(sample_chain, shared_renderer, env, caplog):
    node, sample, store = sample_chain
    for i in range(4):
        core.mint(sample.contract, accounts.test_accounts[4 + i], sample.project_id)
    proxy = FlakyProxy(node.port)
    flaky = FlakyStore(store, failures=5)
    from backend.chain.client import StyleMintClient

    client = StyleMintClient(proxy.url, sample.deployment.address, timeout=2, retries=8, backoff=0.2)
    oracle = make_oracle_for(client, flaky, shared_renderer, env / "state.sqlite",
                             start_block=sample.deployment.block_number, max_attempts=20)
    proxy.down()
    threading.Timer(2.0, proxy.up).start()  # the RPC comes back after 2 s
    started = time.monotonic()
    run_until_idle(oracle)
    assert time.monotonic() - started > 1.5  # it really waited
    assert flaky.calls > 5  # and went through the injected IPFS outage
    assert "ConnectionError" in caplog.text  # the RPC really refused connections for a while
    assert len(fulfill_events(node.url, sample.deployment.address)) == 4


def test_two_workers_share_the_store_without_double_work(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    admin, second = accounts.test_accounts[0], accounts.test_accounts[7]
    core.grant_oracle(sample.contract, second, admin)
    for i in range(12):
        core.mint(sample.contract, accounts.test_accounts[4 + i % 3], sample.project_id)
    from backend.oracle.keys import OracleSigner, dev_account
    from backend.render.renderer import Renderer

    # Each worker has its own renderer (as on its own GPU machine) and its own oracle key.
    models = shared_renderer.models_dir
    first_oracle = make_oracle(node, sample, store, Renderer(device="cpu", models_dir=models), env / "state.sqlite",
                               batch_size=2)
    second_oracle = make_oracle(node, sample, store, Renderer(device="cpu", models_dir=models), env / "state.sqlite",
                                batch_size=2)
    second_oracle.signer = OracleSigner(dev_account(7), "dev account 7")
    threads = [threading.Thread(target=run_until_idle, args=(o,)) for o in (first_oracle, second_oracle)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = fulfill_events(node.url, sample.deployment.address)
    assert len(events) == 12 and len({e["tokenId"] for e in events}) == 12
    by_sender = {oracle.signer.address: 0 for oracle in (first_oracle, second_oracle)}
    for event in events:
        sender = first_oracle.chain.w3.eth.get_transaction("0x" + event["tx"].removeprefix("0x"))["from"]
        by_sender[sender] += 1
    assert all(count > 0 for count in by_sender.values()), by_sender  # both really worked
