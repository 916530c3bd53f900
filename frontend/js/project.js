import { getJSON, sleep } from "./api.js";
import { connectedAccount, contract, eventIn, guarded, initNav, minterAt, transact } from "./wallet.js";
import { el, eth, facts, linkCard, param, showMessage, utc } from "./ui.js";
import { duration, priceAt, show as showAuction } from "./auction.js";

initNav({ onConnect: () => showWallet() });
const id = Number(param("id"));
const button = document.getElementById("mint");
const pending = document.getElementById("pending");
let shown = null; // the project as displayed: the mint pays for exactly this manifest
const PER_PAGE = 24;
let page = 1;
const filter = {}; // trait type -> value

// Which model renders this project, and the style weights layered on it, as the manifest pins them.
function modelLine(manifest) {
  const model = `${manifest.model.id} (sha256 ${manifest.model.sha256.slice(0, 16)}...)`;
  const adapters = manifest.style_weights ? [manifest.style_weights] : manifest.styles || [];
  const styles = adapters.map((w) =>
    `${w.trigger ? `"${w.trigger}" ` : ""}${w.kind} ${w.cid} (sha256 ${w.sha256.slice(0, 16)}..., scale ${w.scale})`);
  const paid = manifest.styles?.length ? `; styles paid by ${manifest.attribution} attribution` : "";
  return [model, ...styles].join(" + ") + paid;
}

// Who shares a sale: the platform 10 %, the registered styles their share of the artist's 90 % by
// each token's measured weights, the artist the rest.
function stylesLine(project) {
  if (!project.styles.length) return "none registered: the artist receives the whole 90 % (the platform 10 %)";
  const share = project.styles_share_bps / 100;
  return `${share} % of the artist's 90 % goes to ${project.styles.map((s) => s.name).join(" and ")}, ` +
    "split per token by each style's measured contribution to its image; the platform takes 10 %, the artist the rest";
}

async function load() {
  const project = await getJSON(`/api/projects/${id}`);
  if (project.auction) clock = { chain: project.auction.chain_time, local: Date.now() / 1000 };
  document.getElementById("name").textContent = project.name;
  facts(document.getElementById("facts"), [
    ["Artist", project.artist],
    ["Price", project.auction ? `${eth(project.price_wei)} now (a falling auction: see below)` : eth(project.price_wei)],
    ["Sale", saleLine(project)],
    ["Editions", `${project.minted} minted, ${project.remaining} of ${project.max_editions} left`],
    ["Style", project.manifest ? project.manifest.prompt : project.manifest_cid],
    ["Model", project.manifest ? modelLine(project.manifest) : "unknown (manifest not available)"],
    ["Styles paid", stylesLine(project)],
    ["Status", closedBecause(project) ? `closed: ${closedBecause(project)}` : project.locked ? "open, locked" : "open"],
  ]);
  const reason = closedBecause(project);
  button.disabled = reason !== null;
  document.getElementById("mint-reason").textContent = reason ? `Minting is closed: ${reason}.` : "";
  button.textContent = project.price_wei === null ? "Mint" : `Mint for ${eth(project.price_wei)}`;
  const unusable = project.styles.filter((s) => !s.usable);
  document.getElementById("styles").replaceChildren(...project.styles.map((s) =>
    el("li", { "data-style": s.id }, el("a", { href: "/styles" }, `${s.name} (#${s.id}, "${s.trigger}")`),
      ` owned by ${s.owner}`, s.retired ? " · retired" : !s.usable ? " · no longer admits this project" : "")));
  if (unusable.length) showMessage(`${unusable.map((s) => s.name).join(", ")} ${unusable.some((s) => s.retired)
    ? "was retired by its owner" : "no longer admits this project"}: this project can no longer mint.`, "error");
  else if (project.remaining === 0) showMessage("Sold out: every edition of this project has been minted.", "error");
  else if (!project.approved) showMessage("The platform has not approved this project's manifest yet: it cannot be minted.", "error");
  else if (project.paused || project.admin_paused) showMessage("Minting is paused for this project.", "error");
  shown = project;
  showStory(project.manifest?.story);
  followAuction(project);
  await showWallet();
  return project;
}

