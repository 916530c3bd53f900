"""A blended project end to end on anvil: the oracle checks the manifest against the style registry,
fulfills with the render's weights, the contract pays each style's owner by them, and the verifier
confirms the paid weights from the token alone; a mismatched manifest or lying weights are caught."""

import json

import pytest
from ape import accounts

from backend.chain.client import StyleMintClient
from backend.dev import ape_contract as core
from backend.dev.sample import STYLE_OWNER_ACCOUNTS, pin_manifest, register_shipped_styles
from backend.render.manifest import canonical_json
from backend.render.samples import blend_manifest
from tests.oracle.conftest import make_oracle, use_block_time
from tests.support.chain import tokens_fulfilled_by, transactions_from
from tests.support.chain import run_until_idle
from tests.verify.conftest import honest_metadata, verifier_for

pytestmark = pytest.mark.e2e

PRICE = 10**9
SHARE_BPS = 3_000


def open_blend(sample, store, registered: tuple[str, ...]) -> tuple[int, list]:
    """Register the shipped styles `registered` under their owners and open a project whose
    manifest blends Stipple at 0.3 and Inkline at 0.7, paying the registered ones 30 % of the
    artist's 90 %; returns (project id, the owners)."""
    owners = {t: accounts.test_accounts[STYLE_OWNER_ACCOUNTS[t]] for t in registered}
    style_ids = register_shipped_styles(sample.contract, store, owners)
    manifest = blend_manifest({"stipple": 0.3, "inkline": 0.7})
    project_id = core.create_project(
        sample.contract, accounts.test_accounts[3], name=manifest.name, manifest_cid=pin_manifest(store, manifest),
        manifest_hash=manifest.sha256(), price_wei=PRICE, max_editions=10, unpause=True,
        approve_by=accounts.test_accounts[0], style_ids=tuple(style_ids[t] for t in registered),
        styles_share_bps=SHARE_BPS)
    return project_id, [owners[t] for t in registered]


@pytest.fixture
def registered_blend(sample_chain):
    """Stipple and Inkline registered by their owners (anvil accounts 5 and 6), blended by a project."""
    node, sample, store = sample_chain
    project_id, owners = open_blend(sample, store, ("stipple", "inkline"))
    return node, sample, store, project_id, owners


def credits(sample, payees) -> list[int]:
    return [int(sample.contract.creditOf(p)) for p in payees]


