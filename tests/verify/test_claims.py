"""What a claim can make the verifier do, without a chain: bounded types and sizes, named fields."""

import pytest

from backend.render.manifest import ManifestError, parse_manifest
from backend.render.samples import sample_manifest
from backend.verify import claims
from backend.verify.verifier import MAX_BATCH, MAX_THREADS


@pytest.mark.parametrize("environment, words", [
    ({"threads": 2, "batch_size": 10**6}, "batch_size must be an integer 1..8"),
    ({"threads": "abc", "batch_size": 1}, "threads must be an integer 1..64"),
    ({"threads": True, "batch_size": 1}, "threads must be an integer 1..64"),
    ({"threads": 2, "batch_size": 0}, "batch_size must be an integer 1..8"),
    (["cpu"], "must be an object"),
])
def test_without_a_commitment_the_claim_is_bounded(environment, words):
    with pytest.raises(claims.FalseClaim, match=words):
        claims.environment({"environment": environment}, None, MAX_THREADS, MAX_BATCH)


def test_without_a_commitment_a_bounded_claim_is_used():
    assert claims.environment({"environment": {"threads": 3, "batch_size": 4}}, None, MAX_THREADS, MAX_BATCH) == \
        {"threads": 3, "batch_size": 4}


def test_with_a_commitment_the_committed_shape_is_used_whatever_is_claimed():
    committed = sample_manifest().environment
    fingerprint = {**committed.model_dump(), "python": "3.11", "device_name": "any CPU name"}
    assert claims.environment({"environment": fingerprint}, committed, MAX_THREADS, MAX_BATCH) == \
        {"threads": committed.threads, "batch_size": committed.batch_size}
    with pytest.raises(claims.FalseClaim, match="batch_size 8 claimed, 1 committed"):
        claims.environment({"environment": {**fingerprint, "batch_size": 8}}, committed, MAX_THREADS, MAX_BATCH)


def test_a_manifest_cannot_commit_to_a_batch_shape_that_costs_the_verifier():
    document = sample_manifest().model_dump(mode="json")
    document["environment"]["batch_size"] = 9
    with pytest.raises(ManifestError, match="batch_size"):
        parse_manifest(document)


def test_differences_name_every_field_including_extra_and_missing_ones():
    expected = {"name": "A #1", "attributes": [{"trait_type": "x", "value": "1"}], "provenance": {"seed": "0xAB"}}
    claimed = {"name": "A #1", "attributes": [{"trait_type": "x", "value": "2"}], "provenance": {"seed": "0xab"},
               "rarity": "legendary"}
    assert claims.differences(expected, claimed) == {"attributes[0].value": ("2", "1"), "rarity": ("legendary", None)}
    assert claims.differences(expected, {**expected, "attributes": []}) == {"attributes": ([], expected["attributes"])}
    assert claims.differences({"a": 1}, {"a": True}) == {"a": (True, 1)}  # True == 1 in Python, not in JSON
