"""Oracle fulfillment, token views, EIP-2981 royalties and ERC-165 interface support."""

import ape
import pytest

from tests.contracts.conftest import METADATA_CID, PLACEHOLDER, PRICE

SEED = bytes(range(1, 33))


def test_fulfill_stores_seed_and_cid_and_emits_4906(stylemint, oracle, minted, mint_position):
    assert stylemint.tokenURI(minted) == PLACEHOLDER
    assert stylemint.isFulfilled(minted) is False
    assert stylemint.tokenSeed(minted) == b"\x00" * 32
    receipt = stylemint.fulfill(minted, SEED, METADATA_CID, *mint_position, sender=oracle)
    fulfilled = receipt.decode_logs(stylemint.TokenFulfilled)[0]
    assert fulfilled.tokenId == minted and bytes(fulfilled.seed) == SEED and fulfilled.metadataCID == METADATA_CID
    assert [e._tokenId for e in receipt.decode_logs(stylemint.MetadataUpdate)] == [minted]
    assert stylemint.tokenURI(minted) == f"ipfs://{METADATA_CID}"
    assert bytes(stylemint.tokenSeed(minted)) == SEED
    assert stylemint.tokenMetadataCID(minted) == METADATA_CID
    assert stylemint.isFulfilled(minted) is True


def test_fulfill_only_once(stylemint, oracle, minted, mint_position):
    stylemint.fulfill(minted, SEED, METADATA_CID, *mint_position, sender=oracle)
    with ape.reverts(stylemint.AlreadyFulfilled, tokenId=minted):
        stylemint.fulfill(minted, b"\x09" * 32, "bafyother", *mint_position, sender=oracle)
    assert bytes(stylemint.tokenSeed(minted)) == SEED
    assert stylemint.tokenMetadataCID(minted) == METADATA_CID


def test_fulfill_needs_the_oracle_role(stylemint, admin, collector, artist, minted, mint_position):
    for caller in (admin, collector, artist):
        with ape.reverts(stylemint.AccessControlUnauthorizedAccount):
            stylemint.fulfill(minted, SEED, METADATA_CID, *mint_position, sender=caller)
    assert stylemint.isFulfilled(minted) is False


def test_fulfill_of_unminted_token(stylemint, oracle, project_id, mint_position):
    unminted = project_id * 1_000_000 + 1
    with ape.reverts(stylemint.TokenNotMinted, tokenId=unminted):
        stylemint.fulfill(unminted, SEED, METADATA_CID, *mint_position, sender=oracle)


def test_fulfill_rejects_zero_seed_and_bad_cid(stylemint, oracle, minted, mint_position):
    with ape.reverts(stylemint.ZeroHash):
        stylemint.fulfill(minted, b"\x00" * 32, METADATA_CID, *mint_position, sender=oracle)
    for cid in ("", "b" * 101):
        with ape.reverts(stylemint.InvalidCID):
            stylemint.fulfill(minted, SEED, cid, *mint_position, sender=oracle)
    assert stylemint.isFulfilled(minted) is False


def test_oracle_role_is_managed_by_the_admin(stylemint, admin, oracle, stranger, minted, mint_position):
    role = stylemint.ORACLE_ROLE()
    stylemint.revokeRole(role, oracle, sender=admin)
    with ape.reverts(stylemint.AccessControlUnauthorizedAccount):
        stylemint.fulfill(minted, SEED, METADATA_CID, *mint_position, sender=oracle)
    stylemint.grantRole(role, stranger, sender=admin)
    stylemint.fulfill(minted, SEED, METADATA_CID, *mint_position, sender=stranger)
    assert stylemint.isFulfilled(minted) is True


def test_placeholder_change_signals_all_tokens(stylemint, admin, minted):
    receipt = stylemint.setPlaceholderURI("ipfs://bafynewplaceholder", sender=admin)
    batch = receipt.decode_logs(stylemint.BatchMetadataUpdate)[0]
    assert (batch._fromTokenId, batch._toTokenId) == (0, 2**256 - 1)
    assert receipt.decode_logs(stylemint.PlaceholderURISet)[0].placeholderURI == "ipfs://bafynewplaceholder"
    assert stylemint.tokenURI(minted) == "ipfs://bafynewplaceholder"


@pytest.mark.parametrize("view", ["tokenURI", "tokenSeed", "tokenProject", "tokenMetadataCID", "isFulfilled"])
def test_token_views_refuse_unknown_tokens(stylemint, view, project_id):
    with ape.reverts(stylemint.TokenNotMinted, tokenId=123):
        getattr(stylemint, view)(123)


def test_royalty_info_pays_the_artist(stylemint, artist, minted):
    assert stylemint.royaltyInfo(minted, 10_000) == (artist.address, 0)
    stylemint.setProjectRoyalty(minted // 1_000_000, 750, sender=artist)
    receiver, amount = stylemint.royaltyInfo(minted, 2 * 10**18)
    assert receiver == artist and amount == 15 * 10**16
    with ape.reverts(stylemint.TokenNotMinted):
        stylemint.royaltyInfo(minted + 1, 100)


@pytest.mark.parametrize(
    "interface_id, supported",
    [
        ("0x01ffc9a7", True),  # ERC-165
        ("0x80ac58cd", True),  # ERC-721
        ("0x5b5e139f", True),  # ERC-721 metadata
        ("0x2a55205a", True),  # ERC-2981
        ("0x49064906", True),  # ERC-4906
        ("0x7965db0b", True),  # AccessControl
        ("0x780e9d63", False),  # ERC-721 enumerable: not implemented
        ("0xffffffff", False),
    ],
)
def test_supports_interface(stylemint, interface_id, supported):
    assert stylemint.supportsInterface(interface_id) is supported


def test_transfer_keeps_seed_and_uri(stylemint, oracle, collector, stranger, minted, mint_position):
    stylemint.fulfill(minted, SEED, METADATA_CID, *mint_position, sender=oracle)
    stylemint.transferFrom(collector, stranger, minted, sender=collector)
    assert stylemint.ownerOf(minted) == stranger
    assert stylemint.tokenURI(minted) == f"ipfs://{METADATA_CID}"
    assert stylemint.balance == PRICE


def test_fulfill_refuses_a_mint_position_that_is_not_canonical(stylemint, oracle, minted, mint_position):
    number, block_hash = mint_position
    wrong = bytes(32 - 1) + b"\x01"
    with ape.reverts(stylemint.StaleMint, tokenId=minted, mintBlockNumber=number, mintBlockHash=wrong):
        stylemint.fulfill(minted, SEED, METADATA_CID, number, wrong, sender=oracle)
    assert stylemint.isFulfilled(minted) is False
    stylemint.fulfill(minted, SEED, METADATA_CID, number, block_hash, sender=oracle)
    assert stylemint.isFulfilled(minted) is True


def test_beyond_the_blockhash_window_the_position_is_not_checked(stylemint, oracle, minted, mint_position, chain):
    number, _ = mint_position
    chain.mine(300)  # blockhash(number) is 0 now: a reorg that deep is past finality
    stylemint.fulfill(minted, SEED, METADATA_CID, number, b"\x07" * 32, sender=oracle)
    assert bytes(stylemint.tokenSeed(minted)) == SEED
