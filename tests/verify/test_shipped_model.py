"""The shipped model end to end: a token of a stylemint-tiny project (with its Stipple style, fetched
from IPFS by CID) is rendered by the oracle, pinned, fulfilled and verified exact by an auditor."""

import json
import threading

import pytest
from ape import accounts

from backend.chain.client import StyleMintClient
from backend.dev import ape_contract as core
from backend.dev.anvil import Anvil
from backend.dev.sample import deploy_sample
from backend.ipfs.embedded import EmbeddedStore
from backend.model import judges
from backend.render import shipped
from backend.render.renderer import Renderer
from backend.render.samples import tiny_manifest
from backend.verify.verifier import Verifier
from tests.oracle.conftest import env, make_oracle  # noqa: F401  (fixture)

pytestmark = pytest.mark.e2e


def test_a_stylemint_tiny_token_is_rendered_and_verified_exact(env, tmp_path):  # noqa: F811
    from ape import networks

    manifest = tiny_manifest("stipple")
    with Anvil(log_path=env / "anvil.log") as node:
        with networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
            store = EmbeddedStore(env / "data" / "ipfs")
            sample = deploy_sample(node.url, store, price_wei=10**9, manifest=manifest)
            assert store.get(manifest.styles[0].cid) == shipped.STYLES["stipple"].read()
            mints = [core.mint(sample.contract, accounts.test_accounts[4 + i], sample.project_id) for i in range(2)]
            renderer = Renderer(device="cpu", threads=2, models_dir=tmp_path / "models", fetch_adapter=store.get)
            oracle = make_oracle(node, sample, store, renderer, env / "state.sqlite")
            oracle.run(threading.Event(), until_idle=True)

            verifier = Verifier(StyleMintClient(node.url, sample.deployment.address, retries=1, backoff=0.01), store,
                                models_dir=tmp_path / "verifier-models")
            for record in mints:
                report = verifier.verify(record.token_id)
                assert report.outcome == "exact", report.reason
                metadata = json.loads(store.get(sample.contract.tokenMetadataCID(record.token_id)))
                assert metadata["provenance"]["model_id"] == shipped.MODEL_ID
                traits = {a["trait_type"]: a["value"] for a in metadata["attributes"]}
                assert traits["Model"] == shipped.MODEL_ID
                rendered = renderer.render(manifest, bytes(sample.contract.tokenSeed(record.token_id)))
                assert rendered.traits == {k: traits[k] for k in manifest.variables}
                assert store.get(metadata["image"].removeprefix("ipfs://")) == rendered.png
                assert rendered.pixels().shape == (64, 64, 3)
                # The one style's attribution, its heat map pinned, re-computed by the verifier.
                recorded = metadata["provenance"]["attribution"]
                assert recorded == rendered.attribution and recorded["styles"][0]["weight_bps"] == 10_000
                assert store.get(recorded["styles"][0]["heatmap_cid"]).startswith(b"\x89PNG")
                assert any(c.step == "attribution" and c.passed for c in report.checks)
