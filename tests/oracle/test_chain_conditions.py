"""The oracle under real chain conditions: reorgs around a mint and its fulfillment, real block
times, lost replies, a hung RPC, a key without the role. Each test counts what actually
happened on chain (transactions, nonces, reverts, seeds), not only the events the contract
already makes unique."""

import logging
import time

import pytest
from ape import accounts

from backend.chain.client import StyleMintClient
from backend.chain.errors import ChainUnavailable, ContractRevert
from backend.dev import ape_contract as core
from backend.oracle.keys import OracleSigner, dev_account
from backend.oracle.service import OracleConfig, OracleNotAuthorized
from tests.oracle.conftest import make_oracle, make_oracle_for, use_block_time
from tests.support.chain import (DroppingRpcProxy, HungServer, canonical_seed, raw_of, reorg_back_to, rpc, run_until_idle,
                                 tokens_fulfilled_by, transactions_from)

pytestmark = pytest.mark.e2e


def watching_oracle(node, sample, store, renderer, env):
    """An oracle that watches fulfilled tokens closely: final at 5 blocks, checked every 0.1 s."""
    return make_oracle(node, sample, store, renderer, env / "state.sqlite", final_depth=5, watch_interval=0.1)


@pytest.mark.parametrize("block_time", [None, 1], ids=["instant", "1s-blocks"])
def test_a_lost_reply_to_the_broadcast_signs_no_second_transaction(sample_chain, shared_renderer, env, block_time):
    node, sample, store = sample_chain
    mints = [core.mint(sample.contract, accounts.test_accounts[4 + i], sample.project_id) for i in range(4)]
    use_block_time(node, block_time)
    proxy = DroppingRpcProxy(node.url, "eth_sendRawTransaction", drop=2)
    client = StyleMintClient(proxy.url, sample.deployment.address, retries=3, backoff=0.05)
    oracle = make_oracle_for(client, store, shared_renderer, env / "state.sqlite",
                             start_block=sample.deployment.block_number, dev_mine=block_time is None)
    run_until_idle(oracle)
    proxy.close()
    assert proxy.dropped == 2  # two replies really were lost
    sent = transactions_from(node.url, oracle.signer.address)
    assert all(tx["status"] == 1 for tx in sent)  # none reverted
    assert sorted(tx["nonce"] for tx in sent) == list(range(len(sent)))
    signed = {oracle.jobs.for_token(mint.token_id).fulfill_tx for mint in mints}
    assert {tx["hash"] for tx in sent} == signed  # every transaction mined is one the oracle signed once
    fulfilled = [t for tx in sent for t in tokens_fulfilled_by(node.url, sample.deployment.address, tx["hash"])]
    assert sorted(fulfilled) == sorted(m.token_id for m in mints)  # each token by exactly one transaction
    for mint in mints:
        assert bytes(sample.contract.tokenSeed(mint.token_id)) == canonical_seed(node.url, sample.deployment.address, mint.token_id, mint.tx_hash)


class ReorgDuringRender:
    """Fault injection: the first render call moves the mint to another block (a reorg while the
    GPU works), then renders as asked."""

    def __init__(self, renderer, reorg):
        self.renderer, self.reorg, self.done = renderer, reorg, False

    def __getattr__(self, name):  # everything else is the real renderer's (its fingerprint, say)
        return getattr(self.renderer, name)

    def render_batch(self, manifest, seeds, progress=None):
        if not self.done:
            self.done = True
            self.reorg()
        return self.renderer.render_batch(manifest, seeds, progress)


