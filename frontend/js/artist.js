import { getJSON, postJSON } from "./api.js";
import { connectPrompt, contract, contractInfo, currentAccount, eventIn, guarded, initNav, minterAt, minterOfType, transact } from "./wallet.js";
import { el, eth, showMessage, short, utc } from "./ui.js";
import { duration } from "./auction.js";
import { formatEther, parseEther } from "/vendor/ethers.js";

initNav({ onConnect: refresh, onAbsent: () => {
  document.getElementById("account-only").hidden = true;
  return connectPrompt(document.getElementById("artist-prompt"), "your projects, earnings and balance", refresh);
} });

async function refresh() {
  const account = (await currentAccount()).toLowerCase();
  document.getElementById("artist-prompt").hidden = true;
  document.getElementById("account-only").hidden = false;
  const stylemint = await contract();
  document.getElementById("credit").textContent = formatEther(await stylemint.creditOf(account));
  const { projects } = await getJSON("/api/projects");
  const mine = projects.filter((p) => p.artist.toLowerCase() === account);
  canAuction = Boolean((await contractInfo()).minters.MinterDAExpSettlement);
  const earned = await getJSON(`/api/earnings/${account}`);
  document.getElementById("withdrawn").textContent = eth(earned.withdrawn_wei);
  showEarnings(earned);
  document.getElementById("mine").replaceChildren(...mine.map(projectCard));
}

const row = (...cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c)));

function showEarnings(earned) {
  document.querySelector("#earnings tbody").replaceChildren(...earned.projects.map((p) =>
    row(el("a", { href: `/project?id=${p.id}` }, p.name), String(p.minted), String(p.sales), eth(p.revenue_wei),
      eth(p.platform_wei), eth(p.styles_wei), eth(p.artist_wei))));
  document.querySelector("#style-earnings tbody").replaceChildren(...earned.styles.map((s) =>
    row(`${s.name} (#${s.id})${s.retired ? ", retired" : ""}`, String(s.mints), eth(s.earned_wei))));
  document.getElementById("style-earnings").hidden = !earned.styles.length;
  const sales = earned.projects.flatMap((p) => p.recent_sales.map((sale) => ({ ...sale, project: p })));
  document.querySelector("#sales tbody").replaceChildren(...(sales.length ? sales.map((sale) =>
    el("tr", { class: "sale", "data-token": sale.token_id }, ...[
      sale.project.name, el("a", { href: `/token?id=${sale.token_id}` }, `#${sale.edition}`),
      el("span", { title: sale.buyer }, short(sale.buyer)), String(sale.mint_block), eth(sale.price_wei),
      sale.state === "paid" ? "paid out" : "in escrow (until rendered)",
      sale.state === "paid" ? eth(sale.artist_wei) : "—",
    ].map((c) => el("td", {}, c))))
    : [el("tr", {}, el("td", { colspan: 7 }, "No sales yet."))]));
}

// One small form per setting; each sends its own transaction and shows the revert in words.
// `check(input)` runs first (it throws what is wrong in words, or returns false to stop quietly).
function settingForm(name, label, value, attributes, call, signer = contract, check = null) {
  const form = el("form", { class: `inline setting-${name}` },
    el("label", {}, `${label} `, el("input", { name, value, required: "", ...attributes })),
    el("button", { type: "submit" }, "Set"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = form.elements[name].value.trim();
    guarded(async () => {
      if (check && check(input) === false) return;
      await transact(signer, (c) => call(c, input), `${label} set to ${input}`, refresh);
    });
  });
  return form;
}

// A new price: an amount in ETH; zero only once the artist confirmed a free sale.
const checkPrice = (input) => parseEther(amount("Price", input)) !== 0n
  || confirm("A price of 0: collectors mint for free and nobody is paid. Set it?");

let canAuction = false; // this deployment has an approved Dutch auction minter

