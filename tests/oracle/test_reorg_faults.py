"""Transient is never permanent: what a reorg, a lagging node or a vanished block can cause sends a
job back to be checked again, never to `failed`; the loop outlives every chain answer; a stored
transaction is broadcast again only with entries that are still true, and a replacement outbids
what it replaces. Each test counts what happened on chain (transactions, statuses, nonces, fees)."""

import json
import time

import pytest
from ape import accounts
from eth_account.typed_transactions import TypedTransaction
from hexbytes import HexBytes

from backend.chain.client import StyleMintClient, outbid_fee
from backend.dev import ape_contract as core
from backend.dev.chaos import AnsweringRpcProxy, block_not_found
from tests.oracle.conftest import make_oracle, make_oracle_for
from tests.support.chain import canonical_seed, tokens_fulfilled_by, transactions_from
from tests.support.chain import raw_of, reorg_back_to, rpc
from tests.support.chain import run_until_idle

pytestmark = pytest.mark.e2e


class LogsBehindReceipts(StyleMintClient):
    """Fault injection: for its first `lag` answers the node's logs and state lag its receipts (a
    node behind its peers, or one answering in the middle of a reorg): no manifest events, and the
    project unknown."""

    def __init__(self, *args, lag: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.lag, self.lagged = lag, {"logs": 0, "state": 0}

    def _behind(self, what: str) -> bool:
        self.lagged[what] += 1
        return self.lagged[what] <= self.lag

    def manifest_events(self, project_id, to_block="latest"):
        return [] if self._behind("logs") else super().manifest_events(project_id, to_block)

    def project_info(self, project_id):
        if self._behind("state"):
            return super().project_info(10**6)  # reverts UnknownProject, as a node behind would
        return super().project_info(project_id)


def test_a_node_whose_logs_lag_its_receipts_makes_a_job_wait_not_fail(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    client = LogsBehindReceipts(node.url, sample.deployment.address, lag=6)
    oracle = make_oracle_for(client, store, shared_renderer, env / "state.sqlite",
                             start_block=sample.deployment.block_number, max_attempts=2)
    oracle.scan()
    oracle.process_batch()
    job = oracle.jobs.for_token(mint.token_id)
    assert job.state == "seen" and job.attempts == 0  # waiting, no attempt spent
    assert "as this node answers now" in job.activity or "does not know project" in job.activity
    [waiting] = oracle.status()["waiting"]  # `stylemint oracle status` says why
    assert waiting["token_id"] == mint.token_id and "ChainNotSettled" in waiting["reason"]
    run_until_idle(oracle)
    assert min(client.lagged.values()) > client.lag  # both lags were met, more often than max_attempts allows
    job = oracle.jobs.for_token(mint.token_id)
    assert job.state == "fulfilled" and oracle.status()["failed"] == []
    assert bytes(sample.contract.tokenSeed(mint.token_id)) == canonical_seed(
        node.url, sample.deployment.address, mint.token_id, mint.tx_hash)


def test_a_node_that_says_not_found_for_the_cursor_block_does_not_stop_the_loop(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    lost = {"left": 0}

    def answer(request):
        refusal = block_not_found(request) if lost["left"] > 0 else None
        lost["left"] -= refusal is not None
        return refusal

    proxy = AnsweringRpcProxy(node.url, answer)
    oracle = make_oracle_for(StyleMintClient(proxy.url, sample.deployment.address, retries=1, backoff=0.01), store,
                             shared_renderer, env / "state.sqlite", start_block=sample.deployment.block_number)
    oracle.scan()  # a cursor with its hash, then the node loses that block (and the next ones asked)
    lost["left"] = 4
    try:
        run_until_idle(oracle)
    finally:
        proxy.close()
    assert proxy.answered == 4
    assert oracle.jobs.for_token(mint.token_id).state == "fulfilled"
    sent = transactions_from(node.url, oracle.signer.address)
    assert [tx["status"] for tx in sent] == [1]


def test_a_reorg_that_moves_part_of_a_fulfilled_batch_resigns_the_rest_at_its_nonce(sample_chain, shared_renderer,
                                                                                     env):
    node, sample, store = sample_chain
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite", batch_size=4, watch_interval=0.1)
    alice = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    rpc(oracle, "anvil_mine", hex(oracle.randomness_delay + 1))  # Alice's randomness block is before the reorg
    snapshot = rpc(oracle, "evm_snapshot")
    bob = core.mint(sample.contract, accounts.test_accounts[5], sample.project_id)
    carol = core.mint(sample.contract, accounts.test_accounts[6], sample.project_id)
    run_until_idle(oracle)
    batch = oracle.jobs.for_token(alice.token_id).fulfill_tx
    assert sorted(tokens_fulfilled_by(node.url, sample.deployment.address, batch)) == sorted(
        m.token_id for m in (alice, bob, carol))  # one fulfillBatch for the three
    old_fees = StyleMintClient.fees_of(raw_of(oracle, batch))

    # The batch and the blocks of Bob's and Carol's mints leave the chain; the node includes the two
    # mints again, in new blocks (new randomness); the batch is not re-included.
    reorg_back_to(oracle, snapshot, raw_of(oracle, bob.tx_hash), raw_of(oracle, carol.tx_hash))
    assert not any(sample.contract.isFulfilled(m.token_id) for m in (alice, bob, carol))
    run_until_idle(oracle)

    sent = transactions_from(node.url, oracle.signer.address)
    assert [tx["status"] for tx in sent] == [1, 1]  # nothing reverted, nothing cancelled
    assert [tx["nonce"] for tx in sent] == [0, 1]
    resigned, fresh = (tx["hash"] for tx in sent)
    assert tokens_fulfilled_by(node.url, sample.deployment.address, resigned) == [alice.token_id]  # same nonce, Alice
    assert sorted(tokens_fulfilled_by(node.url, sample.deployment.address, fresh)) == sorted(
        [bob.token_id, carol.token_id])
    new_fees = StyleMintClient.fees_of(raw_of(oracle, resigned))
    assert all(new >= outbid_fee(old) for new, old in zip(new_fees, old_fees))  # it outbid the batch it replaced
    for mint in (alice, bob, carol):
        assert bytes(sample.contract.tokenSeed(mint.token_id)) == canonical_seed(
            node.url, sample.deployment.address, mint.token_id, mint.tx_hash)
    assert oracle.status()["failed"] == []


def test_a_replacement_outbids_the_replaced_fees_when_the_base_fee_fell(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    rpc(oracle, "anvil_setNextBlockBaseFeePerGas", hex(50 * 10**9))
    rpc(oracle, "evm_mine")  # a high base fee when the fulfillment is priced
    rpc(oracle, "evm_setAutomine", False)
    oracle.scan()
    while oracle.jobs.for_token(mint.token_id).state != "submitted":
        oracle.process_batch()
    first = oracle.jobs.for_token(mint.token_id)
    # The base fee falls while the fulfillment waits in the pool (taken out for one empty block).
    rpc(oracle, "anvil_dropTransaction", first.fulfill_tx)
    rpc(oracle, "anvil_setNextBlockBaseFeePerGas", hex(10**9))
    rpc(oracle, "evm_mine")
    rpc(oracle, "eth_sendRawTransaction", first.fulfill_raw)
    assert oracle.chain.transaction_pending(first.fulfill_tx)
    oracle.config.stuck_blocks = 0  # stuck now: replaced at its nonce, priced when the base fee is low
    time.sleep(0.2)
    oracle.process_batch()
    replaced = oracle.jobs.for_token(mint.token_id)
    assert replaced.fulfill_tx != first.fulfill_tx and replaced.fulfill_nonce == first.fulfill_nonce
    old, new = StyleMintClient.fees_of(first.fulfill_raw), StyleMintClient.fees_of(replaced.fulfill_raw)
    assert all(n >= outbid_fee(o) for n, o in zip(new, old))  # not a bump of the fallen estimate
    assert TypedTransaction.from_bytes(HexBytes(replaced.fulfill_raw)).as_dict()["nonce"] == first.fulfill_nonce
    assert oracle.chain.transaction_pending(replaced.fulfill_tx)  # the node took it in place of the first
    oracle.config.stuck_blocks = 12
    rpc(oracle, "evm_setAutomine", True)
    rpc(oracle, "evm_mine")
    run_until_idle(oracle)
    sent = transactions_from(node.url, oracle.signer.address)
    assert [(tx["hash"], tx["status"]) for tx in sent] == [(replaced.fulfill_tx, 1)]


def test_nothing_is_fulfilled_before_its_content_reads_back_from_the_node(sample_chain, shared_renderer, env):
    from tests.support.chain import ForgetfulStore

    node, sample, store = sample_chain
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    forgetful = ForgetfulStore(store, forget=3)  # the heat-map-free sample pins image then metadata
    oracle = make_oracle(node, sample, forgetful, shared_renderer, env / "state.sqlite", max_attempts=20)
    run_until_idle(oracle)
    assert forgetful.forgotten == 3
    metadata_cid = sample.contract.tokenMetadataCID(mint.token_id)
    metadata = json.loads(store.get(metadata_cid))  # what the chain points at is there
    assert store.get(metadata["image"].removeprefix("ipfs://"))
    sent = transactions_from(node.url, oracle.signer.address)
    assert [tx["status"] for tx in sent] == [1]
