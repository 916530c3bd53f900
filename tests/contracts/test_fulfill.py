"""Settlement (signed by the oracles' quorum; one token or a batch), the randomness delay, token
views, EIP-2981 royalties and ERC-165 interface support. The quorum itself (M of N, forged and
duplicate signatures, delayed changes, ERC-7007) is tests/contracts/test_quorum.py."""

import hashlib

import ape
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.chain.settlement import Commitment
from backend.dev import ape_contract as core
from backend.ipfs.cid import cid_of_raw_digest
from tests.support.contracts import chain_settings
from tests.contracts.conftest import (
    METADATA_CID, METADATA_DIGEST, PLACEHOLDER, PRICE, RANDOMNESS_DELAY, SEED, commit, fulfill, isolated, mint_token,
    randomness_block, submit,
)


def add_aigc_data(stylemint, commitments, index, signers, sender=None):
    """ERC-7007 `addAigcData`: settle `commitments[index]` alone from their signed settlement."""
    from tests.contracts.conftest import proof_of, signatures

    entry = commitments[index]
    signed = signatures(stylemint, commitments, signers)
    return stylemint.addAigcData(entry.token_id, entry.prompt.encode(), entry.metadata_digest,
                                 proof_of(stylemint, commitments, index, signed), sender=sender or signers[0])


def test_fulfill_stores_seed_and_digest_and_emits_4906(stylemint, chain, oracle, minted):
    assert stylemint.tokenURI(minted) == PLACEHOLDER
    assert stylemint.isFulfilled(minted) is False
    assert stylemint.tokenSeed(minted) == b"\x00" * 32
    assert stylemint.tokenMetadataCID(minted) == ""
    receipt = fulfill(stylemint, chain, oracle, minted)
    fulfilled = receipt.decode_logs(stylemint.TokenFulfilled)[0]
    assert fulfilled.tokenId == minted and bytes(fulfilled.seed) == SEED
    assert bytes(fulfilled.metadataDigest) == METADATA_DIGEST
    assert [e._tokenId for e in receipt.decode_logs(stylemint.MetadataUpdate)] == [minted]
    assert stylemint.tokenURI(minted) == f"ipfs://{METADATA_CID}"
    assert bytes(stylemint.tokenSeed(minted)) == SEED
    assert stylemint.tokenMetadataCID(minted) == METADATA_CID
    assert stylemint.isFulfilled(minted) is True
    assert stylemint.escrowOf(minted) == (0, 0)


@chain_settings(25)
@given(digest=st.binary(min_size=32, max_size=32).filter(any))
def test_token_uri_spells_the_raw_block_cid_as_ipfs_does(stylemint, chain, oracle, project_id, collector, digest):
    with isolated(chain):
        token = mint_token(stylemint, project_id, collector)
        fulfill(stylemint, chain, oracle, token, digest=digest)
        assert stylemint.tokenURI(token) == "ipfs://" + cid_of_raw_digest(digest)


def test_fulfill_waits_for_the_randomness_block(stylemint, chain, oracle, minted):
    mint_block = stylemint.escrowOf(minted)[0]
    assert mint_block == chain.blocks.head.number and stylemint.RANDOMNESS_DELAY() == RANDOMNESS_DELAY
    for last_head in (mint_block, mint_block + RANDOMNESS_DELAY - 1):  # runs in mint + 1, then in mint + D
        if chain.blocks.head.number < last_head:
            chain.mine(last_head - chain.blocks.head.number)
        early = Commitment.of(minted, SEED, METADATA_DIGEST, "p", [], b"\x02" * 32, b"\x01" * 32)
        with ape.reverts(stylemint.RandomnessNotReady, tokenId=minted,
                         randomnessBlockNumber=mint_block + RANDOMNESS_DELAY):
            add_aigc_data(stylemint, [early], 0, [oracle])  # one token alone reverts; a batch skips it (below)
    receipt = fulfill(stylemint, chain, oracle, minted)
    assert receipt.block_number > mint_block + RANDOMNESS_DELAY
    assert stylemint.isFulfilled(minted) is True


def test_fulfill_only_once(stylemint, chain, oracle, minted):
    fulfill(stylemint, chain, oracle, minted)
    other = commit(stylemint, chain, minted, seed=b"\x09" * 32, digest=b"\x08" * 32)
    with ape.reverts(stylemint.AlreadyFulfilled, tokenId=minted):
        add_aigc_data(stylemint, [other], 0, [oracle])
    receipt = submit(stylemint, [other], [oracle])
    assert [(e.tokenId, e.reason) for e in receipt.decode_logs(stylemint.FulfillmentSkipped)] == [(minted, 1)]
    assert bytes(stylemint.tokenSeed(minted)) == SEED
    assert stylemint.tokenMetadataCID(minted) == METADATA_CID


