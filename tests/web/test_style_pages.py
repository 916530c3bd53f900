"""The style library in a real browser: a style's owner registers it (adapter pinned through the
API), an artist blends it with another, a collector mints and sees each style's share and pay,
the owner withdraws, retires the style, and minting is then refused with a plain message.
Plus the API's own refusals of hostile uploads and mismatched manifests."""

import json

import pytest
from ape import accounts

from backend.dev import ape_contract as core
from backend.dev.sample import register_shipped_styles
from backend.render import shipped
from backend.render.samples import blend_manifest
from tests.support.pages import ARTIST, COLLECTOR
from tests.web.conftest import screenshot

pytestmark = pytest.mark.e2e
OWNER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # anvil account 6: registers Stipple in the page


def test_register_blend_mint_see_shares_withdraw_retire(open_page, site):
    base, node, sample, store = site
    admin = accounts.test_accounts[0]
    page = open_page("/styles", account=OWNER)
    page.wait_for_selector("text=No styles are registered yet.")
    page.click("#connect")
    page.fill("#register input[name=name]", "Stipple")
    page.fill("#register input[name=trigger]", "stipple style")  # stylemint-gen's two-word trigger
    page.set_input_files("#register input[name=adapter]", str(shipped.GEN_STYLES["stipple"].path))
    page.click("#register button[type=submit]")
    page.wait_for_selector("text=Style #1 \"Stipple\" registered", timeout=30_000)
    registry = core.style_registry(sample.contract)
    info = registry.styleInfo(1)
    assert (info.owner, info.trigger, bytes(info.adapterHash).hex()) == (OWNER, "stipple style", shipped.GEN_STYLES["stipple"].sha256)
    assert store.get(info.adapterCID) == shipped.GEN_STYLES["stipple"].read()  # pinned through the API
    page.wait_for_selector("[data-style='1'] .retire")
    assert "you" in page.inner_text("[data-style='1']")
    # A second owner registers Inkline (account 5, through ape). Both are stylemint-gen's: the artist
    # page's template is on that model, and an adapter acts only on the base it was trained on.
    register_shipped_styles(sample.contract, store, {"inkline": accounts.test_accounts[5]}, model_id=shipped.GEN_MODEL.id)

    # The artist blends both: one manifest pin (checked against the registry) and two transactions.
    artist = open_page("/artist", account=ARTIST)
    artist.fill("input[name=name]", "Dots and Lines")
    artist.fill("input[name=styles]", "1, 2")
    artist.fill("input[name=share]", "30")
    artist.fill("input[name=scale]", "0.8")
    artist.click("#create button[type=submit]")
    artist.wait_for_selector("text=Project 2 created (paused)", timeout=60_000)
    style_ids, share = sample.contract.projectStyles(2)
    assert (list(style_ids), share) == ([1, 2], 3_000)
    manifest = json.loads(store.get(sample.contract.projectInfo(2).manifestCID))
    assert [(s["trigger"], s["cid"]) for s in manifest["styles"]] == [("stipple style", info.adapterCID),
                                                                      ("inkline style", registry.styleInfo(2).adapterCID)]
    assert manifest["prompt"].endswith(", stipple style, inkline style")
    assert [s["scale"] for s in manifest["styles"]] == [0.8, 0.8]  # the strength the artist chose
    sample.contract.approveProject(2, sample.contract.projectInfo(2).manifestHash, sample.contract.stylesConfigHash(2), sender=admin)
    sample.contract.setProjectPaused(2, False, sender=accounts.test_accounts[3])

    # The project page names the styles and their share; a collector mints; the token shows the pay.
    collector = open_page("/project?id=2", account=COLLECTOR)
    collector.wait_for_selector("#styles li[data-style='2']")
    assert "30 % of the artist's 90 % goes to Stipple and Inkline" in collector.inner_text("#facts")
    screenshot(collector, "project-blend")
    collector.click("#mint")
    collector.wait_for_url("**/token?id=2000000", timeout=90_000)
    collector.wait_for_selector(".style-share .paid", timeout=30_000)
    paid = sample.contract.StylesPaid.query("*", start_block=0)
    assert len(paid) == 1
    weights = [int(w) for w in paid.iloc[0]["event_arguments"]["weightsBps"]]
    rows = collector.query_selector_all(".style-share")
    assert [r.query_selector("td:nth-child(2)").inner_text() for r in rows] == [f"{w / 100:.2f} %" for w in weights]
    assert [r.query_selector("td").inner_text() for r in rows] == ["stipple style", "inkline style"]
    assert "to style #1" in rows[0].inner_text() and "to style #2" in rows[1].inner_text()
    # The whole split of the sale: platform, each style, artist; the parts add up to the price paid.
    collector.wait_for_selector("#split table.split")
    parts = [int(cell.get_attribute("data-wei")) for cell in collector.query_selector_all("#split tr.part .amount")]
    sold_for = int(collector.get_attribute("#split tr.total .amount", "data-wei"))
    amounts = [int(a) for a in paid.iloc[0]["event_arguments"]["amounts"]]
    assert len(parts) == 4 and parts[1:3] == amounts and sum(parts) == sold_for == 10**16
    assert parts[0] == sold_for // 10 and collector.inner_text("#split tr.total th").startswith("Price paid")
    screenshot(collector, "token-blend-paid")

    # The library shows the mint and the earnings; the owner withdraws them.
    page.reload()
    page.click("#connect")
    page.wait_for_function("() => document.querySelector(\"[data-style='1'] .mints\")?.innerText === '1'")
    assert page.inner_text("[data-style='1'] .projects") == "Dots and Lines"
    earned = int(sample.contract.creditOf(OWNER))
    price = int(core.project_minter(sample.contract, 2).priceInfo(2)[1])  # the artist page's default, 0.01 ETH
    assert earned == (price - price // 10) * 3_000 // 10_000 * weights[0] // 10_000 > 0
    assert page.inner_text("[data-style='1'] .earned") == f"{earned / 1e18:.10f}".rstrip("0") + " ETH"
    screenshot(page, "styles")
    page.click("#withdraw")
    page.wait_for_selector(f"text=Withdrawn {earned / 1e18:.10f}".rstrip("0") + " ETH.", timeout=30_000)
    assert sample.contract.creditOf(OWNER) == 0

    # The artist's dashboard splits the sale: platform 10 %, the styles their weights, the artist the rest.
    dashboard = open_page("/artist", account=ARTIST)
    dashboard.click("#connect")
    dashboard.wait_for_selector("#earnings tbody tr:nth-child(2)")
    cells = dashboard.inner_text("#earnings tbody tr:nth-child(2)").split("\t")
    to_styles = sum(int(a) for a in paid.iloc[0]["event_arguments"]["amounts"])
    assert cells == ["Dots and Lines", "1", "1", "0.01 ETH", "0.001 ETH", f"{to_styles / 1e18:.10f}".rstrip("0") + " ETH",
                     f"{(price - price // 10 - to_styles) / 1e18:.10f}".rstrip("0") + " ETH"]
    screenshot(dashboard, "artist-earnings")

    # The owner retires Stipple while the collector has the project open: the mint is refused in
    # plain words; reloaded, the page says why and offers no Mint.
    collector.goto(base + "/project?id=2")
    collector.wait_for_selector("#styles li[data-style='1']")
    warnings = []
    page.on("dialog", lambda dialog: (warnings.append(dialog.message), dialog.accept()))
    page.click("[data-style='1'] .retire")
    page.wait_for_selector("text=Stipple retired.", timeout=30_000)
    assert registry.styleInfo(1).retired
    assert len(warnings) == 1 and "Locked projects hold a licence" in warnings[0]  # warned before, once
    minted = sample.contract.projectInfo(2).invocations
    collector.click("#mint")
    collector.wait_for_selector("text=A style this project blends was retired by its owner", timeout=30_000)
    assert sample.contract.projectInfo(2).invocations == minted
    collector.reload()
    collector.wait_for_selector("text=Stipple was retired by its owner: this project can no longer mint.")
    assert "closed: a style it blends is retired" in collector.inner_text("#facts")
    assert collector.is_disabled("#mint")
    screenshot(collector, "project-style-retired")


def test_the_api_refuses_hostile_adapters_and_mismatched_manifests(site):
    import requests

    base, node, sample, store = site
    register_shipped_styles(sample.contract, store, {"stipple": accounts.test_accounts[5],
                                                      "inkline": accounts.test_accounts[6]})
    adapter = shipped.STYLES["haze"].read()
    cases = [("text/plain", adapter, 415), ("application/octet-stream", b"not safetensors", 422),
             ("application/octet-stream", b"\xff" * 8 + b"{}", 422),
             ("application/octet-stream", adapter + b"\x00" * (32 * 1024 * 1024), 413)]
    for content_type, body, status in cases:
        reply = requests.post(f"{base}/api/adapters", data=body, headers={"Content-Type": content_type}, timeout=30)
        assert reply.status_code == status, (content_type, body[:16], reply.text)
        assert reply.json()["message"]
    assert not store.has(__import__("backend.ipfs.cid", fromlist=["cid_of"]).cid_of(adapter))  # nothing pinned
    reply = requests.post(f"{base}/api/adapters", data=adapter,
                          headers={"Content-Type": "application/octet-stream"}, timeout=30)
    assert reply.status_code == 201 and reply.json()["sha256"] == "0x" + shipped.STYLES["haze"].sha256
    assert store.get(reply.json()["cid"]) == adapter

    manifest = blend_manifest({"stipple": 0.5, "inkline": 0.5}).model_dump(mode="json")
    post = lambda query: requests.post(f"{base}/api/manifests{query}", json=manifest, timeout=30)  # noqa: E731
    assert post("?styles=1,2").status_code == 201
    wrong_order = post("?styles=2,1")
    assert wrong_order.status_code == 422
    assert "style 1 is registry style 2 'Inkline'" in wrong_order.json()["message"]
    assert "blends 1 registered style(s) but the manifest loads 2" in post("?styles=1").json()["message"]
    assert post("?styles=9").status_code == 422 and "no style among [9]" in post("?styles=9").json()["message"]
    assert post("?styles=x").status_code == 400
    styles = requests.get(f"{base}/api/styles", timeout=30).json()["styles"]
    assert [(s["id"], s["name"], s["terms"], s["mints"], s["earned_wei"]) for s in styles] == [
        (1, "Stipple", "open", 0, "0"), (2, "Inkline", "open", 0, "0")]
    assert requests.get(f"{base}/api/styles/3", timeout=30).status_code == 404