function projectCard(p) {
  const status = `${p.minted}/${p.max_editions} minted · ${p.paused ? "paused" : "open"}${p.locked ? " · locked" : ""}`;
  const auctioned = p.minter_type === "MinterDAExpSettlement";
  const sale = auctioned ? [auctionState(p), auctionForm(p)] : [
    settingForm("price", "Price (ETH)", p.price_wei === null ? "" : formatEther(BigInt(p.price_wei)), { inputmode: "decimal" },
      (c, v) => c.setPrice(p.id, parseEther(v)), saleMinter(p), checkPrice),
    settingForm("limit", "Limit per address (0: the default)", String(p.max_per_address ?? 0),
      { type: "number", min: 0, max: 4294967295, step: 1 }, (c, v) => c.setMaxPerAddress(p.id, Number(v)), saleMinter(p)),
    allowlistForm(p),
    canAuction && p.minted === 0 && !p.locked
      ? el("details", { class: "switch-auction" }, el("summary", {}, "Sell by Dutch auction instead"), auctionForm(p)) : ""];
  const [stage, says] = stageOf(p);
  return el("div", { class: "card", "data-project": p.id },
    el("h3", {}, el("a", { href: `/project?id=${p.id}` }, p.name)),
    el("div", { class: "status" }, status),
    el("div", { class: `stage ${stage}`, "data-stage": stage }, says),
    ...sale,
    settingForm("royalty", "Royalty (%)", String(p.royalty_bps / 100), { type: "number", min: 0, max: 10, step: 0.01 },
      (c, v) => c.setProjectRoyalty(p.id, Math.round(Number(v) * 100))),
    p.locked ? "" : settingForm("cap", "Edition cap", String(p.max_editions), { type: "number", min: 1, step: 1 },
      (c, v) => c.setProjectMaxEditions(p.id, BigInt(v))),
    el("div", { class: "actions" },
      el("button", { class: "toggle", onclick: () => send((c) => c.setProjectPaused(p.id, !p.paused), p.paused ? "Unpaused" : "Paused") },
        p.paused ? "Unpause" : "Pause"),
      p.locked ? "" : el("button", { onclick: () => confirm("Lock for ever? The style and cap can never change again.")
        && send((c) => c.lockProject(p.id), "Locked") }, "Lock")));
}

// Where a project stands on its way to collectors, and what moves it on.
function stageOf(p) {
  if (!p.approved) {
    return ["review", "Awaiting the platform's review: the admin checks its manifest and styles on the Review page; " +
      "nobody can mint it before."];
  }
  if (p.remaining === 0) return ["sold-out", "Sold out."];
  if (p.price_wei === null) return ["no-sale", "Approved; not for sale yet: set a price or an auction."];
  if (p.admin_paused) return ["paused", "Approved, but paused by the platform."];
  if (p.paused) return ["paused", "Approved and paused: unpause it to open minting."];
  return ["live", "Live: collectors can mint it."];
}

// An amount of ETH as typed, checked before any wallet is asked: digits, at most 18 decimals.
function amount(label, text) {
  if (!/^\d+(\.\d{1,18})?$/.test(text)) {
    throw new Error(`${label}: "${text.slice(0, 40)}" is not an amount in ETH (digits and a dot, at most 18 decimals).`);
  }
  return text;
}

function auctionState(p) {
  const a = p.auction;
  return el("div", { class: "auction-state" }, a.settled
    ? `Dutch auction settled at ${eth(a.last_price_wei)}.`
    : `Dutch auction: from ${eth(a.start_price_wei)} at ${utc(a.start_time)}, halving every ${duration(a.half_life)} ` +
      `down to ${eth(a.base_price_wei)}.`);
}

