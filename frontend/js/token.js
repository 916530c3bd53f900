import { getJSON } from "./api.js";
import { contract, guarded, initNav } from "./wallet.js";
import { el, eth, facts, param, showMessage } from "./ui.js";

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
  showEscrow(token);
  showStyles(token.provenance?.attribution, token.styles_paid);
  const p = token.provenance;
  if (p) {
    facts(document.getElementById("provenance"), [
      ["Seed", p.seed], ["Mint transaction", p.mint_tx], ["Mint block", `${p.mint_block_number} (${p.mint_block_hash})`],
      ["Randomness", `RANDAO ${p.randomness} of block ${p.randomness_block_number} (${p.randomness_block_hash})`],
      ["Manifest", `${p.manifest_cid} (sha256 ${p.manifest_sha256})`], ["Model", `${p.model_id ?? "model"} (sha256 ${p.model_sha256})`],
      ["Prompt", p.prompt], ["Environment", JSON.stringify(p.environment)], ["PNG sha256", p.png_sha256],
    ]);
  } else {
    showMessage(token.state === "failed" ? `Rendering failed: ${token.error}` : "Not rendered yet: the oracle is working on it.", token.state === "failed" ? "error" : "info");
  }
}

// Each style's share of this image, and its heat map over the image (one at a time, toggled).
// With `paid` (the StylesPaid log), what each registered style's owner was paid for this sale.
function showStyles(attribution, paid) {
  const box = document.getElementById("styles");
  const overlay = document.getElementById("heatmap");
  if (!attribution?.styles?.length) return box.replaceChildren();
  const buttons = [];
  const rows = attribution.styles.map((style, i) => {
    const button = el("button", { class: "heatmap-toggle", "aria-pressed": "false", "data-trigger": style.trigger,
      onclick: () => {
        const on = button.getAttribute("aria-pressed") !== "true";
        buttons.forEach((b) => b.setAttribute("aria-pressed", "false"));
        button.setAttribute("aria-pressed", String(on));
        overlay.hidden = !on;
        if (on) overlay.src = `/ipfs/${style.heatmap_cid}`;
      } }, "Heat map");
    buttons.push(button);
    return el("tr", { class: "style-share" }, el("td", {}, style.trigger), el("td", {}, `${(style.weight_bps / 100).toFixed(2)} %`),
      ...(paid ? [el("td", { class: "paid" }, `${eth(paid.amounts[i])} to style #${paid.style_ids[i]}`)] : []), el("td", {}, button));
  });
  box.replaceChildren(el("h2", {}, "Styles"),
    el("p", {}, `Each style's share of this image, measured by ${attribution.method} attribution (version ${attribution.version}); ` +
      "re-computed by the verifier with the render."),
    el("table", {}, el("tr", {}, el("th", {}, "style"), el("th", {}, "share"), ...(paid ? [el("th", {}, "paid")] : []),
      el("th", {}, "")), ...rows));
}

function showEscrow(token) {
  const box = document.getElementById("escrow");
  const escrow = token.escrow;
  if (!escrow) return box.replaceChildren();
  const open = escrow.head + 1 >= escrow.refundable_from_block;
  box.replaceChildren(el("p", { class: "message info", id: "escrow-note" },
    `The price (${escrow.amount_wei} wei) is held in escrow until the token is rendered. ` +
    (open ? "It still is not: its owner can take the money back (the token is burned)."
      : `If it is still not rendered at block ${escrow.refundable_from_block}, its owner can take the money back.`)));
  if (open) {
    box.append(el("button", { id: "refund", onclick: () => guarded(async () => {
      const stylemint = await contract();
      const receipt = await (await stylemint.refund(token.token_id)).wait();
      box.replaceChildren(el("p", { class: "message ok" }, `Refunded in block ${receipt.blockNumber}; the token is burned.`));
    }) }, "Refund"));
  }
}

function fetchReport() {
  return getJSON(`/api/verify/${id}`).catch((error) => ({ outcome: "error", reason: error.message, checks: [] }));
}

document.getElementById("verify").addEventListener("click", () => guarded(async () => {
  const verdict = document.getElementById("verdict");
  verdict.replaceChildren(el("p", { class: "message info" }, "Re-rendering and checking…"));
  let report = await fetchReport();
  while (report.status === "queued" || report.status === "running") {  // 202: the server re-renders; ask again
    verdict.replaceChildren(el("p", { class: "message info" }, `Re-rendering and checking… (${report.status})`));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    report = await fetchReport();
  }
  // Only exact is proof; tolerant means this server is outside the committed environment.
  const kind = report.outcome === "exact" ? "ok" : report.outcome === "tolerant" ? "info" : "error";
  verdict.replaceChildren(
    el("p", { class: `message ${kind}`, id: "outcome" }, `${report.outcome.toUpperCase()}: ${report.reason}`),
    el("ul", {}, report.checks.map((check) =>
      el("li", {}, `${check.warning ? "⚠" : check.passed ? "✓" : "✗"} ${check.step}: ${check.detail}`))));
}));

guarded(load);
