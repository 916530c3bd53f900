"""Web fixtures: anvil + sample project + running oracle + the app on 127.0.0.1, and Chromium.

The browser is Debian's Chromium (from apt) driven by playwright through executable_path, with
the flags that keep it off the network; playwright's own browser builds are never fetched. The wallet is an EIP-1193 provider injected before page load,
announced through EIP-6963 and as window.ethereum, that forwards to anvil (whose dev accounts
are unlocked, so anvil signs).
"""

import json
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from backend.chain.client import StyleMintClient
from backend.config import PROJECT_ROOT
from backend.verify.verifier import Verifier
from backend.web import create_app
from backend.web.catalog import Catalog
from backend.dev.anvil import Anvil
from backend.dev.sample import deploy_sample
from backend.ipfs.embedded import EmbeddedStore
from backend.render.renderer import Renderer
from backend.render.samples import tiny_manifest
from tests.oracle.conftest import env, make_oracle, shared_renderer  # noqa: F401  (fixtures)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = PROJECT_ROOT / "artifacts" / "screenshots"

WALLET_JS = """
(() => {
  const config = %s;
  let chainId = config.chainId;
  const listeners = {};
  const calls = window.__walletCalls = {};  // what the page asked the wallet, counted per method
  let authorized = !!config.authorized;  // as a real wallet: eth_accounts is empty until the site is allowed
  const provider = {
    isStylemintTestWallet: true,
    async request({ method, params }) {
      calls[method] = (calls[method] || 0) + 1;
      if (method === "eth_requestAccounts") {
        if (config.reject) throw Object.assign(new Error("User rejected the request."), { code: 4001 });
        authorized = true;
        return [config.account];
      }
      if (method === "eth_accounts") return authorized ? [config.account] : [];
      if (method === "eth_chainId") return chainId;
      if (method === "wallet_switchEthereumChain") {
        chainId = params[0].chainId;
        (listeners.chainChanged || []).forEach((f) => f(chainId));
        return null;
      }
      if (method === "eth_sendTransaction") params = [{ ...params[0], from: config.account }];
      const response = await fetch(config.rpc, { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: Date.now(), method, params: params || [] }) });
      const body = await response.json();
      if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code, data: body.error.data });
      return body.result;
    },
    on(event, f) { (listeners[event] ||= []).push(f); },
    removeListener(event, f) { listeners[event] = (listeners[event] || []).filter((g) => g !== f); },
  };
  const info = { uuid: "7d5c0d62-0000-4000-8000-000000000001", name: "Test Wallet", icon: "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg'/>", rdns: "dev.stylemint.testwallet" };
  const other = { uuid: "7d5c0d62-0000-4000-8000-000000000002", name: "Other Wallet", icon: info.icon, rdns: "dev.stylemint.other" };
  const otherProvider = { ...provider, async request() { throw Object.assign(new Error("not this one"), { code: 4001 }); } };
  const announce = () => {
    window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
    if (config.twoWallets) window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info: other, provider: otherProvider }) }));
  };
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
  window.ethereum = provider;
})();
"""


@pytest.fixture
def stipple_chain(env):  # noqa: F811
    """anvil + the demo's sample project: stylemint-tiny with the Stipple style (1 gwei, 100 editions),
    so the pages show real renders."""
    from ape import networks

    with Anvil(log_path=env / "anvil.log") as node:
        with networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
            store = EmbeddedStore(env / "data" / "ipfs")
            sample = deploy_sample(node.url, store, price_wei=10**9, max_editions=100, manifest=tiny_manifest("stipple"))
            yield node, sample, store


class GatedRenderer:
    """Fault injection: a slow GPU. The real renderer, held after its second denoising step until
    `gate` is set (it is, unless a test clears it), so a page can be looked at mid-render."""

    def __init__(self, renderer, gate: threading.Event):
        self.renderer, self.gate = renderer, gate

    def __getattr__(self, name):
        return getattr(self.renderer, name)

    def render_batch(self, manifest, seeds, progress=None):
        def held(step, steps):
            if progress:
                progress(step, steps)
            if step == 2:
                self.gate.wait(timeout=120)
        return self.renderer.render_batch(manifest, seeds, held)


@pytest.fixture
def render_gate():
    gate = threading.Event()
    gate.set()
    yield gate
    gate.set()


@pytest.fixture
def app_config(request):
    """Extra app settings for one test (`@pytest.mark.parametrize("app_config", [...], indirect=True)`)."""
    return getattr(request, "param", {})


@pytest.fixture
def site(stipple_chain, shared_renderer, env, render_gate, app_config):  # noqa: F811
    """The whole product running: chain, oracle thread, app. Yields (base url, node, sample, store)."""
    node, sample, store = stipple_chain
    renderer = GatedRenderer(Renderer(device="cpu", threads=2, models_dir=shared_renderer.models_dir,
                                      fetch_adapter=store.get), render_gate)
    oracle = make_oracle(node, sample, store, renderer, env / "data" / "oracle" / "state.sqlite",
                         poll_interval=0.2, progress_interval=0)
    stop = threading.Event()
    oracle_thread = threading.Thread(target=oracle.run, args=(stop,), daemon=True)
    oracle_thread.start()
    client = StyleMintClient(node.url, sample.deployment.address)
    app = create_app({"IPFS_STORE": store, "CATALOG": Catalog(client, store, env / "data" / "oracle" / "state.sqlite"),
                      "VERIFIER": Verifier(client, store, models_dir=shared_renderer.models_dir),
                      "PUBLIC_RPC_URL": node.url, **app_config})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", node, sample, store
    server.shutdown()
    stop.set()
    oracle_thread.join(timeout=30)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every browser test fails if the page's Content-Security-Policy blocked anything on its paths.
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.effectiveDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture
def open_page(browser, site):
    """open_page(path, account=..., chain_id=...) -> a page with the test wallet injected."""
    base, node, _, _ = site
    contexts = []

    def opener(path, *, account, chain_id=31337, reject=False, two_wallets=False, authorized=False):
        context = browser.new_context()
        contexts.append(context)
        config = {"account": account, "chainId": hex(chain_id), "rpc": node.url, "reject": reject,
                  "twoWallets": two_wallets, "authorized": authorized}
        context.add_init_script(WALLET_JS % json.dumps(config))
        context.add_init_script(CSP_RECORDER)
        page = context.new_page()
        page.goto(base + path)
        pages.append(page)
        return page

    pages = []
    yield opener
    violations = []
    for page in pages:
        try:
            violations += page.evaluate("window.__cspViolations || []")
        except Exception:  # noqa: BLE001 - a page the test closed or navigated away from
            pass
    for context in contexts:
        context.close()
    assert violations == [], f"the Content-Security-Policy blocked: {violations}"


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
