"""Every API endpoint and every error path (Flask's test client against anvil + the embedded store)."""

import json

import pytest
from ape import accounts

from backend.dev import ape_contract as core
from backend.dev.anvil import rpc_call
from backend.ipfs.cid import cid_of
from backend.render.manifest import MAX_MANIFEST_BYTES
from backend.render import shipped
from backend.render.samples import sample_manifest, tiny_manifest

pytestmark = pytest.mark.e2e


def get(site, path):
    import httpx

    return httpx.get(site[0] + path, timeout=60)


def post(site, path, content, content_type="application/json"):
    import httpx

    return httpx.post(site[0] + path, content=content, headers={"Content-Type": content_type}, timeout=60)


def test_health_and_contract(site):
    health = get(site, "/api/health")
    assert health.status_code == 200 and health.json()["chain"]["chain_id"] == 31337
    contract = get(site, "/api/contract").json()
    assert contract["address"] == site[2].deployment.address
    assert any(e.get("name") == "mintFromMinter" for e in contract["abi"])
    assert sorted(contract["minters"]) == ["MinterDAExpSettlement", "MinterSetPrice"] and any(e.get("name") == "purchaseWithProof"
                                                                   for e in contract["minter_abi"])
    assert contract["quorum"]["address"] == str(core.oracle_quorum(site[2].contract).address)


def test_projects_and_project(site):
    base, node, sample, store = site
    listing = get(site, "/api/projects").json()["projects"]
    assert [p["id"] for p in listing] == [1] and listing[0]["remaining"] == 100
    one = get(site, "/api/projects/1").json()
    assert one["manifest"]["name"] == "Stipple Shapes" and one["manifest_sha256"] == "0x" + tiny_manifest("stipple").sha256_hex()
    assert one["manifest"]["model"]["id"] == "stylemint-tiny-2" and one["manifest"]["styles"][0]["kind"] == "trigger_kv"
    assert one["price_wei"] == str(10**9) and one["artist"] == accounts.test_accounts[3].address
    assert get(site, "/api/projects/9").status_code == 404
    bad = get(site, "/api/projects/abc")
    assert bad.status_code == 400 and "project id" in bad.json()["message"]


def test_tokens(site):
    base, node, sample, store = site
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    token = get(site, f"/api/tokens/{mint.token_id}").json()
    assert token["owner"] == mint.minter and token["state"] in ("pending", "rendering", "fulfilled")
    import time

    deadline = time.monotonic() + 60
    while token["state"] != "fulfilled" and time.monotonic() < deadline:
        time.sleep(0.3)
        token = get(site, f"/api/tokens/{mint.token_id}").json()
    assert token["state"] == "fulfilled" and token["image"].startswith("/ipfs/")
    assert token["provenance"]["mint_tx"] == mint.tx_hash and token["mint_tx"] == mint.tx_hash
    image = get(site, token["image"])
    assert image.headers["content-type"] == "image/png"
    owned = get(site, f"/api/tokens?owner={mint.minter}").json()["tokens"]
    assert [t["token_id"] for t in owned] == [mint.token_id]
    assert get(site, f"/api/tokens?owner={accounts.test_accounts[9].address}").json()["tokens"] == []
    assert get(site, "/api/tokens?owner=nobody").status_code == 400
    assert get(site, "/api/tokens/5000000").status_code == 404
    assert get(site, "/api/tokens/-1").status_code == 400


def test_manifest_pinning_and_rejections_change_nothing(site):
    base, node, sample, store = site
    pins_before = store.pins()
    created = post(site, "/api/manifests", json.dumps(json.loads(sample_manifest(name="Other").canonical_bytes())))
    assert created.status_code == 201
    body = created.json()
    assert body["cid"] == cid_of(body["canonical"].encode()) and store.has(body["cid"])
    assert body["sha256"] == "0x" + sample_manifest(name="Other").sha256_hex()
    pins_after_good = store.pins()
    for content, status, words in [
        (b"", 400, "send the manifest"),
        (b"not json", 422, "not JSON"),
        (json.dumps({"name": "x"}).encode(), 422, "Field required"),
        (json.dumps({**json.loads(sample_manifest().canonical_bytes()), "steps": 0}).encode(), 422, "steps"),
        (b"{" + b" " * MAX_MANIFEST_BYTES + b"}", 413, "limit"),
    ]:
        response = post(site, "/api/manifests", content)
        assert response.status_code == status and words in response.json()["message"], response.text
    assert store.pins() == pins_after_good and len(pins_after_good) == len(pins_before) + 1


