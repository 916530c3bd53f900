"""Minting through the fixed-price minter: token ids, payment, caps, pauses, the manifest the
collector saw, gifts (`purchaseTo`), and the price held in escrow until the token is fulfilled."""

import ape

from tests.contracts.conftest import MANIFEST_HASH, MAX_EDITIONS, PRICE, fulfill, open_project, sell


def test_mint_assigns_art_blocks_token_ids_and_emits_mint(stylemint, project_id, collector, stranger, minter):
    receipt = minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    event = receipt.decode_logs(stylemint.Mint)[0]
    assert event.tokenId == project_id * 1_000_000
    assert event.projectId == project_id and event.minter == collector
    assert bytes(event.manifestHash) == MANIFEST_HASH
    assert stylemint.ownerOf(project_id * 1_000_000) == collector
    second = minter.purchase(project_id, MANIFEST_HASH, sender=stranger, value=PRICE)
    assert second.decode_logs(stylemint.Mint)[0].tokenId == project_id * 1_000_000 + 1
    assert stylemint.ownerOf(project_id * 1_000_000 + 1) == stranger
    assert stylemint.balanceOf(collector) == 1
    assert stylemint.projectInfo(project_id).invocations == 2
    assert stylemint.remainingEditions(project_id) == MAX_EDITIONS - 2
    assert stylemint.tokenProject(project_id * 1_000_000 + 1) == project_id


def test_mint_event_carries_the_manifest_in_force(stylemint, admin, artist, project_id, collector, minter):
    new_hash = b"\x07" * 32
    stylemint.setProjectManifest(project_id, "bafynew", new_hash, sender=artist)
    stylemint.approveProject(project_id, new_hash, stylemint.stylesConfigHash(project_id), sender=admin)
    receipt = minter.purchase(project_id, new_hash, sender=collector, value=PRICE)
    assert bytes(receipt.decode_logs(stylemint.Mint)[0].manifestHash) == new_hash


def test_a_manifest_swapped_after_the_collector_looked_is_not_minted(stylemint, artist, project_id, collector, minter):
    new_hash = b"\x07" * 32
    stylemint.setProjectManifest(project_id, "bafynew", new_hash, sender=artist)  # between click and block
    for call in (lambda: minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE),
                 lambda: minter.purchaseTo(collector, project_id, MANIFEST_HASH, sender=collector, value=PRICE)):
        with ape.reverts(stylemint.ManifestChanged, projectId=project_id, expected=MANIFEST_HASH, current=new_hash):
            call()
    assert stylemint.projectInfo(project_id).invocations == 0
    assert stylemint.balance == 0 and stylemint.balanceOf(collector) == 0


def test_mint_to_gives_the_token_and_the_payer_pays(stylemint, project_id, collector, stranger, minter):
    before = stranger.balance
    receipt = minter.purchaseTo(stranger, project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    event = receipt.decode_logs(stylemint.Mint)[0]
    assert event.minter == stranger and stylemint.ownerOf(event.tokenId) == stranger
    assert (event.price, event.payer) == (PRICE, collector.address)  # revenue per token, from the log alone
    assert stranger.balance == before and stylemint.balanceOf(collector) == 0
    assert stylemint.escrowOf(event.tokenId)[1] == PRICE
    with ape.reverts(minter.ZeroAddress):
        minter.purchaseTo("0x0000000000000000000000000000000000000000", project_id, MANIFEST_HASH, sender=collector,
                         value=PRICE)


def test_paused_project_does_not_mint(stylemint, artist, admin, collector, minter):
    pid = open_project(stylemint, minter, artist, admin, unpause=False)
    with ape.reverts(stylemint.ProjectPaused, projectId=pid):
        minter.purchase(pid, MANIFEST_HASH, sender=collector, value=PRICE)  # created paused
    assert stylemint.projectInfo(pid).invocations == 0
    assert stylemint.balance == 0


def test_unknown_project_does_not_mint(stylemint, collector, minter):
    with ape.reverts(minter.PriceNotConfigured, projectId=42):
        minter.purchase(42, MANIFEST_HASH, sender=collector, value=PRICE)


def test_wrong_payment_is_refused_both_ways(stylemint, project_id, collector, minter):
    for sent in (PRICE - 1, PRICE + 1, 0):
        with ape.reverts(minter.WrongPayment, expected=PRICE, sent=sent):
            minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=sent)
    assert stylemint.projectInfo(project_id).invocations == 0
    assert stylemint.balance == 0
    assert stylemint.balanceOf(collector) == 0


def test_sold_out_after_max_editions(stylemint, project_id, collector, artist, platform, minter):
    for _ in range(MAX_EDITIONS):
        minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    with ape.reverts(stylemint.SoldOut, projectId=project_id):
        minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    assert stylemint.remainingEditions(project_id) == 0
    assert stylemint.balanceOf(collector) == MAX_EDITIONS
    assert stylemint.creditOf(artist) + stylemint.creditOf(platform) == 0  # all in escrow
    assert stylemint.balance == MAX_EDITIONS * PRICE


def test_mint_holds_the_price_in_escrow_until_fulfilled(stylemint, chain, oracle, project_id, collector, artist,
                                                       platform, minter):
    receipt = minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    token = receipt.decode_logs(stylemint.Mint)[0].tokenId
    assert receipt.decode_logs(stylemint.Credited) == []
    assert stylemint.escrowOf(token) == (receipt.block_number, PRICE)
    assert stylemint.creditOf(artist) == stylemint.creditOf(platform) == 0
    receipt = fulfill(stylemint, chain, oracle, token)
    credited = {str(e.payee): e.amount for e in receipt.decode_logs(stylemint.Credited)}
    assert credited == {str(artist.address): PRICE * 9 // 10, str(platform.address): PRICE // 10}
    assert stylemint.creditOf(artist) == PRICE * 9 // 10
    assert stylemint.creditOf(platform) == PRICE // 10
    assert stylemint.balance == stylemint.creditOf(artist) + stylemint.creditOf(platform)


def test_odd_price_rounding_goes_to_the_artist(stylemint, chain, oracle, artist, collector, platform, project_id, minter):
    minter.setPrice(project_id, 19, sender=artist)
    sell(stylemint, chain, oracle, project_id, collector, value=19)
    assert stylemint.creditOf(platform) == 1  # floor(1.9)
    assert stylemint.creditOf(artist) == 18
    assert stylemint.balance == 19


def test_free_project_mints_without_credits(stylemint, chain, oracle, artist, collector, platform, project_id, minter):
    minter.setPrice(project_id, 0, sender=artist)
    receipt = minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=0)
    assert receipt.decode_logs(stylemint.Credited) == []
    receipt = fulfill(stylemint, chain, oracle, project_id * 1_000_000)
    assert receipt.decode_logs(stylemint.Credited) == []
    assert stylemint.creditOf(artist) == 0 and stylemint.creditOf(platform) == 0
    assert stylemint.ownerOf(project_id * 1_000_000) == collector


def test_projects_have_separate_id_ranges(stylemint, artist, admin, collector, project_id, minter):
    other = open_project(stylemint, minter, artist, admin, name="B", price=1, max_editions=2, manifest_hash=b"\x02" * 32)
    minter.purchase(other, b"\x02" * 32, sender=collector, value=1)
    minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    assert stylemint.ownerOf(other * 1_000_000) == collector
    assert stylemint.ownerOf(project_id * 1_000_000) == collector
    assert stylemint.tokenProject(other * 1_000_000) == other
