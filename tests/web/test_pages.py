"""The pages in a real browser (Debian Chromium via playwright) with an injected test wallet."""

import json
import time
from datetime import datetime, timezone

import pytest
from ape import accounts

from eth_utils import keccak

from backend.dev.anvil import rpc_call
from backend.ipfs.cid import cid_of
from backend.render.samples import sample_manifest

from backend.chain.abi import contract_abi
from backend.dev import ape_contract as core
from tests.support.pages import ARTIST, COLLECTOR, wait_fulfilled
from tests.web.conftest import screenshot

pytestmark = pytest.mark.e2e
def test_collector_connects_mints_and_sees_the_render(open_page, site):
    base, node, sample, store = site
    page = open_page(f"/project?id={sample.project_id}", account=COLLECTOR)
    page.wait_for_selector("#facts dd")
    assert "100 of 100 left" in page.inner_text("#facts")
    assert "stylemint-tiny-2 (sha256" in page.inner_text("#facts") and "+ \"stipple\" trigger_kv" in page.inner_text("#facts")
    screenshot(page, "project")
    page.click("#mint")
    page.wait_for_selector("#tx", timeout=30_000)
    assert "sent" in page.inner_text("#tx")
    page.wait_for_selector("#rendering", timeout=30_000)
    page.wait_for_url("**/token?id=1000000", timeout=60_000)
    page.wait_for_selector("#provenance dd", timeout=30_000)
    image = page.get_attribute("#image", "src")
    assert image.startswith("/ipfs/bafkrei")
    assert page.evaluate("document.getElementById('image').naturalWidth") == 64
    provenance = page.inner_text("#provenance")
    seed = "0x" + bytes(sample.contract.tokenSeed(1_000_000)).hex()
    metadata_cid = sample.contract.tokenMetadataCID(1_000_000)
    # Hashes are shortened for reading, whole in their title and copy button.
    assert page.get_attribute(f'#provenance button.copy[data-copy="{seed}"]', "data-copy") == seed
    assert seed not in provenance and f"{seed[:10]}…{seed[-6:]}" in provenance
    assert page.query_selector(f'#facts [data-copy="ipfs://{metadata_cid}"]')
    assert page.query_selector(f'#facts [data-copy="{COLLECTOR}"]')
    assert "stylemint-tiny" in provenance and ", stipple style" in provenance
    # What every mint site shows: project, artist, edition n of N, traits, mint time and price, links.
    byline = " ".join(page.inner_text("#byline").split())
    assert byline.startswith("Stipple Shapes by 0x90F79bf6…93b906") and byline.endswith("· #1 of 100 · token 1000000")
    metadata = json.loads(store.get(metadata_cid))
    chips = page.inner_text("#traits")
    assert len(metadata["attributes"]) >= 3 and all(str(a["value"]) in chips for a in metadata["attributes"])
    assert f"{mint_time(node, 1_000_000)} for 0.000000001 ETH" in page.inner_text("#facts")
    assert page.get_attribute("#metadata-link", "href") == f"/ipfs/{metadata_cid}"
    assert page.get_attribute("#image-link", "href") == image
    # The environment is a table of its entries, not a JSON blob.
    environment = metadata["provenance"]["environment"]
    assert page.locator("#provenance table.environment tr").count() == len(environment)
    assert "{" not in page.inner_text("#provenance table.environment th")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click(f'#provenance button.copy[data-copy="{seed}"]')
    page.wait_for_selector("#provenance button.copy:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == seed
    screenshot(page, "token")
    page.click("#verify")
    page.wait_for_selector("#outcome", timeout=60_000)
    assert page.inner_text("#outcome").startswith("EXACT")
    screenshot(page, "token-verified")


@pytest.mark.parametrize("app_config", [{"EXPLORER_URL": "https://explorer.invalid"}], indirect=True)
def test_the_token_page_follows_the_render_live_and_never_shows_a_broken_image(open_page, site, render_gate):
    base, node, sample, store = site
    render_gate.clear()  # the oracle's render stops after step 2 until the test lets it go on
    record = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    page = open_page(f"/token?id={record.token_id}", account=COLLECTOR)
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads itself
    page.wait_for_selector("#progress li.current[data-phase=rendering]:has-text('step 2 of')", timeout=60_000)
    assert page.inner_text("#progress li.done").startswith("Minted")
    assert page.get_attribute("#progress progress", "value") == "2"
    assert page.is_hidden("#image") and page.get_attribute("#image", "src") is None  # no broken image
    assert page.inner_text("#placeholder") == "Not rendered yet"
    # With a block explorer configured, transactions and addresses link to it (never visited here).
    tx = record.tx_hash
    assert page.get_attribute(f'#facts a[title="{tx}"]', "href") == f"https://explorer.invalid/tx/{tx}"
    assert page.get_attribute(f'#byline a[title="{ARTIST}"]', "href") == f"https://explorer.invalid/address/{ARTIST}"
    steps = page.evaluate("document.querySelector('#progress progress').max")
    screenshot(page, "token-rendering")
    render_gate.set()
    page.wait_for_selector("#image:not([hidden])", timeout=60_000)
    assert page.evaluate("document.getElementById('image').naturalWidth") == 64
    assert page.is_hidden("#progress") and page.is_hidden("#placeholder")
    assert page.evaluate("window.__sameDocument") is True  # it updated itself, no reload
    page.wait_for_selector("#provenance dd")
    assert steps == json.loads(store.get(sample.contract.projectInfo(sample.project_id).manifestCID))["steps"]


def mint_time(node, token_id: int) -> str:
    """The time of the block with the token's Mint log, as the pages print it (UTC, to the minute)."""
    topic = "0x" + keccak(text="Mint(uint256,uint256,address,bytes32,uint256,address)").hex()
    logs = rpc_call(node.url, "eth_getLogs", [{"fromBlock": "0x0", "topics": [topic, "0x%064x" % token_id]}])
    block = rpc_call(node.url, "eth_getBlockByNumber", [logs[0]["blockNumber"], False])
    return datetime.fromtimestamp(int(block["timestamp"], 16), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def test_gallery_lists_projects(open_page, site):
    base, node, sample, store = site
    page = open_page("/", account=COLLECTOR)
    page.wait_for_selector(".card.project")
    assert "Stipple Shapes" in page.inner_text("#projects") and "100 of 100 left" in page.inner_text("#projects")
    assert "model stylemint-tiny-2" in page.inner_text("#projects")
    screenshot(page, "gallery")


def test_artist_creates_and_unpauses_a_project_that_then_appears_in_the_gallery(open_page, site):
    base, node, sample, store = site
    page = open_page("/artist", account=ARTIST)
    page.fill("input[name=name]", "Night Ferns")
    page.fill("input[name=editions]", "12")
    page.click("#create button[type=submit]")
    page.wait_for_selector(".message.ok", timeout=60_000)
    assert "Project 2 created (paused)" in page.inner_text("#messages")
    info = sample.contract.projectInfo(2)
    assert info.name == "Night Ferns" and info.maxEditions == 12 and info.paused
    assert store.has(info.manifestCID)  # pinned through the API
    assert json.loads(store.get(info.manifestCID))["model"]["id"] == "stylemint-gen"  # the template's model
    page.wait_for_selector("[data-project='2'] .toggle")
    assert page.get_attribute("[data-project='2'] .stage", "data-stage") == "review"
    assert "Awaiting the platform's review" in page.inner_text("[data-project='2'] .stage")
    # Not approved: not in the gallery, only in the list awaiting review (pointing to the Review page).
    gallery = open_page("/", account=ARTIST)
    gallery.wait_for_selector("#awaiting:not([hidden]) [data-project='2']", state="attached")
    assert "Night Ferns" not in gallery.inner_text("#projects")
    assert gallery.inner_text("#awaiting summary") == "1 project awaiting the platform's review"
    assert gallery.get_attribute("#awaiting a[href='/review']", "href") == "/review"
    screenshot(gallery, "gallery-awaiting")
    admin = accounts.test_accounts[0]
    sample.contract.approveProject(2, bytes(info.manifestHash), sample.contract.stylesConfigHash(2), sender=admin)
    page.reload()
    page.click("#connect")
    page.wait_for_selector("[data-project='2'] .stage[data-stage=paused]")
    assert "unpause it to open minting" in page.inner_text("[data-project='2'] .stage")
    page.click("[data-project='2'] .toggle")
    page.wait_for_selector("text=Unpaused.", timeout=30_000)
    assert not sample.contract.projectInfo(2).paused
    page.wait_for_selector("[data-project='2'] .stage[data-stage=live]")
    screenshot(page, "artist")
    gallery = open_page("/", account=ARTIST)
    gallery.wait_for_selector("#projects >> text=Night Ferns")
    assert "12 of 12 left" in gallery.inner_text("#projects")
    assert "model stylemint-gen" in gallery.inner_text("#projects")
    assert gallery.is_hidden("#awaiting")


def test_sold_out_shows_its_message(open_page, site):
    base, node, sample, store = site
    artist = accounts.test_accounts[3]
    project_id = core.create_project(sample.contract, artist, name="Tiny", manifest_cid=sample.manifest_cid,
                                     manifest_hash=sample_hash(sample), price_wei=0, max_editions=1, unpause=True,
                                     approve_by=accounts.test_accounts[0])
    core.mint(sample.contract, accounts.test_accounts[5], project_id)
    page = open_page(f"/project?id={project_id}", account=COLLECTOR)
    page.wait_for_selector(".message.error")
    assert "Sold out" in page.inner_text("#messages")
    assert page.is_disabled("#mint") and page.inner_text("#mint-reason") == "Minting is closed: sold out."
    assert "sold out" in page.inner_text("#facts")  # the status, not "open"
    screenshot(page, "sold-out")


def test_a_refusal_after_the_page_loaded_is_shown_in_words(open_page, site):
    """The page showed an open project; it changed before the click: the contract's custom error
    (raw revert data in the gas estimate) is decoded into the page's own words."""
    base, node, sample, store = site
    artist = accounts.test_accounts[3]
    project_id = core.create_project(sample.contract, artist, name="Last One", manifest_cid=sample.manifest_cid,
                                     manifest_hash=sample_hash(sample), price_wei=0, max_editions=1, unpause=True,
                                     approve_by=accounts.test_accounts[0])
    page = open_page(f"/project?id={project_id}", account=COLLECTOR)
    page.wait_for_selector("#facts dd")
    assert page.is_enabled("#mint") and page.inner_text("#messages") == ""
    core.mint(sample.contract, accounts.test_accounts[5], project_id)  # someone else takes the last edition
    page.click("#mint")
    page.wait_for_selector("text=Sold out: every edition of this project has been minted.", timeout=30_000)
    assert "unknown custom error" not in page.inner_text("#messages")
    paused = open_page(f"/project?id={sample.project_id}", account=COLLECTOR)
    paused.wait_for_selector("#facts dd")
    sample.contract.setProjectPaused(sample.project_id, True, sender=artist)
    paused.click("#mint")
    paused.wait_for_selector("text=Minting is paused for this project.", timeout=30_000)
    sample.contract.setProjectPaused(sample.project_id, False, sender=artist)
    empty = open_page("/artist", account=accounts.test_accounts[7].address)
    empty.click("#connect")
    empty.wait_for_function("() => document.querySelector('#credit').innerText !== '-'")
    empty.click("#withdraw")
    empty.wait_for_selector("text=Nothing to withdraw yet.", timeout=30_000)


def test_wrong_network_is_detected_and_switched(open_page, site):
    base, node, sample, store = site
    page = open_page(f"/project?id={sample.project_id}", account=COLLECTOR, chain_id=1)
    page.wait_for_selector("#facts dd")
    page.click("#connect")
    page.wait_for_selector("text=Wrong network")
    assert "your wallet is on chain 1, stylemint runs on chain 31337" in page.inner_text("#messages")
    screenshot(page, "wrong-network")
    page.click("text=Switch network")
    page.wait_for_selector("text=Network switched.")


def test_rejected_signature_and_no_wallet(open_page, browser, site):
    base, node, sample, store = site
    page = open_page(f"/project?id={sample.project_id}", account=COLLECTOR, reject=True)
    page.click("#connect")
    page.wait_for_selector("text=You rejected the request in your wallet.")
    bare = browser.new_page()
    bare.goto(f"{base}/project?id={sample.project_id}")
    bare.click("#connect")
    bare.wait_for_selector("text=No wallet found")
    bare.close()


def sample_hash(sample):
    return bytes(sample.contract.projectInfo(sample.project_id).manifestHash)


def test_chooser_when_several_wallets_announce_then_my_tokens(open_page, site):
    base, node, sample, store = site
    core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    page = open_page("/mine", account=COLLECTOR, two_wallets=True)
    page.click("#connect")
    page.wait_for_selector("#chooser[open] button[data-wallet='dev.stylemint.other']")
    assert page.inner_text("#wallets").split("\n") == ["Test Wallet", "Other Wallet"]
    screenshot(page, "wallet-chooser")
    page.click("button[data-wallet='dev.stylemint.testwallet']")
    page.wait_for_selector("#tokens .card")
    assert "Stipple Shapes" in page.inner_text("#tokens") or "Token 1000000" in page.inner_text("#tokens")
    assert page.inner_text("#account").startswith("0x15d3")
    screenshot(page, "my-tokens")


def test_paused_and_insufficient_funds_messages(open_page, site):
    base, node, sample, store = site
    artist = accounts.test_accounts[3]
    sample.contract.setProjectPaused(sample.project_id, True, sender=artist)
    page = open_page(f"/project?id={sample.project_id}", account=COLLECTOR)
    page.wait_for_selector("text=Minting is paused for this project.")
    assert page.is_disabled("#mint") and page.inner_text("#mint-reason") == "Minting is closed: paused."
    sample.contract.setProjectPaused(sample.project_id, False, sender=artist)
    core.project_minter(sample.contract, sample.project_id).setPrice(sample.project_id, 10**30, sender=artist)  # more than any dev account holds
    poor = open_page(f"/project?id={sample.project_id}", account=COLLECTOR)
    poor.wait_for_selector("#facts dd")
    poor.click("#mint")
    poor.wait_for_selector("text=Insufficient funds", timeout=30_000)
    screenshot(poor, "insufficient-funds")


def test_artist_withdraws_the_split(open_page, site):
    base, node, sample, store = site
    record = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    wait_fulfilled(sample.contract, record.token_id)  # the price is credited at fulfillment, not at the mint
    page = open_page("/artist", account=ARTIST)
    page.click("#connect")
    page.wait_for_function("() => document.querySelector('#credit').innerText !== '-'")
    assert page.inner_text("#credit") == "0.0000000009"  # 90 % of 1 gwei
    assert page.evaluate("window.__walletCalls.eth_requestAccounts") == 1  # one click, one connect
    page.click("#withdraw")
    page.wait_for_selector("text=Withdrawn 0.0000000009 ETH.", timeout=30_000)
    assert sample.contract.creditOf(ARTIST) == 0


def test_a_manifest_swapped_after_the_page_loaded_is_not_bought(open_page, site):
    base, node, sample, store = site
    page = open_page(f"/project?id={sample.project_id}", account=COLLECTOR)
    page.wait_for_selector("#facts dd")
    sample.contract.setProjectManifest(sample.project_id, cid_of(b"another style"), b"\x07" * 32,
                                       sender=accounts.test_accounts[3])  # after the collector looked
    page.click("#mint")
    page.wait_for_selector("text=The artist changed this project's style", timeout=30_000)
    assert sample.contract.projectInfo(sample.project_id).invocations == 0
    screenshot(page, "manifest-changed")


def test_collector_refunds_a_token_never_delivered(open_page, site, env):
    base, node, sample, store = site
    artist = accounts.test_accounts[3]
    manifest = sample_manifest(name="Never pinned")
    project_id = core.create_project(sample.contract, artist, name="Never pinned",
                                     manifest_cid=cid_of(b"a manifest nobody pinned"), manifest_hash=manifest.sha256(),
                                     price_wei=10**9, max_editions=3, unpause=True,
                                     approve_by=accounts.test_accounts[0])
    record = core.mint(sample.contract, accounts.test_accounts[4], project_id)  # the oracle cannot render it
    page = open_page(f"/token?id={record.token_id}", account=COLLECTOR)
    page.wait_for_selector("#escrow-note")
    assert "held in escrow" in page.inner_text("#escrow") and page.query_selector("#refund") is None
    page.wait_for_selector("#failure", timeout=60_000)  # the oracle gave up; the page says why, by itself
    assert "is not in the embedded store" in page.inner_text("#failure")
    assert page.locator("#progress li.done").all_inner_texts() == ["Minted"]  # minted, then it stopped
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # the long reason wraps
    assert page.inner_text("#placeholder") == "Rendering failed"
    screenshot(page, "token-failed")
    # Fault injection: another operator committed otherwise to this token (as its countersigning
    # records it): the page names each operator's commitment.
    from backend.oracle.jobs import JobStore

    jobs = JobStore(env / "data" / "oracle" / "state.sqlite")
    jobs.record_disagreement(record.token_id, accounts.test_accounts[7].address,
                             {"seed": "0x" + "05" * 32, "metadata_digest": "0x" + "06" * 32, "weights_bps": [10_000]})
    jobs.close()
    page.reload()
    page.wait_for_selector("#disagree")
    text = page.inner_text("#disagree")
    assert "Oracles disagree" in text and accounts.test_accounts[7].address in text and "0x" + "05" * 32 in text
    screenshot(page, "token-oracles-disagree")
    assert sample.contract.balance == 10**9
    sample.contract.chain_manager.mine(int(sample.contract.REFUND_DELAY()))
    page.reload()
    page.click("#refund")
    page.wait_for_selector("text=Refunded in block", timeout=30_000)
    screenshot(page, "refunded")
    assert sample.contract.balance == 0  # the whole price went back
    assert sample.contract.balanceOf(COLLECTOR) == 0  # the token is burned
    assert sample.contract.projectInfo(project_id).invocations == 1  # the edition stays used


def test_the_token_page_shows_each_styles_share_and_its_heat_map(open_page, site):
    base, node, sample, store = site
    record = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    wait_fulfilled(sample.contract, record.token_id)
    import json as _json

    attribution = _json.loads(store.get(sample.contract.tokenMetadataCID(record.token_id)))["provenance"]["attribution"]
    page = open_page(f"/token?id={record.token_id}", account=COLLECTOR)
    page.wait_for_selector(".style-share")
    assert page.inner_text(".style-share").split() == ["stipple", "100.00", "%", "Heat", "map"]
    assert f"{attribution['method']} attribution" in page.inner_text("#styles")
    assert page.is_hidden("#heatmap")
    page.click("button.heatmap-toggle[data-trigger=stipple]")
    page.wait_for_function("() => document.getElementById('heatmap').naturalWidth === 64")
    assert page.get_attribute("#heatmap", "data-source") == f"/ipfs/{attribution['styles'][0]['heatmap_cid']}"
    assert page.is_visible("#heatmap") and page.get_attribute(".heatmap-toggle", "aria-pressed") == "true"
    # In colour, not the pinned grayscale (which a screen blend made invisible on a light image):
    # the strongest pixel is the scale's pale yellow, the weakest transparent.
    strongest, weakest = page.evaluate("""() => {
        const image = document.getElementById('heatmap');
        const canvas = Object.assign(document.createElement('canvas'), { width: 64, height: 64 });
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0);
        const data = context.getImageData(0, 0, 64, 64).data;
        let best = [0, 0, 0, -1], least = [0, 0, 0, 256];
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] > best[3]) best = [...data.slice(i, i + 4)];
          if (data[i + 3] < least[3]) least = [...data.slice(i, i + 4)];
        }
        return [best, least]; }""")
    assert strongest == [252, 255, 164, 255] and weakest[3] < 40
    assert page.is_visible("#heatmap-legend .scale") and 'Where "stipple" acted' in page.inner_text("#heatmap-legend")
    page.fill("#heatmap-opacity", "30")
    assert page.evaluate("document.getElementById('heatmap').style.opacity") == "0.3"
    assert page.evaluate("getComputedStyle(document.getElementById('image')).imageRendering") == "pixelated"
    screenshot(page, "token-heatmap")
    page.click("button.heatmap-toggle[data-trigger=stipple]")  # the toggle hides it again
    assert page.is_hidden("#heatmap") and page.is_hidden("#heatmap-legend")
    # The image at full size, crisp, and a download named after the token.
    page.click("#full-size")
    page.wait_for_selector("#full-view[open] img.full")
    assert page.evaluate("document.getElementById('full-image').getBoundingClientRect().width") >= 400
    assert page.evaluate("getComputedStyle(document.getElementById('full-image')).imageRendering") == "pixelated"
    assert page.get_attribute("#download", "download") == f"stylemint-{record.token_id}.png"
    screenshot(page, "token-full-size")


def test_a_wallet_that_authorised_the_site_is_restored_on_every_page(open_page, site):
    base, node, sample, store = site
    record = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    wait_fulfilled(sample.contract, record.token_id)
    page = open_page("/mine", account=COLLECTOR, authorized=True)
    page.wait_for_selector("#tokens a.card")  # no click: eth_accounts answered without a prompt
    assert page.evaluate("window.__walletCalls.eth_requestAccounts") is None
    assert page.is_hidden("#connect") and page.inner_text("#account") == "0x15d3…6A65"
    artist = open_page("/artist", account=ARTIST, authorized=True)
    artist.wait_for_function("() => document.querySelector('#credit').innerText !== '-'")
    assert artist.inner_text("#credit") == "0.0000000009"
    # A site the wallet has not authorised stays disconnected until the click, and never prompts.
    fresh = open_page("/mine", account=COLLECTOR)
    fresh.wait_for_function("() => window.__walletCalls.eth_accounts >= 1")
    fresh.wait_for_selector(".connect-prompt")  # no tokens shown, a prompt to connect instead
    assert fresh.is_visible("#connect") and fresh.query_selector("#tokens a.card") is None
    assert fresh.evaluate("window.__walletCalls.eth_requestAccounts") is None
    fresh.click("#connect")
    fresh.wait_for_selector("#tokens a.card")


def test_the_edition_grid_numbers_filters_and_pages(open_page, site):
    base, node, sample, store = site
    mints = [core.mint(sample.contract, accounts.test_accounts[4 + i], sample.project_id) for i in range(3)]
    for mint in mints:
        wait_fulfilled(sample.contract, mint.token_id)
    page = open_page(f"/project?id={sample.project_id}", account=COLLECTOR)
    page.wait_for_selector(".card.edition img")
    assert [c.inner_text() for c in page.query_selector_all(".edition-number")] == ["#1", "#2", "#3"]
    assert page.inner_text("#page-of").strip() == "Page 1 of 1 (3 editions)"
    assert page.is_disabled("#prev") and page.is_disabled("#next")
    documents = [json.loads(store.get(sample.contract.tokenMetadataCID(m.token_id))) for m in mints]
    values = {}
    for document in documents:
        for attribute in document["attributes"]:
            values.setdefault(attribute["trait_type"], set()).add(str(attribute["value"]))
    varying = sorted(name for name, seen in values.items() if len(seen) > 1 and name != "Edition")
    assert varying  # three random editions of four prompt variables
    trait = next(a for a in documents[0]["attributes"] if a["trait_type"] == varying[0])
    assert page.query_selector("select[data-trait='Artist']") is None  # the same for every edition: no filter
    matching = [i + 1 for i, d in enumerate(documents) if trait in d["attributes"]]
    assert f"{trait['trait_type']}: {trait['value']}" in page.inner_text("[data-token='1000000'] .traits")
    page.select_option(f"select[data-trait='{trait['trait_type']}']", str(trait["value"]))
    editions = f"{len(matching)} edition{'' if len(matching) == 1 else 's'}"  # "1 edition", "2 editions"
    page.wait_for_function(f"() => document.querySelectorAll('.card.edition').length === {len(matching)} && "
                           f"document.getElementById('page-of').innerText.includes('({editions})')")
    assert [c.inner_text() for c in page.query_selector_all(".edition-number")] == [f"#{n}" for n in matching]
    screenshot(page, "project-editions-filtered")


def test_every_page_fits_a_phone(open_page, site):
    """390 px wide (a common phone): no page scrolls sideways, and the art comes first."""
    base, node, sample, store = site
    record = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    wait_fulfilled(sample.contract, record.token_id)
    pages = {"gallery": ("/", ".card.project img"), "project": (f"/project?id={sample.project_id}", ".card.edition img"),
             "token": (f"/token?id={record.token_id}", "#provenance dd"), "styles": ("/styles", "#register"),
             "mine": ("/mine", "#tokens .card"), "review": ("/review", "#approved .card"),
             "artist": ("/artist", "#mine .card")}
    page = open_page("/", account=COLLECTOR, authorized=True)
    page.set_viewport_size({"width": 390, "height": 844})
    for name, (path, ready) in pages.items():
        if name == "artist":
            page = open_page("/", account=ARTIST, authorized=True)
            page.set_viewport_size({"width": 390, "height": 844})
        page.goto(base + path)
        page.wait_for_selector(ready, timeout=30_000)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} is {overflow} px wider than the phone"
        screenshot(page, f"phone-{name}")
    page = open_page(f"/token?id={record.token_id}", account=COLLECTOR)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_selector("#image:not([hidden])")
    image, facts = page.locator("#image").bounding_box(), page.locator("#facts").bounding_box()
    assert image["y"] < facts["y"] and image["width"] >= 300  # the image first, full width


def test_an_allowlist_sale_from_the_artist_page_to_a_listed_and_an_unlisted_wallet(open_page, site):
    base, node, sample, store = site
    artist, admin = accounts.test_accounts[3], accounts.test_accounts[0]
    pid = core.create_project(sample.contract, artist, name="Listed Ferns", manifest_cid=sample.manifest_cid,
                              manifest_hash=sample_hash(sample), price_wei=10**9, max_editions=10, unpause=True,
                              approve_by=admin)
    page = open_page("/artist", account=ARTIST, authorized=True)
    card = f"[data-project='{pid}']"
    page.wait_for_selector(f"{card} .allowlist textarea")
    page.fill(f"{card} .allowlist textarea", "0x12 not-an-address")
    page.click(f"{card} .allowlist button[type=submit]")
    page.wait_for_selector('text="0x12" is not an Ethereum address (0x and 40 hex digits).')
    page.fill(f"{card} .allowlist textarea", f"{COLLECTOR}\n{accounts.test_accounts[6].address}")
    page.click(f"{card} .allowlist button[type=submit]")
    page.wait_for_selector("text=Allowlist of 2 addresses set.", timeout=30_000)
    assert core.project_minter(sample.contract, pid).saleInfo(pid)[2] is True
    screenshot(page, "artist-allowlist")

    listed = open_page(f"/project?id={pid}", account=COLLECTOR, authorized=True)
    listed.wait_for_selector("text=You are on the allowlist: 1 mint left.")
    assert "to the artist's allowlist only, at most 1 per address" in listed.inner_text("#facts")
    listed.click("#mint")
    listed.wait_for_selector("#rendering", timeout=60_000)
    token_id = int(listed.inner_text("#rendering").split()[2].rstrip(";"))
    assert sample.contract.ownerOf(token_id) == COLLECTOR
    again = open_page(f"/project?id={pid}", account=COLLECTOR, authorized=True)
    again.wait_for_selector("text=You are on the allowlist and have no mint left.")
    assert again.is_disabled("#mint") and again.inner_text("#mint-reason") == "You cannot mint: no mint left for your address."

    stranger = accounts.test_accounts[5].address
    outsider = open_page(f"/project?id={pid}", account=stranger, authorized=True)
    outsider.wait_for_selector("text=Your address is not on this project's allowlist")
    assert outsider.is_disabled("#mint")
    assert outsider.inner_text("#mint-reason") == "You cannot mint: your address is not on the allowlist."
    screenshot(outsider, "allowlist-not-listed")
    anonymous = open_page(f"/project?id={pid}", account=stranger)
    anonymous.wait_for_selector("text=connect your wallet to see whether you are on it")
    assert sample.contract.projectInfo(pid).invocations == 1


def test_a_collector_buys_during_a_falling_auction_and_reclaims_after_settlement(open_page, site):
    base, node, sample, store = site
    artist, admin = accounts.test_accounts[3], accounts.test_accounts[0]
    pid = core.create_project(sample.contract, artist, name="Falling Ferns", manifest_cid=sample.manifest_cid,
                              manifest_hash=sample_hash(sample), price_wei=10**9, max_editions=2, unpause=True,
                              approve_by=admin)
    # The artist sets the auction on the artist page; a bad setting is refused before the wallet.
    page = open_page("/artist", account=ARTIST, authorized=True)
    card = f"[data-project='{pid}']"
    page.wait_for_selector(f"{card} details.switch-auction")
    page.click(f"{card} details.switch-auction summary")
    form = f"{card} .auction-form"
    page.fill(f"{form} input[name=start]", "abc")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector('text=Start price: "abc" is not an amount in ETH')
    page.fill(f"{form} input[name=start]", "0.000000008")
    page.fill(f"{form} input[name=base]", "0.000000001")
    page.fill(f"{form} input[name=opens]", "1")
    page.fill(f"{form} input[name=halfLife]", "1")
    page.click(f"{form} button[type=submit]")
    page.wait_for_selector("text=Auction set: from 0.000000008 ETH in 1 min", timeout=30_000)
    auction = core.auction_minter(sample.contract)
    start, base_price, start_time, half_life, settled, _ = auction.auctionInfo(pid)
    assert (start, base_price, half_life, settled) == (8 * 10**9, 10**9, 60, False)
    assert str(sample.contract.projectInfo(pid).minter) == str(auction.address)

    # Before it opens: the curve, when it opens, and a closed Mint button.
    buyer = open_page(f"/project?id={pid}", account=COLLECTOR, authorized=True)
    buyer.wait_for_selector("#auction svg.auction-chart path.curve")
    assert buyer.inner_text("#auction-now").startswith("Opens at 0.000000008 ETH in")
    assert buyer.is_disabled("#mint") and "the auction opens at" in buyer.inner_text("#mint-reason")
    # The page's price rule is the minter's, at every step and between steps, for this auction and
    # one whose base is not a power-of-two fraction of its start.
    times = [start_time - 1, start_time, start_time + 59, start_time + 60, start_time + 185, start_time + 3 * 60,
             start_time + 4 * 60 + 5, start_time + 19 * 60, start_time + 10_000]
    for first, floor in ((start, base_price), (start, 3 * 10**9)):
        page_prices = buyer.evaluate("""async ([auction, times]) => {
            const { priceAt } = await import('/static/js/auction.js');
            return times.map((t) => priceAt(auction, t).toString()); }""",
            [{"start_price_wei": str(first), "base_price_wei": str(floor), "start_time": start_time,
              "half_life": half_life, "settled": False, "last_price_wei": "0"}, times])
        expected = [first if t < start_time else max(floor, first >> ((t - start_time) // half_life)) for t in times]
        assert page_prices == [str(p) for p in expected]
    screenshot(buyer, "auction-before")

    # It opens: the live price and the time to the next step; the collector buys at the start price.
    rpc_call(node.url, "evm_mine", [start_time + 1])  # a block at the opening (its clock may run ahead of ours)
    buyer.reload()
    buyer.wait_for_selector("text=Current price: 0.000000008 ETH.")
    assert buyer.inner_text("#auction-next").startswith("Next step in ")
    assert buyer.inner_text("#auction-next").endswith(": 0.000000004 ETH.")
    assert buyer.inner_text("#mint") == "Mint for 0.000000008 ETH", buyer.inner_text("#mint-reason") + buyer.inner_text("#messages")
    assert buyer.is_enabled("#mint"), buyer.inner_text("#mint-reason") + buyer.inner_text("#messages")
    buyer.click("#mint")
    buyer.wait_for_selector("#minted", timeout=30_000)
    assert auction.receiptOf(pid, COLLECTOR) == (8 * 10**9, 1)
    buyer.wait_for_selector("text=You paid 0.000000008 ETH for 1 edition. Once the auction settles")
    screenshot(buyer, "auction-bought")

    # A half-life later another collector buys the last edition at half the price: sold out, settled.
    rpc_call(node.url, "evm_mine", [start_time + half_life + 1])
    core.mint(sample.contract, accounts.test_accounts[5], pid)
    assert auction.auctionInfo(pid)[4:] == (True, 4 * 10**9)
    buyer.reload()
    buyer.wait_for_selector("text=Settled at 0.000000004 ETH")
    buyer.wait_for_selector("#reclaim-button")
    assert buyer.inner_text("#reclaim-button") == "Reclaim 0.000000004 ETH"
    buyer.click("#reclaim-button")
    buyer.wait_for_selector("text=Reclaimed 0.000000004 ETH.", timeout=30_000)
    buyer.wait_for_selector("text=You hold nothing to reclaim")
    assert auction.reclaimable(pid, COLLECTOR) == 0
    web3 = sample.contract.chain_manager.provider.web3
    logs = web3.eth.contract(address=str(auction.address), abi=contract_abi("MinterDAExpSettlement")) \
        .events.Reclaimed.get_logs(from_block=0)
    assert [(log.args.buyer, log.args.amount) for log in logs] == [(COLLECTOR, 4 * 10**9)]  # paid once
    assert web3.eth.get_balance(str(auction.address)) == 0  # nothing left behind in the minter
    screenshot(buyer, "auction-reclaimed")


def test_an_auction_at_its_base_price_is_settled_from_the_page(open_page, site):
    base, node, sample, store = site
    artist, admin = accounts.test_accounts[3], accounts.test_accounts[0]
    pid = core.create_project(sample.contract, artist, name="Slow Ferns", manifest_cid=sample.manifest_cid,
                              manifest_hash=sample_hash(sample), price_wei=10**9, max_editions=5, unpause=True,
                              approve_by=admin)
    start_time = core.set_auction(sample.contract, artist, pid, start_price_wei=2 * 10**9, base_price_wei=10**9,
                                  opens_in=10, half_life=60)
    auction = core.auction_minter(sample.contract)
    rpc_call(node.url, "evm_mine", [start_time])
    core.mint(sample.contract, accounts.test_accounts[5], pid)  # one sale at 2 gwei; four editions never sell
    page = open_page(f"/project?id={pid}", account=COLLECTOR, authorized=True)
    page.wait_for_selector("text=Current price: 0.000000002 ETH.")
    assert page.query_selector("#settle") is None  # not settleable above the base
    # A minute passes on the chain and in the browser: the page reaches the base by itself.
    rpc_call(node.url, "evm_mine", [start_time + 61])
    page.clock.install()
    page.clock.fast_forward(61_000)
    page.wait_for_selector("text=At its base price")
    page.wait_for_selector("#settle")
    page.click("#settle")
    page.wait_for_selector("text=The auction is settled.", timeout=30_000)
    assert auction.auctionInfo(pid)[4:] == (True, 10**9)
    page.wait_for_selector("text=Settled at 0.000000001 ETH")
    assert page.query_selector("#settle") is None


def test_pages_without_a_wallet_say_what_a_wallet_would_show_and_how_to_get_one(open_page, site):
    base, node, sample, store = site
    record = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    mine = open_page("/mine", account=COLLECTOR)  # the wallet has not authorised the site: nothing shown yet
    mine.wait_for_selector("text=Connect a wallet to see your tokens.")
    hint = mine.inner_text("#dev-accounts")
    assert "local development chain (chain id 31337" in hint and "public test keys" in hint and "#4" in hint
    screenshot(mine, "mine-no-wallet")
    mine.click("#connect-inline")
    mine.wait_for_selector(f"a.card[href='/token?id={record.token_id}']")
    assert mine.query_selector(".connect-prompt") is None

    artist = open_page("/artist", account=ARTIST)
    artist.wait_for_selector("text=Connect a wallet to see your projects, earnings and balance.")
    assert artist.is_hidden("#account-only") and artist.is_visible("#create")  # no empty tables, no "- ETH"
    screenshot(artist, "artist-no-wallet")
    artist.click("#connect-inline")
    artist.wait_for_selector(f"[data-project='{sample.project_id}']")
    assert artist.is_visible("#account-only") and artist.is_hidden("#artist-prompt")
    assert artist.inner_text("#credit") != "-"


def test_the_create_form_says_what_is_wrong_before_any_wallet_and_confirms_what_pays_nobody(open_page, site):
    base, node, sample, store = site
    web3 = sample.contract.chain_manager.provider.web3
    nonce = web3.eth.get_transaction_count(ARTIST)
    page = open_page("/artist", account=ARTIST, authorized=True)
    page.wait_for_selector(f"[data-project='{sample.project_id}']")
    page.fill("#create input[name=price]", "abc")
    page.click("#create button[type=submit]")
    page.wait_for_selector('text=Price: "abc" is not an amount in ETH')
    assert "FixedNumber" not in page.inner_text("#messages")
    page.fill("#create input[name=price]", "0")
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.click("#create button[type=submit]")
    page.wait_for_timeout(500)
    assert len(dialogs) == 1 and "A price of 0" in dialogs[0]
    page.fill("#create input[name=price]", "0.01")
    page.fill("#create input[name=styles]", "1")
    page.fill("#create input[name=share]", "0")
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.click("#create button[type=submit]")
    page.wait_for_timeout(500)
    assert len(dialogs) == 2 and "earn nothing" in dialogs[1]
    # The card's price form too: words, not the library's error, and nothing sent.
    card = f"[data-project='{sample.project_id}']"
    page.fill(f"{card} .setting-price input", "1,5")
    page.click(f"{card} .setting-price button")
    page.wait_for_selector('text=Price: "1,5" is not an amount in ETH')
    assert web3.eth.get_transaction_count(ARTIST) == nonce  # no transaction was asked for
    assert sample.contract.nextProjectId() == 2  # no project but the sample


def test_an_artist_tells_the_project_story_and_the_project_page_shows_it(open_page, site, tmp_path):
    from PIL import Image

    base, node, sample, store = site
    cover = tmp_path / "cover.png"
    Image.new("RGB", (96, 48), (30, 90, 160)).save(cover)
    page = open_page("/artist", account=ARTIST, authorized=True)
    page.wait_for_selector(f"[data-project='{sample.project_id}']")
    page.fill("#create input[name=name]", "Told Ferns")
    page.fill("#create textarea[name=description]", "Ferns in the evening, one colour each.")
    page.fill("#create textarea[name=statement]", "I draw what the garden keeps.")
    page.select_option("#create select[name=licence]", "CC BY 4.0")
    page.set_input_files("#create input[name=cover]", str(cover))
    page.click("#create button[type=submit]")
    page.wait_for_selector("text=and its manifest pinned as", timeout=60_000)
    pid = sample.contract.nextProjectId() - 1
    manifest = json.loads(store.get(sample.contract.projectInfo(pid).manifestCID))
    story = manifest["story"]
    assert story["description"] == "Ferns in the evening, one colour each." and story["licence"] == "CC BY 4.0"
    assert store.get(story["cover_cid"]) == cover.read_bytes()  # pinned after the create, as checked
    project = open_page(f"/project?id={pid}", account=COLLECTOR)
    project.wait_for_selector("#story:not([hidden]) img#cover")
    project.wait_for_function("() => document.getElementById('cover').naturalWidth === 96")
    assert project.inner_text("#story .description") == "Ferns in the evening, one colour each."
    assert "I draw what the garden keeps." in project.inner_text("#story .statement")
    assert project.inner_text("#story .licence") == "Licence: CC BY 4.0"
    # Above the editions grid.
    assert project.locator("#story").bounding_box()["y"] < project.locator("#editions").bounding_box()["y"]
    screenshot(project, "project-story")


def test_a_token_page_opened_before_its_mint_shows_the_token_once_minted(open_page, site):
    base, node, sample, store = site
    next_id = sample.project_id * 1_000_000 + int(sample.contract.projectInfo(sample.project_id).invocations)
    page = open_page(f"/token?id={next_id}", account=COLLECTOR)
    page.wait_for_selector(f"text=Token {next_id} is not minted yet; this page shows it as soon as it is.")
    page.evaluate("window.__sameDocument = true")
    record = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    assert record.token_id == next_id
    page.wait_for_selector(f"#facts [data-copy='{COLLECTOR}']", timeout=30_000)  # its owner, without a reload
    assert page.evaluate("window.__sameDocument") is True