def test_a_style_trained_on_another_base_is_refused_when_pinned(site):
    """An adapter acts only on the base it was trained on: stylemint-tiny-2's Stipple in a
    stylemint-gen manifest would fail every mint at render, so the pin (and the preview) refuse it."""
    from backend.render.samples import shipped_adapter

    base, node, sample, store = site
    pins_before = store.pins()
    own = tiny_manifest("stipple", base=shipped.GEN_MODEL.id)
    foreign = own.model_copy(update={"styles": [own.styles[0].model_copy(update=shipped_adapter("stipple"))]})
    assert foreign.styles[0].sha256 != own.styles[0].sha256  # tiny-2's Stipple, not stylemint-gen's
    for path in ("/api/manifests", "/api/manifests/preview?count=1"):
        refused = post(site, path, foreign.canonical_bytes())
        assert refused.status_code == 422, refused.text
        assert "'stipple style'" in refused.json()["message"] and "not trained on stylemint-gen" in refused.json()["message"]
    assert store.pins() == pins_before
    assert post(site, "/api/manifests?pin=0", own.canonical_bytes()).status_code == 200


def test_an_allowlist_is_pinned_served_and_its_proof_buys_once(site):
    base, node, sample, store = site
    artist, listed, unlisted = (accounts.test_accounts[i] for i in (3, 4, 5))
    body = json.dumps({"addresses": [listed.address.lower(), accounts.test_accounts[6].address, listed.address]})
    pinned = post(site, "/api/allowlists", body)
    assert pinned.status_code == 201 and pinned.json()["count"] == 2  # a repeated address counts once
    document = json.loads(store.get(pinned.json()["cid"]))
    assert document["root"] == pinned.json()["root"] and listed.address in document["addresses"]
    for content, kind, status in ((body, "text/plain", 415), ("[1]", "application/json", 400),
                                  (json.dumps({"addresses": ["0x12"]}), "application/json", 422),
                                  (json.dumps({"addresses": []}), "application/json", 422)):
        refused = post(site, "/api/allowlists", content, kind)
        assert refused.status_code == status and refused.json()["message"], (content, refused.text)
    assert "entry 1" in post(site, "/api/allowlists", json.dumps({"addresses": ["0x12"]})).json()["message"]

    pid = core.create_project(sample.contract, artist, name="Listed", manifest_cid=sample.manifest_cid,
                              manifest_hash=bytes(sample.contract.projectInfo(sample.project_id).manifestHash),
                              price_wei=10**9, max_editions=10, unpause=True, approve_by=accounts.test_accounts[0])
    assert get(site, f"/api/projects/{pid}").json()["allowlist"] is None
    assert get(site, f"/api/projects/{pid}/allowlist?address={listed.address}").json()["allowlist"] is False
    minter = core.project_minter(sample.contract, pid)
    minter.setMerkleRoot(pid, pinned.json()["root"], pinned.json()["cid"], sender=artist)
    project = get(site, f"/api/projects/{pid}").json()
    assert project["allowlist"] == {"root": pinned.json()["root"], "list_cid": pinned.json()["cid"]}
    assert project["max_per_address"] == 1
    status = get(site, f"/api/projects/{pid}/allowlist?address={listed.address.lower()}").json()
    assert status["listed"] is True and status["mints_left"] == 1 and status["root"] == pinned.json()["root"]
    off = get(site, f"/api/projects/{pid}/allowlist?address={unlisted.address}").json()
    assert off["listed"] is False and off["proof"] is None and off["mints_left"] == 0
    assert get(site, f"/api/projects/{pid}/allowlist?address=0x12").status_code == 400
    assert get(site, f"/api/projects/99/allowlist?address={listed.address}").status_code == 404
    manifest_hash = bytes(sample.contract.projectInfo(pid).manifestHash)
    minter.purchaseWithProof(pid, manifest_hash, status["proof"], sender=listed, value=10**9)
    after = get(site, f"/api/projects/{pid}/allowlist?address={listed.address}").json()
    assert after["listed"] is True and after["mints_left"] == 0
    # A root on chain that the pinned list does not build (a replaced or lying list) serves no proof.
    other = post(site, "/api/allowlists", json.dumps({"addresses": [unlisted.address]})).json()
    minter.setMerkleRoot(pid, other["root"], pinned.json()["cid"], sender=artist)
    mismatch = get(site, f"/api/projects/{pid}/allowlist?address={listed.address}")
    assert mismatch.status_code == 404 and "does not build the root set on chain" in mismatch.json()["message"]


