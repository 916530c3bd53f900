"""The artist's page in a real browser: preview before anything is pinned, a create that pins only
after the chain accepted it, inline settings, the sales ledger and the balance."""

import json

import httpx
import pytest
from ape import accounts

from backend.dev import ape_contract as core
from tests.web.conftest import screenshot
from tests.support.pages import wait_fulfilled

pytestmark = pytest.mark.e2e
ARTIST = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # anvil account 3: the sample project's artist


def stored_blocks(store) -> set:
    return {path.name for path in (store.root / "blocks").rglob("*") if path.is_file()}


def test_preview_pins_nothing_and_a_refused_create_pins_nothing(open_page, site):
    base, node, sample, store = site
    before, projects = stored_blocks(store), sample.contract.nextProjectId()
    page = open_page("/artist", account=ARTIST, authorized=True)
    page.fill("input[name=name]", "Fern Study")
    page.click("#preview-button")
    page.wait_for_selector("#preview figure img", timeout=60_000)
    assert page.locator("#preview figure img").count() == 4
    widths = page.evaluate("[...document.querySelectorAll('#preview img')].map((i) => i.naturalWidth)")
    assert widths == [128, 128, 128, 128]  # the template's model, stylemint-gen, at its own size
    captions = page.locator("#preview figcaption").all_inner_texts()
    assert all(", in " in c and c.endswith(" colours") for c in captions), captions  # the form's default template
    # The form's defaults are the template's words, the layout chosen by the motif included.
    template = httpx.get(base + "/api/manifests/template").json()
    assert json.loads(page.input_value("textarea[name=variables]")) == template["variables"]
    assert page.input_value("input[name=prompt]") == template["prompt"]
    assert "nothing was pinned" in page.inner_text("#messages")
    screenshot(page, "artist-preview")
    assert stored_blocks(store) == before
    # A name the contract would refuse (40 characters, 80 bytes): the page says so first; nothing pinned, no project.
    page.fill("input[name=name]", "é" * 40)
    page.click("#create button[type=submit]")
    page.wait_for_selector("text=The name must be 1 to 64 bytes.", timeout=30_000)
    assert stored_blocks(store) == before and sample.contract.nextProjectId() == projects
    page.fill("input[name=name]", "Fern Study")
    page.click("#create button[type=submit]")
    page.wait_for_selector("text=and its manifest pinned as", timeout=60_000)
    created = sample.contract.projectInfo(projects)
    assert created.name == "Fern Study" and store.has(created.manifestCID)
    assert stored_blocks(store) == before | {created.manifestCID}  # exactly one thing pinned: the manifest


def test_preview_is_capped_and_rate_limited(site):
    import httpx

    base, node, sample, store = site
    manifest = httpx.get(f"{base}/api/manifests/template").json()
    costly = {**manifest, "width": 512, "height": 512, "steps": 30}
    refused = httpx.post(f"{base}/api/manifests/preview", json=costly)
    assert refused.status_code == 422 and "a preview renders at most 491,520 pixel-steps" in refused.json()["message"]
    too_many = httpx.post(f"{base}/api/manifests/preview?count=5", json=manifest)
    assert too_many.status_code == 400 and "count must be from 1 to 4" in too_many.json()["message"]
    statuses = [httpx.post(f"{base}/api/manifests/preview?count=1", json=manifest, timeout=60).status_code
                for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # 6 per minute per client; the two refusals above counted


def test_dashboard_sales_inline_settings_and_withdrawal(open_page, site):
    base, node, sample, store = site
    collector = accounts.test_accounts[4]
    paid = core.mint(sample.contract, collector, sample.project_id)
    wait_fulfilled(sample.contract, paid.token_id)
    page = open_page("/artist", account=ARTIST, authorized=True)
    page.wait_for_selector("#sales tr.sale")
    ledger = page.inner_text("#earnings tbody")
    assert ledger.split("\t")[:3] == ["Stipple Shapes", "1", "1"]  # minted, paid sales
    assert "0.0000000009 ETH" in ledger  # the artist's 90 % of 1 gwei
    sale = page.inner_text(f"#sales tr[data-token='{paid.token_id}']")
    assert "#1" in sale and "0x15d3…6A65" in sale and "paid out" in sale and "0.0000000009 ETH" in sale
    # Inline settings: each sends one transaction; a refused one says why and changes nothing.
    card = f".card[data-project='{sample.project_id}']"
    page.fill(f"{card} .setting-price input", "0.002")
    page.click(f"{card} .setting-price button")
    page.wait_for_selector("text=Price (ETH) set to 0.002.", timeout=30_000)
    page.fill(f"{card} .setting-royalty input", "7.5")
    page.click(f"{card} .setting-royalty button")
    page.wait_for_selector("text=Royalty (%) set to 7.5.", timeout=30_000)
    page.fill(f"{card} .setting-cap input", "50")
    page.click(f"{card} .setting-cap button")
    page.wait_for_selector("text=Edition cap set to 50.", timeout=30_000)
    info = sample.contract.projectInfo(sample.project_id)
    price = core.project_minter(sample.contract, sample.project_id).priceInfo(sample.project_id)[1]
    assert (price, info.royaltyBps, info.maxEditions) == (2 * 10**15, 750, 50)
    page.fill(f"{card} .setting-cap input", "60")  # a cap is only ever lowered
    page.click(f"{card} .setting-cap button")
    page.wait_for_selector("text=That edition cap is not allowed", timeout=30_000)
    sent = page.evaluate("window.__walletCalls.eth_sendTransaction")
    page.fill(f"{card} .setting-royalty input", "12")  # over 10 %: the form itself refuses, nothing is sent
    page.click(f"{card} .setting-royalty button")
    assert page.evaluate(f"document.querySelector(\"{card} .setting-royalty input\").validity.rangeOverflow")
    assert page.evaluate("window.__walletCalls.eth_sendTransaction") == sent
    info = sample.contract.projectInfo(sample.project_id)
    price = core.project_minter(sample.contract, sample.project_id).priceInfo(sample.project_id)[1]
    assert (price, info.royaltyBps, info.maxEditions) == (2 * 10**15, 750, 50)
    page.click("#withdraw")
    page.wait_for_selector("text=Withdrawn 0.0000000009 ETH.", timeout=30_000)
    page.wait_for_function("() => document.getElementById('withdrawn').innerText === '0.0000000009 ETH'")
    assert page.inner_text("#credit") == "0.0" and sample.contract.creditOf(ARTIST) == 0
    screenshot(page, "artist-dashboard")
