import { getJSON, sleep } from "./api.js";
import { contract, contractInfo, guarded, initNav } from "./wallet.js";
import { el, eth, facts, hashValue, param, showMessage, utc } from "./ui.js";

initNav();
const id = param("id");

const POLL_MS = 1000;
let explorer = null;  // a public chain's block explorer, when the server names one

async function refresh() {
  let token;
  try {
    token = await getJSON(`/api/tokens/${id}`);
  } catch (error) {
    if (/does not exist$/.test(error.message)) {
      // Not minted yet (a link shared before the mint, or a page opened while it confirms): the
      // page shows the token as soon as it exists. A refunded (burned) token says so and stops.
      showImage(null, `Token ${id} is not minted yet; this page shows it as soon as it is.`);
      setTimeout(() => guarded(refresh), 3 * POLL_MS);
      return;
    }
    showImage(null, error.message);
    throw error;
  }
  show(token);
  if (token.state !== "fulfilled") setTimeout(() => guarded(refresh), token.state === "failed" ? 5 * POLL_MS : POLL_MS);
}

function show(token) {
  document.getElementById("name").textContent = token.metadata?.name ?? `${token.project.name} #${token.edition}`;
  document.getElementById("byline").replaceChildren(
    el("a", { href: `/project?id=${token.project_id}` }, token.project.name), " by ",
    address(token.project.artist), ` · #${token.edition} of ${token.project.max_editions}`,
    // The id wallets, explorers and `stylemint verify` use, beside the edition collectors count.
    el("span", { class: "token-id" }, ` · token ${token.token_id}`));
  showImage(token);
  showProgress(token.progress, token.state, token.phases);
  showTraits(token.metadata?.attributes);
  facts(document.getElementById("facts"), [
    ["Owner", address(token.owner)],
    ["Minted", token.mint ? `${utc(token.mint.timestamp)} for ${eth(token.mint.price_wei)}` : "—"],
    ...(token.mint && token.mint.payer.toLowerCase() !== token.owner.toLowerCase()
      ? [["Paid by", address(token.mint.payer)]] : []),
    ["Mint transaction", token.mint ? transaction(token.mint.tx) : "—"],
    ...(token.state === "fulfilled" ? [["Token URI", hashValue(token.token_uri)]] : []),
  ]);
  document.getElementById("links").replaceChildren(...[
    token.image && el("a", { href: token.image, id: "image-link" }, "Image"),
    token.image && el("a", { href: token.image, id: "download", download: `stylemint-${token.token_id}.png` }, "Download"),
    token.image && el("button", { type: "button", id: "full-size", onclick: () => {
      document.getElementById("full-image").src = token.image;
      document.getElementById("full-view").showModal();
    } }, "Full size"),
    token.metadata_url && el("a", { href: token.metadata_url, id: "metadata-link" }, "Metadata"),
    token.mint && explorer && el("a", { href: `${explorer}/tx/${token.mint.tx}` }, "Transaction on the explorer"),
  ].filter(Boolean).flatMap((link, i) => (i ? [" · ", link] : [link])));
  showEscrow(token);
  showStyles(token.provenance?.attribution, token.styles_paid);
  showSplit(token);
  if (token.provenance) showProvenance(token.provenance);
}

function address(value) {
  return hashValue(value, { href: explorer ? `${explorer}/address/${value}` : null });
}

function transaction(hash) {
  return hashValue(hash, { href: explorer ? `${explorer}/tx/${hash}` : null });
}

// Never a broken image: the placeholder says why there is none (yet).
function showImage(token, problem = null) {
  const image = document.getElementById("image");
  const placeholder = document.getElementById("placeholder");
  if (token?.image) {
    if (image.getAttribute("src") !== token.image) {
      image.onload = () => { image.hidden = false; placeholder.hidden = true; };
      image.onerror = () => { image.hidden = true; placeholder.hidden = false;
        placeholder.textContent = "The image is not reachable from this server's IPFS node right now."; };
      image.src = token.image;
    }
    return;
  }
  image.hidden = true;
  placeholder.hidden = false;
  placeholder.textContent = problem ?? (token?.state === "failed" ? "Rendering failed"
    : token?.state === "fulfilled" ? "Rendered; the image is not in this server's IPFS node yet." : "Not rendered yet");
}

