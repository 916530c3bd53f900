"""Every tamper is detected with its own reason; honest tokens verify exact (or tolerant elsewhere)."""

import json
import shutil

import pytest
from ape import accounts

from backend.dev import ape_contract as core
from backend.dev.anvil import free_port
from backend.chain.client import StyleMintClient
from backend.render.renderer import Renderer
from backend.render.samples import sample_manifest
from backend.render.seed import derive_seed, derive_seed_v1
from backend.verify.verifier import Outcome, Verifier
from tests.support.chain import canonical_seed
from tests.support.verify import claims_about, lying_fulfill, models
from tests.verify.conftest import fulfill_with, honest_metadata, verifier_for

pytestmark = pytest.mark.e2e


def test_honest_token_is_exact(fulfilled, shared_renderer):
    node, sample, store, mints, _ = fulfilled
    report = verifier_for(node, sample, store, models(shared_renderer)).verify(mints[0].token_id)
    assert report.outcome == "exact" and report.exit_code == 0, report.reason
    steps = [(c.step, c.passed) for c in report.checks if not c.warning]
    assert steps == [("token", True), ("seed", True), ("manifest", True), ("metadata", True), ("settlement", True),
                     ("model", True), ("render", True)]
    settled = next(c for c in report.checks if c.step == "settlement")
    assert settled.evidence["signers"] == [accounts.test_accounts[1].address] and settled.evidence["threshold"] == 1
    assert any(c.warning and "not locked" in c.detail for c in report.checks)  # the sample project is unlocked
    assert report.comparison["rendered_cid"] == report.comparison["pinned_cid"]
    assert all(v >= 0 for v in report.timings.values()) and report.timings["render_s"] > 0


