"""Property tests: the split never loses a wei; editions never exceed the cap; token ids never collide."""

import ape
from hypothesis import given
from hypothesis import strategies as st

from backend.chain.split import split_sale
from backend.chain.settlement import Commitment
from tests.contracts.conftest import (METADATA_DIGEST, MANIFEST_HASH, PROMPT, REFUND_DELAY, SEED, create_project,
                                     fulfill, isolated, mint_token, set_price, submit)
from tests.support.contracts import chain_settings, whole_weights


prices = st.one_of(st.integers(0, 10**6), st.integers(0, 2**128 - 1), st.integers(2**128, 2**256 - 1))


@chain_settings(300)
@given(price=prices)
def test_split_adds_up_to_the_price(stylemint, price):
    artist_share, platform_share, style_shares = stylemint.splitSale(price, 0, [])
    assert artist_share + platform_share == price and list(style_shares) == []
    assert platform_share == price * 1000 // 10_000
    assert split_sale(price) == (artist_share, platform_share, [])  # the Python mirror pays the same
    assert artist_share >= price * 9 // 10


@chain_settings(120)
@given(price=prices, share=st.integers(0, 10_000), weights=whole_weights())
def test_split_with_styles_is_exact_for_any_price_and_weights(stylemint, price, share, weights):
    artist_share, platform_share, style_shares = stylemint.splitSale(price, share, weights)
    assert artist_share + platform_share + sum(style_shares) == price
    assert platform_share == price * 1000 // 10_000
    pool = (price - platform_share) * share // 10_000
    assert list(style_shares) == [pool * w // 10_000 for w in weights]
    assert pool - sum(style_shares) < len(weights)  # the artist keeps only the rounding of the pool
    assert split_sale(price, share, weights) == (artist_share, platform_share, list(style_shares))  # the mirror


@chain_settings(60)
@given(price=prices, share=st.integers(0, 10_000),
       weights=st.lists(st.integers(0, 2**16 - 1), min_size=1, max_size=4).filter(lambda w: sum(w) != 10_000))
def test_weights_that_are_not_whole_revert(stylemint, price, share, weights):
    with ape.reverts(stylemint.WeightsNotWhole, totalBps=sum(weights)):
        stylemint.splitSale(price, share, weights)


# One step of a random session.
steps = st.lists(
    st.one_of(
        st.tuples(st.just("mint"), st.integers(0, 3)),
        st.tuples(st.just("cap"), st.integers(0, 8)),
        st.tuples(st.just("price"), st.integers(0, 10**18)),
        st.tuples(st.just("fulfill"), st.integers(0, 7)),
        st.tuples(st.just("refund"), st.integers(0, 7)),
        st.tuples(st.just("withdraw"), st.integers(0, 1)),
        st.tuples(st.just("mine"), st.sampled_from([1, REFUND_DELAY // 2, REFUND_DELAY])),
    ),
    min_size=1,
    max_size=16,
)


@chain_settings(25)
@given(max_editions=st.integers(1, 6), price=st.integers(0, 10**18), session=steps)
def test_escrow_and_credits_account_for_every_wei(chain, stylemint, accounts, admin, artist, platform, oracle,
                                                  max_editions, price, session):
    """Random mints, fulfills, refunds, withdrawals, price and cap changes and idle blocks: the
    balance always equals credits plus escrow, the split of each fulfilled sale sums to its
    escrow, a refunded token is never fulfilled and a fulfilled one never refunded."""
    with isolated(chain):
        receipt = create_project(stylemint, artist, "prop", "bafyprop", MANIFEST_HASH, price, max_editions)
        pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
        stylemint.setProjectPaused(pid, False, sender=artist)
        stylemint.approveProject(pid, MANIFEST_HASH, stylemint.stylesConfigHash(pid), sender=admin)
        cap, minted_ids = max_editions, []
        pending, fulfilled, refunded = {}, {}, set()  # pending: token -> (owner, price); fulfilled: -> owner
        owed = {artist.address: 0, platform.address: 0}
        for action, value in session:
            if action == "mint":
                collector = accounts[5 + value]
                if len(minted_ids) < cap:
                    token = mint_token(stylemint, pid, collector, value=price)
                    minted_ids.append(token)
                    pending[token] = (collector, price)
                else:
                    with ape.reverts(stylemint.SoldOut):
                        mint_token(stylemint, pid, collector, value=price)
            elif action == "cap":
                if len(minted_ids) <= value <= cap:
                    stylemint.setProjectMaxEditions(pid, value, sender=artist)
                    cap = value
                else:
                    with ape.reverts(stylemint.InvalidMaxEditions):
                        stylemint.setProjectMaxEditions(pid, value, sender=artist)
            elif action == "price":
                set_price(stylemint, pid, value, artist)
                price = value
            elif action in ("fulfill", "refund") and minted_ids:
                token = minted_ids[value % len(minted_ids)]
                mint_block = int(stylemint.escrowOf(token)[0]) if token in pending else 0
                if action == "fulfill" and token in pending:
                    owner, paid = pending.pop(token)
                    fulfill(stylemint, chain, oracle, token)
                    owed[artist.address] += paid - paid // 10
                    owed[platform.address] += paid // 10
                    fulfilled[token] = owner
                elif action == "fulfill":  # settled or refunded: the settlement skips it, changing nothing
                    late = Commitment.of(token, SEED, METADATA_DIGEST, PROMPT, (), b"\x01" * 32, b"\x02" * 32)
                    receipt = submit(stylemint, [late], [oracle])
                    assert [log.tokenId for log in receipt.decode_logs(stylemint.FulfillmentSkipped)] == [token]
                elif token in pending and chain.blocks.head.number + 1 >= mint_block + REFUND_DELAY:
                    owner, paid = pending.pop(token)
                    receipt = stylemint.refund(token, sender=owner)
                    assert receipt.decode_logs(stylemint.Refunded)[0].amount == paid
                    refunded.add(token)
                elif token in pending:
                    with ape.reverts(stylemint.RefundNotYetAvailable):
                        stylemint.refund(token, sender=pending[token][0])
                elif token in fulfilled:
                    with ape.reverts(stylemint.AlreadyFulfilled, tokenId=token):
                        stylemint.refund(token, sender=fulfilled[token])
                else:
                    with ape.reverts(stylemint.TokenNotMinted, tokenId=token):
                        stylemint.refund(token, sender=accounts[5])
            elif action == "withdraw":
                payee = (artist, platform)[value]
                if owed[payee.address]:
                    stylemint.withdraw(sender=payee)
                    owed[payee.address] = 0
                else:
                    with ape.reverts(stylemint.NothingToWithdraw):
                        stylemint.withdraw(sender=payee)
            elif action == "mine":
                chain.mine(value)
            info = stylemint.projectInfo(pid)
            assert info.invocations == len(minted_ids) <= info.maxEditions == cap <= max_editions
            escrow = sum(int(stylemint.escrowOf(t)[1]) for t in pending)
            assert escrow == sum(paid for _, paid in pending.values())
            credits = stylemint.creditOf(artist) + stylemint.creditOf(platform)
            assert credits == sum(owed.values())
            assert stylemint.balance == credits + escrow
            assert all(stylemint.escrowOf(t) == (0, 0) for t in fulfilled)
        assert minted_ids == [pid * 1_000_000 + i for i in range(len(minted_ids))]
        assert all(stylemint.isFulfilled(t) for t in fulfilled)
        for token in refunded:
            with ape.reverts(stylemint.TokenNotMinted):
                stylemint.isFulfilled(token)
