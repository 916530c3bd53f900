"""The Dutch auction with settlement (MinterDAExpSettlement): the price at each step, settlement
after a sell-out and at the base price, reclaims (once, by the buyer, against a re-entrant buyer),
refunds of undelivered tokens, the core holding back settlement until the price is final, and
an invariant over random auctions that no wei is ever stranded."""

import ape
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.conftest import (
    MANIFEST_CID, MANIFEST_HASH, REFUND_DELAY, commit, fulfill, isolated, submit,
)
from tests.support.contracts import chain_settings

BASE = 10**16
START = 8 * BASE  # 0.08 ETH, halving to the base in three steps
HALF_LIFE = 600
PRICE_NOT_FINAL = 5  # SkipReason.PriceNotFinal


@pytest.fixture(scope="module")
def auction(project, stylemint, admin):
    minter = admin.deploy(project.MinterDAExpSettlement, stylemint)
    stylemint.setMinterApproved(minter, True, sender=admin)
    return minter


def open_auction(stylemint, auction, chain, artist, admin, *, editions=3, start=START, base=BASE,
                 half_life=HALF_LIFE, delay=100) -> tuple[int, int]:
    """A project sold by the auction starting `delay` s from now: (project id, start time)."""
    receipt = stylemint.createProject("Falling", MANIFEST_CID, MANIFEST_HASH, editions, sender=artist)
    pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
    stylemint.setProjectMinter(pid, auction, sender=artist)
    start_time = chain.pending_timestamp + delay
    auction.setAuction(pid, start, base, start_time, half_life, sender=artist)
    stylemint.setProjectPaused(pid, False, sender=artist)
    stylemint.approveProject(pid, MANIFEST_HASH, stylemint.stylesConfigHash(pid), sender=admin)
    return pid, start_time


def at(chain, timestamp):
    """The next block's time is `timestamp`."""
    chain.pending_timestamp = timestamp


def buy(stylemint, auction, pid, buyer, value) -> int:
    receipt = auction.purchase(pid, MANIFEST_HASH, sender=buyer, value=value)
    return int(receipt.decode_logs(stylemint.Mint)[0].tokenId)


def test_the_price_at_each_step_is_the_formula(stylemint, auction, chain, artist, admin, collector):
    pid, start = open_auction(stylemint, auction, chain, artist, admin)
    assert auction.priceInfo(pid) == (True, START)  # before the start: what it opens at
    with ape.reverts(auction.AuctionNotStarted, projectId=pid, startTime=start):
        auction.purchase(pid, MANIFEST_HASH, sender=collector, value=START)
    for step in range(6):
        for offset in (0, HALF_LIFE - 1):
            at(chain, start + step * HALF_LIFE + offset)
            chain.mine(1)
            assert auction.priceInfo(pid) == (True, max(BASE, START >> step)), (step, offset)


def test_settlement_after_a_sell_out_charges_everyone_the_last_price(stylemint, auction, chain, oracle, accounts,
                                                                     artist, admin, platform):
    pid, start = open_auction(stylemint, auction, chain, artist, admin, editions=3)
    buyers = [accounts[4], accounts[5], accounts[6]]
    paid, tokens = [], []
    for step, buyer in enumerate(buyers):  # 0.08, 0.04 (paying 0.05), 0.02
        at(chain, start + step * HALF_LIFE)
        value = (START >> step) + (BASE if step == 1 else 0)
        tokens.append(buy(stylemint, auction, pid, buyer, value))
        paid.append(value)
    last = START >> 2
    assert auction.auctionInfo(pid)[4:] == (True, last)  # the third sale sold out and settled
    assert stylemint.priceTopUp(pid) == last - BASE
    with ape.reverts(auction.AlreadySettled, projectId=pid):
        auction.settle(pid, sender=accounts[7])
    for token in tokens:
        fulfill(stylemint, chain, oracle, token)
    assert stylemint.creditOf(artist) + stylemint.creditOf(platform) == 3 * last  # each split at the settled price
    for buyer, value in zip(buyers, paid):
        assert auction.reclaimable(pid, buyer) == value - last
        if value == last:  # the last buyer paid the settled price: nothing to take back
            with ape.reverts(auction.NothingToReclaim, projectId=pid, buyer=buyer.address):
                auction.reclaim(pid, sender=buyer)
            continue
        before = buyer.balance
        receipt = auction.reclaim(pid, sender=buyer)
        assert buyer.balance == before + value - last - receipt.total_fees_paid
        with ape.reverts(auction.NothingToReclaim, projectId=pid, buyer=buyer.address):
            auction.reclaim(pid, sender=buyer)  # once
    assert auction.balance == 0
    with ape.reverts(auction.NothingToReclaim):
        auction.reclaim(pid, sender=accounts[8])  # never bought: nothing, whoever asks