def test_settling_needs_an_oracles_signature_not_a_role(stylemint, chain, oracle, admin, collector, artist, minted):
    quorum = core.oracle_quorum(stylemint)
    for signer in (admin, collector, artist):
        with ape.reverts(quorum.NotAnOracle, signer=signer.address):
            fulfill(stylemint, chain, oracle, minted, signers=[signer], sender=signer)
    assert stylemint.isFulfilled(minted) is False
    fulfill(stylemint, chain, oracle, minted, sender=collector)  # the oracle signed; anyone submits
    assert stylemint.isFulfilled(minted) is True


def test_fulfill_of_unminted_token(stylemint, chain, oracle, project_id):
    unminted = project_id * 1_000_000 + 1
    entry = Commitment.of(unminted, SEED, METADATA_DIGEST, "p", [], b"\x02" * 32, b"\x01" * 32)
    with ape.reverts(stylemint.TokenNotMinted, tokenId=unminted):
        add_aigc_data(stylemint, [entry], 0, [oracle])


def test_fulfill_rejects_zero_seed_and_zero_digest(stylemint, chain, oracle, minted):
    with ape.reverts(stylemint.ZeroHash):
        fulfill(stylemint, chain, oracle, minted, seed=b"\x00" * 32)
    with ape.reverts(stylemint.ZeroHash):
        fulfill(stylemint, chain, oracle, minted, digest=b"\x00" * 32)
    assert stylemint.isFulfilled(minted) is False


def test_oracle_keys_are_managed_by_the_admin(stylemint, chain, admin, oracle, stranger, minted):
    quorum = core.oracle_quorum(stylemint)
    role = quorum.ORACLE_ROLE()
    quorum.revokeRole(role, oracle, sender=admin)
    with ape.reverts(quorum.NotAnOracle, signer=oracle.address):
        fulfill(stylemint, chain, oracle, minted)
    with ape.reverts(quorum.AccessControlUnauthorizedAccount):
        quorum.grantRole(role, stranger, sender=stranger)
    quorum.grantRole(role, stranger, sender=admin)  # this deployment's admin delay is 0
    fulfill(stylemint, chain, oracle, minted, signers=[stranger])
    assert stylemint.isFulfilled(minted) is True


def test_placeholder_change_signals_all_tokens(stylemint, admin, minted):
    receipt = stylemint.setPlaceholderURI("ipfs://bafynewplaceholder", sender=admin)
    batch = receipt.decode_logs(stylemint.BatchMetadataUpdate)[0]
    assert (batch._fromTokenId, batch._toTokenId) == (0, 2**256 - 1)
    assert receipt.decode_logs(stylemint.PlaceholderURISet)[0].placeholderURI == "ipfs://bafynewplaceholder"
    assert stylemint.tokenURI(minted) == "ipfs://bafynewplaceholder"


@pytest.mark.parametrize("view", ["tokenURI", "tokenSeed", "tokenProject", "tokenMetadataCID", "isFulfilled",
                                  "escrowOf"])
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
        ("0x7965db0b", False),  # AccessControl: the admin is the OracleQuorum's
        ("0x702c55a6", True),  # ERC-7007
        ("0x780e9d63", False),  # ERC-721 enumerable: not implemented
        ("0xffffffff", False),
    ],
)
def test_supports_interface(stylemint, interface_id, supported):
    assert stylemint.supportsInterface(interface_id) is supported


def test_transfer_keeps_seed_and_uri(stylemint, chain, oracle, collector, stranger, minted):
    fulfill(stylemint, chain, oracle, minted)
    stylemint.transferFrom(collector, stranger, minted, sender=collector)
    assert stylemint.ownerOf(minted) == stranger
    assert stylemint.tokenURI(minted) == f"ipfs://{METADATA_CID}"
    assert stylemint.balance == PRICE


def test_fulfill_refuses_a_randomness_block_that_is_not_canonical(stylemint, chain, oracle, minted):
    number, block_hash = randomness_block(stylemint, chain, minted)
    wrong = bytes(31) + b"\x01"
    with ape.reverts(stylemint.StaleMint, tokenId=minted, randomnessBlockNumber=number, randomnessBlockHash=wrong):
        add_aigc_data(stylemint, [commit(stylemint, chain, minted, randomness_hash=wrong)], 0, [oracle])
    mint_block_hash = bytes(chain.blocks[number - RANDOMNESS_DELAY].hash)  # the old rule's block
    with ape.reverts(stylemint.StaleMint):
        add_aigc_data(stylemint, [commit(stylemint, chain, minted, randomness_hash=mint_block_hash)], 0, [oracle])
    assert stylemint.isFulfilled(minted) is False
    add_aigc_data(stylemint, [commit(stylemint, chain, minted)], 0, [oracle])
    assert stylemint.isFulfilled(minted) is True and bytes(stylemint.tokenSeed(minted)) == SEED