// The auction's settings; changeable until it opens or sells (the minter refuses later ones). The
// first submission also makes the auction minter sell the project (a second transaction).
function auctionForm(p) {
  const a = p.auction;
  const field = (name, label, value, attributes = {}) =>
    el("label", {}, `${label} `, el("input", { name, value, required: "", ...attributes }));
  const form = el("form", { class: "auction-form" },
    field("start", "Start price (ETH)", a ? formatEther(BigInt(a.start_price_wei)) : "0.08", { inputmode: "decimal" }),
    field("base", "Base price (ETH)", a ? formatEther(BigInt(a.base_price_wei)) : "0.01", { inputmode: "decimal" }),
    field("opens", "Opens in (minutes)", "10", { type: "number", min: 1, step: 1 }),
    field("halfLife", "Halves every (minutes)", a ? String(a.half_life / 60) : "10", { type: "number", min: 1, max: 1440, step: 1 }),
    el("button", { type: "submit" }, a ? "Change the auction" : "Set the auction"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(async () => {
      const start = parseEther(amount("Start price", form.elements.start.value.trim()));
      const base = parseEther(amount("Base price", form.elements.base.value.trim()));
      const opens = Number(form.elements.opens.value), halfLife = Number(form.elements.halfLife.value);
      if (base === 0n) throw new Error("Base price: the auction needs a base price above zero.");
      if (start < base) throw new Error("Start price: it must be at least the base price.");
      if (start > base << 20n) throw new Error("Start price: at most 20 halvings above the base price (about a million times it).");
      if (!Number.isInteger(opens) || opens < 1) throw new Error("Opens in: a whole number of minutes, at least 1.");
      if (!Number.isInteger(halfLife) || halfLife < 1 || halfLife > 1440) {
        throw new Error("Halves every: a whole number of minutes from 1 to 1440 (a day).");
      }
      const minter = await minterOfType("MinterDAExpSettlement");
      const address = await minter.getAddress();
      if (!p.minter || p.minter.toLowerCase() !== address.toLowerCase()) {
        showMessage("Confirm in your wallet that the Dutch auction sells this project (then its settings).", "info");
        await (await (await contract()).setProjectMinter(p.id, address)).wait();
      }
      const now = (await minter.runner.provider.getBlock("latest")).timestamp;
      await transact(async () => minter, (m) => m.setAuction(p.id, start, base, now + opens * 60, halfLife * 60),
        `Auction set: from ${formatEther(start)} ETH in ${opens} min, halving every ${halfLife} min down to ${formatEther(base)} ETH`,
        refresh);
    });
  });
  return form;
}

const send = (call, done) => transact(contract, call, done, refresh);

// The minter that sells a project (the fixed-price one until the artist has chosen).
const saleMinter = (p) => () => (p.minter && BigInt(p.minter) !== 0n ? minterAt(p.minter) : minterOfType("MinterSetPrice"));

// An allowlist: addresses one per line (or separated by commas or spaces); the server checks and
// pins the list and builds its Merkle root, then the artist's wallet sets the root on the minter.
function allowlistForm(p) {
  const form = el("form", { class: "allowlist" },
    el("label", {}, "Allowlist (one address per line) ", el("textarea", { name: "addresses", rows: 3, cols: 44 })),
    el("button", { type: "submit" }, "Set allowlist"),
    p.allowlist ? el("button", { type: "button", class: "public", onclick: () => transact(saleMinter(p),
      (m) => m.setMerkleRoot(p.id, "0x" + "00".repeat(32), ""), "The sale is public again", refresh) }, "Make public") : "",
    el("span", { class: "allowlist-state" }, p.allowlist ? ` Allowlist only (ipfs://${p.allowlist.list_cid}).` : " Public sale."));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const addresses = form.elements.addresses.value.split(/[\s,;]+/).filter(Boolean);
    if (!addresses.length) { showMessage("Enter at least one address for the allowlist.", "error"); return; }
    const bad = addresses.find((a) => !/^0x[0-9a-fA-F]{40}$/.test(a));
    if (bad) { showMessage(`"${bad.slice(0, 60)}" is not an Ethereum address (0x and 40 hex digits).`, "error"); return; }
    guarded(async () => {
      const list = await postJSON("/api/allowlists", { addresses });
      await transact(saleMinter(p), (m) => m.setMerkleRoot(p.id, list.root, list.cid),
        `Allowlist of ${list.count} address${list.count === 1 ? "" : "es"} set`, refresh);
    });
  });
  return form;
}

