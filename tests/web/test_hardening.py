"""The API under hostile input and hostile web pages: a 4xx with a JSON body, never a 5xx; nothing
pinned for a request that fails; the conformance of every response to the OpenAPI document,
checked by schemathesis (issue 14, points 5 and 7 to 10)."""

import json
import threading

import pytest
import schemathesis
from schemathesis import checks
from ape import accounts
from hypothesis import HealthCheck, settings

from backend.chain.client import StyleMintClient
from backend.dev import ape_contract as core
from backend.dev.anvil import Anvil
from backend.dev.sample import deploy_sample
from backend.ipfs.cid import cid_of
from backend.ipfs.embedded import EmbeddedStore
from backend.render.samples import sample_manifest, tiny_manifest
from backend.verify.verifier import Verifier
from backend.web import create_app
from backend.web.catalog import Catalog
from tests.support.lanes import examples

# API tests: one anvil for the module, no oracle and no browser (they run in make test-fast).
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """One anvil + the sample project (reference model) for the whole module: (node, sample, store, dir)."""
    from ape import networks

    root = tmp_path_factory.mktemp("hardening")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLEMINT_DATA_DIR", str(root / "data"))
        with Anvil(log_path=root / "anvil.log") as node:
            with networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
                store = EmbeddedStore(root / "data" / "ipfs")
                sample = deploy_sample(node.url, store, price_wei=10**9, max_editions=100)
                yield node, sample, store, root


def app_for(deployed, **config):
    node, sample, store, root = deployed
    client = StyleMintClient(node.url, sample.deployment.address, retries=1)
    return create_app({"IPFS_STORE": store, "CATALOG": Catalog(client, store, root / "oracle.sqlite"),
                       "VERIFIER": Verifier(client, store, models_dir=root / "models"), "TESTING": True, **config})


@pytest.fixture
def api(deployed):
    return app_for(deployed).test_client()


# -- 8. the 500s found by hand ----------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/tokens/%C2%B2", "/api/projects/%C2%B2", "/api/verify/%C2%B2",
                                  "/api/tokens/" + "9" * 5000, "/api/projects/-1", f"/api/verify/{2**256}"],
                         ids=["token superscript", "project superscript", "verify superscript", "5000 digits",
                              "negative", "2^256"])
def test_ids_that_are_not_ascii_uint256_are_400(api, path):
    response = api.get(path)
    assert response.status_code == 400 and "0 .. 2^256-1" in response.json["message"]


@pytest.mark.parametrize("path", ["/api/projects/1/allowlist?address=0x" + "0" * 40 + "%0A",
                                  "/api/tokens?owner=0x" + "0" * 40 + "%0A"], ids=["allowlist", "owner"])
def test_an_address_with_a_trailing_newline_is_400(api, path):
    """Python's `$` also matches before a final newline: addresses are matched whole (found by schemathesis)."""
    response = api.get(path)
    assert response.status_code == 400 and "20" in response.json["message"]


@pytest.mark.parametrize("body, words", [
    (b"[" * 60_000, "JSON"),  # "nested too deeply" or "not JSON", whichever the parser meets first
    (b'{"steps": ' + b"9" * 5000 + b"}", "not JSON"),
    (sample_manifest(scheduler={"name": "euler", "config": {}}).canonical_bytes()
     .replace(b'"config":{}', b'"config":{"beta_start":NaN}'), "NaN is not JSON"),
    (sample_manifest(scheduler={"name": "euler", "config": {}}).canonical_bytes()
     .replace(b'"config":{}', b'"config":{"beta_end":Infinity}'), "Infinity is not JSON"),
    (json.dumps({**json.loads(sample_manifest().canonical_bytes()),
                 "scheduler": {"name": "dpm++2m", "config": {"solver_order": 10**9}}}).encode(), "solver_order"),
    (json.dumps({**json.loads(sample_manifest().canonical_bytes()), "prompt": "{{hour}} {hour} {palette}"}).encode(),
     "literal braces"),
], ids=["60,000 brackets", "5,000-digit integer", "NaN", "Infinity", "solver_order 1e9", "{{x}} in the prompt"])
def test_hostile_manifests_are_422_and_pin_nothing(deployed, api, body, words):
    store = deployed[2]
    before = store.pins()
    response = api.post("/api/manifests", data=body, headers=JSON)
    assert response.status_code == 422 and words in response.json["message"], response.json
    assert store.pins() == before