// The oracle's steps, in order, with their labels: the API names them (backend/oracle/phases.py).
function showProgress(progress, state, steps) {
  const list = document.getElementById("progress");
  list.hidden = state === "fulfilled";
  if (state === "fulfilled") return list.replaceChildren();
  const failed = progress.phase === "failed";
  const at = failed ? 1 : steps.findIndex(({ name }) => name === progress.phase);  // failed: minted, then stopped
  list.replaceChildren(...steps.map(({ name: phase, label, doing }, i) => {
    const item = el("li", { "data-phase": phase, class: i < at ? "done" : i === at && !failed ? "current" : "" }, label);
    if (i === at && phase === "rendering" && progress.steps) {
      item.append(`: step ${progress.step} of ${progress.steps} `,
        el("progress", { value: progress.step, max: progress.steps }));
    }
    if (i === at && !failed && doing) item.append(el("div", { class: "detail" }, progress.reason ?? doing));
    if (i === at && phase === "submitted" && progress.fulfill_tx) item.append(" ", transaction(progress.fulfill_tx));
    return item;
  }));
  if (failed) {
    list.append(el("li", { class: "failed", id: "failure" }, `Rendering failed: ${progress.reason}`));
  } else if (progress.retrying) {
    list.append(el("li", { class: "retrying" }, `Retrying after: ${progress.retrying}`));
  }
  if (Array.isArray(progress.disagree) && progress.disagree.length) {
    // Two different commitments are never merged: the token settles only when enough operators agree.
    const rows = progress.disagree.map((c) => el("tr", {}, el("td", {}, String(c.oracle)), el("td", {}, String(c.seed)),
      el("td", {}, String(c.metadata_digest)), el("td", {}, JSON.stringify(c.weights_bps))));
    list.append(el("li", { class: "disagree", id: "disagree" },
      "Oracles disagree: this token waits until enough operators commit to the same render.",
      el("table", {}, el("tr", {}, ...["Oracle", "Seed", "Metadata digest", "Style weights (bps)"]
        .map((h) => el("th", {}, h))), ...rows)));
  }
}

function showTraits(attributes) {
  const list = document.getElementById("traits");
  list.replaceChildren(...(Array.isArray(attributes) ? attributes : []).map((a) =>
    el("li", { class: "chip" }, el("span", { class: "trait-type" }, a.trait_type), " ", el("strong", {}, String(a.value)))));
}

// The environment is a flat record of the render's software and settings: one row each.
function environmentTable(environment) {
  if (!environment || typeof environment !== "object") return "—";
  return el("table", { class: "environment" }, ...Object.entries(environment).map(([key, value]) =>
    el("tr", {}, el("th", {}, key), el("td", {}, typeof value === "object" ? JSON.stringify(value) : String(value)))));
}

function showProvenance(p) {
  facts(document.getElementById("provenance"), [
    ["Seed", hashValue(p.seed)],
    ["Mint transaction", transaction(p.mint_tx)],
    ["Mint block", el("span", {}, `${p.mint_block_number} `, hashValue(p.mint_block_hash))],
    ["Randomness", el("span", {}, "RANDAO ", hashValue(p.randomness), ` of block ${p.randomness_block_number} `,
      hashValue(p.randomness_block_hash))],
    ["Manifest", el("span", {}, hashValue(p.manifest_cid, { href: `/ipfs/${p.manifest_cid}` }), " sha256 ",
      hashValue(p.manifest_sha256))],
    ["Model", el("span", {}, `${p.model_id ?? "model"} `, hashValue(p.model_sha256))],
    ["Prompt", p.prompt],
    ["Environment", environmentTable(p.environment)],
    ["PNG sha256", hashValue(p.png_sha256)],
  ]);
}