def test_an_auction_project_shows_its_auction_and_current_price(site):
    base, node, sample, store = site
    admin, artist = accounts.test_accounts[0], accounts.test_accounts[3]
    auction = core.auction_minter(sample.contract)  # deployed and approved with the core
    manifest_hash = bytes(sample.contract.projectInfo(sample.project_id).manifestHash)
    receipt = sample.contract.createProject("Falling", sample.manifest_cid, manifest_hash, 4, sender=artist)
    pid = receipt.decode_logs(sample.contract.ProjectCreated)[0].projectId
    sample.contract.setProjectMinter(pid, auction, sender=artist)
    start = sample.contract.chain_manager.blocks.head.timestamp + 3_600
    auction.setAuction(pid, 8 * 10**9, 10**9, start, 600, sender=artist)
    project = get(site, f"/api/projects/{pid}").json()
    assert project["minter_type"] == "MinterDAExpSettlement" and project["price_wei"] == str(8 * 10**9)
    head = sample.contract.chain_manager.blocks.head.timestamp
    assert project["auction"] == {"start_price_wei": str(8 * 10**9), "base_price_wei": str(10**9),
                                  "start_time": start, "half_life": 600, "settled": False, "last_price_wei": "0",
                                  "chain_time": head}
    assert project["allowlist"] is None
    status = get(site, f"/api/projects/{pid}/allowlist?address={artist.address}").json()
    assert status == {"allowlist": False, "listed": None, "proof": None, "mints_left": None}
    contract = get(site, "/api/contract").json()
    assert contract["minters"]["MinterDAExpSettlement"] == str(auction.address)
    assert any(e.get("name") == "reclaim" for e in contract["minter_abis"]["MinterDAExpSettlement"])

    # Two buyers: one at the start price, one a half-life later; the second sells out and settles.
    admin_approves = sample.contract.approveProject
    admin_approves(pid, manifest_hash, sample.contract.stylesConfigHash(pid), sender=admin)
    sample.contract.setProjectMaxEditions(pid, 2, sender=artist)
    sample.contract.setProjectPaused(pid, False, sender=artist)
    early, late, owner = accounts.test_accounts[4], accounts.test_accounts[5], accounts.test_accounts[6]
    rpc_call(node.url, "evm_increaseTime", [3_600])
    auction.purchaseTo(owner, pid, manifest_hash, sender=early, value=8 * 10**9)
    rpc_call(node.url, "evm_increaseTime", [600])
    auction.purchase(pid, manifest_hash, sender=late, value=4 * 10**9)
    settled = get(site, f"/api/projects/{pid}").json()["auction"]
    assert settled["settled"] is True and settled["last_price_wei"] == str(4 * 10**9)
    first = get(site, f"/api/tokens/{pid * 1_000_000}").json()
    # The sale's price is the settled one (base escrowed + the top-up), and it names who paid.
    assert first["mint"]["price_wei"] == str(4 * 10**9) and first["mint"]["payer"] == early.address
    assert first["owner"] == owner.address
    rpc_call(node.url, "anvil_mine", ["0xa"])  # past the randomness block
    core.fulfill(sample.contract, pid * 1_000_000, b"\x07" * 32, sample.manifest_cid, accounts.test_accounts[1])
    earned = get(site, f"/api/earnings/{artist.address}").json()
    sold = next(p for p in earned["projects"] if p["id"] == pid)
    assert (sold["sales"], sold["revenue_wei"], sold["platform_wei"]) == (1, str(4 * 10**9), str(4 * 10**8))
    sales = {s["token_id"]: s for s in sold["recent_sales"]}
    assert sales[pid * 1_000_000]["buyer"] == early.address and sales[pid * 1_000_000]["state"] == "paid"
    assert sales[pid * 1_000_000 + 1]["price_wei"] == str(4 * 10**9)  # in escrow, at the settled price too
    assert sales[pid * 1_000_000 + 1]["state"] == "escrow"


