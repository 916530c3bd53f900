"""Project life cycle: creation, the artist's controls, the admin's controls, locking."""

import ape
import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from backend.dev import ape_contract as core

from tests.contracts.conftest import (
    MANIFEST_CID, MANIFEST_HASH, MAX_EDITIONS, PLACEHOLDER, PRICE, RANDOMNESS_DELAY, REFUND_DELAY, deploy_core,
    open_project, sell,
)

NEW_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
NEW_HASH = b"\x42" * 32


def test_constructor_rejects_zero_addresses(project, admin, platform, oracle):
    zero = "0x0000000000000000000000000000000000000000"
    with ape.reverts(project.OracleQuorum.AccessControlInvalidDefaultAdmin):
        deploy_core(zero, platform, oracle, deployer=admin)
    with ape.reverts(project.StyleMint.ZeroAddress):
        deploy_core(admin, zero, oracle)
    with ape.reverts(project.StyleMint.ZeroAddress):
        deploy_core(admin, platform, oracle, style_registry=zero)
    config = (platform, zero, PLACEHOLDER, 2, 20, True, oracle)  # no OracleQuorum
    with ape.reverts(project.StyleMint.ZeroAddress):
        admin.deploy(project.StyleMint, config)
    with ape.reverts(project.OracleQuorum.ZeroAddress):
        admin.deploy(project.OracleQuorum, admin, 0, [oracle, zero], 1)
    with ape.reverts(project.OracleQuorum.InvalidThreshold, threshold=3):
        admin.deploy(project.OracleQuorum, admin, 0, [oracle, platform], 3)


@pytest.mark.parametrize("randomness, refund", [(1, 20), (129, 200), (2, 2), (10, 5)])
def test_constructor_rejects_unsound_delays(project, admin, platform, oracle, randomness, refund):
    with ape.reverts(project.StyleMint.InvalidDelay, randomnessDelay=randomness, refundDelay=refund):
        deploy_core(admin, platform, oracle, randomness_delay=randomness, refund_delay=refund)


def test_constructor_refuses_a_chain_without_randao_unless_told(project, chain, admin, platform, oracle):
    # The in-process test chain's prevrandao is 0, as on chains whose PREVRANDAO is a constant.
    # (ape does not decode a constructor's custom error here, so the deployment is eth_call'ed.)
    code = project.StyleMint.contract_type.deployment_bytecode.bytecode
    config = (platform.address, oracle.address, PLACEHOLDER, 2, 20, False, oracle.address)
    args = encode(["(address,address,string,uint256,uint256,bool,address)"], [config]).hex()
    with pytest.raises(Exception) as refused:
        chain.provider.web3.eth.call({"from": admin.address, "data": code + args})
    selector = function_signature_to_4byte_selector("NoUsableRandomness(uint256)")
    assert repr(selector + bytes(32))[2:-1] in str(refused.value)
    with pytest.raises(ape.exceptions.TransactionError):
        deploy_core(admin, platform, oracle, weak=False)
    weak = deploy_core(admin, platform, oracle, weak=True)
    assert weak.WEAK_RANDOMNESS() is True


def test_constructor_sets_roles_and_payout(stylemint, admin, platform, oracle, minter):
    assert (stylemint.RANDOMNESS_DELAY(), stylemint.REFUND_DELAY()) == (RANDOMNESS_DELAY, REFUND_DELAY)
    assert stylemint.isApprovedMinter(minter) and minter.CORE() == stylemint
    quorum = core.oracle_quorum(stylemint)
    assert quorum.hasRole(quorum.ORACLE_ROLE(), oracle) and quorum.isOracle(oracle) and quorum.threshold() == 1
    assert not quorum.isOracle(admin) and quorum.hasRole(quorum.DEFAULT_ADMIN_ROLE(), admin)
    assert stylemint.platformPayout() == platform
    assert stylemint.placeholderURI() == PLACEHOLDER
    assert stylemint.name() == "StyleMint" and stylemint.symbol() == "STYLE"