def test_a_token_whose_metadata_is_a_list_breaks_no_page(deployed, api):
    node, sample, store, _ = deployed
    from tests.support.chain import canonical_seed
    from tests.verify.conftest import fulfill_with

    mint = core.mint(sample.contract, accounts.test_accounts[6], sample.project_id)
    core.randomness_block(sample.contract, mint.token_id)
    fulfill_with(sample, store, mint, canonical_seed(node.url, sample.deployment.address, mint.token_id, mint.tx_hash),
                b"[1, 2, 3]")
    token = api.get(f"/api/tokens/{mint.token_id}")
    assert token.status_code == 200 and token.json["metadata"] is None and token.json["image"] is None
    owned = api.get(f"/api/tokens?owner={mint.minter}")
    assert owned.status_code == 200 and [t["token_id"] for t in owned.json["tokens"]] == [mint.token_id]


# -- 7. the operator policy, before anything is pinned ---------------------------------------

def test_the_operator_policy_refuses_a_costly_manifest_before_pinning(deployed, api):
    store = deployed[2]
    before = store.pins()
    costly = tiny_manifest(width=2048, height=2048, steps=150)
    response = api.post("/api/manifests", data=costly.canonical_bytes(), headers=JSON)
    assert response.status_code == 422 and "operator policy" in response.json["message"]
    assert "629,145,600 pixel-steps" in response.json["message"] and store.pins() == before
    assert api.post("/api/manifests", data=tiny_manifest().canonical_bytes(), headers=JSON).status_code == 201


# -- 10. other web sites, DNS rebinding, pin limits, what the server tells ----------------------

def test_a_page_on_another_site_cannot_pin(deployed, api):
    store = deployed[2]
    before = store.pins()
    body = sample_manifest(name="CSRF").canonical_bytes()
    simple = api.post("/api/manifests", data=body, headers={"Content-Type": "text/plain"})
    assert simple.status_code == 415 and "application/json" in simple.json["message"]
    foreign = api.post("/api/manifests", data=body, headers={**JSON, "Origin": "https://evil.example"})
    assert foreign.status_code == 403 and "evil.example" in foreign.json["message"]
    rebound = api.post("/api/manifests", data=body, headers={**JSON, "Host": "evil.example"})
    assert rebound.status_code == 400 and rebound.is_json
    assert api.get("/api/projects", headers={"Host": "rebind.evil.example:8000"}).status_code == 400
    assert store.pins() == before
    own = api.post("/api/manifests", data=body, headers={**JSON, "Origin": "http://localhost"})
    assert own.status_code == 201


def test_a_public_url_is_trusted_once_configured(deployed):
    client = app_for(deployed, PUBLIC_URLS=["https://mint.example.org"]).test_client()
    body = sample_manifest(name="Public").canonical_bytes()
    headers = {**JSON, "Host": "mint.example.org", "Origin": "https://mint.example.org"}
    assert client.post("/api/manifests", data=body, headers=headers).status_code == 201