// The artist's words about the project and its cover, as its pinned manifest holds them.
function showStory(story) {
  const box = document.getElementById("story");
  box.hidden = !story;
  if (!story) return box.replaceChildren();
  box.replaceChildren(...[
    story.cover_cid && el("img", { class: "cover", id: "cover", src: `/ipfs/${story.cover_cid}`, alt: "the project's cover" }),
    story.description && el("p", { class: "description" }, story.description),
    story.statement && el("div", { class: "statement" }, el("h3", {}, "Artist statement"), el("p", {}, story.statement)),
    story.licence && el("p", { class: "licence" }, `Licence: ${story.licence}`),
  ].filter(Boolean));
}

// The chain's time now, from the newest block's time the API reported and the seconds since.
let clock = { chain: 0, local: 0 };
const chainNow = () => clock.chain + (Date.now() / 1000 - clock.local);
let ticking = null;

// A Dutch auction: its curve, its live price on the Mint button, and the Mint button opening when
// the auction does. A settled or sold-out auction still shows its final price.
function followAuction(project) {
  clearInterval(ticking);
  const section = document.getElementById("auction");
  if (!project.auction) { section.hidden = true; return; }
  let opened = chainNow() >= project.auction.start_time;
  let last = null;
  ticking = showAuction(section, project.auction, { chainNow, format: eth, onTick: (now, price) => {
    if (closedBecause(project) === null) button.textContent = `Mint for ${eth(price)}`;
    if (!opened && now >= project.auction.start_time) { opened = true; guarded(load); }
    // A step down may reach the base: the Settle button appears without a reload.
    if (last !== null && price !== last) guarded(showReclaim);
    last = price;
  } });
}

// What the connected wallet sees of the sale: its allowlist place, and for an auction what it paid
// and can reclaim.
async function showWallet() {
  await showAllowlist();
  await showReclaim();
}

// An auction buyer's receipt: what they paid for how many editions and, once settled, a button to
// take back what they paid above the settled price; anyone may settle an auction at its base price.
async function showReclaim() {
  const box = document.getElementById("reclaim");
  const auction = shown?.auction;
  if (!auction) { box.replaceChildren(); return; }
  const parts = [];
  if (!auction.settled && chainNow() >= auction.start_time && priceAt(auction, chainNow()) === BigInt(auction.base_price_wei)) {
    parts.push(el("p", {}, "The auction reached its base price: settling it fixes the price at the base, pays out its tokens ",
      "and lets buyers reclaim. ", el("button", { id: "settle", onclick: () => transact(() => minterAt(shown.minter),
        (m) => m.settle(id), "The auction is settled", load) }, "Settle the auction")));
  }
  const account = connectedAccount();
  if (account) {
    const minter = await minterAt(shown.minter);
    const [paid, count] = await minter.receiptOf(id, account);
    if (count > 0n) {
      const editions = `${count} edition${count === 1n ? "" : "s"}`;
      if (!auction.settled) {
        parts.push(el("p", { id: "receipt" }, `You paid ${eth(paid)} for ${editions}. Once the auction settles, `,
          "you reclaim what you paid above its final price."));
      } else {
        const amount = await minter.reclaimable(id, account);
        parts.push(amount > 0n
          ? el("p", { id: "receipt" }, `You paid ${eth(paid)} for ${editions}; the auction settled at `,
            `${eth(auction.last_price_wei)} each. `, el("button", { id: "reclaim-button", onclick: () => transact(
              () => minterAt(shown.minter), (m) => m.reclaim(id), `Reclaimed ${eth(amount)}`, load) }, `Reclaim ${eth(amount)}`))
          : el("p", { id: "receipt" }, `You hold nothing to reclaim: you paid the settled price of ${eth(auction.last_price_wei)} `,
            `for ${editions}, or reclaimed the rest already.`));
      }
    }
  }
  box.replaceChildren(...parts);
}