def test_locked_project_has_no_warning(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    sample.contract.lockProject(sample.project_id, sender=accounts.test_accounts[3])
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    from tests.oracle.conftest import make_oracle
    import threading

    make_oracle(node, sample, store, shared_renderer, env / "state.sqlite").run(threading.Event(), until_idle=True)
    report = verifier_for(node, sample, store, models(shared_renderer)).verify(mint.token_id)
    assert report.outcome == "exact" and not any(c.warning for c in report.checks)


def test_other_thread_count_is_tolerant_or_exact(sample_chain, shared_renderer, env):
    """Simulate another environment with another thread count: the verdict is never a mismatch,
    and a token whose pixels do move is reported tolerant with the measured difference."""
    node, sample, store = sample_chain
    one_thread = Renderer(device="cpu", threads=1, models_dir=models(shared_renderer))
    moved = None
    for i in range(40):  # thread count 1 vs 2 moves pixels for about 1 seed in 4 (measured)
        mint = core.mint(sample.contract, accounts.test_accounts[4 + i % 5], sample.project_id)
        core.randomness_block(sample.contract, mint.token_id)
        seed = canonical_seed(node.url, sample.deployment.address, mint.token_id, mint.tx_hash)
        if one_thread.render(sample_manifest(), seed).png != shared_renderer.render(sample_manifest(), seed).png:
            moved = mint
            break
    assert moved is not None, "no seed rendered differently with 1 thread in 40 tries"
    from tests.oracle.conftest import make_oracle
    import threading

    make_oracle(node, sample, store, shared_renderer, env / "state.sqlite").run(threading.Event(), until_idle=True)
    report = verifier_for(node, sample, store, models(shared_renderer), threads=1).verify(moved.token_id)
    assert report.outcome == "tolerant" and report.exit_code == Outcome.TOLERANT == 3, report.reason
    assert 0 < report.comparison["max_abs_diff"] <= 4 and report.comparison["psnr_db"] >= 40
    assert report.comparison["environment_differences"] == {"threads": {"committed": 2, "other": 1}}
    assert "small edits within the tolerance cannot be excluded" in report.reason
    assert report.to_json()["small_edits_excluded"] is False
    same_env = verifier_for(node, sample, store, models(shared_renderer)).verify(moved.token_id)
    assert same_env.outcome == "exact"


def test_image_replaced_by_another_png_in_the_store(fulfilled, shared_renderer):
    node, sample, store, mints, _ = fulfilled

    class Forging:
        """A store (or gateway) that serves another valid PNG for the image's CID."""

        def __init__(self, real, target, forged):
            self.real, self.target, self.forged = real, target, forged

        def get(self, cid):
            return self.forged if cid == self.target else self.real.get(cid)

    metadata = json.loads(store.get(sample.contract.tokenMetadataCID(mints[0].token_id)))
    other = json.loads(store.get(sample.contract.tokenMetadataCID(mints[1].token_id)))
    forged = store.get(other["image"].removeprefix("ipfs://"))
    content = Forging(store, metadata["image"].removeprefix("ipfs://"), forged)
    report = verifier_for(node, sample, content, models(shared_renderer)).verify(mints[0].token_id)
    assert report.outcome == "image_mismatch" and report.exit_code == Outcome.IMAGE_MISMATCH
    assert "the image served for" in report.reason and "is not that content" in report.reason


def test_metadata_pointing_at_another_tokens_image(fulfilled, shared_renderer):
    """A careful liar: every claim true for the victim, every hash recomputed, but the image is
    another token's render. Only the re-render can catch it, and does."""
    node, sample, store, mints, _ = fulfilled
    victim = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    other = json.loads(store.get(sample.contract.tokenMetadataCID(mints[0].token_id)))
    other_png = store.get(other["image"].removeprefix("ipfs://"))
    metadata, seed = honest_metadata(node, sample, store, shared_renderer, victim, png_of=lambda _: other_png)
    fulfill_with(sample, store, victim, seed, metadata)
    report = verifier_for(node, sample, store, models(shared_renderer)).verify(victim.token_id)
    assert report.outcome == "image_mismatch" and report.exit_code == Outcome.IMAGE_MISMATCH
    assert "not this seed's render" in report.reason


LIES = {
    "random seed": "not derived from the mint",
    "bare tx hash": "bare mint transaction hash",
    "retired rule": "retired rule keccak256(mintTxHash ‖ mintBlockHash)",
    "mint block's randao": "RANDAO of the wrong block",
    "next block's randao": "RANDAO of the wrong block",
}


@pytest.mark.parametrize("lie", list(LIES))
def test_oracle_lying_about_the_seed(fulfilled, shared_renderer, lie):
    node, sample, store, mints, _ = fulfilled
    victim = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    number, _, _ = core.randomness_block(sample.contract, victim.token_id)
    client = StyleMintClient(node.url, sample.deployment.address)
    other_block = {"mint block's randao": victim.block_number, "next block's randao": number + 1}.get(lie)
    if other_block is not None:
        sample.contract.chain_manager.mine(2)
        randao = client.block_randomness(other_block)[1]
        seed = derive_seed(client.chain_id(), client.address, victim.token_id, victim.tx_hash, randao)
    else:
        seed = {"random seed": b"\x42" * 32, "bare tx hash": bytes.fromhex(victim.tx_hash[2:]),
                "retired rule": derive_seed_v1(victim.tx_hash, victim.block_hash)}[lie]
    render = shared_renderer.render(sample_manifest(), seed)  # a consistent forgery for that seed
    metadata = json.loads(store.get(sample.contract.tokenMetadataCID(mints[0].token_id)))
    metadata["image"] = "ipfs://" + store.add(render.png)
    metadata["provenance"].update(claims_about(sample, victim, seed), image_cid=metadata["image"][7:])
    lying_fulfill(sample, store, victim, seed, metadata)
    report = verifier_for(node, sample, store, models(shared_renderer)).verify(victim.token_id)
    assert report.outcome == "seed_mismatch" and report.exit_code == Outcome.SEED_MISMATCH
    assert LIES[lie] in report.reason, report.reason


def test_manifest_content_not_matching_its_hash(fulfilled, shared_renderer):
    """The store (or a gateway) serves another manifest for the CID in force at the mint."""
    node, sample, store, mints, _ = fulfilled
    other = sample_manifest(prompt="swapped style, {hour}, {palette}").canonical_bytes()

    class Swapping:
        def get(self, cid):
            return other if cid == sample.manifest_cid else store.get(cid)

    report = verifier_for(node, sample, Swapping(), models(shared_renderer)).verify(mints[0].token_id)
    assert report.outcome == "manifest_mismatch" and report.exit_code == Outcome.MANIFEST_MISMATCH
    assert "hash mismatch" in report.reason


def test_modified_model_weights(fulfilled, shared_renderer, tmp_path):
    node, sample, store, mints, _ = fulfilled
    tampered = tmp_path / "models"
    shutil.copytree(models(shared_renderer), tampered)
    weights = tampered / "reference" / "unet" / "diffusion_pytorch_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-8] ^= 0x10
    weights.write_bytes(bytes(data))
    report = verifier_for(node, sample, store, tampered).verify(mints[0].token_id)
    assert report.outcome == "model_mismatch" and report.exit_code == Outcome.MODEL_MISMATCH
    assert "refusing to render" in report.reason


def test_never_fulfilled_and_unknown_tokens(sample_chain, shared_renderer):
    node, sample, store = sample_chain
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    verifier = verifier_for(node, sample, store, models(shared_renderer))
    pending = verifier.verify(mint.token_id)
    assert pending.outcome == "not_fulfilled" and pending.exit_code == Outcome.NOT_FULFILLED
    unknown = verifier.verify(77_000_000)
    assert unknown.outcome == "unknown_token" and unknown.exit_code == Outcome.UNKNOWN_TOKEN


def test_unreachable_rpc(sample_chain, shared_renderer):
    node, sample, store = sample_chain
    verifier = Verifier(StyleMintClient(f"http://127.0.0.1:{free_port()}", sample.deployment.address, retries=1,
                                        backoff=0.01), store, models_dir=models(shared_renderer))
    report = verifier.verify(1_000_000)
    assert report.outcome == "unreachable" and report.exit_code == Outcome.UNREACHABLE
    assert "RPC unavailable" in report.reason


@pytest.mark.parametrize("tamper", ["foreign signer", "another token's proof", "another prompt"])
def test_a_settlement_proof_that_does_not_hold_is_refuted_and_named(fulfilled, shared_renderer, tamper):
    """Fault injection: a node (or a look-alike contract) serving another AigcData log than the
    chain's: the verifier recovers the signers itself and checks the quorum at that block."""
    from eth_account import Account

    from backend.chain.settlement import PROOF_TYPE, Proof
    from eth_abi import encode

    node, sample, store, mints, _ = fulfilled
    verifier = verifier_for(node, sample, store, models(shared_renderer))
    real = verifier.chain.aigc_data
    other = real(mints[1].token_id)

    def served(token_id):
        entry = dict(real(token_id))
        proof = Proof.decode(entry["proof"])
        if tamper == "foreign signer":
            digest = verifier.chain.settlement_digest(list(proof.fulfilments), entry["block"])
            forged = Account._sign_hash(digest, Account.create().key).signature
            entry["proof"] = encode([PROOF_TYPE], [(proof.token_id, proof.seed, list(proof.weights_bps),
                                                    proof.mint_block_hash, proof.randomness_block_hash,
                                                    list(proof.fulfilments), proof.index, [bytes(forged)])])
        elif tamper == "another token's proof":
            entry = dict(other)
        else:
            entry["prompt_hash"] = bytes(32)
        return entry

    verifier.chain.aigc_data = served
    report = verifier.verify(mints[0].token_id)
    assert report.outcome == "settlement_mismatch" and report.exit_code == 21, report.reason
    failed = next(c for c in report.checks if c.step == "settlement")
    assert not failed.passed
    expected = {"foreign signer": "0 distinct active oracle(s) signed, 1 required",
                "another token's proof": "differs from the token on",
                "another prompt": "differs from the token on prompt"}[tamper]
    assert expected in report.reason
