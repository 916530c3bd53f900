"""Tokens sold by the Dutch auction with settlement, end to end on anvil: the oracle renders and
pins them but sends nothing while the auction's price is open (the core would only skip them),
settles them once the auction sold out, each at the settled price, and the verifier confirms them."""

import threading

import pytest
from ape import accounts

from backend.dev import ape_contract as core
from backend.dev.anvil import rpc_call
from tests.oracle.conftest import make_oracle
from tests.support.chain import run_until_idle, transactions_from
from tests.verify.conftest import verifier_for

pytestmark = pytest.mark.e2e

BASE = 10**9
START = 4 * BASE
HALF_LIFE = 60


def test_auction_tokens_wait_for_the_settled_price_then_settle_at_it(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    contract, admin, artist = sample.contract, accounts.test_accounts[0], accounts.test_accounts[3]
    auction = admin.deploy(core.ape_project().MinterDAExpSettlement, contract)
    contract.setMinterApproved(auction, True, sender=admin)
    manifest_hash = bytes(contract.projectInfo(sample.project_id).manifestHash)
    receipt = contract.createProject("Falling", sample.manifest_cid, manifest_hash, 2, sender=artist)
    pid = receipt.decode_logs(contract.ProjectCreated)[0].projectId
    contract.setProjectMinter(pid, auction, sender=artist)
    now = contract.chain_manager.blocks.head.timestamp
    auction.setAuction(pid, START, BASE, now + 10, HALF_LIFE, sender=artist)
    contract.setProjectPaused(pid, False, sender=artist)
    contract.approveProject(pid, manifest_hash, contract.stylesConfigHash(pid), sender=admin)
    rpc_call(node.url, "evm_increaseTime", [10])
    first = auction.purchase(pid, manifest_hash, sender=accounts.test_accounts[4], value=START)

    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    stop = threading.Event()
    for _ in range(40):  # passes: seen, randomness, render, pin, then waiting on the price
        oracle.scan()
        oracle.process_batch(stop)
    job = oracle.jobs.for_token(pid * 1_000_000)
    assert job.state == "pinned" and job.metadata_cid, (job.state, job.last_error)
    assert transactions_from(node.url, oracle.signer.address) == []  # nothing sent while the price is open
    assert not contract.isFulfilled(pid * 1_000_000)

    rpc_call(node.url, "evm_increaseTime", [HALF_LIFE])
    second = auction.purchase(pid, manifest_hash, sender=accounts.test_accounts[5], value=START // 2)
    assert auction.auctionInfo(pid)[4:] == (True, START // 2)  # sold out: settled at the last price
    before = contract.creditOf(artist) + contract.creditOf(accounts.test_accounts[2])
    run_until_idle(oracle)
    tokens = [int(r.decode_logs(contract.Mint)[0].tokenId) for r in (first, second)]
    assert all(contract.isFulfilled(t) for t in tokens)
    sent = transactions_from(node.url, oracle.signer.address)
    assert len(sent) >= 1 and all(tx["status"] == 1 for tx in sent)
    after = contract.creditOf(artist) + contract.creditOf(accounts.test_accounts[2])
    assert after - before == 2 * (START // 2)  # both sales split at the settled price
    for token in tokens:
        report = verifier_for(node, sample, store, shared_renderer.models_dir).verify(token)
        assert report.outcome == "exact", report.reason
    auction.reclaim(pid, sender=accounts.test_accounts[4])
    assert auction.balance == 0


def test_a_blended_auction_pays_each_style_its_share_of_the_settled_price(sample_chain, shared_renderer, env):
    """Styles are paid by their measured weights from the settled price (not the escrowed base, not
    what early buyers paid), and the verifier confirms those payments from the token alone."""
    from backend.chain.client import StyleMintClient
    from tests.oracle.test_style_payments import SHARE_BPS, credits, open_blend

    node, sample, store = sample_chain
    contract, artist, platform = sample.contract, accounts.test_accounts[3], accounts.test_accounts[2]
    pid, owners = open_blend(sample, store, ("stipple", "inkline"))
    contract.setProjectMaxEditions(pid, 2, sender=artist)
    start_time = core.set_auction(contract, artist, pid, start_price_wei=START, base_price_wei=BASE, opens_in=10,
                                  half_life=HALF_LIFE)
    auction = core.auction_minter(contract)
    payees = [artist, platform, *owners]
    before = credits(sample, payees)
    rpc_call(node.url, "evm_mine", [start_time])
    early = core.mint(contract, accounts.test_accounts[4], pid)  # at the start price
    rpc_call(node.url, "evm_mine", [start_time + HALF_LIFE])
    late = core.mint(contract, accounts.test_accounts[7], pid)  # half of it: sold out, settled there
    settled = START // 2
    assert auction.auctionInfo(pid)[4:] == (True, settled) and contract.priceTopUp(pid) == settled - BASE

    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    run_until_idle(oracle)
    client = StyleMintClient(node.url, sample.deployment.address)
    pool = (settled - settled // 10) * SHARE_BPS // 10_000
    owed = [0, 0]
    for mint in (early, late):
        assert contract.isFulfilled(mint.token_id)
        paid = client.styles_paid(mint.token_id)
        assert sum(paid["weights_bps"]) == 10_000
        assert paid["amounts"] == [pool * w // 10_000 for w in paid["weights_bps"]]
        owed = [o + a for o, a in zip(owed, paid["amounts"])]
        report = verifier_for(node, sample, store, shared_renderer.models_dir).verify(mint.token_id)
        assert report.outcome == "exact", report.reason
        assert next(c for c in report.checks if c.step == "payment").passed
    gained = [a - b for a, b in zip(credits(sample, payees), before)]
    assert gained == [2 * (settled - settled // 10) - sum(owed), 2 * (settled // 10), *owed]
    assert sum(gained) == 2 * settled  # the sales at the settled price, nothing more, nothing less
    auction.reclaim(pid, sender=accounts.test_accounts[4])
    assert auction.balance == 0  # every wei the buyers paid above the settled price went back