// How the project sells: publicly or to its artist's allowlist, and the limit per address.
function saleLine(project) {
  if (project.auction) {
    return `Dutch auction with settlement: from ${eth(project.auction.start_price_wei)}, halving every ` +
      `${duration(project.auction.half_life)} down to ${eth(project.auction.base_price_wei)}; every buyer pays the ` +
      "final price (the last sale's when it sells out, else the base) and reclaims what they paid above it";
  }
  const limit = project.max_per_address ? `, at most ${project.max_per_address} per address` : "";
  if (project.allowlist) return `to the artist's allowlist only${limit} (the list: ipfs://${project.allowlist.list_cid})`;
  return `public${limit}`;
}

// The connected wallet's place on an allowlist sale; it closes the Mint button for a wallet that
// cannot buy, saying why (the minter would refuse it anyway). Null for a public sale.
let listing = null;
async function showAllowlist() {
  const line = document.getElementById("allowlist");
  if (!shown?.allowlist) { line.textContent = ""; listing = null; return; }
  const account = connectedAccount();
  if (!account) {
    line.textContent = "This sale is for the artist's allowlist: connect your wallet to see whether you are on it.";
    return;
  }
  listing = await getJSON(`/api/projects/${id}/allowlist?address=${account}`);
  const closed = closedBecause(shown);
  let reason = null;
  if (!listing.listed) {
    line.textContent = "Your address is not on this project's allowlist: only the addresses its artist listed can mint.";
    reason = "your address is not on the allowlist";
  } else if (listing.mints_left === 0) {
    line.textContent = "You are on the allowlist and have no mint left.";
    reason = "no mint left for your address";
  } else {
    const left = listing.mints_left === null ? "no limit" : `${listing.mints_left} mint${listing.mints_left === 1 ? "" : "s"} left`;
    line.textContent = `You are on the allowlist: ${left}.`;
  }
  button.disabled = (closed ?? reason) !== null;
  document.getElementById("mint-reason").textContent = closed ? `Minting is closed: ${closed}.`
    : reason ? `You cannot mint: ${reason}.` : "";
}

// Why this project cannot be minted now, as the page knows it (the contract checks again).
function closedBecause(project) {
  if (project.remaining === 0) return "sold out";
  if (project.styles.some((s) => !s.usable)) return "a style it blends is retired or no longer admits it";
  if (!project.approved) return "awaiting the platform's approval";
  if (project.paused || project.admin_paused) return "paused";
  if (project.auction && !project.auction.settled && chainNow() < project.auction.start_time) {
    return `the auction opens at ${utc(project.auction.start_time)} (in ${duration(project.auction.start_time - chainNow())})`;
  }
  return null;
}

// One page of editions (edition number, image or state, traits), filtered by the chosen traits.
async function showEditions() {
  const query = new URLSearchParams({ page, per_page: PER_PAGE });
  for (const [name, value] of Object.entries(filter)) if (value) query.append("trait", `${name}:${value}`);
  const result = await getJSON(`/api/projects/${id}/tokens?${query}`);
  // Only traits that tell editions apart: not the project-wide ones, not the edition number itself.
  const varying = Object.entries(result.traits).filter(([name, values]) =>
    name !== "Edition" && (Object.keys(values).length > 1 || filter[name]));
  const shown = new Set(varying.map(([name]) => name));
  document.getElementById("filters").replaceChildren(...varying.map(([name, values]) =>
    el("label", { class: "filter" }, `${name} `, selectFor(name, values))));
  document.getElementById("editions").replaceChildren(...(result.tokens.length ? result.tokens.map((t) =>
    linkCard(`/token?id=${t.token_id}`, {
      image: t.image, alt: `edition ${t.edition}`, placeholder: t.state,
      attributes: { class: "edition", "data-token": t.token_id }, lines: [
        el("div", { class: "edition-number" }, `#${t.edition}`),
        el("div", { class: "traits" }, Object.entries(t.traits).filter(([k]) => shown.has(k)).map(([k, v]) => `${k}: ${v}`)
          .join(" · "))] }))
    : [el("p", {}, Object.keys(filter).length ? "No edition has these traits." : "No edition minted yet.")]));
  const pages = document.getElementById("pages");
  pages.replaceChildren(
    el("button", { id: "prev", onclick: () => { page -= 1; guarded(showEditions); } }, "Previous"),
    el("span", { id: "page-of" }, ` Page ${result.page} of ${result.pages} (${result.total} edition${result.total === 1 ? "" : "s"}) `),
    el("button", { id: "next", onclick: () => { page += 1; guarded(showEditions); } }, "Next"));
  pages.querySelector("#prev").disabled = result.page <= 1;
  pages.querySelector("#next").disabled = result.page >= result.pages;
}

