"""An artist's own style end to end on anvil: trained from a folder of images with
`stylemint style train`'s code, registered, blended with a shipped style, minted, rendered by the
oracle, paid by the attention its trigger received, and confirmed by the verifier, which also
reports the counterfactual measure beside it (`verify --cross-check`)."""

import json

import pytest
from ape import accounts

from backend.chain.client import StyleMintClient
from backend.dev import ape_contract as core
from backend.dev.sample import STYLE_OWNER_ACCOUNTS, pin_manifest, register_shipped_styles
from backend.ipfs.cid import cid_of
from backend.model.own_style import train_own_style
from backend.render.renderer import Renderer
from backend.render.samples import shipped_adapter, tiny_manifest
from tests.model.test_own_style import artist_folder
from tests.oracle.conftest import make_oracle
from tests.support.chain import run_until_idle
from tests.verify.conftest import verifier_for

pytestmark = pytest.mark.e2e
PRICE, SHARE_BPS = 10**9, 4_000


def test_a_style_trained_by_an_artist_registers_blends_renders_and_is_paid(sample_chain, shared_renderer, env):
    node, sample, store = sample_chain
    trained = train_own_style(artist_folder(env / "art"), "hatch", env / "hatch.safetensors", steps=30, report=lambda _: None)
    data = trained.path.read_bytes()
    assert store.add(data) == trained.cid == cid_of(data)
    artist_owner = accounts.test_accounts[8]
    hatch_id = core.register_style(sample.contract, artist_owner, name="Hatch", trigger="hatch", adapter_cid=trained.cid,
                                   adapter_sha256=trained.sha256)
    stipple_id = register_shipped_styles(sample.contract, store, {"stipple": accounts.test_accounts[STYLE_OWNER_ACCOUNTS["stipple"]]})["stipple"]
    manifest = tiny_manifest(None, name="Dots and Hatching", prompt="one {colour} {shape} on a {ground} ground, stipple style, hatch style",
                             variables={"colour": ["red", "blue"], "shape": ["circle", "square"], "ground": ["dark", "light"]},
                             attribution="attention",
                             styles=[{"trigger": "stipple", **shipped_adapter("stipple")},
                                     {"trigger": "hatch", "kind": "trigger_kv", "cid": trained.cid, "sha256": trained.sha256,
                                      "scale": 1.0}])
    project_id = core.create_project(sample.contract, accounts.test_accounts[3], name=manifest.name,
                                     manifest_cid=pin_manifest(store, manifest), manifest_hash=manifest.sha256(),
                                     price_wei=PRICE, max_editions=5, unpause=True, approve_by=accounts.test_accounts[0],
                                     style_ids=(stipple_id, hatch_id), styles_share_bps=SHARE_BPS)
    mint = core.mint(sample.contract, accounts.test_accounts[4], project_id)
    renderer = Renderer(device="cpu", threads=2, models_dir=shared_renderer.models_dir, fetch_adapter=store.get)
    run_until_idle(make_oracle(node, sample, store, renderer, env / "state.sqlite"))

    client = StyleMintClient(node.url, sample.deployment.address)
    metadata = json.loads(store.get(client.view("tokenMetadataCID", mint.token_id)))
    attribution = metadata["provenance"]["attribution"]
    weights = [s["weight_bps"] for s in attribution["styles"]]
    assert attribution["method"] == "attention" and [s["trigger"] for s in attribution["styles"]] == ["stipple", "hatch"]
    assert sum(weights) == 10_000 and all(w > 0 for w in weights)
    paid = client.styles_paid(mint.token_id)
    pool = (PRICE - PRICE // 10) * SHARE_BPS // 10_000
    assert paid["style_ids"] == [stipple_id, hatch_id] and paid["weights_bps"] == weights
    assert paid["amounts"] == [pool * w // 10_000 for w in weights]
    assert int(sample.contract.creditOf(artist_owner)) == paid["amounts"][1] > 0

    report = verifier_for(node, sample, store, shared_renderer.models_dir, cross_check=True).verify(mint.token_id)
    assert report.outcome == "exact", report.reason
    (crossed,) = [c for c in report.checks if c.step == "cross_check"]
    assert "(attention) vs" in crossed.detail and "(counterfactual)" in crossed.detail
    assert set(report.comparison["cross_check"]) == {"attention", "counterfactual"}
