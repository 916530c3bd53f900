import { getJSON } from "./api.js";
import { connectPrompt, currentAccount, initNav } from "./wallet.js";
import { el, linkCard } from "./ui.js";

// Shown as soon as the wallet is connected: on load when it already authorised this site, else
// after the Connect click.
initNav({ onConnect: show, onAbsent: () => connectPrompt(document.getElementById("tokens"), "your tokens", show) });

async function show() {
  const account = await currentAccount();
  const { tokens, total } = await getJSON(`/api/tokens?owner=${account}&limit=500`);
  document.getElementById("tokens").replaceChildren(...(tokens.length ? tokens.map((t) =>
    linkCard(`/token?id=${t.token_id}`, { image: t.image, alt: `token ${t.token_id}`, placeholder: t.state,
      lines: [el("div", {}, t.metadata?.name ?? `Token ${t.token_id}`)] })) : [el("p", {}, "No tokens yet.")]),
    ...(total > tokens.length ? [el("p", {}, `Showing ${tokens.length} of ${total}.`)] : []));
}
