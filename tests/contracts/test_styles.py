"""The opt-in style library (contracts/StyleRegistry.sol): only an owner registers, retires,
sets terms, approves projects and hands a style over (two steps); bad input changes nothing."""

import ape
import pytest

from tests.contracts.conftest import MANIFEST_HASH, create_project

ADAPTER_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
ADAPTER_HASH = b"\x5a" * 32
OPEN, APPROVED_ONLY = 0, 1


@pytest.fixture(scope="module")
def registry(project, admin, artist, collector, stranger):
    return admin.deploy(project.StyleRegistry)


@pytest.fixture(scope="module")
def deployment(stylemint, artist):
    """A StyleMint with projects 1 and 2 (approvals name a project of a deployment)."""
    for _ in range(2):
        create_project(stylemint, artist, "P", ADAPTER_CID, MANIFEST_HASH, 10**15, 10)
    return stylemint


@pytest.fixture
def style_id(registry, artist):
    receipt = registry.registerStyle("Stipple", "stipple", ADAPTER_CID, ADAPTER_HASH, OPEN, sender=artist)
    return receipt.decode_logs(registry.StyleRegistered)[0].styleId


def test_an_owner_registers_a_style(registry, artist):
    receipt = registry.registerStyle("Ink Line", "inkline", ADAPTER_CID, ADAPTER_HASH, APPROVED_ONLY, sender=artist)
    event = receipt.decode_logs(registry.StyleRegistered)[0]
    assert (event.styleId, event.owner, event.name, event.trigger, event.adapterCID, bytes(event.adapterHash),
            event.terms) == (1, artist.address, "Ink Line", "inkline", ADAPTER_CID, ADAPTER_HASH, APPROVED_ONLY)
    info = registry.styleInfo(1)
    assert (info.owner, info.retired, info.trigger, info.adapterCID) == (artist.address, False, "inkline", ADAPTER_CID)
    assert registry.nextStyleId() == 2
    second = registry.registerStyle("Haze", "soft haze", ADAPTER_CID, b"\x5c" * 32, OPEN, sender=artist)
    assert second.decode_logs(registry.StyleRegistered)[0].styleId == 2


@pytest.mark.parametrize("name, trigger, cid, digest, error", [
    ("", "stipple", ADAPTER_CID, ADAPTER_HASH, "InvalidStyleName"),
    ("x" * 65, "stipple", ADAPTER_CID, ADAPTER_HASH, "InvalidStyleName"),
    ("Stipple", "", ADAPTER_CID, ADAPTER_HASH, "InvalidTrigger"),
    ("Stipple", "Stipple", ADAPTER_CID, ADAPTER_HASH, "InvalidTrigger"),
    ("Stipple", "stipple ", ADAPTER_CID, ADAPTER_HASH, "InvalidTrigger"),
    ("Stipple", "two  spaces", ADAPTER_CID, ADAPTER_HASH, "InvalidTrigger"),
    ("Stipple", "9lives", ADAPTER_CID, ADAPTER_HASH, "InvalidTrigger"),
    ("Stipple", "s" * 65, ADAPTER_CID, ADAPTER_HASH, "InvalidTrigger"),
    ("Stipple", "stipple", "", ADAPTER_HASH, "InvalidAdapter"),
    ("Stipple", "stipple", "b" * 101, ADAPTER_HASH, "InvalidAdapter"),
    ("Stipple", "stipple", ADAPTER_CID, b"\x00" * 32, "InvalidAdapter"),
], ids=["empty name", "long name", "empty trigger", "capitals", "trailing space", "double space", "leading digit",
        "long trigger", "empty cid", "long cid", "zero hash"])
def test_bad_registrations_revert_and_change_nothing(registry, artist, name, trigger, cid, digest, error):
    with ape.reverts(getattr(registry, error)):
        registry.registerStyle(name, trigger, cid, digest, OPEN, sender=artist)
    assert registry.nextStyleId() == 1


def test_a_registered_trigger_is_a_valid_manifest_trigger(registry, artist):
    """The contract's trigger rule and the manifest's agree on these edge cases."""
    from backend.render.manifest import Style

    for i, trigger in enumerate(("stipple", "soft haze", "ink2", "a b c")):
        registry.registerStyle("S", trigger, ADAPTER_CID, bytes([0x60 + i]) * 32, OPEN, sender=artist)
        Style(trigger=trigger, kind="lora", cid=ADAPTER_CID, sha256="5a" * 32)


def test_only_the_owner_manages_a_style(registry, style_id, artist, stranger, deployment):
    for call in (lambda s: registry.retireStyle(style_id, sender=s),
                 lambda s: registry.setStyleTerms(style_id, APPROVED_ONLY, sender=s),
                 lambda s: registry.setProjectApproval(style_id, deployment, 1, True, sender=s),
                 lambda s: registry.transferStyleOwnership(style_id, s, sender=s)):
        with ape.reverts(registry.NotStyleOwner, styleId=style_id, caller=stranger.address):
            call(stranger)
    with ape.reverts(registry.UnknownStyle, styleId=99):
        registry.retireStyle(99, sender=artist)
    with ape.reverts(registry.UnknownStyle, styleId=99):
        registry.styleInfo(99)
    assert registry.styleInfo(style_id).terms == OPEN and not registry.styleInfo(style_id).retired