def test_create_project_stores_everything_and_starts_paused(stylemint, artist):
    receipt = stylemint.createProject("Tidal Glass", MANIFEST_CID, MANIFEST_HASH, MAX_EDITIONS, sender=artist)
    event = receipt.decode_logs(stylemint.ProjectCreated)[0]
    assert event.projectId == 1 and event.artist == artist
    assert (event.name, event.manifestCID, bytes(event.manifestHash)) == ("Tidal Glass", MANIFEST_CID, MANIFEST_HASH)
    assert event.maxEditions == MAX_EDITIONS
    info = stylemint.projectInfo(1)
    assert info.artist == artist
    assert info.paused is True and info.adminPaused is False and info.locked is False
    assert int(info.minter, 16) == 0  # no minter until the artist chooses one: nothing can sell it
    assert (info.invocations, info.maxEditions, info.royaltyBps) == (0, MAX_EDITIONS, 0)
    assert bytes(info.manifestHash) == MANIFEST_HASH and info.manifestCID == MANIFEST_CID
    assert info.name == "Tidal Glass"
    assert stylemint.remainingEditions(1) == MAX_EDITIONS
    assert stylemint.nextProjectId() == 2
    second = stylemint.createProject("Second", MANIFEST_CID, MANIFEST_HASH, 1, sender=artist)
    assert second.decode_logs(stylemint.ProjectCreated)[0].projectId == 2


@pytest.mark.parametrize(
    "name, cid, manifest_hash, max_editions, error, fields",
    [
        ("", MANIFEST_CID, MANIFEST_HASH, 5, "InvalidName", {}),
        ("x" * 65, MANIFEST_CID, MANIFEST_HASH, 5, "InvalidName", {}),
        ("ok", "", MANIFEST_HASH, 5, "InvalidCID", {}),
        ("ok", "b" * 101, MANIFEST_HASH, 5, "InvalidCID", {}),
        ("ok", MANIFEST_CID, b"\x00" * 32, 5, "ZeroHash", {}),
        ("ok", MANIFEST_CID, MANIFEST_HASH, 0, "InvalidMaxEditions", {"requested": 0}),
        ("ok", MANIFEST_CID, MANIFEST_HASH, 1_000_001, "InvalidMaxEditions", {"requested": 1_000_001}),
    ],
)
def test_create_project_rejects_bad_input_and_changes_nothing(
    stylemint, artist, name, cid, manifest_hash, max_editions, error, fields
):
    with ape.reverts(getattr(stylemint, error), **fields):
        stylemint.createProject(name, cid, manifest_hash, max_editions, sender=artist)
    assert stylemint.nextProjectId() == 1


def test_create_project_accepts_the_bounds(stylemint, artist, minter):
    stylemint.createProject("x" * 64, "b" * 100, MANIFEST_HASH, 1_000_000, sender=artist)
    stylemint.setProjectMinter(1, minter, sender=artist)
    minter.setPrice(1, 2**128 - 1, sender=artist)
    assert stylemint.projectInfo(1).maxEditions == 1_000_000 and minter.priceInfo(1) == (True, 2**128 - 1)


def test_artist_pauses_and_unpauses(stylemint, artist, project_id):
    receipt = stylemint.setProjectPaused(project_id, True, sender=artist)
    assert receipt.decode_logs(stylemint.ProjectPausedSet)[0].paused
    assert stylemint.projectInfo(project_id).paused is True
    stylemint.setProjectPaused(project_id, False, sender=artist)
    assert stylemint.projectInfo(project_id).paused is False


