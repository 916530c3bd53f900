"""The oracles' quorum (contracts/OracleQuorum.sol): a token settles only when M distinct oracle
keys signed the very same settlement, whoever submits it; forged, duplicated, foreign or too few
signatures change nothing; who counts and how many are needed change only after the admin delay;
and ERC-7007's `verify` says whether a token's proof holds."""

import ape
import pytest

from backend.chain import settlement
from backend.chain.settlement import Commitment
from backend.dev import ape_contract as core
from tests.contracts.conftest import (
    MANIFEST_HASH, METADATA_DIGEST, PRICE, SEED, commit, create_project, deploy_core, mint_token, proof_of, signatures, submit,
)

ADMIN_DELAY = 3600


@pytest.fixture(scope="module")
def oracles(accounts):
    return [accounts[6], accounts[7], accounts[8]]


@pytest.fixture(scope="module")
def two_of_three(project, admin, platform, oracle, artist, collector, stranger, oracles):
    """A deployment whose tokens settle on 2 of 3 oracle signatures, with a one-hour admin delay."""
    return deploy_core(admin, platform, oracle, oracles=oracles, threshold=2, admin_delay=ADMIN_DELAY)


@pytest.fixture
def pending(two_of_three, artist, admin, collector):
    """Two minted, unsettled tokens of an open project of the 2-of-3 deployment."""
    receipt = create_project(two_of_three, artist, "Quorum", "bafkreiquorum", MANIFEST_HASH, PRICE, 10)
    pid = receipt.decode_logs(two_of_three.ProjectCreated)[0].projectId
    two_of_three.setProjectPaused(pid, False, sender=artist)
    two_of_three.approveProject(pid, MANIFEST_HASH, two_of_three.stylesConfigHash(pid), sender=admin)
    return [mint_token(two_of_three, pid, collector) for _ in range(2)]


def state(contract, tokens):
    """Everything a settlement changes: escrows, seeds, credits, the contract's balance."""
    return ([contract.escrowOf(t) for t in tokens], [bytes(contract.tokenSeed(t)) for t in tokens],
            contract.creditOf(contract.platformPayout()), contract.balance)


def test_two_signatures_of_three_oracles_settle_and_anyone_submits(two_of_three, chain, oracles, stranger, pending):
    entries = [commit(two_of_three, chain, t) for t in pending]
    receipt = submit(two_of_three, entries, oracles[1:], sender=stranger)
    assert [e.tokenId for e in receipt.decode_logs(two_of_three.TokenFulfilled)] == pending
    assert all(two_of_three.isFulfilled(t) for t in pending)


def test_too_few_duplicate_foreign_and_non_oracle_signatures_change_nothing(two_of_three, chain, oracles, stranger,
                                                                            pending):
    quorum = core.oracle_quorum(two_of_three)
    entries = [commit(two_of_three, chain, t) for t in pending]
    before = state(two_of_three, pending)
    requests = [e.request() for e in entries]
    one = signatures(two_of_three, entries, oracles[:1])
    with ape.reverts(quorum.TooFewSignatures, given=1, required=2):
        two_of_three.fulfillBatch(requests, one, sender=stranger)
    with ape.reverts(quorum.SignersNotAscending):
        two_of_three.fulfillBatch(requests, one + one, sender=stranger)  # one key twice
    with ape.reverts(quorum.NotAnOracle, signer=stranger.address):
        two_of_three.fulfillBatch(requests, signatures(two_of_three, entries, [oracles[0], stranger]), sender=stranger)
    # Signed for another token, another contract, another chain: the signature recovers to a
    # stranger's address over this settlement.
    for domain, signed_entries in [
        (core.settlement_domain(two_of_three), [commit(two_of_three, chain, pending[0], seed=b"\x05" * 32), entries[1]]),
        (settlement.Domain(chain.chain_id, str(quorum.address), str(oracles[0].address)), entries),
        (settlement.Domain(chain.chain_id + 1, str(quorum.address), str(two_of_three.address)), entries),
    ]:
        forged = settlement.in_signer_order({str(o.address): settlement.sign(o.private_key, domain, signed_entries)
                                             for o in oracles[:2]})
        with ape.reverts(quorum.NotAnOracle):
            two_of_three.fulfillBatch(requests, forged, sender=stranger)
    with ape.reverts(quorum.BadSignature, index=0):
        two_of_three.fulfillBatch(requests, [b"\x01" * 64, b"\x02" * 65], sender=stranger)
    assert state(two_of_three, pending) == before


@pytest.mark.parametrize("lie", ["seed", "digest", "weights", "prompt"])
def test_a_lying_oracle_settles_nothing_and_the_honest_two_settle(two_of_three, chain, oracles, stranger, pending, lie):
    honest = [commit(two_of_three, chain, t) for t in pending]
    changed = {"seed": {"seed": b"\x66" * 32}, "digest": {"digest": b"\x67" * 32}, "weights": {"weights": [10_000]},
               "prompt": {"prompt": "another prompt"}}[lie]
    false = [commit(two_of_three, chain, pending[0], **changed), honest[1]]
    before = state(two_of_three, pending)
    liar_and_honest = settlement.in_signer_order({
        str(oracles[0].address): settlement.sign(oracles[0].private_key, core.settlement_domain(two_of_three), false),
        str(oracles[1].address): settlement.sign(oracles[1].private_key, core.settlement_domain(two_of_three), honest),
    })
    for requests in ([e.request() for e in false], [e.request() for e in honest]):
        with ape.reverts():  # neither the false settlement nor the true one holds two signatures
            two_of_three.fulfillBatch(requests, liar_and_honest, sender=stranger)
    assert state(two_of_three, pending) == before
    submit(two_of_three, honest, oracles[1:], sender=stranger)
    assert bytes(two_of_three.tokenSeed(pending[0])) == SEED and two_of_three.tokenMetadataCID(pending[0]) != ""


