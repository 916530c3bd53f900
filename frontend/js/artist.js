import { getJSON, postJSON } from "./api.js";
import { contract, currentAccount, eventIn, guarded, initNav, transact } from "./wallet.js";
import { el, eth, showMessage } from "./ui.js";
import { formatEther, parseEther } from "/vendor/ethers.js";

initNav({ onConnect: refresh });

async function refresh() {
  const account = (await currentAccount()).toLowerCase();
  const stylemint = await contract();
  document.getElementById("credit").textContent = formatEther(await stylemint.creditOf(account));
  const { projects } = await getJSON("/api/projects");
  const mine = projects.filter((p) => p.artist.toLowerCase() === account);
  const earned = await getJSON(`/api/earnings/${account}`);
  const row = (...cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c)));
  document.querySelector("#earnings tbody").replaceChildren(...earned.projects.map((p) =>
    row(el("a", { href: `/project?id=${p.id}` }, p.name), String(p.sales), eth(p.revenue_wei), eth(p.platform_wei),
      eth(p.styles_wei), eth(p.artist_wei))));
  document.querySelector("#style-earnings tbody").replaceChildren(...earned.styles.map((s) =>
    row(`${s.name} (#${s.id})${s.retired ? ", retired" : ""}`, String(s.mints), eth(s.earned_wei))));
  document.getElementById("mine").replaceChildren(...mine.map((p) => el("div", { class: "card", "data-project": p.id },
    el("h3", {}, el("a", { href: `/project?id=${p.id}` }, p.name)),
    el("div", {}, `${eth(p.price_wei)} · ${p.minted}/${p.max_editions} · ${p.paused ? "paused" : "open"}${p.locked ? " · locked" : ""}`),
    el("button", { class: "toggle", onclick: () => send((c) => c.setProjectPaused(p.id, !p.paused), p.paused ? "Unpaused" : "Paused") },
      p.paused ? "Unpause" : "Pause"),
    el("button", { onclick: () => {
      const price = prompt("New price in ETH", formatEther(BigInt(p.price_wei)));
      if (price !== null) send((c) => c.setProjectPrice(p.id, parseEther(price)), "Price set");
    } }, "Set price"),
    p.locked ? "" : el("button", { onclick: () => confirm("Lock for ever? The style and cap can never change again.")
      && send((c) => c.lockProject(p.id), "Locked") }, "Lock"))));
}

const send = (call, done) => transact(contract, call, done, refresh);

document.getElementById("create").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  guarded(async () => {
    let variables;
    try { variables = JSON.parse(form.get("variables") || "{}"); } catch { throw new Error("Variables must be JSON, e.g. {\"surface\": [\"water\", \"glass\"]}"); }
    const template = await getJSON("/api/manifests/template");
    const size = Number(form.get("size"));
    const styleIds = (form.get("styles") || "").split(",").map((s) => s.trim()).filter(Boolean);
    const registered = await Promise.all(styleIds.map((sid) => getJSON(`/api/styles/${sid}`)));
    // Each registered style's adapter, exactly as the registry records it; its trigger must be a
    // word of the prompt, or nothing would invoke it.
    let prompt = form.get("prompt");
    for (const s of registered) if (!new RegExp(`\\b${s.trigger}\\b`).test(prompt)) prompt += `, ${s.trigger} style`;
    const manifest = { ...template, name: form.get("name"), prompt, variables,
      negative_prompt: form.get("negative_prompt"), scheduler: { name: form.get("scheduler"), config: {} },
      steps: Number(form.get("steps")), guidance_scale: Number(form.get("guidance_scale")), width: size, height: size };
    if (registered.length) {
      manifest.styles = registered.map((s) => ({ kind: "lora", cid: s.adapter_cid, sha256: s.adapter_sha256.slice(2),
        scale: 1.0, trigger: s.trigger }));
      manifest.attribution = form.get("attribution");
    }
    const pinned = await postJSON(`/api/manifests${styleIds.length ? `?styles=${styleIds.join(",")}` : ""}`, manifest);
    showMessage(`Manifest pinned as ${pinned.cid}; confirm the transaction in your wallet.`, "info");
    const stylemint = await contract();
    const tx = await stylemint.createProject(form.get("name"), pinned.cid, pinned.sha256,
      parseEther(form.get("price")), BigInt(form.get("editions")));
    const receipt = await tx.wait();
    const created = eventIn(stylemint, receipt, "ProjectCreated");
    if (styleIds.length) {
      const shareBps = Math.round(Number(form.get("share")) * 100);
      showMessage(`Project ${created.args.projectId} created; confirm the styles and their ${shareBps / 100} % share in your wallet.`, "info");
      await (await stylemint.setProjectStyles(created.args.projectId, styleIds.map(BigInt), shareBps)).wait();
    }
    showMessage(`Project ${created.args.projectId} created (paused). Unpause it to open minting; ` +
      "it mints once the platform approves its manifest.", "ok");
    await refresh();
  });
});

document.getElementById("withdraw").addEventListener("click", () => guarded(async () => {
  const stylemint = await contract();
  const amount = await stylemint.creditOf(await currentAccount());
  await send((c) => c.withdraw(), `Withdrawn ${formatEther(amount)} ETH`);
}));