def test_beyond_the_blockhash_window_the_block_is_not_checked(stylemint, chain, oracle, minted):
    chain.mine(300)  # blockhash(randomness block) is 0 now: a reorg that deep is past finality
    fulfill_entry = commit(stylemint, chain, minted, randomness_hash=b"\x07" * 32)
    submit(stylemint, [fulfill_entry], [oracle])
    assert bytes(stylemint.tokenSeed(minted)) == SEED


def test_batch_fulfills_every_token_and_credits_each_payee_once(stylemint, chain, oracle, artist, platform,
                                                                project_id, collector, stranger):
    tokens = [mint_token(stylemint, project_id, who) for who in (collector, stranger, collector)]
    entries = [commit(stylemint, chain, token, seed=bytes([i + 1]) * 32, digest=hashlib.sha256(bytes([i])).digest(),
                      prompt=f"prompt {i}") for i, token in enumerate(tokens)]
    receipt = submit(stylemint, entries, [oracle], sender=stranger)
    assert [e.tokenId for e in receipt.decode_logs(stylemint.TokenFulfilled)] == tokens
    credited = [(str(e.payee), e.amount) for e in receipt.decode_logs(stylemint.Credited)]
    assert credited == [(str(artist.address), 3 * PRICE * 9 // 10), (str(platform.address), 3 * PRICE // 10)]
    for entry in entries:
        assert bytes(stylemint.tokenSeed(entry.token_id)) == entry.seed
        assert stylemint.tokenMetadataCID(entry.token_id) == cid_of_raw_digest(entry.metadata_digest)
    assert stylemint.balance == stylemint.creditOf(artist) + stylemint.creditOf(platform) == 3 * PRICE


def test_batch_skips_what_the_chain_makes_impossible_and_fulfills_the_rest(stylemint, chain, oracle, artist,
                                                                           project_id, collector):
    tokens = [mint_token(stylemint, project_id, collector) for _ in range(3)]
    entries = [commit(stylemint, chain, t, seed=bytes([i + 1]) * 32) for i, t in enumerate(tokens)]
    fulfill(stylemint, chain, oracle, tokens[1])  # with SEED: a reorg replayed an older fulfillment
    unready = mint_token(stylemint, project_id, collector)  # its randomness block is still to come
    never = tokens[-1] + 100
    other = [Commitment.of(token, SEED, METADATA_DIGEST, "p", [], b"\x02" * 32, bytes([5 + i]) * 32)
             for i, token in enumerate((tokens[0] + 50, unready, never))]  # not minted, not ready, never
    entries[2] = commit(stylemint, chain, tokens[2], seed=b"\x03" * 32, randomness_hash=b"\x08" * 32)  # a replaced block
    credit = stylemint.creditOf(artist)
    receipt = submit(stylemint, entries + other, [oracle])
    skipped = [(e.tokenId, e.reason) for e in receipt.decode_logs(stylemint.FulfillmentSkipped)]
    assert skipped == [(tokens[1], 1), (tokens[2], 4), (tokens[0] + 50, 2), (unready, 3), (never, 2)]
    assert [e.tokenId for e in receipt.decode_logs(stylemint.TokenFulfilled)] == [tokens[0]]
    assert bytes(stylemint.tokenSeed(tokens[1])) == SEED  # the first fulfillment stands
    assert not stylemint.isFulfilled(tokens[2]) and not stylemint.isFulfilled(unready)
    assert stylemint.creditOf(artist) - credit == PRICE * 9 // 10  # only the one fulfilled now is paid
    assert stylemint.balance == 2 * PRICE + stylemint.creditOf(artist) + stylemint.creditOf(stylemint.platformPayout())


def test_a_malformed_batch_entry_reverts_the_whole_batch(stylemint, chain, oracle, project_id, collector):
    tokens = [mint_token(stylemint, project_id, collector) for _ in range(2)]
    good = commit(stylemint, chain, tokens[0])
    with ape.reverts(stylemint.ZeroHash):
        submit(stylemint, [good, commit(stylemint, chain, tokens[1], seed=bytes(32))], [oracle])
    assert stylemint.isFulfilled(tokens[0]) is False
