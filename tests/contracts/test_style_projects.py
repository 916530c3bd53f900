"""Projects that blend registered styles: which styles a project may name (only before its first
mint), minting refused once a style is retired or no longer admits an unlocked project (a locked
one holds a licence), and every sale split through `splitSale` as sold (platform 10 %, each
style's current owner its share by weight, the artist the rest)."""

import ape
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.contracts.conftest import (MANIFEST_HASH, PRICE, REFUND_DELAY, commit, create_project, fulfill, isolated,
                                      mint_token, randomness_block, set_price, submit)
from tests.support.contracts import chain_settings, whole_weights

ADAPTER_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
OPEN, APPROVED_ONLY = 0, 1
SHARE_BPS = 3_000  # 30 % of the artist's 90 % goes to the styles


@pytest.fixture(scope="module")
def registry(project, stylemint):
    return project.StyleRegistry.at(stylemint.STYLE_REGISTRY())


@pytest.fixture(scope="module")
def style_owners(accounts):
    return accounts[6], accounts[7], accounts[8]


@pytest.fixture(scope="module")
def styles(registry, style_owners):
    """Three open styles, one per owner."""
    ids = []
    for i, (owner, trigger) in enumerate(zip(style_owners, ("stipple", "inkline", "haze"))):
        receipt = registry.registerStyle(trigger.title(), trigger, ADAPTER_CID, bytes([i + 1]) * 32, OPEN, sender=owner)
        ids.append(receipt.decode_logs(registry.StyleRegistered)[0].styleId)
    return ids


def open_project(stylemint, admin, artist, style_ids, share=SHARE_BPS) -> int:
    receipt = create_project(stylemint, artist, "Blend", ADAPTER_CID, MANIFEST_HASH, PRICE, 20)
    pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
    stylemint.setProjectStyles(pid, style_ids, share, sender=artist)
    stylemint.approveProject(pid, MANIFEST_HASH, stylemint.stylesConfigHash(pid), sender=admin)
    stylemint.setProjectPaused(pid, False, sender=artist)
    return pid


@pytest.fixture
def blend(stylemint, admin, artist, styles):
    """An open project blending the first two styles."""
    return open_project(stylemint, admin, artist, styles[:2])


def credits(stylemint, *accounts) -> list[int]:
    return [stylemint.creditOf(a) for a in accounts]


def test_a_project_names_its_styles_and_share(stylemint, admin, artist, styles):
    receipt = create_project(stylemint, artist, "Blend", ADAPTER_CID, MANIFEST_HASH, PRICE, 20)
    pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
    stylemint.approveProject(pid, MANIFEST_HASH, stylemint.stylesConfigHash(pid), sender=admin)
    receipt = stylemint.setProjectStyles(pid, styles[:2], SHARE_BPS, sender=artist)
    event = receipt.decode_logs(stylemint.ProjectStylesSet)[0]
    assert (list(event.styleIds), event.stylesShareBps) == (styles[:2], SHARE_BPS)
    ids, share = stylemint.projectStyles(pid)
    assert (list(ids), share) == (styles[:2], SHARE_BPS)
    assert stylemint.projectInfo(pid).stylesShareBps == SHARE_BPS
    # What the admin approved changed: the approval is withdrawn, with its event.
    assert bytes(stylemint.approvedManifestHash(pid)) == bytes(32)
    assert bytes(receipt.decode_logs(stylemint.ProjectApproved)[0].manifestHash) == bytes(32)


@pytest.mark.parametrize("case", ["stranger", "too many", "duplicate", "share over 100 %", "share without styles",
                                  "unknown style", "not approved", "retired", "locked"])