def test_template_openapi_pages_and_vendor(site):
    template = get(site, "/api/manifests/template").json()
    assert template["model"] == {"id": "stylemint-gen", "sha256": shipped.GEN_MODEL.sha256}
    assert sorted(template["variables"]) == ["density", "layout", "motif", "palette"] and template["width"] == 128
    assert template["variables"]["layout"]["by"] == "motif" and template["prompt"] == "{motif}, {density}, {layout}, in {palette} colours"
    spec = get(site, "/api/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and "/api/manifests" in spec["paths"] and "/ipfs/{cid}" in spec["paths"]
    for path in ("/", "/project", "/token", "/artist", "/mine", "/static/js/wallet.js", "/static/style.css"):
        assert get(site, path).status_code == 200, path
    assert get(site, "/vendor/ethers.js").headers["content-type"].startswith("text/javascript")
    missing = get(site, "/nowhere")
    assert missing.status_code == 404 and missing.json()["message"] == "no page /nowhere"
    # A browser asking for a page that does not exist gets the site's own page, in its layout.
    import httpx

    page = httpx.get(site[0] + "/nowhere", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "There is no page /nowhere on this site." in page.text and 'href="/static/favicon.svg"' in page.text
    assert httpx.get(site[0] + "/api/nowhere", headers={"Accept": "text/html"}).json()["message"]  # the API: JSON
    icon = get(site, "/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


def test_every_documented_path_is_served(site):
    spec = get(site, "/api/openapi.json").json()
    for path in spec["paths"]:
        concrete = path.replace("{id}", "1").replace("{cid}", cid_of(b"x"))
        assert get(site, concrete).status_code != 405 or "post" in spec["paths"][path], path


def test_serve_command_binds_loopback(stipple_chain, env):
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    from backend.dev.anvil import free_port

    node, sample, store = stipple_chain
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "stylemint"), "serve", "--port", str(port), "--rpc", node.url,
         "--contract", sample.deployment.address],
        env={**os.environ, "STYLEMINT_DATA_DIR": str(env / "data")}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.3)
        assert health.status_code == 200 and health.json()["chain"]["contract"] == sample.deployment.address
        assert health.headers["server"] == "stylemint"  # waitress, not the Werkzeug development server
        # Many clients at once: every one answered.
        from concurrent.futures import ThreadPoolExecutor

        routes = ["/api/styles", "/api/projects", f"/api/projects/{sample.project_id}", "/", "/api/contract"] * 8
        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(lambda r: httpx.get(f"http://127.0.0.1:{port}{r}", timeout=30).status_code, routes))
        assert codes == [200] * len(routes)
        listening = subprocess.run(["ss", "-ltn"], capture_output=True, text=True).stdout.split()
        local_addresses = [word for word in listening if word.endswith(f":{port}")]
        assert local_addresses == [f"127.0.0.1:{port}"]  # loopback only, no wildcard listener
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_oracle_state_is_opened_once_per_request_and_closed(site, monkeypatch):
    from backend.web import progress

    opened, closed = [], []

    class CountingJobStore(progress.JobStore):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            opened.append(self)

        def close(self):
            closed.append(self)
            super().close()

    monkeypatch.setattr(progress, "JobStore", CountingJobStore)
    collector = accounts.test_accounts[5]
    for _ in range(3):
        core.mint(site[2].contract, collector, site[2].project_id)
    tokens = get(site, f"/api/tokens?owner={collector.address}").json()["tokens"]
    assert len(tokens) == 3 and all(t["state"] in ("pending", "rendering", "fulfilled") for t in tokens)
    assert len(opened) == 1 and closed == opened


def test_project_editions_pages_traits_and_owners_come_from_the_index(site):
    import time

    base, node, sample, store = site
    alice, bob = accounts.test_accounts[4], accounts.test_accounts[5]
    mints = [core.mint(sample.contract, alice, sample.project_id) for _ in range(3)]
    deadline = time.monotonic() + 90
    while not all(sample.contract.isFulfilled(m.token_id) for m in mints):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    sample.contract.transferFrom(alice, bob, mints[1].token_id, sender=alice)
    page = get(site, f"/api/projects/{sample.project_id}/tokens?per_page=2").json()
    assert (page["total"], page["pages"], page["page"]) == (3, 2, 1)
    assert [t["token_id"] for t in page["tokens"]] == [m.token_id for m in mints[:2]]
    assert [t["edition"] for t in page["tokens"]] == [1, 2] and page["tokens"][1]["owner"] == bob.address
    second = get(site, f"/api/projects/{sample.project_id}/tokens?per_page=2&page=2").json()
    assert [t["token_id"] for t in second["tokens"]] == [mints[2].token_id]
    # Traits are the metadata's attributes; a filter returns exactly the tokens that have the value.
    documents = {m.token_id: json.loads(store.get(sample.contract.tokenMetadataCID(m.token_id))) for m in mints}
    wanted = documents[mints[0].token_id]["attributes"][-1]
    matching = [t for t, d in documents.items() if wanted in d["attributes"]]
    assert page["traits"][wanted["trait_type"]][str(wanted["value"])] == len(matching)
    filtered = get(site, f"/api/projects/{sample.project_id}/tokens?trait={wanted['trait_type']}:{wanted['value']}").json()
    assert [t["token_id"] for t in filtered["tokens"]] == matching and filtered["total"] == len(matching)
    assert filtered["tokens"][0]["traits"][wanted["trait_type"]] == str(wanted["value"])
    # Owners and the token view agree with the contract.
    assert [t["token_id"] for t in get(site, f"/api/tokens?owner={bob.address}").json()["tokens"]] == [mints[1].token_id]
    owned = get(site, f"/api/tokens?owner={alice.address}&limit=1").json()
    assert owned["total"] == 2 and len(owned["tokens"]) == 1
    token = get(site, f"/api/tokens/{mints[0].token_id}").json()
    assert token["token_uri"] == sample.contract.tokenURI(mints[0].token_id)
    assert token["seed"] == "0x" + bytes(sample.contract.tokenSeed(mints[0].token_id)).hex()
    for bad in ("trait=nocolon", "page=0", "per_page=101", "page=x"):
        assert get(site, f"/api/projects/{sample.project_id}/tokens?{bad}").status_code == 400, bad
    assert get(site, "/api/projects/99/tokens").status_code == 404