def test_terms_and_approvals_decide_who_may_use_a_style(registry, style_id, artist, deployment):
    assert registry.mayUse(style_id, deployment, 1) and registry.mayUse(style_id, deployment, 2)  # open
    receipt = registry.setStyleTerms(style_id, APPROVED_ONLY, sender=artist)
    assert receipt.decode_logs(registry.StyleTermsSet)[0].terms == APPROVED_ONLY
    assert not registry.mayUse(style_id, deployment, 1)
    approval = registry.setProjectApproval(style_id, deployment, 1, True, sender=artist)
    assert approval.decode_logs(registry.StyleProjectApprovalSet)[0].approved
    assert registry.mayUse(style_id, deployment, 1) and not registry.mayUse(style_id, deployment, 2)
    registry.setProjectApproval(style_id, deployment, 1, False, sender=artist)
    assert not registry.mayUse(style_id, deployment, 1)
    assert not registry.mayUse(99, deployment, 1)  # unknown style


def test_a_retired_style_serves_no_one_and_stays_retired(registry, style_id, artist, deployment):
    receipt = registry.retireStyle(style_id, sender=artist)
    assert receipt.decode_logs(registry.StyleRetired)[0].styleId == style_id
    assert not registry.mayUse(style_id, deployment, 1) and registry.styleInfo(style_id).retired
    for call in (lambda: registry.retireStyle(style_id, sender=artist),
                 lambda: registry.setStyleTerms(style_id, OPEN, sender=artist),
                 lambda: registry.setProjectApproval(style_id, deployment, 1, True, sender=artist)):
        with ape.reverts(registry.StyleIsRetired, styleId=style_id):
            call()
    assert not registry.mayUse(style_id, deployment, 1)


def test_ownership_moves_in_two_steps(registry, style_id, artist, collector, stranger):
    started = registry.transferStyleOwnership(style_id, collector, sender=artist)
    event = started.decode_logs(registry.StyleOwnershipTransferStarted)[0]
    assert (event.owner, event.pendingOwner) == (artist.address, collector.address)
    assert registry.styleInfo(style_id).owner == artist.address  # nothing moves until accepted
    with ape.reverts(registry.NotPendingOwner, styleId=style_id, caller=stranger.address):
        registry.acceptStyleOwnership(style_id, sender=stranger)
    accepted = registry.acceptStyleOwnership(style_id, sender=collector)
    moved = accepted.decode_logs(registry.StyleOwnershipTransferred)[0]
    assert (moved.previousOwner, moved.newOwner) == (artist.address, collector.address)
    assert registry.styleInfo(style_id).owner == collector.address and registry.pendingOwner(style_id) == ape.utils.ZERO_ADDRESS
    with ape.reverts(registry.NotStyleOwner):
        registry.retireStyle(style_id, sender=artist)  # the old owner has no say any more
    # An offer can be withdrawn (offered to zero), after which nobody can accept it.
    registry.transferStyleOwnership(style_id, stranger, sender=collector)
    registry.transferStyleOwnership(style_id, ape.utils.ZERO_ADDRESS, sender=collector)
    with ape.reverts(registry.NotPendingOwner):
        registry.acceptStyleOwnership(style_id, sender=stranger)
    with ape.reverts(registry.NotPendingOwner):
        registry.acceptStyleOwnership(99, sender=stranger)  # nothing was offered


def test_an_adapter_has_one_owner(registry, style_id, artist, stranger):
    """Registering another owner's adapter file (the same sha256, whatever the name, CID or
    trigger) would let it be sold under other terms: refused, naming the style it is."""
    before = registry.nextStyleId()
    for sender in (stranger, artist):
        with ape.reverts(registry.AdapterAlreadyRegistered, adapterHash=ADAPTER_HASH, styleId=style_id):
            registry.registerStyle("Copy", "copy", "bafkreiother", ADAPTER_HASH, OPEN, sender=sender)
    assert registry.nextStyleId() == before and registry.styleOfAdapter(ADAPTER_HASH) == style_id
    other = registry.registerStyle("Other", "other", ADAPTER_CID, b"\x5b" * 32, OPEN, sender=stranger)
    assert other.decode_logs(registry.StyleRegistered)[0].styleId == before


def test_an_approval_names_an_existing_project_of_one_deployment(project, registry, style_id, artist, admin,
                                                                  deployment, stranger):
    """An id approved before its project exists would go to whoever creates it, and one approved
    for a project of one StyleMint must not admit the same id on another sharing this registry."""
    registry.setStyleTerms(style_id, APPROVED_ONLY, sender=artist)
    next_id = deployment.nextProjectId()
    for styleMint, project_id in ((deployment, next_id), (deployment, 0), (stranger, 1)):
        with ape.reverts(registry.UnknownProject, styleMint=styleMint, projectId=project_id):
            registry.setProjectApproval(style_id, styleMint, project_id, True, sender=artist)
    registry.setProjectApproval(style_id, deployment, 1, True, sender=artist)
    other = admin.deploy(project.StyleRegistry)  # another address: a second deployment sharing the registry
    assert registry.mayUse(style_id, deployment, 1) and not registry.mayUse(style_id, other, 1)
    assert not registry.mayUse(style_id, deployment, next_id)