def test_bad_style_settings_revert_and_change_nothing(stylemint, registry, admin, artist, stranger, styles,
                                                      style_owners, chain, case):
    with isolated(chain):
        pid = open_project(stylemint, admin, artist, styles[:1])
        before = stylemint.projectStyles(pid)
        args, sender, error = (styles[:2], SHARE_BPS), artist, None
        if case == "stranger":
            sender, error = stranger, stylemint.NotProjectArtist
        elif case == "too many":
            extra = [registry.registerStyle("X", "x", ADAPTER_CID, bytes([9 + i]) * 32, OPEN, sender=stranger)
                     .decode_logs(registry.StyleRegistered)[0].styleId for i in range(2)]
            args, error = ([*styles, *extra], SHARE_BPS), stylemint.InvalidStyles
        elif case == "duplicate":
            args, error = ([styles[0], styles[0]], SHARE_BPS), stylemint.InvalidStyles
        elif case == "share over 100 %":
            args, error = (styles[:2], 10_001), stylemint.InvalidStylesShare
        elif case == "share without styles":
            args, error = ([], 1), stylemint.InvalidStylesShare
        elif case == "unknown style":
            args, error = ([styles[0], 999], SHARE_BPS), stylemint.ProjectStyleNotAllowed
        elif case == "not approved":
            registry.setStyleTerms(styles[1], APPROVED_ONLY, sender=style_owners[1])
            error = stylemint.ProjectStyleNotAllowed
        elif case == "retired":
            registry.retireStyle(styles[1], sender=style_owners[1])
            error = stylemint.ProjectStyleRetired
        elif case == "locked":
            stylemint.lockProject(pid, sender=artist)
            error = stylemint.ProjectIsLocked
        with ape.reverts(error):
            stylemint.setProjectStyles(pid, *args, sender=sender)
        assert stylemint.projectStyles(pid) == before
        assert bytes(stylemint.approvedManifestHash(pid)) == MANIFEST_HASH


def test_an_approved_only_style_needs_its_owners_approval_of_the_project(stylemint, registry, admin, artist, styles,
                                                                          style_owners, collector, chain):
    with isolated(chain):
        registry.setStyleTerms(styles[1], APPROVED_ONLY, sender=style_owners[1])
        receipt = create_project(stylemint, artist, "Blend", ADAPTER_CID, MANIFEST_HASH, PRICE, 20)
        pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
        with ape.reverts(stylemint.ProjectStyleNotAllowed, projectId=pid, styleId=styles[1]):
            stylemint.setProjectStyles(pid, styles[:2], SHARE_BPS, sender=artist)
        registry.setProjectApproval(styles[1], stylemint, pid, True, sender=style_owners[1])
        stylemint.setProjectStyles(pid, styles[:2], SHARE_BPS, sender=artist)
        stylemint.approveProject(pid, MANIFEST_HASH, stylemint.stylesConfigHash(pid), sender=admin)
        stylemint.setProjectPaused(pid, False, sender=artist)
        mint_token(stylemint, pid, collector)
        # The owner withdraws the approval: this project stops minting, with its own error.
        registry.setProjectApproval(styles[1], stylemint, pid, False, sender=style_owners[1])
        balance, minted = stylemint.balance, stylemint.projectInfo(pid).invocations
        with ape.reverts(stylemint.ProjectStyleNotAllowed, projectId=pid, styleId=styles[1]):
            mint_token(stylemint, pid, collector)
        assert (stylemint.balance, stylemint.projectInfo(pid).invocations) == (balance, minted)


def test_a_retired_style_stops_new_mints_and_is_paid_for_the_tokens_sold_before(stylemint, registry, chain, oracle,
                                                                                 artist, platform, collector, styles,
                                                                                 style_owners, blend):
    token = mint_token(stylemint, blend, collector)
    registry.retireStyle(styles[0], sender=style_owners[0])
    balance, minted = stylemint.balance, stylemint.projectInfo(blend).invocations
    with ape.reverts(stylemint.ProjectStyleRetired, projectId=blend, styleId=styles[0]):
        mint_token(stylemint, blend, collector)
    assert (stylemint.balance, stylemint.projectInfo(blend).invocations) == (balance, minted)
    # The token minted before the retirement was sold under the style's licence: fulfilled after
    # it, it pays the retired style's owner its share all the same.
    before = credits(stylemint, artist, platform, *style_owners[:2])
    receipt = fulfill(stylemint, chain, oracle, token, weights=[6_000, 4_000])
    platform_share = PRICE // 10
    pool = (PRICE - platform_share) * SHARE_BPS // 10_000
    first, second = pool * 6_000 // 10_000, pool * 4_000 // 10_000
    after = credits(stylemint, artist, platform, *style_owners[:2])
    assert [a - b for a, b in zip(after, before)] == [PRICE - platform_share - first - second, platform_share,
                                                      first, second]
    paid = receipt.decode_logs(stylemint.StylesPaid)[0]
    assert (list(paid.styleIds), list(paid.weightsBps), list(paid.amounts)) == (styles[:2], [6_000, 4_000],
                                                                                [first, second])