// The manifest the form describes, and the registry styles it blends (their adapters exactly as
// the registry records them; each trigger must be a word of the prompt, or nothing invokes it).
async function draft(form) {
  let variables;
  try { variables = JSON.parse(form.get("variables") || "{}"); } catch { throw new Error("Variables must be JSON, e.g. {\"surface\": [\"water\", \"glass\"]}"); }
  const template = await getJSON("/api/manifests/template");
  const size = Number(form.get("size"));
  const styleIds = (form.get("styles") || "").split(",").map((s) => s.trim()).filter(Boolean);
  const registered = await Promise.all(styleIds.map((sid) => getJSON(`/api/styles/${sid}`)));
  let prompt = form.get("prompt");
  // A trigger joins the prompt as the phrase its style was trained on: "<trigger> style" (a trigger
  // that already ends in "style", like stylemint-gen's "stipple style", as it is).
  for (const s of registered) {
    if (!new RegExp(`\\b${s.trigger}\\b`).test(prompt)) prompt += `, ${s.trigger}${/\bstyle$/.test(s.trigger) ? "" : " style"}`;
  }
  const manifest = { ...template, name: form.get("name"), prompt, variables,
    negative_prompt: form.get("negative_prompt"), scheduler: { name: form.get("scheduler"), config: {} },
    steps: Number(form.get("steps")), guidance_scale: Number(form.get("guidance_scale")), width: size, height: size };
  if (registered.length) {
    const unread = registered.find((s) => !s.adapter_kind);
    if (unread) throw new Error(`Style #${unread.id}'s adapter cannot be read from IPFS right now; try again shortly.`);
    manifest.styles = registered.map((s) => ({ kind: s.adapter_kind, cid: s.adapter_cid, sha256: s.adapter_sha256.slice(2),
      scale: Number(form.get("scale") ?? 1), trigger: s.trigger }));
    manifest.attribution = form.get("attribution");
  }
  const story = await storyOf(form);
  if (story) manifest.story = story.story;
  return { manifest, styleIds, query: styleIds.length ? `styles=${styleIds.join(",")}` : "", cover: story?.cover };
}

// The story fields as the manifest's `story`, and the cover image (checked by the server, pinned
// only after the create: `cover` is {file, cid}); null when the artist left them all empty.
async function storyOf(form) {
  const text = (name) => (form.get(name) || "").trim();
  const file = form.get("cover");
  const chosen = file instanceof File && file.size > 0 ? file : null;
  if (!text("description") && !text("statement") && !text("licence") && !chosen) return null;
  let cover = null;
  if (chosen) {
    if (!["image/png", "image/jpeg"].includes(chosen.type)) throw new Error("Cover image: a PNG or JPEG file.");
    if (chosen.size > 2 * 1024 * 1024) throw new Error("Cover image: at most 2 MiB.");
    const checked = await postBytes("/api/images?pin=0", chosen, chosen.type);
    cover = { file: chosen, cid: checked.cid };
  }
  return { story: { description: text("description"), statement: text("statement"), licence: text("licence"),
    cover_cid: cover?.cid ?? null }, cover };
}

async function postBytes(url, body, type) {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": type, Accept: "application/json" }, body });
  const reply = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(reply.message || `${url}: HTTP ${response.status}`);
  return reply;
}

document.getElementById("preview-button").addEventListener("click", () => guarded(async () => {
  const { manifest, query } = await draft(new FormData(document.getElementById("create")));
  const box = document.getElementById("preview");
  box.replaceChildren(el("p", { class: "message info", id: "previewing" }, "Rendering a preview…"));
  const preview = await postJSON(`/api/manifests/preview?count=4${query ? `&${query}` : ""}`, manifest)
    .catch((error) => { box.replaceChildren(); throw error; });
  box.replaceChildren(...preview.images.map((image) => el("figure", { class: "card preview" },
    el("img", { src: image.png, alt: image.prompt, class: "art" }), el("figcaption", {}, image.prompt))));
  showMessage(`Preview: ${preview.images.length} random seeds in ${preview.seconds} s; nothing was pinned.`, "info");
}));

