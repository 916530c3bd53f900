// The platform admin's review: every project's manifest, styles and share as the chain holds
// them, preview renders, and approve or revoke in one click with exactly the hashes shown.
import { getJSON, postJSON } from "./api.js";
import { contract, currentAccount, guarded, initNav, quorum, transact } from "./wallet.js";
import { el, eth, hashValue, short, showMessage } from "./ui.js";
import { AbiCoder, keccak256 } from "/vendor/ethers.js";

const ZERO = "0x" + "00".repeat(32); // OpenZeppelin's DEFAULT_ADMIN_ROLE; as a manifest hash, a revocation
let account = null;
let admin = false;
initNav({ onConnect: async () => {
  account = await currentAccount();
  admin = await (await quorum()).hasRole(ZERO, account); // the quorum's default admin is the platform's
  await refresh();
} });

// The manifest as the reviewer sees it: read from the bytes pinned under its CID, and only if they
// hash to the manifest hash on chain (the server that lists the projects is not trusted for this).
// Returns { manifest, problem }: a manifest and null, or null and why not.
async function pinnedManifest(project) {
  if (!globalThis.crypto?.subtle) {
    return { manifest: null, problem: "this browser cannot hash here (it needs https): check with `ape run approve_project --show`" };
  }
  const response = await fetch(`/ipfs/${project.manifest_cid}`);
  if (!response.ok) return { manifest: null, problem: `the manifest cannot be read (HTTP ${response.status})` };
  const bytes = await response.arrayBuffer();
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = "0x" + [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== project.manifest_sha256) return { manifest: null, problem: `the pinned bytes hash to ${hex}, not to the hash on chain` };
  try {
    return { manifest: JSON.parse(new TextDecoder().decode(bytes)), problem: null };
  } catch {
    return { manifest: null, problem: "the pinned bytes are not JSON" };
  }
}

// A variable's choices: a list, or lists by another variable's choice (RENDER_SPEC §4), e.g.
// "by motif: flow lines → horizontal, vertical | stacked bands → horizontal, vertical".
function choicesText(values) {
  if (Array.isArray(values)) return values.join(", ");
  return `by ${values.by}: ` + Object.entries(values.options).map(([key, list]) => `${key} → ${list.join(", ")}`).join(" | ");
}

// What the reviewer reads of a manifest. The bytes are the artist's: anything that is not a
// manifest's shape is said so here, and never stops the page (the operator checks name why).
function manifestFacts(manifest) {
  if (!manifest) return [["Contents", "not shown: see the manifest hash below"]];
  try {
    const adapters = [...(manifest.styles || []), ...(manifest.style_weights ? [manifest.style_weights] : [])];
    return [
      ["Model", `${manifest.model.id} (sha256 ${manifest.model.sha256.slice(0, 16)}…)`],
      ["Prompt", String(manifest.prompt)],
      ["Variables", Object.entries(manifest.variables || {}).map(([name, values]) => `${name}: ${choicesText(values)}`).join("; ") || "none"],
      ["Render", `${manifest.scheduler.name}, ${manifest.steps} steps, guidance ${manifest.guidance_scale}, ${manifest.width}x${manifest.height}`],
      ["Adapters", adapters.map((s) => `${s.trigger ? `"${s.trigger}" ` : ""}${s.kind} scale ${s.scale}`).join("; ") || "none"],
    ];
  } catch {
    return [["Contents", "not a manifest this page can show (see the operator checks)"]];
  }
}

// The styles hash the contract computes (`stylesConfigHash`), from the styles and share shown.
const stylesHashOf = (project) => keccak256(AbiCoder.defaultAbiCoder().encode(["uint256[]", "uint256"],
  [project.styles.map((s) => s.id), project.styles_share_bps]));

function stylesFacts(project) {
  const styles = project.styles.length ? el("ul", { class: "styles" }, ...project.styles.map((s) =>
    el("li", { "data-style": s.id }, `${s.name} (#${s.id}, "${s.trigger}") owned by ${short(s.owner)}`,
      s.retired ? " · retired" : s.usable ? "" : " · does not admit this project"))) : "none";
  const share = !project.styles.length ? "none: the artist keeps the 90 %" : project.styles_share_bps === 0
    ? "0 % of the artist's 90 %: the styles' owners earn nothing" : `${project.styles_share_bps / 100} % of the artist's 90 %`;
  return [["Styles", styles], ["Styles' share", el("span", { class: "share" }, share)]];
}