function selectFor(name, values) {
  const select = el("select", { "data-trait": name }, el("option", { value: "" }, "any"),
    ...Object.entries(values).map(([value, count]) => el("option", { value }, `${value} (${count})`)));
  select.value = filter[name] ?? "";
  select.addEventListener("change", () => { filter[name] = select.value; page = 1; guarded(showEditions); });
  return select;
}

async function fetchListing() {
  const account = connectedAccount();
  return account ? getJSON(`/api/projects/${id}/allowlist?address=${account}`) : { proof: [] };
}

async function waitForRender(tokenId) {
  for (;;) {
    const token = await getJSON(`/api/tokens/${tokenId}`);
    if (token.state === "fulfilled") return token;
    if (token.state === "failed") throw new Error(`Rendering failed: ${token.error ?? "see the oracle status"}`);
    await sleep(1000);
  }
}

button.addEventListener("click", () => guarded(async () => {
  const project = shown ?? await load();
  if (project.price_wei === null) throw new Error("This project is not for sale yet: its artist has not set a price.");
  const stylemint = await contract();
  const minter = await minterAt(project.minter);
  // The manifest hash shown on this page: if the artist swapped the style since, the mint reverts
  // (ManifestChanged) instead of buying a style the collector never saw.
  // An auction's price falls: pay what the minter asks at this moment (anything above the final
  // price is reclaimed after settlement).
  const value = { value: project.auction ? (await minter.priceInfo(id))[1] : BigInt(project.price_wei) };
  const tx = project.allowlist
    ? await minter.purchaseWithProof(id, project.manifest_sha256, (listing ?? await fetchListing()).proof ?? [], value)
    : await minter.purchase(id, project.manifest_sha256, value);
  pending.replaceChildren(el("p", { class: "message info", id: "tx" }, `Transaction ${tx.hash} sent; waiting for its block…`));
  const receipt = await tx.wait();
  const mint = eventIn(stylemint, receipt, "Mint");
  const tokenId = mint.args.tokenId.toString();
  const edition = Number(BigInt(tokenId) % 1_000_000n) + 1;
  if (project.auction && !project.auction.settled && !(await load()).auction.settled) {
    // Rendered now, but paid out (and shown as final) only once the auction settles its price.
    pending.append(el("p", { class: "message ok", id: "minted" },
      `You minted #${edition} (token ${tokenId}) `, el("a", { href: `/token?id=${tokenId}` }, "(its page)"),
      ". It renders now; its sale settles when the auction does, and what you paid above the final price is yours to reclaim here."));
    await showEditions();
    return;
  }
  pending.append(el("p", { class: "message ok", id: "minted" }, `You minted #${edition} (token ${tokenId}). `,
    el("a", { href: `/token?id=${tokenId}` }, "See it")),
  el("p", { class: "message info", id: "rendering" }, `Minted token ${tokenId}; rendering…`));
  const token = await waitForRender(tokenId);
  pending.append(el("p", { class: "message ok" }, `Token ${tokenId} is ready.`),
    el("img", { class: "art", src: token.image, alt: `token ${tokenId}` }));
  await sleep(800);
  location.href = `/token?id=${tokenId}`;
}));

guarded(async () => { await load(); await showEditions(); });