def test_a_token_state_and_its_progress_come_from_one_read(site, render_gate, monkeypatch):
    """The oracle can give up between two reads of its state; the token's state and the progress
    shown beside it must still agree (a page said "Failed" in its step list and "Not rendered yet"
    under the image). Fault injection: every read of the oracle's state sees a new outcome."""
    from backend.web.catalog import Catalog

    render_gate.clear()  # the render holds, so the token stays unfulfilled
    base, node, sample, store = site
    mint = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    outcomes = iter([{"phase": "rendering", "step": 1, "steps": 10}, {"phase": "failed", "reason": "gave up"}] * 50)
    reads = []

    def changing(self, token_id):
        reads.append(token_id)
        return next(outcomes)

    monkeypatch.setattr(Catalog, "progress", changing)
    for _ in range(4):
        token = get(site, f"/api/tokens/{mint.token_id}").json()
        failed = token["progress"]["phase"] == "failed"
        assert token["state"] == ("failed" if failed else "rendering")
        assert token["error"] == ("gave up" if failed else None)
    assert reads == [mint.token_id] * 4  # one read per request
    render_gate.set()


def test_a_cover_image_is_checked_before_it_is_pinned(site):
    import io

    from PIL import Image

    base, node, sample, store = site
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 40)).save(buffer, format="PNG")
    png = buffer.getvalue()
    wide = io.BytesIO()
    Image.new("L", (4097, 1)).save(wide, format="PNG")  # a few hundred bytes, one pixel too wide
    dry = post(site, "/api/images?pin=0", png, "image/png")
    assert dry.status_code == 200 and dry.json()["pinned"] is False and not store.has(dry.json()["cid"])
    pinned = post(site, "/api/images", png, "image/png")
    assert pinned.status_code == 201 and pinned.json()["cid"] == dry.json()["cid"] == cid_of(png)
    assert (pinned.json()["width"], pinned.json()["height"]) == (32, 24) and store.get(pinned.json()["cid"]) == png
    pins = store.pins()
    for body, kind, status, says in ((png, "text/plain", 415, "image/png or image/jpeg"),
                                     (b"not an image", "image/png", 422, "not a readable image"),
                                     (png, "image/jpeg", 422, "a PNG image, not image/jpeg"),
                                     (png[:40], "image/png", 422, "not a readable image"),
                                     (wide.getvalue(), "image/png", 422, "4097x1: at most 4096 px a side"),
                                     (b"\x89PNG" + b"0" * (2 * 1024 * 1024), "image/png", 413, "larger than the limit")):
        refused = post(site, "/api/images", body, kind)
        assert refused.status_code == status and says in refused.json()["message"], (kind, refused.text[:200])
    assert store.pins() == pins  # nothing refused was pinned


def test_the_style_library_is_read_from_the_chain_once_per_block(site, monkeypatch):
    from backend.chain.client import StyleMintClient

    base, node, sample, store = site
    scans = []
    original = StyleMintClient.all_styles_paid
    monkeypatch.setattr(StyleMintClient, "all_styles_paid", lambda self: scans.append(1) or original(self))
    head = lambda: int(rpc_call(node.url, "eth_blockNumber", []), 16)  # noqa: E731
    get(site, "/api/styles")
    scanned, heads = len(scans), {head()}
    for _ in range(3):  # the same block: no log scan (a block the oracle mines meanwhile may add one)
        get(site, "/api/styles")
        heads.add(head())
    assert len(scans) - scanned <= len(heads) - 1
    before = len(scans)
    rpc_call(node.url, "evm_mine", [])
    get(site, "/api/styles")
    assert len(scans) == before + 1  # a new block: read again