def test_settlement_at_the_base_price_and_nothing_settles_before_it(stylemint, auction, chain, oracle, accounts,
                                                                    artist, admin, collector):
    pid, start = open_auction(stylemint, auction, chain, artist, admin, editions=5)
    at(chain, start)
    token = buy(stylemint, auction, pid, collector, START)
    chain.mine(REFUND_DELAY)
    # The price is open: the token is neither settled nor refunded, and the auction cannot settle.
    with ape.reverts(stylemint.PriceNotFinal, projectId=pid):
        stylemint.refund(token, sender=collector)
    with ape.reverts(auction.NotSettleable, projectId=pid):
        auction.settle(pid, sender=accounts[7])
    with ape.reverts(auction.NotSettled, projectId=pid):
        auction.reclaim(pid, sender=collector)
    at(chain, start + 2 * HALF_LIFE + 5)  # still 0.02 ETH above the base
    chain.mine(1)
    with ape.reverts(auction.NotSettleable):
        auction.settle(pid, sender=accounts[7])
    at(chain, start + 3 * HALF_LIFE)
    receipt = auction.settle(pid, sender=accounts[7])  # anyone, once the base is reached
    assert [(e.price, e.soldOut) for e in receipt.decode_logs(auction.AuctionSettled)] == [(BASE, False)]
    assert stylemint.priceTopUp(pid) == 0 and stylemint.balance == BASE
    later = buy(stylemint, auction, pid, accounts[6], BASE)  # sales go on at the settled price
    assert stylemint.escrowOf(later)[1] == BASE
    fulfill(stylemint, chain, oracle, token)
    auction.reclaim(pid, sender=collector)
    assert auction.balance == 0 and auction.reclaimable(pid, accounts[6]) == 0


def test_a_fulfilment_before_the_price_is_final_is_skipped(stylemint, auction, chain, oracle, artist, admin,
                                                           collector):
    pid, start = open_auction(stylemint, auction, chain, artist, admin)
    at(chain, start)
    token = buy(stylemint, auction, pid, collector, START)
    receipt = submit(stylemint, [commit(stylemint, chain, token)], [oracle])
    assert [(e.tokenId, e.reason) for e in receipt.decode_logs(stylemint.FulfillmentSkipped)] == [
        (token, PRICE_NOT_FINAL)]
    assert stylemint.isFulfilled(token) is False and stylemint.escrowOf(token)[1] == BASE