@pytest.mark.parametrize("block_time", [None, 1], ids=["instant", "1s-blocks"])
def test_each_style_is_paid_its_measured_share_and_the_verifier_confirms_it(registered_blend, shared_renderer, env,
                                                                           block_time):
    node, sample, store, project_id, owners = registered_blend
    artist, platform = accounts.test_accounts[3], accounts.test_accounts[2]
    payees = [artist, platform, *owners]
    before = credits(sample, payees)
    mints = [core.mint(sample.contract, accounts.test_accounts[4 + i], project_id) for i in range(2)]
    use_block_time(node, block_time)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite", dev_mine=block_time is None)
    run_until_idle(oracle)
    sent = transactions_from(node.url, oracle.signer.address)
    assert all(tx["status"] == 1 for tx in sent) and sorted(tx["nonce"] for tx in sent) == list(range(len(sent)))
    fulfilled = [t for tx in sent for t in tokens_fulfilled_by(node.url, sample.deployment.address, tx["hash"])]
    assert sorted(fulfilled) == sorted(m.token_id for m in mints)  # each token by exactly one transaction

    client = StyleMintClient(node.url, sample.deployment.address)
    pool = (PRICE - PRICE // 10) * SHARE_BPS // 10_000
    owed = [0, 0]
    for mint in mints:
        metadata = json.loads(store.get(client.view("tokenMetadataCID", mint.token_id)))
        weights = [s["weight_bps"] for s in metadata["provenance"]["attribution"]["styles"]]
        paid = client.styles_paid(mint.token_id)
        assert paid["weights_bps"] == weights and sum(weights) == 10_000 and len(set(weights)) == 2
        assert paid["amounts"] == [pool * w // 10_000 for w in weights]
        owed = [o + a for o, a in zip(owed, paid["amounts"])]
        report = verifier_for(node, sample, store, shared_renderer.models_dir).verify(mint.token_id)
        assert report.outcome == "exact", report.reason
        payment = next(c for c in report.checks if c.step == "payment")
        assert payment.passed and "Stipple (id 1)" in payment.detail and "Inkline (id 2)" in payment.detail
    gained = [a - b for a, b in zip(credits(sample, payees), before)]
    assert gained == [2 * (PRICE - PRICE // 10) - sum(owed), 2 * (PRICE // 10), *owed]
    assert sum(gained) == 2 * PRICE


def test_a_manifest_that_does_not_load_the_registered_adapters_is_refused(sample_chain, shared_renderer, env):
    """The project pays Stipple and Haze but its manifest loads Stipple and Inkline: nothing is
    rendered or sent, the job fails naming the style, and the collector can take a refund."""
    node, sample, store = sample_chain
    project_id, _ = open_blend(sample, store, ("stipple", "haze"))
    mint = core.mint(sample.contract, accounts.test_accounts[4], project_id)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    run_until_idle(oracle)
    job = oracle.jobs.for_token(mint.token_id)
    assert job.state == "failed" and job.render_path is None
    assert job.last_error == ("the manifest does not load the project's registered styles: style 2 is registry style "
                              "2 'Haze' (trigger 'haze') but the manifest's adapter CID, adapter sha256, trigger "
                              "('inkline') differ")
    assert transactions_from(node.url, oracle.signer.address) == []
    assert sample.contract.isFulfilled(mint.token_id) is False


def test_weights_paid_that_are_not_the_renders_are_caught(registered_blend, shared_renderer):
    """A lying oracle pins honest metadata but pays the styles other weights: the verifier names it."""
    node, sample, store, project_id, owners = registered_blend
    victim = core.mint(sample.contract, accounts.test_accounts[4], project_id)
    metadata, seed = honest_metadata(node, sample, store, shared_renderer, victim)
    honest = [s["weight_bps"] for s in metadata["provenance"]["attribution"]["styles"]]
    lie = [honest[0] + 1_500, honest[1] - 1_500]

    admin, liar = accounts.test_accounts[0], accounts.test_accounts[8]
    core.grant_oracle(sample.contract, liar, admin)
    cid = store.add(canonical_json(metadata))
    core.fulfill(sample.contract, victim.token_id, seed, cid, liar, weights_bps=lie,
                 prompt=metadata["provenance"]["prompt"])  # a careful liar commits the true prompt
    report = verifier_for(node, sample, store, shared_renderer.models_dir).verify(victim.token_id)
    assert report.outcome == "attribution_mismatch" and report.exit_code == 19
    assert f"the sale paid weights {lie}" in report.reason and str(honest) in report.reason


def test_a_registered_adapter_loaded_without_naming_its_style_is_refused_everywhere(sample_chain, shared_renderer, env):
    """Stipple is registered; another project's manifest loads its adapter file as a plain LoRA and
    names no registry style, so its owner would neither consent nor be paid. The pin API refuses
    it (nothing pinned), the oracle renders and sends nothing (the token stays refundable), and a
    lying oracle's honest-looking fulfilment is refuted by the verifier."""
    from backend.verify.verifier import Verifier
    from backend.web import create_app
    from backend.web.catalog import Catalog
    from tests.verify.conftest import fulfill_with, honest_metadata

    node, sample, store = sample_chain
    owner = accounts.test_accounts[STYLE_OWNER_ACCOUNTS["stipple"]]
    stipple = register_shipped_styles(sample.contract, store, {"stipple": owner})["stipple"]
    manifest = blend_manifest({"stipple": 0.3, "inkline": 0.7})
    client = StyleMintClient(node.url, sample.deployment.address)
    app = create_app({"IPFS_STORE": store, "CATALOG": Catalog(client, store, env / "catalog.sqlite"),
                      "VERIFIER": Verifier(client, store, models_dir=shared_renderer.models_dir), "TESTING": True})
    pins = store.pins()
    response = app.test_client().post("/api/manifests", data=manifest.canonical_bytes(),
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 422 and f"registry style {stipple}" in response.json["message"], response.json
    assert store.pins() == pins

    project_id = core.create_project(
        sample.contract, accounts.test_accounts[3], name=manifest.name, manifest_cid=pin_manifest(store, manifest),
        manifest_hash=manifest.sha256(), price_wei=PRICE, max_editions=10, unpause=True,
        approve_by=accounts.test_accounts[0])
    mint = core.mint(sample.contract, accounts.test_accounts[4], project_id)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    run_until_idle(oracle)
    job = oracle.jobs.for_token(mint.token_id)
    assert job.state == "failed" and job.render_path is None
    assert f"the adapter of registry style {stipple}" in job.last_error
    assert transactions_from(node.url, oracle.signer.address) == []
    assert sample.contract.isFulfilled(mint.token_id) is False

    metadata, seed = honest_metadata(node, sample, store, shared_renderer, mint)
    fulfill_with(sample, store, mint, seed, metadata)
    report = verifier_for(node, sample, store, shared_renderer.models_dir).verify(mint.token_id)
    assert report.outcome == "attribution_mismatch", report.reason
    assert f"registry style {stipple}" in report.reason
