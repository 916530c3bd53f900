"""Escrow refunds, gifts to hostile contracts, and the two-step delayed admin hand-over."""

import ape
import pytest

from backend.dev import ape_contract as core

from tests.contracts.conftest import (
    MANIFEST_HASH, PRICE, REFUND_DELAY, commit, deploy_core, fulfill, mint_token, randomness_block, submit,
)

ACCEPT, REVERT, BURN_GAS, REENTER_WITHDRAW, REENTER_MINT, REENTER_REFUND, REJECT_TOKENS = range(7)


def test_refund_opens_refund_delay_blocks_after_the_mint(stylemint, chain, collector, artist, platform, minted):
    mint_block = stylemint.escrowOf(minted)[0]
    chain.mine(mint_block + REFUND_DELAY - 2 - chain.blocks.head.number)  # the refund runs in mint + R - 1
    with ape.reverts(stylemint.RefundNotYetAvailable, tokenId=minted, refundableFromBlock=mint_block + REFUND_DELAY):
        stylemint.refund(minted, sender=collector)
    before = collector.balance
    receipt = stylemint.refund(minted, sender=collector)
    assert receipt.block_number >= mint_block + REFUND_DELAY
    event = receipt.decode_logs(stylemint.Refunded)[0]
    assert (event.tokenId, event.owner, event.to, event.amount) == (minted, collector, collector, PRICE)
    assert collector.balance == before + PRICE - receipt.total_fees_paid
    assert stylemint.balance == 0 and stylemint.creditOf(artist) == stylemint.creditOf(platform) == 0
    with ape.reverts(stylemint.TokenNotMinted, tokenId=minted):
        stylemint.ownerOf(minted)
    # The edition stays used, and a refunded token can never be refunded or fulfilled again.
    assert stylemint.projectInfo(minted // 1_000_000).invocations == 1
    with ape.reverts(stylemint.TokenNotMinted, tokenId=minted):
        stylemint.refund(minted, sender=collector)


def test_a_refunded_token_is_never_fulfilled(stylemint, chain, oracle, collector, minted):
    entry = commit(stylemint, chain, minted)
    chain.mine(REFUND_DELAY)
    stylemint.refund(minted, sender=collector)
    receipt = submit(stylemint, [entry], [oracle])
    assert [(e.tokenId, e.reason) for e in receipt.decode_logs(stylemint.FulfillmentSkipped)] == [(minted, 2)]
    assert not receipt.decode_logs(stylemint.TokenFulfilled) and stylemint.balance == 0


def test_a_fulfilled_token_is_never_refunded(stylemint, chain, oracle, collector, minted):
    chain.mine(REFUND_DELAY)
    fulfill(stylemint, chain, oracle, minted)  # late, but before any refund: the sale completes
    with ape.reverts(stylemint.AlreadyFulfilled, tokenId=minted):
        stylemint.refund(minted, sender=collector)
    assert stylemint.ownerOf(minted) == collector


def test_only_the_owner_is_refunded(stylemint, chain, collector, stranger, admin, minted):
    chain.mine(REFUND_DELAY)
    for caller in (stranger, admin):
        with ape.reverts(stylemint.NotTokenOwner, tokenId=minted, caller=caller):
            stylemint.refund(minted, sender=caller)
    stylemint.transferFrom(collector, stranger, minted, sender=collector)
    with ape.reverts(stylemint.NotTokenOwner, tokenId=minted, caller=collector):
        stylemint.refund(minted, sender=collector)
    before = collector.balance
    stylemint.refundTo(minted, collector, sender=stranger)  # the new owner's refund, sent where it says
    assert collector.balance == before + PRICE


@pytest.fixture
def hostile(project, stylemint, admin):
    return admin.deploy(project.MaliciousReceiver, stylemint)


@pytest.mark.parametrize("mode", [REVERT, BURN_GAS])
def test_a_refusing_owner_loses_nothing_and_can_redirect(stylemint, chain, hostile, project_id, collector,
                                                         stranger, mode, minter):
    token = int(minter.purchaseTo(hostile, project_id, MANIFEST_HASH, sender=collector, value=PRICE)
                .decode_logs(stylemint.Mint)[0].tokenId)
    chain.mine(REFUND_DELAY)
    hostile.setMode(mode, 0, sender=stranger)
    with ape.reverts(stylemint.RefundFailed):
        hostile.refund(token, sender=stranger, gas=3_000_000)
    assert stylemint.ownerOf(token) == hostile and stylemint.escrowOf(token)[1] == PRICE
    assert stylemint.balance == PRICE


def test_a_reentrant_refund_is_paid_once(stylemint, chain, hostile, project_id, collector, stranger, minter):
    token = int(minter.purchaseTo(hostile, project_id, MANIFEST_HASH, sender=collector, value=PRICE)
                .decode_logs(stylemint.Mint)[0].tokenId)
    chain.mine(REFUND_DELAY)
    hostile.setMode(REENTER_REFUND, token, sender=stranger)
    hostile.refund(token, sender=stranger)
    assert hostile.reentrySucceeded() is False
    assert hostile.received() == PRICE == hostile.balance
    assert stylemint.balance == 0


def test_mint_to_a_contract_that_refuses_tokens_changes_nothing(stylemint, hostile, project_id, collector, stranger, minter):
    hostile.setMode(REJECT_TOKENS, 0, sender=stranger)
    with ape.reverts(stylemint.ERC721InvalidReceiver):
        minter.purchaseTo(hostile, project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    assert stylemint.projectInfo(project_id).invocations == 0 and stylemint.balance == 0


def test_mint_to_a_contract_that_reenters_mint_gets_one_token(stylemint, hostile, artist, project_id, collector,
                                                              stranger, minter):
    minter.setPrice(project_id, 0, sender=artist)  # so only the guard can stop the re-entry
    hostile.setMinter(minter, sender=stranger)
    hostile.setMode(REENTER_MINT, project_id, sender=stranger)
    minter.purchaseTo(hostile, project_id, MANIFEST_HASH, sender=collector, value=0)
    assert hostile.reentrySucceeded() is False
    assert stylemint.balanceOf(hostile) == 1
    assert stylemint.projectInfo(project_id).invocations == 1


def test_admin_hand_over_takes_two_steps_and_the_delay(project, chain, admin, platform, oracle, stranger):
    delay = 3 * 24 * 3600
    contract = deploy_core(admin, platform, oracle, admin_delay=delay)
    quorum = core.oracle_quorum(contract)  # holds the admin of both: one hand-over
    admin_role = quorum.DEFAULT_ADMIN_ROLE()
    with ape.reverts(quorum.AccessControlEnforcedDefaultAdminRules):
        quorum.grantRole(admin_role, stranger, sender=admin)  # no one-step hand-over
    quorum.beginDefaultAdminTransfer(stranger, sender=admin)
    with ape.reverts(quorum.AccessControlEnforcedDefaultAdminDelay):
        quorum.acceptDefaultAdminTransfer(sender=stranger)
    assert quorum.defaultAdmin() == admin
    chain.pending_timestamp += delay + 1
    quorum.acceptDefaultAdminTransfer(sender=stranger)
    assert quorum.defaultAdmin() == stranger and not quorum.hasRole(admin_role, admin)
    with ape.reverts(contract.NotAdmin, caller=admin):
        contract.setPlatformPayout(admin, sender=admin)
    contract.setPlatformPayout(admin, sender=stranger)
    assert contract.platformPayout() == admin