def test_a_refund_of_an_undelivered_auction_token_returns_what_was_paid(stylemint, auction, chain, accounts,
                                                                        artist, admin, collector):
    pid, start = open_auction(stylemint, auction, chain, artist, admin, editions=2)
    at(chain, start)
    paid = START + 123  # more than the price: the excess is the buyer's too
    token = buy(stylemint, auction, pid, collector, paid)
    at(chain, start + HALF_LIFE)
    buy(stylemint, auction, pid, accounts[6], START // 2)  # sells out at 0.04: settled
    chain.mine(REFUND_DELAY)
    before = collector.balance
    fees = stylemint.refund(token, sender=collector).total_fees_paid
    fees += auction.reclaim(pid, sender=collector).total_fees_paid
    assert collector.balance == before + paid - fees  # the settled price from the core, the rest from the minter
    assert stylemint.balance == START // 2 and auction.balance == 0


def test_bad_auction_inputs_change_nothing(stylemint, auction, chain, artist, admin, collector, stranger):
    pid, start = open_auction(stylemint, auction, chain, artist, admin)
    now = chain.pending_timestamp
    with ape.reverts(auction.NotProjectArtist, projectId=pid, caller=stranger.address):
        auction.setAuction(pid, START, BASE, now + 100, HALF_LIFE, sender=stranger)
    for args in ((BASE, START, now + 100, HALF_LIFE),  # start below base
                 (START, 0, now + 100, HALF_LIFE),  # free
                 (START, BASE, now - 1, HALF_LIFE),  # in the past
                 (START, BASE, now + 100, 59), (START, BASE, now + 100, 86_401),
                 (BASE << 21, BASE, now + 100, HALF_LIFE)):  # more than 20 halvings
        with ape.reverts(auction.InvalidAuction):
            auction.setAuction(pid, *args, sender=artist)
    assert auction.auctionInfo(pid)[:4] == (START, BASE, start, HALF_LIFE)
    at(chain, start)
    with ape.reverts(auction.InsufficientPayment, price=START, sent=START - 1):
        auction.purchase(pid, MANIFEST_HASH, sender=collector, value=START - 1)
    with ape.reverts(auction.AuctionStarted, projectId=pid):
        auction.setAuction(pid, START, BASE, start + 1000, HALF_LIFE, sender=artist)
    with ape.reverts(auction.AuctionNotConfigured, projectId=999):
        auction.purchase(999, MANIFEST_HASH, sender=collector, value=START)
    assert stylemint.projectInfo(pid).invocations == 0 and auction.balance == 0 and stylemint.balance == 0


def test_the_project_keeps_its_auction_minter_until_the_price_is_final(stylemint, auction, minter, chain, artist,
                                                                        admin, collector):
    pid, start = open_auction(stylemint, auction, chain, artist, admin)
    stylemint.setProjectMinter(pid, minter, sender=artist)  # nothing sold: the artist may switch
    stylemint.setProjectMinter(pid, auction, sender=artist)
    at(chain, start)
    buy(stylemint, auction, pid, collector, START)
    with ape.reverts(stylemint.PriceNotFinal, projectId=pid):
        stylemint.setProjectMinter(pid, minter, sender=artist)  # the buyers' settlement comes first
    with ape.reverts(stylemint.NotProjectMinter):
        stylemint.settlePrice(pid, 0, sender=artist)
    with ape.reverts(stylemint.NotProjectMinter):
        stylemint.openPrice(pid, sender=collector)


def test_a_reentrant_buyer_reclaims_once(project, stylemint, auction, chain, accounts, artist, admin, stranger):
    pid, start = open_auction(stylemint, auction, chain, artist, admin, editions=2)
    hostile = admin.deploy(project.MaliciousReceiver, stylemint)
    at(chain, start)
    hostile.buyAtAuction(auction, pid, MANIFEST_HASH, sender=stranger, value=START)
    at(chain, start + 2 * HALF_LIFE)
    buy(stylemint, auction, pid, accounts[6], START // 4)  # sold out at 0.02
    hostile.setMode(7, pid, sender=stranger)  # re-enters reclaim from its receive()
    hostile.reclaimAtAuction(pid, sender=stranger)
    assert hostile.reentrySucceeded() is False
    assert hostile.received() == START - START // 4 == hostile.balance
    assert auction.reclaimable(pid, hostile) == 0
    assert auction.balance == 0  # the other buyer paid exactly the settled price
    with ape.reverts(auction.NothingToReclaim):
        hostile.reclaimAtAuction(pid, sender=stranger)


steps = st.lists(st.tuples(st.sampled_from(["wait", "buy", "settle", "reclaim", "fulfill", "refund"]),
                           st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=14)


@chain_settings(20)
@given(editions=st.integers(1, 4), session=steps)
def test_no_wei_is_stranded_in_any_auction(chain, stylemint, auction, accounts, artist, admin, platform, oracle,
                                           editions, session):
    """Random purchases (some overpaying), waits, settlements, reclaims, fulfilments and refunds:
    the minter's and the core's balances always equal credits + escrow + what buyers can take back,
    and after settlement the minter holds exactly what its buyers can reclaim."""
    with isolated(chain):
        pid, start = open_auction(stylemint, auction, chain, artist, admin, editions=editions)
        at(chain, start)
        buyers = accounts[4:8]
        payees = [artist, platform]
        tokens: dict[int, object] = {}  # pending token -> owner
        core_before = stylemint.balance
        credits_before = sum(stylemint.creditOf(p) for p in payees)
        for action, who, extra in session:
            buyer = buyers[who]
            if action == "wait":
                at(chain, chain.pending_timestamp + extra * HALF_LIFE // 2 + 1)
            elif action == "buy" and stylemint.remainingEditions(pid) > 0:
                _, price = auction.priceInfo(pid)
                tokens[buy(stylemint, auction, pid, buyer, price + extra * 7)] = buyer
            elif action == "settle":
                try:
                    auction.settle(pid, sender=buyer)
                except ape.exceptions.ContractLogicError:
                    pass  # not settleable yet, or settled already
            elif action == "reclaim" and auction.reclaimable(pid, buyer) > 0:
                auction.reclaim(pid, sender=buyer)
            elif action == "fulfill" and tokens and not stylemint.projectInfo(pid).priceOpen:
                token = sorted(tokens)[extra % len(tokens)]
                fulfill(stylemint, chain, oracle, token)
                tokens.pop(token)
            elif action == "refund" and tokens and not stylemint.projectInfo(pid).priceOpen:
                token = sorted(tokens)[extra % len(tokens)]
                chain.mine(REFUND_DELAY)
                stylemint.refund(token, sender=tokens.pop(token))
            settled = auction.auctionInfo(pid)[4]
            top_up = stylemint.priceTopUp(pid)
            escrow = sum(stylemint.escrowOf(t)[1] + top_up for t in tokens)
            credits = sum(stylemint.creditOf(p) for p in payees) - credits_before
            owed = sum(auction.reclaimable(pid, b) for b in buyers)
            assert stylemint.balance - core_before == credits + escrow
            if settled:
                assert auction.balance == owed  # nothing stranded in the minter
            else:
                paid = sum(auction.receiptOf(pid, b)[0] for b in buyers)
                assert auction.balance == paid - BASE * stylemint.projectInfo(pid).invocations