@pytest.mark.parametrize("change", ["retire", "withdraw approval", "restrict terms"])
def test_a_locked_project_keeps_minting_and_paying_a_style_whose_owner_changed_their_mind(
        stylemint, registry, chain, admin, oracle, artist, platform, collector, styles, style_owners, change):
    """Consent given to a locked project is a licence: its remaining editions mint and pay the
    style; the same change stops an unlocked project."""
    with isolated(chain):
        if change != "restrict terms":
            registry.setStyleTerms(styles[0], APPROVED_ONLY, sender=style_owners[0])
        locked, unlocked = (_approved_blend(stylemint, registry, admin, artist, styles, style_owners,
                                            approve=change != "restrict terms") for _ in range(2))
        stylemint.lockProject(locked, sender=artist)
        if change == "retire":
            registry.retireStyle(styles[0], sender=style_owners[0])
        elif change == "withdraw approval":
            for pid in (locked, unlocked):
                registry.setProjectApproval(styles[0], stylemint, pid, False, sender=style_owners[0])
        else:
            registry.setStyleTerms(styles[0], APPROVED_ONLY, sender=style_owners[0])
        error = stylemint.ProjectStyleRetired if change == "retire" else stylemint.ProjectStyleNotAllowed
        with ape.reverts(error, projectId=unlocked, styleId=styles[0]):
            mint_token(stylemint, unlocked, collector)
        token = mint_token(stylemint, locked, collector)
        before = credits(stylemint, style_owners[0])
        fulfill(stylemint, chain, oracle, token, weights=[5_000, 5_000])
        _, _, style_shares = stylemint.splitSale(PRICE, SHARE_BPS, [5_000, 5_000])
        assert credits(stylemint, style_owners[0])[0] - before[0] == style_shares[0] > 0


def _approved_blend(stylemint, registry, admin, artist, styles, style_owners, *, approve: bool) -> int:
    """A project blending the first two styles, open for minting (the first style's owner approved it)."""
    receipt = create_project(stylemint, artist, "Blend", ADAPTER_CID, MANIFEST_HASH, PRICE, 20)
    pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
    if approve:
        registry.setProjectApproval(styles[0], stylemint, pid, True, sender=style_owners[0])
    stylemint.setProjectStyles(pid, styles[:2], SHARE_BPS, sender=artist)
    stylemint.approveProject(pid, MANIFEST_HASH, stylemint.stylesConfigHash(pid), sender=admin)
    stylemint.setProjectPaused(pid, False, sender=artist)
    return pid


@pytest.mark.parametrize("change", ["styles emptied", "share set to 0", "a clone swapped in"])
def test_the_split_of_a_sold_token_cannot_change_before_its_fulfilment(stylemint, registry, chain, oracle, artist,
                                                                      platform, collector, styles, style_owners,
                                                                      blend, change):
    """The attack: collectors pay into escrow, the artist rewrites the styles before the oracle
    fulfils, and keeps the styles' part. The styles are fixed from the first mint."""
    token = mint_token(stylemint, blend, collector)
    clone = registry.registerStyle("Clone", "clone word", ADAPTER_CID, b"\x0c" * 32, OPEN, sender=artist) \
        .decode_logs(registry.StyleRegistered)[0].styleId if change == "a clone swapped in" else None
    args = {"styles emptied": ([], 0), "share set to 0": (styles[:2], 0),
            "a clone swapped in": ([clone, styles[1]], SHARE_BPS)}[change]
    before_styles = stylemint.projectStyles(blend)
    with ape.reverts(stylemint.StylesFixedAfterMint, projectId=blend, minted=1):
        stylemint.setProjectStyles(blend, *args, sender=artist)
    assert stylemint.projectStyles(blend) == before_styles
    before = credits(stylemint, artist, platform, *style_owners[:2])
    receipt = fulfill(stylemint, chain, oracle, token, weights=[5_000, 5_000])
    gained = [a - b for a, b in zip(credits(stylemint, artist, platform, *style_owners[:2]), before)]
    artist_share, platform_share, style_shares = stylemint.splitSale(PRICE, SHARE_BPS, [5_000, 5_000])
    assert gained == [artist_share, platform_share, *style_shares] and min(style_shares) > 0
    settled = receipt.decode_logs(stylemint.SaleSettled)[0]
    assert (settled.tokenId, settled.price, settled.artistAmount, settled.platformAmount) == (
        token, PRICE, artist_share, platform_share)