def test_artist_sets_price_on_the_minter(stylemint, artist, project_id, minter):
    receipt = minter.setPrice(project_id, 5, sender=artist)
    assert receipt.decode_logs(minter.PriceSet)[0].price == 5
    assert minter.priceInfo(project_id) == (True, 5)
    with ape.reverts(minter.InvalidPrice, price=2**128, minimumPrice=0):
        minter.setPrice(project_id, 2**128, sender=artist)
    assert minter.priceInfo(project_id) == (True, 5)


def test_max_editions_only_lowers_and_never_below_minted(stylemint, artist, collector, project_id, minter):
    minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    with ape.reverts(stylemint.InvalidMaxEditions, requested=MAX_EDITIONS + 1, minimum=2, maximum=MAX_EDITIONS):
        stylemint.setProjectMaxEditions(project_id, MAX_EDITIONS + 1, sender=artist)
    with ape.reverts(stylemint.InvalidMaxEditions, requested=1, minimum=2, maximum=MAX_EDITIONS):
        stylemint.setProjectMaxEditions(project_id, 1, sender=artist)
    assert stylemint.projectInfo(project_id).maxEditions == MAX_EDITIONS
    receipt = stylemint.setProjectMaxEditions(project_id, 3, sender=artist)
    assert receipt.decode_logs(stylemint.ProjectMaxEditionsSet)[0].maxEditions == 3
    assert stylemint.remainingEditions(project_id) == 1
    with ape.reverts(stylemint.InvalidMaxEditions):
        stylemint.setProjectMaxEditions(project_id, 4, sender=artist)  # never back up
    stylemint.setProjectMaxEditions(project_id, 2, sender=artist)  # down to exactly minted
    assert stylemint.remainingEditions(project_id) == 0


def test_artist_changes_manifest_while_unlocked(stylemint, artist, project_id):
    receipt = stylemint.setProjectManifest(project_id, NEW_CID, NEW_HASH, sender=artist)
    event = receipt.decode_logs(stylemint.ProjectManifestSet)[0]
    assert event.manifestCID == NEW_CID and bytes(event.manifestHash) == NEW_HASH
    info = stylemint.projectInfo(project_id)
    assert info.manifestCID == NEW_CID and bytes(info.manifestHash) == NEW_HASH
    with ape.reverts(stylemint.ZeroHash):
        stylemint.setProjectManifest(project_id, NEW_CID, b"\x00" * 32, sender=artist)
    with ape.reverts(stylemint.InvalidCID):
        stylemint.setProjectManifest(project_id, "", NEW_HASH, sender=artist)
    assert stylemint.projectInfo(project_id).manifestCID == NEW_CID


def test_royalty_up_to_ten_percent(stylemint, artist, project_id):
    receipt = stylemint.setProjectRoyalty(project_id, 1000, sender=artist)
    assert receipt.decode_logs(stylemint.ProjectRoyaltySet)[0].royaltyBps == 1000
    with ape.reverts(stylemint.InvalidRoyalty, royaltyBps=1001):
        stylemint.setProjectRoyalty(project_id, 1001, sender=artist)
    assert stylemint.projectInfo(project_id).royaltyBps == 1000


def test_locked_project_refuses_manifest_and_cap_changes(stylemint, artist, collector, project_id, minter):
    receipt = stylemint.lockProject(project_id, sender=artist)
    assert receipt.decode_logs(stylemint.ProjectLocked)[0].projectId == project_id
    assert stylemint.projectInfo(project_id).locked is True
    with ape.reverts(stylemint.ProjectIsLocked, projectId=project_id):
        stylemint.setProjectManifest(project_id, NEW_CID, NEW_HASH, sender=artist)
    with ape.reverts(stylemint.ProjectIsLocked):
        stylemint.setProjectMaxEditions(project_id, 1, sender=artist)
    with ape.reverts(stylemint.ProjectIsLocked):
        stylemint.lockProject(project_id, sender=artist)
    info = stylemint.projectInfo(project_id)
    assert info.manifestCID == MANIFEST_CID and info.maxEditions == MAX_EDITIONS
    # What does not change a render stays adjustable: price, pause, royalty; minting goes on.
    minter.setPrice(project_id, PRICE * 2, sender=artist)
    stylemint.setProjectRoyalty(project_id, 500, sender=artist)
    minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE * 2)
    stylemint.setProjectPaused(project_id, True, sender=artist)
    assert stylemint.projectInfo(project_id).paused is True