// Check the manifest and learn its CID (nothing pinned), create the project on chain, and only
// then pin: a refused or abandoned transaction leaves nothing pinned.
// The create form's fields, checked before anything is pinned or a wallet is asked: the price in
// wei, or null when the artist declined a confirmation (a free project, styles that earn nothing).
function checkCreate(form) {
  const name = form.get("name").trim();
  if (!name || new TextEncoder().encode(name).length > 64) throw new Error("The name must be 1 to 64 bytes.");
  const editions = Number(form.get("editions"));
  if (!Number.isInteger(editions) || editions < 1 || editions > 1_000_000) {
    throw new Error("Editions: a whole number from 1 to 1,000,000.");
  }
  const steps = Number(form.get("steps"));
  if (!Number.isInteger(steps) || steps < 1 || steps > 150) throw new Error("Steps: a whole number from 1 to 150.");
  const guidance = Number(form.get("guidance_scale"));
  if (!Number.isFinite(guidance) || guidance < 0 || guidance > 30) throw new Error("Guidance scale: a number from 0 to 30.");
  const styles = (form.get("styles") || "").trim();
  if (styles && !/^\d+(\s*,\s*\d+){0,3}$/.test(styles)) {
    throw new Error("Registered styles: up to 4 style ids separated by commas, e.g. 1, 2.");
  }
  const scale = Number(form.get("scale") ?? 1);
  if (styles && (!Number.isFinite(scale) || scale < 0 || scale > 2)) throw new Error("Style strength: a number from 0 to 2.");
  const share = Number(form.get("share"));
  if (styles && (!Number.isFinite(share) || share < 0 || share > 100)) throw new Error("Styles' share: 0 to 100 %.");
  const price = parseEther(amount("Price", form.get("price").trim()));
  if (price === 0n && !confirm("A price of 0: collectors mint for free and nobody is paid for this project " +
    "(the platform's minimum price may refuse it). Create it for free?")) return null;
  if (styles && share === 0 && !confirm("A styles' share of 0 %: the owners of the styles you blend earn nothing " +
    "from this project's sales. Create it so?")) return null;
  return price;
}

document.getElementById("create").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  guarded(async () => {
    const price = checkCreate(form);
    if (price === null) return;  // the artist thought again
    const { manifest, styleIds, query, cover } = await draft(form);
    const checked = await postJSON(`/api/manifests?pin=0${query ? `&${query}` : ""}`, manifest);
    showMessage("Manifest checked; confirm the project in your wallet.", "info");
    const stylemint = await contract();
    const minter = await minterOfType("MinterSetPrice");
    const tx = await stylemint.createProject(form.get("name"), checked.cid, checked.sha256, BigInt(form.get("editions")));
    const receipt = await tx.wait();
    const created = eventIn(stylemint, receipt, "ProjectCreated");
    const projectId = created.args.projectId;
    showMessage(`Project ${projectId} created; confirm its sale at a fixed price in your wallet (two transactions).`, "info");
    await (await stylemint.setProjectMinter(projectId, await minter.getAddress())).wait();
    await (await minter.setPrice(projectId, price)).wait();
    if (styleIds.length) {
      const shareBps = Math.round(Number(form.get("share")) * 100);
      showMessage(`Project ${projectId} created; confirm the styles and their ${shareBps / 100} % share in your wallet.`, "info");
      await (await stylemint.setProjectStyles(projectId, styleIds.map(BigInt), shareBps)).wait();
    }
    await pin(projectId, manifest, query, checked.cid, cover);
    await refresh();
  });
});

async function pin(projectId, manifest, query, cid, cover = null) {
  try {
    if (cover) {
      const image = await postBytes("/api/images", cover.file, cover.file.type);
      if (image.cid !== cover.cid) throw new Error(`the server pinned the cover as ${image.cid}, not ${cover.cid}`);
    }
    const pinned = await postJSON(`/api/manifests${query ? `?${query}` : ""}`, manifest);
    if (pinned.cid !== cid) throw new Error(`the server pinned ${pinned.cid}, not the ${cid} the project names`);
  } catch (error) {
    showMessage(`Project ${projectId} is created, but its manifest could not be pinned (${error.message}); ` +
      "the oracle cannot render it until it is.", "error",
      { label: "Pin again", onClick: () => guarded(() => pin(projectId, manifest, query, cid, cover)) });
    return;
  }
  showMessage(`Project ${projectId} created (paused) and its manifest pinned as ${cid}. It goes live once the ` +
    "platform admin approves it (on the Review page) and you unpause it; its card below says where it stands.", "ok");
}

document.getElementById("withdraw").addEventListener("click", () => guarded(async () => {
  const stylemint = await contract();
  const amount = await stylemint.creditOf(await currentAccount());
  await send((c) => c.withdraw(), `Withdrawn ${formatEther(amount)} ETH`);
}));
