"""Minters: only a project's own minter sells it, the admin approves minters and the artist picks
one, the fixed-price minter's allowlist and limit per address, artist proofs while paused, and
an artist address that moves by proposal and the admin's acceptance."""

import ape
import pytest

from backend.chain import allowlist
from tests.contracts.conftest import MANIFEST_HASH, PRICE, fulfill, open_project

ZERO = "0x" + "00" * 20


def state(stylemint, minter, project_id, accounts):
    """Everything a refused sale must leave as it was."""
    return (stylemint.projectInfo(project_id).invocations, stylemint.balance, minter.balance,
            [minter.purchases(project_id, a) for a in accounts], [stylemint.balanceOf(a) for a in accounts])


@pytest.fixture
def rival(project, stylemint, admin):
    """A second approved fixed-price minter (any approved minter is a rival for other projects)."""
    other = admin.deploy(project.MinterSetPrice, stylemint)
    stylemint.setMinterApproved(other, True, sender=admin)
    return other


def test_only_the_projects_own_minter_mints(stylemint, minter, rival, artist, collector, stranger, project_id):
    rival.setPrice(project_id, PRICE, sender=artist)  # the artist configured both; the project chose `minter`
    before = state(stylemint, minter, project_id, [collector])
    with ape.reverts(stylemint.NotProjectMinter, projectId=project_id, caller=rival.address):
        rival.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    with ape.reverts(stylemint.NotProjectMinter, projectId=project_id, caller=stranger.address):
        stylemint.mintFromMinter(stranger, project_id, MANIFEST_HASH, stranger, sender=stranger, value=PRICE)
    assert state(stylemint, minter, project_id, [collector]) == before and rival.balance == 0
    # The artist switches minters: the old one stops, the new one sells.
    stylemint.setProjectMinter(project_id, rival, sender=artist)
    with ape.reverts(stylemint.NotProjectMinter, projectId=project_id, caller=minter.address):
        minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    rival.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    assert stylemint.balanceOf(collector) == 1 and rival.balance == minter.balance == 0


def test_the_admin_approves_minters_and_the_artist_chooses_among_them(project, stylemint, admin, artist, stranger,
                                                                       project_id, minter):
    unapproved = stranger.deploy(project.MinterSetPrice, stylemint)
    with ape.reverts(stylemint.MinterNotApproved, minter=unapproved.address):
        stylemint.setProjectMinter(project_id, unapproved, sender=artist)
    with ape.reverts(stylemint.MinterNotApproved, minter=ZERO):
        stylemint.setProjectMinter(project_id, ZERO, sender=artist)
    with ape.reverts(stylemint.NotAdmin, caller=stranger.address):
        stylemint.setMinterApproved(unapproved, True, sender=stranger)
    with ape.reverts(stylemint.ZeroAddress):
        stylemint.setMinterApproved(ZERO, True, sender=admin)
    assert stylemint.projectInfo(project_id).minter == minter.address
    receipt = stylemint.setMinterApproved(unapproved, True, sender=admin)
    assert [(e.minter, e.approved) for e in receipt.decode_logs(stylemint.MinterApproved)] == [(unapproved.address, True)]
    receipt = stylemint.setProjectMinter(project_id, unapproved, sender=artist)
    assert receipt.decode_logs(stylemint.ProjectMinterSet)[0].minter == unapproved.address
    stylemint.setMinterApproved(unapproved, False, sender=admin)  # withdrawn: no new project may choose it
    with ape.reverts(stylemint.MinterNotApproved):
        stylemint.setProjectMinter(project_id, unapproved, sender=artist)


def test_a_project_without_a_price_or_minter_is_not_for_sale(stylemint, minter, artist, admin, collector):
    receipt = stylemint.createProject("Unpriced", "bafyunpriced", MANIFEST_HASH, 3, sender=artist)
    pid = receipt.decode_logs(stylemint.ProjectCreated)[0].projectId
    stylemint.setProjectPaused(pid, False, sender=artist)
    stylemint.approveProject(pid, MANIFEST_HASH, stylemint.stylesConfigHash(pid), sender=admin)
    with ape.reverts(minter.PriceNotConfigured, projectId=pid):
        minter.purchase(pid, MANIFEST_HASH, sender=collector, value=0)
    minter.setPrice(pid, PRICE, sender=artist)  # priced on a minter the project has not chosen
    with ape.reverts(stylemint.NotProjectMinter):
        minter.purchase(pid, MANIFEST_HASH, sender=collector, value=PRICE)
    assert stylemint.projectInfo(pid).invocations == 0 and stylemint.balance == 0 and minter.balance == 0


