"""Pull payments: withdrawals, and hostile payees that must not block sales or take more than their share."""

import ape
import pytest

from tests.contracts.conftest import MANIFEST_HASH, PRICE, sell

ACCEPT, REVERT, BURN_GAS, REENTER_WITHDRAW, REENTER_MINT = range(5)
ZERO = "0x0000000000000000000000000000000000000000"


def test_withdraw_pays_the_whole_credit_once(stylemint, chain, oracle, artist, collector, project_id):
    sell(stylemint, chain, oracle, project_id, collector)
    sell(stylemint, chain, oracle, project_id, collector)
    before = artist.balance
    receipt = stylemint.withdraw(sender=artist)
    event = receipt.decode_logs(stylemint.Withdrawn)[0]
    assert event.payee == artist and event.to == artist and event.amount == 2 * PRICE * 9 // 10
    assert artist.balance == before + 2 * PRICE * 9 // 10 - receipt.total_fees_paid
    assert stylemint.creditOf(artist) == 0
    assert stylemint.balance == 2 * PRICE // 10  # the platform's credit, untouched
    with ape.reverts(stylemint.NothingToWithdraw, payee=artist):
        stylemint.withdraw(sender=artist)


def test_withdraw_to_another_address(stylemint, chain, oracle, platform, stranger, collector, project_id):
    sell(stylemint, chain, oracle, project_id, collector)
    with ape.reverts(stylemint.ZeroAddress):
        stylemint.withdrawTo(ZERO, sender=platform)
    before = stranger.balance
    stylemint.withdrawTo(stranger, sender=platform)
    assert stranger.balance == before + PRICE // 10
    assert stylemint.creditOf(platform) == 0


def test_nothing_to_withdraw_for_strangers(stylemint, chain, oracle, stranger, collector, project_id):
    sell(stylemint, chain, oracle, project_id, collector)
    with ape.reverts(stylemint.NothingToWithdraw, payee=stranger):
        stylemint.withdraw(sender=stranger)
    assert stylemint.balance == PRICE


@pytest.fixture
def hostile(project, stylemint, admin):
    return admin.deploy(project.MaliciousReceiver, stylemint)


@pytest.fixture
def hostile_project(stylemint, minter, hostile, stranger, admin):
    """A project whose artist is the hostile contract, sold by the fixed-price minter."""
    receipt = hostile.createProject("bafyhostile", MANIFEST_HASH, PRICE, 10, minter, sender=stranger)
    project_id = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
    stylemint.approveProject(project_id, MANIFEST_HASH, stylemint.stylesConfigHash(project_id), sender=admin)
    return project_id


@pytest.mark.parametrize("mode", [REVERT, BURN_GAS, REENTER_WITHDRAW, REENTER_MINT])
def test_hostile_artist_cannot_block_mints(stylemint, chain, oracle, hostile, hostile_project, collector, stranger, platform, mode):
    hostile.setMode(mode, hostile_project, sender=stranger)
    for _ in range(3):
        sell(stylemint, chain, oracle, hostile_project, collector)
    assert stylemint.balanceOf(collector) == 3
    assert stylemint.creditOf(hostile) == 3 * PRICE * 9 // 10
    assert stylemint.creditOf(platform) == 3 * PRICE // 10
    assert stylemint.balance == 3 * PRICE


@pytest.mark.parametrize("mode", [REVERT, BURN_GAS])
def test_refusing_artist_keeps_its_credit_and_can_redirect_it(
    stylemint, chain, oracle, hostile, hostile_project, collector, stranger, platform, mode
):
    hostile.setMode(mode, 0, sender=stranger)
    sell(stylemint, chain, oracle, hostile_project, collector)
    share = PRICE * 9 // 10
    with ape.reverts(stylemint.WithdrawFailed, to=hostile, amount=share):
        hostile.withdraw(sender=stranger, gas=3_000_000)
    assert stylemint.creditOf(hostile) == share  # nothing lost
    assert stylemint.balance == PRICE
    # The payee routes its credit elsewhere: no wei is stranded.
    before = stranger.balance
    hostile.withdrawTo(stranger, sender=stranger)
    assert stranger.balance > before  # got the share (minus the gas it paid)
    assert stylemint.creditOf(hostile) == 0
    assert stylemint.balance == stylemint.creditOf(platform) == PRICE // 10


