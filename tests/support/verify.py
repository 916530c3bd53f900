"""What the verifier tests share: a forger's claims and a lying oracle's fulfilment."""

from ape import accounts

from backend.dev import ape_contract as core
from backend.render.manifest import canonical_json


def models(shared_renderer):
    return shared_renderer.models_dir


def claims_about(sample, victim, seed) -> dict:
    """The provenance a forger writes for `victim` with `seed`: every chain fact right but the seed."""
    number, block_hash, randao = core.randomness_block(sample.contract, victim.token_id)
    return dict(token_id=str(victim.token_id), seed="0x" + seed.hex(), mint_tx=victim.tx_hash,
                mint_block_hash=victim.block_hash, mint_block_number=victim.block_number,
                randomness_block_number=number, randomness_block_hash=block_hash, randomness=randao)


def lying_fulfill(sample, store, victim, seed, metadata):
    admin, liar = accounts.test_accounts[0], accounts.test_accounts[8]
    core.grant_oracle(sample.contract, liar, admin)
    cid = store.add(canonical_json(metadata))
    core.fulfill(sample.contract, victim.token_id, seed, cid, liar, prompt=metadata["provenance"]["prompt"])