@pytest.mark.parametrize(
    "call",
    [
        lambda c, p, s: c.setProjectPaused(p, False, sender=s),
        lambda c, p, s: c.setProjectMinter(p, c, sender=s),
        lambda c, p, s: c.proposeArtistAddress(p, s, sender=s),
        lambda c, p, s: c.setProjectMaxEditions(p, 1, sender=s),
        lambda c, p, s: c.setProjectManifest(p, NEW_CID, NEW_HASH, sender=s),
        lambda c, p, s: c.setProjectRoyalty(p, 1, sender=s),
        lambda c, p, s: c.lockProject(p, sender=s),
    ],
    ids=["pause", "minter", "proposeArtist", "maxEditions", "manifest", "royalty", "lock"],
)
def test_only_the_artist_changes_a_project(stylemint, project_id, stranger, admin, call):
    before = stylemint.projectInfo(project_id)
    for caller in (stranger, admin):  # not even the platform admin
        with ape.reverts(stylemint.NotProjectArtist, projectId=project_id, caller=caller):
            call(stylemint, project_id, caller)
    assert stylemint.projectInfo(project_id) == before
    with ape.reverts(stylemint.UnknownProject, projectId=99):
        call(stylemint, 99, stranger)


def test_admin_pause_overrides_the_artist(stylemint, admin, artist, collector, project_id, minter):
    receipt = stylemint.setProjectAdminPaused(project_id, True, sender=admin)
    assert receipt.decode_logs(stylemint.ProjectAdminPausedSet)[0].adminPaused
    stylemint.setProjectPaused(project_id, False, sender=artist)
    with ape.reverts(stylemint.ProjectPaused, projectId=project_id):
        minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    stylemint.setProjectAdminPaused(project_id, False, sender=admin)
    minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)
    assert stylemint.projectInfo(project_id).invocations == 1


def test_admin_functions_need_the_admin_role(stylemint, stranger, artist, project_id):
    for call in (
        lambda: stylemint.setProjectAdminPaused(project_id, True, sender=artist),
        lambda: stylemint.setPlatformPayout(stranger, sender=stranger),
        lambda: stylemint.setPlaceholderURI("x", sender=stranger),
    ):
        with ape.reverts(stylemint.NotAdmin):
            call()
    quorum = core.oracle_quorum(stylemint)
    for call in (lambda: quorum.grantRole(quorum.ORACLE_ROLE(), stranger, sender=stranger),
                 lambda: quorum.scheduleThreshold(2, sender=stranger)):
        with ape.reverts(quorum.AccessControlUnauthorizedAccount):
            call()
    assert stylemint.projectInfo(project_id).adminPaused is False
    assert stylemint.placeholderURI() == PLACEHOLDER
    assert not quorum.isOracle(stranger) and quorum.threshold() == 1


def test_admin_pause_of_unknown_project(stylemint, admin):
    with ape.reverts(stylemint.UnknownProject, projectId=7):
        stylemint.setProjectAdminPaused(7, True, sender=admin)


def test_platform_payout_change_routes_future_shares(stylemint, chain, oracle, admin, platform, stranger, collector,
                                                    project_id):
    sell(stylemint, chain, oracle, project_id, collector)
    with ape.reverts(stylemint.ZeroAddress):
        stylemint.setPlatformPayout("0x0000000000000000000000000000000000000000", sender=admin)
    receipt = stylemint.setPlatformPayout(stranger, sender=admin)
    event = receipt.decode_logs(stylemint.PlatformPayoutSet)[0]
    assert event.previous == platform and event.current == stranger
    sell(stylemint, chain, oracle, project_id, collector)
    assert stylemint.creditOf(platform) == PRICE // 10  # earned before the change stays
    assert stylemint.creditOf(stranger) == PRICE // 10