// Each style's share of this image, and its heat map over the image (one at a time, toggled).
// With `paid` (the StylesPaid log), what each registered style's owner was paid for this sale.
function showStyles(attribution, paid) {
  const box = document.getElementById("styles");
  const overlay = document.getElementById("heatmap");
  if (!attribution?.styles?.length) return box.replaceChildren();
  if (box.childElementCount) return;  // shown once: a fulfilled token's attribution never changes
  const buttons = [];
  const rows = attribution.styles.map((style, i) => {
    const button = el("button", { class: "heatmap-toggle", "aria-pressed": "false", "data-trigger": style.trigger,
      onclick: () => {
        const on = button.getAttribute("aria-pressed") !== "true";
        buttons.forEach((b) => b.setAttribute("aria-pressed", "false"));
        button.setAttribute("aria-pressed", String(on));
        showHeatmap(on ? style : null).catch((error) => showMessage(error.message, "error"));
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

// Where the sale's money went, as the chain settled it: the platform, each style's owner, the
// artist; the rows add up to the price (a last row says so).
function showSplit(token) {
  const box = document.getElementById("split");
  const sale = token.sale;
  if (!sale) return box.replaceChildren();
  const paid = token.styles_paid;
  const rows = [["Platform (10 %)", sale.platform_wei],
    ...(paid ? paid.style_ids.map((id, i) => [`Style #${id}'s owner (by its measured share)`, paid.amounts[i]]) : []),
    ["Artist (the rest)", sale.artist_wei]];
  const total = rows.reduce((sum, [, wei]) => sum + BigInt(wei), 0n);
  box.replaceChildren(el("h2", {}, "The sale"),
    el("table", { class: "split" }, ...rows.map(([who, wei]) =>
      el("tr", { class: "part" }, el("td", {}, who), el("td", { class: "amount", "data-wei": String(wei) }, eth(wei)))),
    el("tr", { class: "total" }, el("th", {}, total === BigInt(sale.price_wei) ? "Price paid" : "Price paid (the parts differ!)"),
      el("th", { class: "amount", "data-wei": sale.price_wei }, eth(sale.price_wei)))));
}

// A colour scale for the heat maps (dark violet, red, orange, pale yellow), and each colour's
// opacity rising with the value: where a style did not act the image shows through untouched.
const SCALE = [[0, [40, 11, 84]], [0.35, [147, 38, 103]], [0.65, [221, 81, 58]], [1, [252, 255, 164]]];

function colourOf(value) {
  for (let i = 1; i < SCALE.length; i += 1) {
    const [x1, c1] = SCALE[i];
    const [x0, c0] = SCALE[i - 1];
    if (value <= x1) return c0.map((c, k) => Math.round(c + ((value - x0) / (x1 - x0)) * (c1[k] - c)));
  }
  return SCALE[SCALE.length - 1][1];
}

// The style's heat map over the image (the pinned grayscale map, coloured here), with its legend
// and an opacity slider; `null` hides it.
async function showHeatmap(style) {
  const overlay = document.getElementById("heatmap");
  const legend = document.getElementById("heatmap-legend");
  if (!style) { overlay.hidden = true; legend.hidden = true; return; }
  const source = `/ipfs/${style.heatmap_cid}`;
  const gray = new Image();
  await new Promise((resolve, reject) => {
    gray.onload = resolve;
    gray.onerror = () => reject(new Error("The heat map is not reachable from this server's IPFS node right now."));
    gray.src = source;
  });
  const canvas = el("canvas", { width: gray.naturalWidth, height: gray.naturalHeight });
  const context = canvas.getContext("2d");
  context.drawImage(gray, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
  // Stretched from the map's least to its most: an attention map is rarely zero anywhere, and the
  // question is where the style acted more, not whether it acted at all.
  let low = 255, high = 0;
  for (let i = 0; i < pixels.data.length; i += 4) { low = Math.min(low, pixels.data[i]); high = Math.max(high, pixels.data[i]); }
  for (let i = 0; i < pixels.data.length; i += 4) {
    const value = high > low ? (pixels.data[i] - low) / (high - low) : 0.5;
    const [r, g, b] = colourOf(value);
    pixels.data.set([r, g, b, Math.round(255 * value)], i);
  }
  context.putImageData(pixels, 0, 0);
  overlay.src = canvas.toDataURL("image/png");
  overlay.dataset.source = source;
  overlay.hidden = false;
  const slider = document.getElementById("heatmap-opacity");
  overlay.style.opacity = String(slider.value / 100);
  slider.oninput = () => { overlay.style.opacity = String(slider.value / 100); };
  document.getElementById("heatmap-style").textContent = `"${style.trigger}"`;
  legend.querySelector(".scale").style.background =
    `linear-gradient(to right, ${SCALE.map(([x, c]) => `rgba(${c.join(",")},${Math.max(x, 0.08)}) ${x * 100}%`).join(", ")})`;
  legend.hidden = false;
}

function showEscrow(token) {
  const box = document.getElementById("escrow");
  const escrow = token.escrow;
  if (!escrow) return box.replaceChildren();
  if (box.querySelector(".message.ok")) return;  // refunded: the page keeps saying so
  const open = escrow.head + 1 >= escrow.refundable_from_block;
  const note = el("p", { class: "message info", id: "escrow-note" },
    `The price (${eth(escrow.amount_wei)}) is held in escrow until the token is rendered. ` +
    (open ? "It still is not: its owner can take the money back (the token is burned)."
      : `If it is still not rendered at block ${escrow.refundable_from_block}, its owner can take the money back.`));
  const refund = open && el("button", { id: "refund", onclick: () => guarded(async () => {
    const stylemint = await contract();
    const receipt = await (await stylemint.refund(token.token_id)).wait();
    box.replaceChildren(el("p", { class: "message ok" }, `Refunded in block ${receipt.blockNumber}; the token is burned.`));
  }) }, "Refund");
  const current = box.querySelector("#escrow-note");
  if (current?.textContent === note.textContent && !!box.querySelector("#refund") === !!refund) return;  // no flicker
  box.replaceChildren(note, ...(refund ? [refund] : []));
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
    await sleep(2000);
    report = await fetchReport();
  }
  // Only exact is proof; tolerant means this server is outside the committed environment.
  const kind = report.outcome === "exact" ? "ok" : report.outcome === "tolerant" ? "info" : "error";
  verdict.replaceChildren(
    el("p", { class: `message ${kind}`, id: "outcome" }, `${report.outcome.toUpperCase()}: ${report.reason}`),
    el("ul", {}, report.checks.map((check) =>
      el("li", {}, `${check.warning ? "⚠" : check.passed ? "✓" : "✗"} ${check.step}: ${check.detail}`))));
}));

guarded(async () => {
  explorer = (await contractInfo()).explorer_url;
  await refresh();
});