def test_anyone_pushes_a_payees_credit_to_the_payee_itself(stylemint, chain, oracle, hostile, hostile_project,
                                                           collector, stranger, platform):
    """A payee contract that never calls `withdraw` (a splitter) is paid all the same: anyone may
    push its credit, only ever to itself; if it refuses the ether, nothing moves."""
    sell(stylemint, chain, oracle, hostile_project, collector)
    share = PRICE * 9 // 10
    hostile.setMode(REVERT, 0, sender=stranger)
    with ape.reverts(stylemint.WithdrawFailed, to=hostile, amount=share):
        stylemint.withdrawFor(hostile, sender=stranger, gas=3_000_000)
    assert stylemint.creditOf(hostile) == share and hostile.balance == 0
    hostile.setMode(0, 0, sender=stranger)
    stranger_before = stranger.balance
    receipt = stylemint.withdrawFor(hostile, sender=stranger)
    withdrawn = receipt.decode_logs(stylemint.Withdrawn)[0]
    assert (withdrawn.payee, withdrawn.to, withdrawn.amount) == (hostile.address, hostile.address, share)
    assert hostile.balance == hostile.received() == share and stylemint.creditOf(hostile) == 0
    assert stranger.balance == stranger_before - receipt.total_fees_paid  # the caller gains nothing
    assert stylemint.balance == stylemint.creditOf(platform) == PRICE // 10
    with ape.reverts(stylemint.NothingToWithdraw, payee=hostile):
        stylemint.withdrawFor(hostile, sender=stranger)


def test_reentrant_withdraw_takes_only_its_share(stylemint, chain, oracle, hostile, hostile_project, collector, stranger, platform):
    hostile.setMode(REENTER_WITHDRAW, 0, sender=stranger)
    for _ in range(2):
        sell(stylemint, chain, oracle, hostile_project, collector)
    share = 2 * PRICE * 9 // 10
    hostile.withdraw(sender=stranger)
    assert hostile.reentrySucceeded() is False
    assert hostile.received() == share
    assert hostile.balance == share
    assert stylemint.creditOf(hostile) == 0
    assert stylemint.creditOf(platform) == 2 * PRICE // 10
    assert stylemint.balance == 2 * PRICE // 10


def test_reentrant_mint_during_withdraw_is_stopped(stylemint, chain, oracle, hostile, hostile_project, artist, collector,
                                                   stranger, project_id, minter):
    # The hostile contract re-enters the minter's purchase() of an open project with the ether it is being paid.
    minter.setPrice(project_id, PRICE * 9 // 10, sender=artist)
    hostile.setMode(REENTER_MINT, project_id, sender=stranger)
    sell(stylemint, chain, oracle, hostile_project, collector)
    hostile.withdraw(sender=stranger)
    assert hostile.reentrySucceeded() is False
    assert stylemint.balanceOf(hostile) == 0
    assert stylemint.projectInfo(project_id).invocations == 0
    assert hostile.balance == PRICE * 9 // 10


@pytest.mark.parametrize("mode", [REVERT, BURN_GAS, REENTER_WITHDRAW])
def test_hostile_platform_payout_cannot_block_mints(stylemint, chain, oracle, hostile, admin, artist, collector, stranger, project_id, mode):
    stylemint.setPlatformPayout(hostile, sender=admin)
    hostile.setMode(mode, 0, sender=stranger)
    sell(stylemint, chain, oracle, project_id, collector)
    sell(stylemint, chain, oracle, project_id, collector)
    assert stylemint.creditOf(hostile) == 2 * PRICE // 10
    stylemint.withdraw(sender=artist)  # the artist is paid regardless
    assert stylemint.creditOf(artist) == 0
    assert stylemint.balance == 2 * PRICE // 10