def test_a_new_oracle_counts_only_after_the_admin_delay(two_of_three, chain, admin, oracles, stranger, pending):
    quorum = core.oracle_quorum(two_of_three)
    quorum.grantRole(quorum.ORACLE_ROLE(), stranger, sender=admin)
    entries = [commit(two_of_three, chain, pending[0])]
    assert quorum.isOracle(stranger) is False
    with ape.reverts(quorum.NotAnOracle, signer=stranger.address):
        submit(two_of_three, entries, [oracles[0], stranger])
    chain.pending_timestamp += ADMIN_DELAY
    chain.mine()
    assert quorum.isOracle(stranger) is True
    submit(two_of_three, entries, [oracles[0], stranger])
    assert two_of_three.isFulfilled(pending[0])


def test_a_revoked_oracle_stops_counting_at_once(two_of_three, chain, admin, oracles, pending):
    quorum = core.oracle_quorum(two_of_three)
    quorum.revokeRole(quorum.ORACLE_ROLE(), oracles[0], sender=admin)
    entries = [commit(two_of_three, chain, pending[0])]
    with ape.reverts(quorum.NotAnOracle, signer=oracles[0].address):
        submit(two_of_three, entries, oracles[:2])
    submit(two_of_three, entries, oracles[1:])
    assert two_of_three.isFulfilled(pending[0])


def test_the_threshold_changes_only_after_the_admin_delay(two_of_three, chain, admin, oracles, stranger, pending):
    quorum = core.oracle_quorum(two_of_three)
    with ape.reverts(quorum.AccessControlUnauthorizedAccount):
        quorum.scheduleThreshold(1, sender=stranger)
    with ape.reverts(quorum.InvalidThreshold, threshold=0):
        quorum.scheduleThreshold(0, sender=admin)
    quorum.scheduleThreshold(1, sender=admin)
    assert quorum.threshold() == 2
    entries = [commit(two_of_three, chain, pending[0])]
    with ape.reverts(quorum.TooFewSignatures, given=1, required=2):
        submit(two_of_three, entries, oracles[:1])
    chain.pending_timestamp += ADMIN_DELAY
    chain.mine()
    assert quorum.threshold() == 1
    submit(two_of_three, entries, oracles[:1])
    assert two_of_three.isFulfilled(pending[0])


def test_erc7007_verify_and_add_aigc_data(two_of_three, chain, oracles, stranger, pending):
    entries = [commit(two_of_three, chain, t, prompt=f"prompt {i}") for i, t in enumerate(pending)]
    signed = signatures(two_of_three, entries, oracles[:2])
    proof = proof_of(two_of_three, entries, 1, signed)
    prompt, digest = entries[1].prompt.encode(), entries[1].metadata_digest
    assert two_of_three.verify(prompt, digest, proof) is True
    assert two_of_three.verify(b"another prompt", digest, proof) is False
    assert two_of_three.verify(prompt, b"\x09" * 32, proof) is False
    assert two_of_three.verify(prompt, digest[:31], proof) is False
    assert two_of_three.verify(prompt, digest, proof_of(two_of_three, entries, 1, signed[:1])) is False  # too few
    assert two_of_three.verify(prompt, digest, proof_of(two_of_three, entries, 0, signed)) is False  # another entry
    outsider = signatures(two_of_three, entries, [oracles[0], stranger])
    assert two_of_three.verify(prompt, digest, proof_of(two_of_three, entries, 1, outsider)) is False
    with ape.reverts(core.oracle_quorum(two_of_three).InvalidProof, tokenId=pending[0]):
        two_of_three.addAigcData(pending[0], prompt, digest, proof, sender=stranger)  # the proof is token 1's
    receipt = two_of_three.addAigcData(pending[1], prompt, digest, proof, sender=stranger)
    event = receipt.decode_logs(two_of_three.AigcData)[0]
    assert event.tokenId == pending[1] and bytes(event.aigcData) == digest and bytes(event.proof) == proof
    assert two_of_three.isFulfilled(pending[1]) and not two_of_three.isFulfilled(pending[0])


def test_each_settled_token_carries_a_proof_that_verifies(two_of_three, chain, oracles, stranger, pending):
    entries = [commit(two_of_three, chain, t, prompt=f"prompt {i}") for i, t in enumerate(pending)]
    receipt = submit(two_of_three, entries, oracles[:2], sender=stranger)
    events = receipt.decode_logs(two_of_three.AigcData)
    assert [e.tokenId for e in events] == pending
    for entry, event in zip(entries, events):
        assert two_of_three.verify(entry.prompt.encode(), bytes(event.aigcData), bytes(event.proof)) is True