def test_views_of_unknown_project(stylemint):
    with ape.reverts(stylemint.UnknownProject, projectId=3):
        stylemint.projectInfo(3)
    with ape.reverts(stylemint.UnknownProject, projectId=3):
        stylemint.remainingEditions(3)


def test_a_project_mints_only_with_its_current_manifest_approved(stylemint, admin, artist, collector, stranger, minter):
    pid = open_project(stylemint, minter, artist, admin, name="Curated", approve=False)
    with ape.reverts(stylemint.ProjectNotApproved, projectId=pid, manifestHash=MANIFEST_HASH):
        minter.purchase(pid, MANIFEST_HASH, sender=collector, value=PRICE)
    for who in (artist, stranger):  # only the platform admin curates
        with ape.reverts(stylemint.NotAdmin):
            stylemint.approveProject(pid, MANIFEST_HASH, stylemint.stylesConfigHash(pid), sender=who)
    approved = stylemint.approveProject(pid, MANIFEST_HASH, stylemint.stylesConfigHash(pid), sender=admin)
    assert [(e.projectId, bytes(e.manifestHash)) for e in approved.decode_logs(stylemint.ProjectApproved)] == [(pid, MANIFEST_HASH)]
    minter.purchase(pid, MANIFEST_HASH, sender=collector, value=PRICE)
    # A new manifest (say, 2048x2048 at 150 steps) needs its own approval before anyone mints it.
    stylemint.setProjectManifest(pid, NEW_CID, NEW_HASH, sender=artist)
    with ape.reverts(stylemint.ProjectNotApproved, projectId=pid, manifestHash=NEW_HASH):
        minter.purchase(pid, NEW_HASH, sender=collector, value=PRICE)
    stylemint.approveProject(pid, NEW_HASH, stylemint.stylesConfigHash(pid), sender=admin)
    minter.purchase(pid, NEW_HASH, sender=collector, value=PRICE)
    stylemint.approveProject(pid, b"\x00" * 32, stylemint.stylesConfigHash(pid), sender=admin)  # revoked
    with ape.reverts(stylemint.ProjectNotApproved):
        minter.purchase(pid, NEW_HASH, sender=collector, value=PRICE)
    assert stylemint.projectInfo(pid).invocations == 2 and stylemint.balance == 2 * PRICE
    with ape.reverts(stylemint.UnknownProject):
        stylemint.approveProject(999, MANIFEST_HASH, stylemint.stylesConfigHash(999), sender=admin)


def test_the_minimum_price_makes_every_mint_pay_for_its_render(stylemint, admin, artist, collector, project_id, minter):
    with ape.reverts(stylemint.NotAdmin):
        stylemint.setMinimumPrice(PRICE + 1, sender=artist)
    receipt = stylemint.setMinimumPrice(PRICE + 1, sender=admin)
    assert receipt.decode_logs(stylemint.MinimumPriceSet)[0].minimumPrice == PRICE + 1
    with ape.reverts(stylemint.PriceBelowMinimum, price=PRICE, minimumPrice=PRICE + 1):
        minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE)  # priced before the minimum rose
    with ape.reverts(minter.InvalidPrice, price=1, minimumPrice=PRICE + 1):
        minter.setPrice(project_id, 1, sender=artist)
    assert stylemint.projectInfo(project_id).invocations == 0 and stylemint.balance == 0
    minter.setPrice(project_id, PRICE + 1, sender=artist)
    minter.purchase(project_id, MANIFEST_HASH, sender=collector, value=PRICE + 1)
    with ape.reverts(stylemint.InvalidPrice):
        stylemint.setMinimumPrice(2**128, sender=admin)