def test_a_mint_moved_during_its_render_is_fulfilled_with_its_canonical_seed(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    probe = make_oracle(node, sample, store, shared_renderer, env / "probe.sqlite")
    snapshot = rpc(probe, "evm_snapshot")
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    raw_mint = raw_of(probe, mint.tx_hash)
    moved = {}

    def reorg():
        moved["receipt"] = reorg_back_to(probe, snapshot, raw_mint)[0]

    oracle = make_oracle(node, sample, store, ReorgDuringRender(shared_renderer, reorg), env / "state.sqlite")
    run_until_idle(oracle)
    new_hash = moved["receipt"]["blockHash"].to_0x_hex()
    assert new_hash != mint.block_hash
    assert bytes(sample.contract.tokenSeed(mint.token_id)) == canonical_seed(node.url, sample.deployment.address, mint.token_id, mint.tx_hash)
    sent = transactions_from(node.url, oracle.signer.address)
    assert len(sent) == 1 and sent[0]["status"] == 1


def test_a_reorg_after_fulfillment_is_redone_and_the_old_fulfillment_cannot_land(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    oracle = watching_oracle(node, sample, store, shared_renderer, env)
    snapshot = rpc(oracle, "evm_snapshot")
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    run_until_idle(oracle)
    old_seed = canonical_seed(node.url, sample.deployment.address, mint.token_id, mint.tx_hash)
    assert bytes(sample.contract.tokenSeed(mint.token_id)) == old_seed
    old_fulfill = oracle.jobs.for_token(mint.token_id).fulfill_tx

    # Mint and fulfillment leave the chain; the node includes both again, the mint in a new block.
    mint_receipt, old_fulfill_receipt = reorg_back_to(oracle, snapshot, raw_of(oracle, mint.tx_hash),
                                                      raw_of(oracle, old_fulfill))
    # A seed from a replaced block cannot land: the batch is mined, its stale entry skipped (no revert).
    skipped = oracle.chain.contract.events.FulfillmentSkipped().process_receipt(old_fulfill_receipt)
    assert old_fulfill_receipt["status"] == 1 and [e["args"]["tokenId"] for e in skipped] == [mint.token_id]
    assert skipped[0]["args"]["reason"] in (3, 4)  # its new randomness block is still to come, or replaced
    assert not sample.contract.isFulfilled(mint.token_id)

    run_until_idle(oracle)
    new_seed = canonical_seed(node.url, sample.deployment.address, mint.token_id, mint.tx_hash)
    assert bytes(sample.contract.tokenSeed(mint.token_id)) == new_seed != old_seed
    sent = transactions_from(node.url, oracle.signer.address)
    assert [tx["status"] for tx in sent] == [1, 1]  # the re-included stale one (fulfilling nothing), then ours
    assert tokens_fulfilled_by(node.url, sample.deployment.address, sent[0]["hash"]) == []
    assert oracle.jobs.for_token(mint.token_id).state == "fulfilled"

    rpc(oracle, "anvil_mine", 6)  # deep enough: the token becomes final and is no longer watched
    time.sleep(0.2)  # the watch interval
    oracle.process_batch()
    assert oracle.jobs.for_token(mint.token_id).state == "final"


def test_a_later_mint_that_takes_a_dropped_mints_token_id_is_fulfilled(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    oracle = watching_oracle(node, sample, store, shared_renderer, env)
    snapshot = rpc(oracle, "evm_snapshot")
    alice = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    run_until_idle(oracle)
    assert sample.contract.isFulfilled(alice.token_id)
    reorg_back_to(oracle, snapshot)  # Alice's mint is gone for good
    bob = core.mint(sample.contract, accounts.test_accounts[5], sample.project_id)
    assert bob.token_id == alice.token_id and bob.tx_hash != alice.tx_hash
    run_until_idle(oracle)
    assert bytes(sample.contract.tokenSeed(bob.token_id)) == canonical_seed(node.url, sample.deployment.address, bob.token_id, bob.tx_hash)
    states = sorted((job.tx_hash == bob.tx_hash, job.state) for job in oracle.jobs.jobs())
    assert states == [(False, "dropped"), (True, "fulfilled")]
    sent = transactions_from(node.url, oracle.signer.address)
    fulfillments = [tx for tx in sent if tx["to"] == sample.deployment.address]
    assert len(fulfillments) == 1 and all(tx["status"] == 1 for tx in sent)
    assert sorted(tx["nonce"] for tx in sent) == list(range(len(sent)))  # no nonce gap left behind
    assert len(sent) <= 2  # at most one cancel (a 0-value transfer to itself) for Alice's nonce


def test_a_key_without_the_oracle_role_refuses_to_start(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    client = StyleMintClient(node.url, sample.deployment.address)
    from backend.oracle import factory

    with pytest.raises(OracleNotAuthorized, match="is not an active oracle of the OracleQuorum"):
        factory.make_oracle(client=client, store=store, renderer=shared_renderer, state=env / "state.sqlite",
                            signer=OracleSigner(dev_account(9), "dev account 9"))
    with pytest.raises(ContractRevert) as revert:
        client.project_info(99)
    assert revert.value.name == "UnknownProject"  # reverts are decoded by name, and are not transient


def test_a_hung_rpc_is_given_up_after_one_visible_budget(caplog):
    hung = HungServer()
    caplog.set_level(logging.WARNING)
    client_started = time.monotonic()
    with pytest.raises(ChainUnavailable, match="after 3 attempts"):
        StyleMintClient(hung.url, "0x" + "11" * 20, timeout=0.5, retries=2, backoff=0.05).head()
    elapsed = time.monotonic() - client_started
    hung.close()
    assert len(hung.connections) == 3  # our attempts only: no retries hidden inside web3
    assert elapsed < 5
    assert caplog.text.count("rpc eth_blockNumber failed") == 2


def test_default_worker_ids_are_unique_per_process_and_run():
    first, second = OracleConfig().worker_id, OracleConfig().worker_id
    assert first != second
    import os

    assert f"-{os.getpid()}-" in first


def test_a_stuck_fulfillment_is_replaced_at_its_nonce_not_doubled(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite", stuck_blocks=3)
    rpc(oracle, "evm_setAutomine", False)  # blocks only when this test mines them
    oracle.scan()
    while oracle.jobs.for_token(mint.token_id).state != "submitted":
        oracle.process_batch()
    job = oracle.jobs.for_token(mint.token_id)
    base_fee = oracle.chain.w3.eth.get_block("latest")["baseFeePerGas"]
    for _ in range(3):  # blocks whose base fee the fulfillment does not cover: it is stuck
        rpc(oracle, "anvil_setNextBlockBaseFeePerGas", hex(base_fee * 1000))
        rpc(oracle, "evm_mine")
    assert oracle.chain.receipt(job.fulfill_tx) is None  # and the node dropped it from its pool
    time.sleep(0.3)
    oracle.process_batch()  # the node refuses the same bytes now: replaced: same nonce, fees from the node now, bumped
    replaced = oracle.jobs.for_token(mint.token_id)
    assert replaced.fulfill_nonce == job.fulfill_nonce and replaced.fulfill_tx != job.fulfill_tx
    assert job.fulfill_tx in replaced.fulfill_replaced
    rpc(oracle, "evm_mine")
    time.sleep(0.3)
    oracle.process_batch()
    assert oracle.jobs.for_token(mint.token_id).state == "fulfilled"
    sent = transactions_from(node.url, oracle.signer.address)
    assert len(sent) == 1 and sent[0]["status"] == 1 and sent[0]["hash"] == replaced.fulfill_tx
    assert oracle.chain.receipt(job.fulfill_tx) is None  # the stuck one never landed
    assert bytes(sample.contract.tokenSeed(mint.token_id)) == canonical_seed(node.url, sample.deployment.address, mint.token_id, mint.tx_hash)
