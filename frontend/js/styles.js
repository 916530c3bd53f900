import { getJSON } from "./api.js";
import { contract, contractInfo, currentAccount, eventIn, guarded, initNav, registry, transact } from "./wallet.js";
import { el, eth, short, showMessage } from "./ui.js";
import { formatEther } from "/vendor/ethers.js";

initNav({ onConnect: refresh });
let account = null;

function card(style) {
  const mine = account && style.owner.toLowerCase() === account;
  const status = style.retired ? "retired" : style.terms === "open" ? "open to any project" : "approved projects only";
  const controls = mine && !style.retired ? [
    el("button", { class: "retire", onclick: () => confirm(`Retire ${style.name} for good? Unlocked projects using it stop minting. `
      + "Locked projects hold a licence: they keep minting their remaining editions and keep paying you. "
      + "Tokens already sold are paid as sold.")
      && send(async (r) => r.retireStyle(style.id), `${style.name} retired`) }, "Retire"),
    el("button", { class: "terms", onclick: () => send(async (r) => r.setStyleTerms(style.id, style.terms === "open" ? 1 : 0),
      "Terms changed") }, style.terms === "open" ? "Approved projects only" : "Open to any project"),
    el("div", { class: "approve" },
      el("input", { name: "project", type: "number", min: "1", placeholder: "project id" }),
      el("button", { type: "button", onclick: (event) => approve(event, style, true) }, "Approve project"),
      el("button", { type: "button", onclick: (event) => approve(event, style, false) }, "Withdraw approval")),
  ] : [];
  return el("div", { class: `card style${style.retired ? " retired" : ""}`, "data-style": style.id },
    el("h3", {}, `${style.name} `, el("small", {}, `#${style.id}`)),
    el("div", { class: "samples" }, ...style.samples.map((s) =>
      el("a", { href: `/token?id=${s.token_id}` }, el("img", { src: s.image, alt: `token ${s.token_id}` })))),
    el("dl", {},
      el("dt", {}, "Trigger"), el("dd", {}, `"${style.trigger}"`),
      el("dt", {}, "Owner"), el("dd", { title: style.owner }, mine ? "you" : short(style.owner)),
      el("dt", {}, "Status"), el("dd", { class: "status" }, status),
      el("dt", {}, "Projects"), el("dd", { class: "projects" }, ...(style.projects.length
        ? style.projects.flatMap((p, i) => [i ? ", " : "", el("a", { href: `/project?id=${p.id}` }, p.name)]) : ["none yet"])),
      el("dt", {}, "Mints"), el("dd", { class: "mints" }, String(style.mints)),
      el("dt", {}, "Earned"), el("dd", { class: "earned" }, eth(style.earned_wei))),
    ...controls);
}

async function showStyles() {
  const { styles } = await getJSON("/api/styles");
  document.getElementById("styles").replaceChildren(...(styles.length ? styles.map(card)
    : [el("p", {}, "No styles are registered yet.")]));
}

async function refresh() {
  account = (await currentAccount().catch(() => null))?.toLowerCase() ?? null;
  await showStyles();
  if (account) document.getElementById("credit").textContent = formatEther(await (await contract()).creditOf(account));
}

function approve(event, style, approved) {
  const input = event.target.closest(".approve").querySelector("input[name=project]");
  if (!input.value) { showMessage("Enter the project id to approve.", "error"); return; }
  send(async (r) => r.setProjectApproval(style.id, (await contractInfo()).address, BigInt(input.value), approved),
    approved ? `Project ${input.value} approved to use ${style.name}` : `Approval of project ${input.value} withdrawn`);
}

const send = (call, done) => transact(registry, call, done, refresh);

async function pinAdapter(file) {
  const response = await fetch("/api/adapters", { method: "POST", headers: { "Content-Type": "application/octet-stream" },
    body: await file.arrayBuffer() });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `adapter upload: HTTP ${response.status}`);
  return body;
}

document.getElementById("register").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  guarded(async () => {
    await currentAccount();
    const pinned = await pinAdapter(form.get("adapter"));
    showMessage(`Adapter pinned as ${pinned.cid} (sha256 ${pinned.sha256.slice(0, 12)}…); confirm the registration in your wallet.`, "info");
    await transact(registry, (styles) => styles.registerStyle(form.get("name"), form.get("trigger"), pinned.cid,
      pinned.sha256, Number(form.get("terms"))), (styles, receipt) =>
      `Style #${eventIn(styles, receipt, "StyleRegistered").args.styleId} "${form.get("name")}" registered. ` +
      "Projects can now blend it", refresh);
  });
});

document.getElementById("withdraw").addEventListener("click", () => guarded(async () => {
  const amount = await (await contract()).creditOf(await currentAccount());
  await transact(contract, (stylemint) => stylemint.withdraw(), `Withdrawn ${formatEther(amount)} ETH`, refresh);
}));

guarded(showStyles);
