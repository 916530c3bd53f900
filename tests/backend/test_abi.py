"""The ABI comes from the compiled artifact; a missing or stale one says to run `make setup`."""

import json

import pytest

from backend.chain.abi import ARTIFACT, AbiUnavailable, contract_abi


def test_abi_from_the_artifact():
    abi = contract_abi("StyleMint", ARTIFACT)
    assert {"mintFromMinter", "fulfillBatch", "projectInfo"} <= {entry.get("name") for entry in abi}


def test_missing_artifact_says_how_to_build_it(tmp_path):
    with pytest.raises(AbiUnavailable, match="run `make setup`"):
        contract_abi("StyleMint", tmp_path / "missing.json")


def test_stale_artifact_is_refused(tmp_path):
    manifest = json.loads(ARTIFACT.read_text())
    source_id = manifest["contractTypes"]["StyleMint"]["sourceId"]
    manifest["sources"][source_id]["content"] += "\n// an older version\n"
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps(manifest))
    with pytest.raises(AbiUnavailable, match="changed since it was compiled"):
        contract_abi("StyleMint", stale)


def test_unknown_contract_is_a_clear_error():
    with pytest.raises(AbiUnavailable, match="no ABI for Nope"):
        contract_abi("Nope", ARTIFACT)