def test_pins_are_rate_limited_per_client(deployed):
    store = deployed[2]
    client = app_for(deployed, PIN_RATE_LIMIT="3 per minute").test_client()
    statuses = [client.post("/api/manifests", data=sample_manifest(name=f"Flood {i}").canonical_bytes(),
                            headers=JSON).status_code for i in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    assert not store.has(cid_of(sample_manifest(name="Flood 4").canonical_bytes()))
    other = client.post("/api/manifests", data=sample_manifest(name="Elsewhere").canonical_bytes(), headers=JSON,
                        environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 201  # the limit is per client


def test_private_settings_are_not_published(deployed, api):
    node = deployed[0]
    contract = api.get("/api/contract").json
    assert contract["rpc_url"] is None  # the server's own --rpc stays private
    health = api.get("/api/health").json
    assert str(deployed[3]) not in json.dumps(health) and health["ipfs"] == "EmbeddedStore"
    public = app_for(deployed, PUBLIC_RPC_URL="https://rpc.example.org").test_client()
    assert public.get("/api/contract").json["rpc_url"] == "https://rpc.example.org"
    assert node.url not in json.dumps(public.get("/api/contract").json)


def test_405_names_the_allowed_methods(api):
    response = api.delete("/api/projects")
    assert response.status_code == 405 and "GET" in response.headers["Allow"] and response.json["error"]


# -- 5. /api/verify: off the request thread, cached answers at once --------------------------

def test_a_cached_report_is_answered_while_another_render_runs(deployed):
    node, sample, store, root = deployed
    app = app_for(deployed, VERIFY_WAIT_SECONDS=0.2)
    release, started = threading.Event(), threading.Event()
    verifier = app.config["VERIFIER"]
    real = verifier.verify

    def slow(token_id):
        if token_id == 1_000_001:
            started.set()
            release.wait(60)
        return real(token_id)

    verifier.verify = slow
    client = app.test_client()
    first = client.get("/api/verify/99000000")  # unknown: not cached, answered
    assert first.status_code == 404 and first.json["error"] == "Not Found" and first.json["message"]
    # A slow one: the request comes back with 202 instead of holding a thread (and a lock).
    pending = client.get("/api/verify/1000001")
    assert pending.status_code == 202 and pending.json["status"] in ("queued", "running")
    assert started.wait(10)
    # While it renders, a report in the cache is answered at once (nothing waits on the render).
    queue = app.extensions["stylemint_verify_queue"]
    queue._cache[42] = {"outcome": "exact", "reason": "cached", "checks": []}
    cached = client.get("/api/verify/42")
    assert cached.status_code == 200 and cached.json["cached"] is True and not release.is_set()
    again = client.get("/api/verify/1000001")  # joins the same run, never a second one
    assert again.status_code == 202 and len(queue._pending) == 1
    release.set()


# -- 9. schemathesis over the OpenAPI document -------------------------------------------------

@pytest.fixture
def api_schema(deployed):
    # Previews stop at their cost cap here (a 1 pixel-step cap refuses every manifest before a
    # render): their renders are tested in the browser (tests/web/test_artist_page.py).
    app = app_for(deployed, PIN_RATE_LIMIT="10000 per minute", PREVIEW_RATE_LIMIT="10000 per minute",
                  PREVIEW_MAX_PIXEL_STEPS=1, VERIFY_WAIT_SECONDS=5)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=examples(30), deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_response_conforms_to_the_openapi_document(case):
    """Bounded: 30 generated cases per operation (6 in the edit loop) (positive and negative), every check, with one
    exception: a manifest has cross-field rules JSON Schema cannot state (the prompt's placeholders
    are exactly the variables, the operator's cost bound), and an adapter is any bytes to JSON
    Schema but must parse as safetensors, so a schema-valid body may rightly get 422 and
    `positive_data_acceptance` is not asked of POST /api/manifests, its preview and /api/adapters."""
    semantic = ("/api/manifests", "/api/manifests/preview", "/api/adapters")
    excluded = [checks.positive_data_acceptance] if case.operation.path in semantic else []
    case.call_and_validate(excluded_checks=excluded)


def test_chunked_uploads_are_read_and_bounded_and_bad_cids_are_not_echoed(tmp_path):
    """On a real server: a chunked body (no Content-Length) is read, one over the limit is refused
    naming the limit, and a 5,000-character bad CID is not sent back whole."""
    import threading

    import httpx
    from werkzeug.serving import make_server

    from backend.ipfs.embedded import EmbeddedStore
    from backend.render.manifest import MAX_MANIFEST_BYTES
    from backend.render.samples import tiny_manifest
    from backend.web import create_app

    server = make_server("127.0.0.1", 0, create_app({"IPFS_STORE": EmbeddedStore(tmp_path / "ipfs")}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        manifest = tiny_manifest("stipple").canonical_bytes()
        chunks = [manifest[i:i + 100] for i in range(0, len(manifest), 100)]
        pinned = httpx.post(f"{base}/api/manifests", content=iter(chunks), headers={"Content-Type": "application/json"})
        assert pinned.status_code == 201 and pinned.json()["sha256"] == "0x" + tiny_manifest("stipple").sha256_hex()
        big = iter([b"{" + b" " * (MAX_MANIFEST_BYTES + 10)])
        refused = httpx.post(f"{base}/api/manifests", content=big, headers={"Content-Type": "application/json"})
        assert refused.status_code == 413
        assert refused.json()["message"] == f"the manifest is larger than the limit of {MAX_MANIFEST_BYTES} bytes"
        bad = httpx.get(f"{base}/ipfs/{'x' * 5000}")
        assert bad.status_code == 400 and len(bad.text) < 400 and "(5000 characters)" in bad.json()["message"]
    finally:
        server.shutdown()


# -- headers on every response (issue 35, point 7) ------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/project?id=1", "/token?id=1000000", "/styles", "/artist", "/mine",
                                  "/static/js/wallet.js", "/api/projects", "/api/tokens/1000000", "/api/nothing"])
def test_every_page_and_answer_carries_the_security_headers(deployed, path):
    api = app_for(deployed, PUBLIC_RPC_URL="http://127.0.0.1:8545/rpc").test_client()
    response = api.get(path)
    assert response.status_code < 500
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"  # no inline script, no other origin
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["connect-src"] == "'self' http://127.0.0.1:8545"  # the RPC wallets are told, no path
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_content_by_cid_is_served_inert_in_a_sandbox(deployed, api):
    _, _, store, _ = deployed
    cid = store.add(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>')
    response = api.get(f"/ipfs/{cid}")
    assert response.status_code == 200 and response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy.split("; ") and "default-src 'none'" in policy and "script-src" not in policy


def test_read_routes_are_answered_once_per_block_and_follow_the_chain(deployed, monkeypatch):
    """A drop day: many visitors ask the same questions between two blocks. With the read cache on
    (as `stylemint serve` runs), a question is computed once per head block; a mint shows as soon as
    the head is read again; a rebinding Host is refused before any kept answer."""
    import time

    node, sample, store, root = deployed
    app = app_for(deployed, READ_CACHE={"head_seconds": 0.2, "max_age": 30})
    api = app.test_client()
    computed = []
    original = Catalog.project
    monkeypatch.setattr(Catalog, "project", lambda self, pid, **kw: computed.append(pid) or original(self, pid, **kw))
    path = f"/api/projects/{sample.project_id}"
    first = api.get(path)
    answers = [api.get(path) for _ in range(20)]
    assert first.status_code == 200 and all(a.data == first.data for a in answers)
    assert len(computed) == 1  # twenty-one requests, one computation
    assert answers[-1].headers["Content-Security-Policy"] and answers[-1].headers["X-Content-Type-Options"] == "nosniff"
    assert api.get(path, headers={"Host": "rebind.evil.example:8000"}).status_code == 400
    assert api.get("/api/projects/999").status_code == 404 and api.get("/api/projects/999").status_code == 404
    assert computed.count(999) == 2  # an error is never kept
    before = first.json["minted"]
    core.mint(sample.contract, accounts.test_accounts[5], sample.project_id)  # a new block
    time.sleep(0.25)
    assert api.get(path).json["minted"] == before + 1 and len([c for c in computed if c != 999]) == 2
    cache = app.extensions["stylemint_read_cache"]
    assert cache.computed == 4  # the project twice, 999 twice
    # A crowd arriving together at a new block: one computes (slowly), the others wait for it.
    monkeypatch.setattr(Catalog, "project", lambda self, pid, **kw: time.sleep(0.3) or original(self, pid, **kw))
    core.mint(sample.contract, accounts.test_accounts[5], sample.project_id)
    time.sleep(0.25)
    crowd = []
    threads = [threading.Thread(target=lambda: crowd.append(app.test_client().get(path))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.json["minted"] for r in crowd] == [before + 2] * 8 and cache.computed == 5