@pytest.mark.parametrize("call", [
    lambda m, p, s: m.setPrice(p, 1, sender=s),
    lambda m, p, s: m.setMaxPerAddress(p, 1, sender=s),
    lambda m, p, s: m.setMerkleRoot(p, b"\x01" * 32, "bafylist", sender=s),
], ids=["price", "limit", "allowlist"])
def test_only_the_artist_configures_a_sale(minter, project_id, stranger, admin, call):
    before = (minter.priceInfo(project_id), minter.saleInfo(project_id), bytes(minter.merkleRoot(project_id)))
    for caller in (stranger, admin):
        with ape.reverts(minter.NotProjectArtist, projectId=project_id, caller=caller.address):
            call(minter, project_id, caller)
    assert (minter.priceInfo(project_id), minter.saleInfo(project_id), bytes(minter.merkleRoot(project_id))) == before


def test_a_limit_per_address_on_a_public_sale(stylemint, minter, artist, collector, stranger, project_id):
    assert minter.mintsLeft(project_id, collector) == 2**256 - 1  # no limit by default on a public sale
    minter.setMaxPerAddress(project_id, 2, sender=artist)
    for _ in range(2):
        minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    assert minter.mintsLeft(project_id, collector) == 0 and minter.purchases(project_id, collector) == 2
    before = state(stylemint, minter, project_id, [collector, stranger])
    with ape.reverts(minter.MintLimitReached, projectId=project_id, account=collector.address, limit=2):
        minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    with ape.reverts(minter.MintLimitReached):  # a gift counts against the payer
        minter.purchaseTo(stranger, project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    assert state(stylemint, minter, project_id, [collector, stranger]) == before
    minter.purchase(project_id, MANIFEST_HASH, sender=stranger, value=PRICE)  # another address has its own
    minter.setMaxPerAddress(project_id, minter.UNLIMITED(), sender=artist)
    minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    assert stylemint.balanceOf(collector) == 3 and minter.balance == 0


@pytest.fixture
def listed(accounts, minter, artist, project_id):
    """The project sells only to accounts 4 and 6 (its allowlist)."""
    tree = allowlist.build([accounts[4].address, accounts[6].address])
    receipt = minter.setMerkleRoot(project_id, tree.root, "bafkreilist", sender=artist)
    event = receipt.decode_logs(minter.MerkleRootSet)[0]
    assert (event.root.hex() if isinstance(event.root, bytes) else event.root).removeprefix("0x") == tree.root[2:]
    return tree


def test_an_allowlisted_address_mints_once_with_its_proof(stylemint, minter, accounts, collector, project_id, listed):
    assert collector == accounts[4]
    assert minter.saleInfo(project_id) == (PRICE, 1, True) and minter.mintsLeft(project_id, collector) == 1
    proof = listed.proof_for(collector.address)
    receipt = minter.purchaseWithProof(project_id, MANIFEST_HASH, proof, sender=collector, value=PRICE)
    assert receipt.decode_logs(stylemint.Mint)[0].payer == collector.address
    assert minter.mintsLeft(project_id, collector) == 0
    before = state(stylemint, minter, project_id, [collector])
    with ape.reverts(minter.MintLimitReached, projectId=project_id, account=collector.address, limit=1):
        minter.purchaseWithProof(project_id, MANIFEST_HASH, proof, sender=collector, value=PRICE)
    assert state(stylemint, minter, project_id, [collector]) == before


def test_off_the_list_or_without_a_proof_nothing_is_sold(stylemint, minter, accounts, collector, stranger, artist,
                                                        project_id, listed):
    before = state(stylemint, minter, project_id, [collector, stranger])
    with ape.reverts(minter.AllowlistOnly, projectId=project_id):
        minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    with ape.reverts(minter.AllowlistOnly):
        minter.purchaseTo(collector, project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    stolen = listed.proof_for(collector.address)  # a listed address's proof does not fit another sender
    with ape.reverts(minter.NotOnAllowlist, projectId=project_id, account=stranger.address):
        minter.purchaseWithProof(project_id, MANIFEST_HASH, stolen, sender=stranger, value=PRICE)
    with ape.reverts(minter.NotOnAllowlist):
        minter.purchaseWithProof(project_id, MANIFEST_HASH, [b"\x13" * 32], sender=collector, value=PRICE)
    with ape.reverts(minter.WrongPayment, expected=PRICE, sent=PRICE - 1):
        minter.purchaseWithProof(project_id, MANIFEST_HASH, stolen, sender=collector, value=PRICE - 1)
    assert state(stylemint, minter, project_id, [collector, stranger]) == before
    minter.setMerkleRoot(project_id, b"\x00" * 32, "", sender=artist)  # public again
    with ape.reverts(minter.NoAllowlist, projectId=project_id):
        minter.purchaseWithProof(project_id, MANIFEST_HASH, stolen, sender=collector, value=PRICE)
    minter.purchase(project_id, MANIFEST_HASH, sender=stranger, value=PRICE)
    assert stylemint.balanceOf(stranger) == 1


def test_the_artist_mints_artist_proofs_while_paused(stylemint, chain, oracle, minter, artist, admin, collector,
                                                     platform, project_id):
    stylemint.setProjectPaused(project_id, True, sender=artist)
    with ape.reverts(stylemint.ProjectPaused, projectId=project_id):
        minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    receipt = minter.purchase(project_id, MANIFEST_HASH, sender=artist, value=PRICE)
    token = receipt.decode_logs(stylemint.Mint)[0].tokenId
    assert stylemint.ownerOf(token) == artist and stylemint.escrowOf(token)[1] == PRICE
    fulfill(stylemint, chain, oracle, token)  # paid like any sale: the platform's part included
    assert stylemint.creditOf(platform) == PRICE // 10
    stylemint.setProjectAdminPaused(project_id, True, sender=admin)  # the admin's pause stops the artist too
    with ape.reverts(stylemint.ProjectPaused):
        minter.purchase(project_id, MANIFEST_HASH, sender=artist, value=PRICE)
    assert stylemint.projectInfo(project_id).invocations == 1


def test_the_artist_address_moves_by_proposal_and_the_admins_acceptance(stylemint, chain, oracle, minter, accounts,
                                                                         artist, admin, collector, stranger,
                                                                         project_id):
    new_key = accounts[7]
    fulfill(stylemint, chain, oracle, int(minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
                                          .decode_logs(stylemint.Mint)[0].tokenId))
    earned = stylemint.creditOf(artist)
    with ape.reverts(stylemint.NoSuchProposal, projectId=project_id, proposed=new_key.address):
        stylemint.acceptArtistAddress(project_id, new_key, sender=admin)  # nothing proposed
    with ape.reverts(stylemint.NotProjectArtist):
        stylemint.proposeArtistAddress(project_id, stranger, sender=stranger)
    with ape.reverts(stylemint.ZeroAddress):
        stylemint.proposeArtistAddress(project_id, ZERO, sender=artist)
    receipt = stylemint.proposeArtistAddress(project_id, new_key, sender=artist)
    assert receipt.decode_logs(stylemint.ArtistAddressProposed)[0].proposed == new_key.address
    with ape.reverts(stylemint.NotAdmin, caller=artist.address):
        stylemint.acceptArtistAddress(project_id, new_key, sender=artist)
    with ape.reverts(stylemint.NoSuchProposal):
        stylemint.acceptArtistAddress(project_id, stranger, sender=admin)  # not what the artist proposed
    assert stylemint.projectInfo(project_id).artist == artist
    receipt = stylemint.acceptArtistAddress(project_id, new_key, sender=admin)
    event = receipt.decode_logs(stylemint.ArtistAddressChanged)[0]
    assert (event.previous, event.current) == (artist.address, new_key.address)
    assert stylemint.projectInfo(project_id).artist == new_key and stylemint.proposedArtist(project_id) == ZERO
    with ape.reverts(stylemint.NotProjectArtist):
        stylemint.setProjectPaused(project_id, True, sender=artist)  # the old key lost the project
    with ape.reverts(minter.NotProjectArtist):
        minter.setPrice(project_id, 1, sender=artist)
    minter.setPrice(project_id, PRICE * 2, sender=new_key)
    token = int(minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE * 2)
                .decode_logs(stylemint.Mint)[0].tokenId)
    fulfill(stylemint, chain, oracle, token)
    assert stylemint.creditOf(artist) == earned  # what the old key earned stays its own
    assert stylemint.creditOf(new_key) == PRICE * 2 - PRICE * 2 // 10
    assert stylemint.royaltyInfo(token, 100)[0] == new_key.address


def test_a_reentrant_recipient_buys_one_edition(project, stylemint, minter, admin, artist, collector, stranger,
                                                project_id):
    hostile = admin.deploy(project.MaliciousReceiver, stylemint)
    hostile.setMinter(minter, sender=stranger)
    hostile.setMode(4, project_id, sender=stranger)  # re-enters minter.purchase from onERC721Received
    minter.setPrice(project_id, 0, sender=artist)  # free: only the guard can stop the second purchase
    minter.purchaseTo(hostile, project_id, MANIFEST_HASH, sender=collector, value=0)
    assert hostile.reentrySucceeded() is False
    assert stylemint.balanceOf(hostile) == 1 and stylemint.projectInfo(project_id).invocations == 1


def test_a_minter_never_keeps_wei(stylemint, minter, artist, admin, collector, project_id):
    other = open_project(stylemint, minter, artist, admin, name="Other", price=3, manifest_hash=b"\x05" * 32)
    minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    minter.purchase(other, b"\x05" * 32, sender=collector, value=3)
    assert minter.balance == 0 and stylemint.balance == PRICE + 3