def test_fulfill_pays_each_style_by_weight_and_the_artist_the_rest(stylemint, registry, chain, oracle, artist,
                                                                  platform, collector, stranger, styles, style_owners,
                                                                  blend):
    token = mint_token(stylemint, blend, collector)
    # Ownership moved since the mint: the new owner is paid.
    registry.transferStyleOwnership(styles[1], stranger, sender=style_owners[1])
    registry.acceptStyleOwnership(styles[1], sender=stranger)
    before = credits(stylemint, artist, platform, style_owners[0], style_owners[1], stranger)
    receipt = fulfill(stylemint, chain, oracle, token, weights=[7_501, 2_499])
    platform_share = PRICE // 10
    pool = (PRICE - platform_share) * SHARE_BPS // 10_000
    first, second = pool * 7_501 // 10_000, pool * 2_499 // 10_000
    after = credits(stylemint, artist, platform, style_owners[0], style_owners[1], stranger)
    assert [a - b for a, b in zip(after, before)] == [
        PRICE - platform_share - first - second, platform_share, first, 0, second]
    assert sum(after) - sum(before) == PRICE
    credited = {str(e.payee): e.amount for e in receipt.decode_logs(stylemint.Credited)}
    assert credited == {str(artist.address): PRICE - platform_share - first - second,
                        str(platform.address): platform_share, str(style_owners[0].address): first,
                        str(stranger.address): second}


@pytest.mark.parametrize("weights, error", [([], "WrongWeightCount"), ([10_000], "WrongWeightCount"),
                                            ([5_000, 5_000, 0], "WrongWeightCount"), ([5_000, 4_999], "WeightsNotWhole"),
                                            ([10_000, 1], "WeightsNotWhole")],
                         ids=["none", "one", "three", "short", "over"])
def test_weights_that_do_not_fit_the_project_revert_and_change_nothing(stylemint, chain, oracle, collector, blend,
                                                                       weights, error):
    token = mint_token(stylemint, blend, collector)
    balance = stylemint.balance
    with ape.reverts(getattr(stylemint, error)):
        fulfill(stylemint, chain, oracle, token, weights=weights)
    assert stylemint.isFulfilled(token) is False and stylemint.balance == balance
    assert stylemint.escrowOf(token)[1] == PRICE


def test_a_project_without_styles_takes_no_weights(stylemint, chain, oracle, collector, project_id):
    token = mint_token(stylemint, project_id, collector)
    with ape.reverts(stylemint.WrongWeightCount, tokenId=token, expected=0, given=1):
        fulfill(stylemint, chain, oracle, token, weights=[10_000])
    fulfill(stylemint, chain, oracle, token)
    assert stylemint.isFulfilled(token)


