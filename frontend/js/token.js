import { getJSON } from "./api.js";
import { guarded, initNav } from "./wallet.js";
import { el, facts, param, showMessage } from "./ui.js";

initNav();
const id = param("id");

async function load() {
  const token = await getJSON(`/api/tokens/${id}`);
  document.getElementById("name").textContent = token.metadata?.name ?? `Token ${token.token_id}`;
  if (token.image) document.getElementById("image").src = token.image;
  facts(document.getElementById("facts"), [
    ["Edition", token.edition],
    ["Project", el("a", { href: `/project?id=${token.project_id}` }, token.project_id)],
    ["Owner", token.owner],
    ["State", token.state],
    ["Token URI", token.token_uri],
  ]);
  const p = token.provenance;
  if (p) {
    facts(document.getElementById("provenance"), [
      ["Seed", p.seed], ["Mint transaction", p.mint_tx], ["Mint block", `${p.mint_block_number} (${p.mint_block_hash})`],
      ["Manifest", `${p.manifest_cid} (sha256 ${p.manifest_sha256})`], ["Model sha256", p.model_sha256],
      ["Prompt", p.prompt], ["Environment", JSON.stringify(p.environment)], ["PNG sha256", p.png_sha256],
    ]);
  } else {
    showMessage(token.state === "failed" ? `Rendering failed: ${token.error}` : "Not rendered yet: the oracle is working on it.", token.state === "failed" ? "error" : "info");
  }
}

document.getElementById("verify").addEventListener("click", () => guarded(async () => {
  const verdict = document.getElementById("verdict");
  verdict.replaceChildren(el("p", { class: "message info" }, "Re-rendering and checking…"));
  const report = await getJSON(`/api/verify/${id}`).catch((error) => ({ outcome: "error", reason: error.message, checks: [] }));
  const good = report.outcome === "exact" || report.outcome === "tolerant";
  verdict.replaceChildren(
    el("p", { class: `message ${good ? "ok" : "error"}`, id: "outcome" }, `${report.outcome.toUpperCase()}: ${report.reason}`),
    el("ul", {}, report.checks.map((check) =>
      el("li", {}, `${check.warning ? "⚠" : check.passed ? "✓" : "✗"} ${check.step}: ${check.detail}`))));
}));

guarded(load);