function card(project, { manifest, problem }) {
  const refused = project.problems.length ? el("ul", { class: "problems" }, ...project.problems.map((p) => el("li", {}, p)))
    : "none: the oracle would render it";
  const action = project.approved
    ? el("button", { type: "button", class: "revoke", onclick: () => revoke(project) }, "Revoke approval")
    : el("button", { type: "button", class: "approve", onclick: () => approve(project) }, "Approve");
  const stylesShown = stylesHashOf(project) === project.styles_config_hash;
  action.disabled = !admin || (!project.approved && (problem !== null || !stylesShown || project.problems.length > 0));
  const previews = el("div", { class: "grid previews" });
  const entries = [
    ["Artist", short(project.artist)],
    ["Price", eth(project.price_wei)],
    ["Editions", `${project.minted} of ${project.max_editions} minted`],
    ["State", [project.locked ? "locked" : "unlocked", project.paused ? "paused by the artist" : null,
      project.admin_paused ? "paused by the platform" : null].filter(Boolean).join(", ")],
    ...manifestFacts(manifest),
    ["Manifest", hashValue(project.manifest_cid, { href: `/ipfs/${project.manifest_cid}` })],
    ["Manifest hash", el("span", { class: "manifest-hash" }, hashValue(project.manifest_sha256),
      problem === null ? " ✓ matches the pinned bytes" : ` ✗ ${problem}`)],
    ...stylesFacts(project),
    ["Styles hash", el("span", { class: "styles-hash" }, hashValue(project.styles_config_hash),
      stylesShown ? " ✓ the styles and share above" : " ✗ not the hash of the styles and share above")],
    ["Operator checks", refused],
  ];
  return el("section", { class: "card review", "data-project": project.id },
    el("h3", {}, el("a", { href: `/project?id=${project.id}` }, project.name), " ", el("small", {}, `#${project.id}`)),
    el("dl", {}, ...entries.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)])),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "preview", onclick: () => preview(project, manifest, previews),
        ...(manifest ? {} : { disabled: "" }) }, "Preview 4 renders"),
      action),
    previews);
}

async function preview(project, manifest, box) {
  await guarded(async () => {
    if (!manifest) throw new Error("There is no checked manifest to preview.");
    const ids = project.styles.map((s) => s.id).join(",");
    box.replaceChildren(el("p", { class: "message info" }, "Rendering a preview…"));
    const result = await postJSON(`/api/manifests/preview?count=4${ids ? `&styles=${ids}` : ""}`, manifest)
      .catch((error) => { box.replaceChildren(); throw error; });
    box.replaceChildren(...result.images.map((image) => el("figure", { class: "card preview" },
      el("img", { src: image.png, alt: image.prompt, class: "art" }), el("figcaption", {}, image.prompt))));
  });
}

// Approve exactly what was shown: read both hashes from the chain through the wallet and send
// nothing if either moved since the page loaded (the contract refuses a changed styles hash too).
async function approve(project) {
  await guarded(async () => {
    const stylemint = await contract();
    const [info, stylesHash] = await Promise.all([stylemint.projectInfo(project.id), stylemint.stylesConfigHash(project.id)]);
    const changed = [info.manifestHash !== project.manifest_sha256 ? "manifest" : null,
      stylesHash !== project.styles_config_hash ? "styles or share" : null].filter(Boolean);
    if (changed.length) {
      showMessage(`Project ${project.id}'s ${changed.join(" and ")} changed since this page loaded: nothing was sent. ` +
        "Review it again.", "error", { label: "Reload the review", onClick: () => guarded(refresh) });
      return;
    }
    await transact(contract, (s) => s.approveProject(project.id, project.manifest_sha256, project.styles_config_hash),
      `Project ${project.id} "${project.name}" approved: it mints once its artist unpauses it`, refresh);
  });
}

async function revoke(project) {
  if (!confirm(`Revoke the approval of "${project.name}"? It stops minting until approved again; tokens sold stay as they are.`)) return;
  await transact(contract, (s) => s.approveProject(project.id, ZERO, ZERO),
    `Approval of project ${project.id} revoked: it no longer mints`, refresh);
}

// Load and show everything at once. Only the latest call renders (the page refreshes on load, on
// connect and after each transaction): an older answer never replaces a newer page under the reader.
let generation = 0;
async function refresh() {
  const mine = ++generation;
  const { projects } = await getJSON("/api/review");
  const pinned = await Promise.all(projects.map(pinnedManifest));
  if (mine !== generation) return;
  document.getElementById("role").textContent = !account
    ? "Connect the platform admin's wallet to approve or revoke; anyone can review and preview."
    : admin ? "You are the platform admin: approve or revoke below."
      : `${short(account)} is not the platform admin: you can review and preview, not approve.`;
  const cards = projects.map((project, i) => [project, card(project, pinned[i])]);
  const section = (approved, none) => {
    const shown = cards.filter(([project]) => project.approved === approved).map(([, node]) => node);
    return shown.length ? shown : [el("p", {}, none)];
  };
  document.getElementById("awaiting").replaceChildren(...section(false, "Nothing is awaiting review."));
  document.getElementById("approved").replaceChildren(...section(true, "No project is approved yet."));
}

guarded(refresh);