def test_a_batch_credits_each_payee_once(stylemint, chain, oracle, artist, platform, collector, styles, style_owners,
                                         blend):
    tokens = [mint_token(stylemint, blend, collector) for _ in range(3)]
    weights = [[10_000, 0], [2_500, 7_500], [5_000, 5_000]]
    entries = [commit(stylemint, chain, t, seed=bytes([i + 1]) * 32, digest=bytes([i + 9]) * 32, weights=w)
               for i, (t, w) in enumerate(zip(tokens, weights))]
    before = credits(stylemint, artist, platform, *style_owners[:2])
    receipt = submit(stylemint, entries, [oracle])
    platform_share = PRICE // 10
    pool = (PRICE - platform_share) * SHARE_BPS // 10_000
    firsts = [pool * w[0] // 10_000 for w in weights]
    seconds = [pool * w[1] // 10_000 for w in weights]
    expected = [3 * (PRICE - platform_share) - sum(firsts) - sum(seconds), 3 * platform_share, sum(firsts), sum(seconds)]
    after = credits(stylemint, artist, platform, *style_owners[:2])
    assert [a - b for a, b in zip(after, before)] == expected
    payees = [str(e.payee) for e in receipt.decode_logs(stylemint.Credited)]
    assert sorted(payees) == sorted({str(a.address) for a in (artist, platform, *style_owners[:2])})
    assert [list(e.weightsBps) for e in receipt.decode_logs(stylemint.StylesPaid)] == weights


def test_locking_freezes_the_styles(stylemint, artist, styles, blend):
    stylemint.lockProject(blend, sender=artist)
    with ape.reverts(stylemint.ProjectIsLocked):
        stylemint.setProjectStyles(blend, styles[:1], SHARE_BPS, sender=artist)


@chain_settings(12)
@given(price=st.integers(0, 10**20), share=st.integers(0, 10_000), weights=whole_weights(min_size=3),
       retired=st.lists(st.booleans(), min_size=3, max_size=3))
def test_every_sale_adds_up_and_pays_each_style_as_sold_whatever_its_owner_did_since(
        stylemint, registry, chain, admin, oracle, artist, platform, collector, styles, style_owners, price, share,
        weights, retired):
    """Any price, share and weights over three styles, any of them retired between mint and
    fulfillment: the credits grow by exactly the price, each style's owner by its mint-time part."""
    weights = weights[:3] if len(weights) == 3 else [*weights[:2], sum(weights[2:])]
    with isolated(chain):
        pid = open_project(stylemint, admin, artist, styles, share)
        set_price(stylemint, pid, price, artist)
        token = mint_token(stylemint, pid, collector, value=price)
        for style_id, owner, gone in zip(styles, style_owners, retired):
            if gone:
                registry.retireStyle(style_id, sender=owner)
        payees = (artist, platform, *style_owners)
        before = credits(stylemint, *payees)
        fulfill(stylemint, chain, oracle, token, weights=weights)
        gained = [a - b for a, b in zip(credits(stylemint, *payees), before)]
        assert sum(gained) == price
        artist_share, platform_share, style_shares = stylemint.splitSale(price, share, weights)
        assert gained == [artist_share, platform_share, *style_shares]


def test_the_admin_approves_the_styles_it_reviewed_or_nothing(stylemint, admin, artist, collector, styles):
    """The artist changes the styles or share between the admin's review and `approveProject` (or
    front-runs it): the approval reverts; after an approval, any change stops minting until the
    admin approves again."""
    receipt = create_project(stylemint, artist, "Blend", ADAPTER_CID, MANIFEST_HASH, PRICE, 20)
    pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
    stylemint.setProjectStyles(pid, styles[:2], SHARE_BPS, sender=artist)
    stylemint.setProjectPaused(pid, False, sender=artist)
    reviewed = bytes(stylemint.stylesConfigHash(pid))
    stylemint.setProjectStyles(pid, styles[:2], 0, sender=artist)  # the front-run: share to 0
    current = bytes(stylemint.stylesConfigHash(pid))
    assert current != reviewed
    with ape.reverts(stylemint.StylesConfigChanged, projectId=pid, reviewed=reviewed, current=current):
        stylemint.approveProject(pid, MANIFEST_HASH, reviewed, sender=admin)
    assert bytes(stylemint.approvedManifestHash(pid)) == b"\x00" * 32
    stylemint.setProjectStyles(pid, styles[:2], SHARE_BPS, sender=artist)
    stylemint.approveProject(pid, MANIFEST_HASH, reviewed, sender=admin)
    stylemint.setProjectStyles(pid, styles[:1], SHARE_BPS, sender=artist)  # after the approval
    with ape.reverts(stylemint.ProjectNotApproved, projectId=pid, manifestHash=MANIFEST_HASH):
        mint_token(stylemint, pid, collector)
    assert stylemint.projectInfo(pid).invocations == 0


WEIGHTS = {1: [10_000], 2: [6_000, 4_000], 3: [5_000, 3_000, 2_000]}
session_steps = st.lists(st.one_of(
    st.tuples(st.just("mint"), st.integers(0, 0)),
    st.tuples(st.just("fulfill"), st.integers(0, 7)),
    st.tuples(st.just("refund"), st.integers(0, 7)),
    st.tuples(st.just("retire"), st.integers(0, 2)),
    st.tuples(st.just("styles"), st.tuples(st.integers(1, 3), st.integers(0, 10_000))),
    st.tuples(st.just("lock"), st.integers(0, 0)),
    st.tuples(st.just("mine"), st.sampled_from([1, REFUND_DELAY])),
), min_size=1, max_size=14)


@chain_settings(15)
@given(price=st.integers(0, 10**18), session=session_steps,
       change=st.tuples(st.integers(1, 3), st.integers(0, 10_000)))
def test_random_sessions_pay_every_token_by_the_split_it_was_sold_under(
        stylemint, registry, chain, admin, oracle, artist, platform, collector, styles, style_owners, price, session,
        change):
    """Configuration changes, mints, fulfilments, refunds, retirements and a lock in any order: the
    balance is always credits plus escrow, a change of styles or share after the first mint
    reverts, and every fulfilled token pays each payee exactly its mint-time split. Each session
    ends as the attack does: a change of the split attempted, then every pending token fulfilled."""
    with isolated(chain):
        receipt = create_project(stylemint, artist, "Blend", ADAPTER_CID, MANIFEST_HASH, price, 8)
        pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
        stylemint.setProjectPaused(pid, False, sender=artist)
        config, retired, locked = ([], 0), set(), False
        pending, payees = {}, [artist, platform, *style_owners]
        owed = dict.fromkeys((p.address for p in payees), 0)
        base_balance, base_credits = stylemint.balance, sum(stylemint.creditOf(p) for p in payees)

        def approve():
            stylemint.approveProject(pid, MANIFEST_HASH, stylemint.stylesConfigHash(pid), sender=admin)

        approve()
        for action, value in [*session, ("mint", 0), ("styles", change),
                              *(("fulfill", 0) for _ in range(9))]:
            minted = stylemint.projectInfo(pid).invocations
            if action == "mint":
                blocked = [i for i, s in enumerate(styles) if s in config[0] and i in retired]
                if minted >= 8:
                    with ape.reverts(stylemint.SoldOut):
                        mint_token(stylemint, pid, collector, value=price)
                elif blocked and not locked:
                    with ape.reverts(stylemint.ProjectStyleRetired):
                        mint_token(stylemint, pid, collector, value=price)
                else:
                    pending[mint_token(stylemint, pid, collector, value=price)] = (price, config)
            elif action == "styles":
                count, share = value
                chosen = styles[:count]
                if locked:
                    error = stylemint.ProjectIsLocked
                elif minted:
                    error = stylemint.StylesFixedAfterMint
                elif any(styles.index(s) in retired for s in chosen):
                    error = stylemint.ProjectStyleRetired
                else:
                    stylemint.setProjectStyles(pid, chosen, share, sender=artist)
                    config = (chosen, share)
                    approve()  # the admin reviews the new split
                    continue
                with ape.reverts(error):
                    stylemint.setProjectStyles(pid, chosen, share, sender=artist)
            elif action == "retire" and value not in retired:
                registry.retireStyle(styles[value], sender=style_owners[value])
                retired.add(value)
            elif action == "lock" and not locked:
                stylemint.lockProject(pid, sender=artist)
                locked = True
            elif action in ("fulfill", "refund") and pending:
                token = sorted(pending)[value % len(pending)]
                paid, (sold_styles, sold_share) = pending[token]
                if action == "fulfill":
                    weights = WEIGHTS[len(sold_styles)] if sold_styles else []
                    before = [stylemint.creditOf(p) for p in payees]
                    fulfill(stylemint, chain, oracle, token, weights=weights)
                    gained = [a - b for a, b in zip((stylemint.creditOf(p) for p in payees), before)]
                    artist_part, platform_part, style_parts = stylemint.splitSale(paid, sold_share, weights)
                    expected = [artist_part, platform_part] + [
                        style_parts[sold_styles.index(s)] if s in sold_styles else 0 for s in styles]
                    assert gained == expected
                    for payee, amount in zip(payees, gained):
                        owed[payee.address] += amount
                    del pending[token]
                elif chain.blocks.head.number + 1 >= int(stylemint.escrowOf(token)[0]) + REFUND_DELAY:
                    stylemint.refund(token, sender=collector)
                    del pending[token]
            elif action == "mine":
                chain.mine(value)
            credits = sum(stylemint.creditOf(p) for p in payees) - base_credits
            assert credits == sum(owed.values())
            assert stylemint.balance - base_balance == credits + sum(paid for paid, _ in pending.values())
