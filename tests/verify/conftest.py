"""Verifier fixtures: a chain with honestly fulfilled tokens (anvil, embedded store, oracle)."""

import json
import sqlite3
import threading

import pytest
from ape import accounts

from backend.dev import ape_contract as core
from backend.chain.client import StyleMintClient
from backend.dev.anvil import rpc_call
from backend.render.manifest import canonical_json
from backend.verify.verifier import Verifier
from tests.oracle.conftest import sample_chain, env, make_oracle, running_sample, shared_renderer  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def fulfilled_in_module(tmp_path_factory, shared_renderer):  # noqa: F811
    """Three honestly fulfilled tokens, rendered once per module (seconds each): tests take them
    through `fulfilled`, which rolls the chain and the oracle's state back after each."""
    directory = tmp_path_factory.mktemp("fulfilled")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLEMINT_DATA_DIR", str(directory / "data"))
        with running_sample(directory) as (node, sample, store):
            mints = [core.mint(sample.contract, accounts.test_accounts[4 + i], sample.project_id) for i in range(3)]
            oracle = make_oracle(node, sample, store, shared_renderer, directory / "state.sqlite")
            oracle.run(threading.Event(), until_idle=True)
            yield directory, (node, sample, store, mints, oracle)


@pytest.fixture
def fulfilled(fulfilled_in_module, env):  # noqa: F811
    """Three honestly fulfilled tokens and the chain, store and oracle that made them, as a test of
    its own would have them: `env` holds the oracle's state as it was after those three (a copy)
    and the module's data directory (store, deployment record, models: content only grows, by
    address). Every chain change the test makes is reverted after it (evm_snapshot/evm_revert),
    and instant mining restored."""
    directory, chain = fulfilled_in_module
    node = chain[0]
    (env / "data").symlink_to(directory / "data", target_is_directory=True)
    source, copy = sqlite3.connect(directory / "state.sqlite"), sqlite3.connect(env / "state.sqlite")
    source.backup(copy)
    source.close(), copy.close()
    snapshot = rpc_call(node.url, "evm_snapshot", [])
    yield chain
    assert rpc_call(node.url, "evm_revert", [snapshot]), "the chain could not be rolled back for the next test"
    rpc_call(node.url, "evm_setIntervalMining", [0])
    rpc_call(node.url, "evm_setAutomine", [True])


def verifier_for(node, sample, store, models_dir, **options):
    return Verifier(StyleMintClient(node.url, sample.deployment.address, retries=1, backoff=0.01), store,
                    models_dir=models_dir, **options)


def honest_metadata(node, sample, store, renderer, victim, *, png_of=None) -> tuple[dict, bytes]:
    """(metadata, seed) an honest oracle would pin for `victim`, with the image it would pin
    (through `png_of(pixels) -> png` when given: a careful liar edits the pixels and recomputes
    every hash, so that only the render comparison can catch it)."""
    import hashlib
    import io

    import numpy as np
    from PIL import Image

    from backend.render.metadata import build_metadata
    from tests.support.chain import canonical_seed

    client = StyleMintClient(node.url, sample.deployment.address)
    number, block_hash, randao = core.randomness_block(sample.contract, victim.token_id)
    seed = canonical_seed(node.url, sample.deployment.address, victim.token_id, victim.tx_hash)
    info = client.project_info(victim.project_id)
    manifest_cid = client.manifest_in_force(client.mint_log(victim.token_id))[0]
    from backend.render.manifest import parse_manifest

    manifest = parse_manifest(store.get(manifest_cid))
    render = renderer.render(manifest, seed)
    if png_of is not None:
        png = png_of(render.pixels().copy())
        try:
            pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).tobytes()
        except Exception:  # noqa: BLE001 - a liar may pin bytes that are no image at all
            pixels = png
        render.png, render.png_sha256 = png, hashlib.sha256(png).hexdigest()
        render.pixel_sha256 = hashlib.sha256(pixels).hexdigest()
    image_cid = store.add(render.png)
    document = build_metadata(
        token_id=victim.token_id, project_id=victim.project_id, project_name=info["name"], artist=info["artist"],
        manifest=manifest, manifest_cid=manifest_cid, manifest_sha256="0x" + manifest.sha256_hex(), render=render,
        image_cid=image_cid, chain_id=client.chain_id(), contract=client.address, mint_tx=victim.tx_hash,
        mint_block_number=victim.block_number, mint_block_hash=victim.block_hash, randomness_block_number=number,
        randomness_block_hash=block_hash, randomness=randao)
    return json.loads(document), seed


def fulfill_with(sample, store, victim, seed, metadata) -> str:
    """Fulfill `victim` as a second, lying oracle would, with these metadata bytes or document."""
    from ape import accounts

    admin, liar = accounts.test_accounts[0], accounts.test_accounts[8]
    core.grant_oracle(sample.contract, liar, admin)
    data = metadata if isinstance(metadata, bytes) else canonical_json(metadata)  # a careful liar's form
    cid = store.add(data)
    core.fulfill(sample.contract, victim.token_id, seed, cid, liar, prompt=claimed_prompt(data))
    return cid


def claimed_prompt(data: bytes) -> str:
    """The prompt a metadata document claims (what a careful liar commits to beside it), or ""."""
    try:
        document = json.loads(data)
        return str(document.get("prompt") or document["provenance"]["prompt"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""
