import { getJSON } from "./api.js";
import { connect, guarded, initNav } from "./wallet.js";
import { el } from "./ui.js";

initNav();
document.getElementById("connect").addEventListener("click", () => guarded(show));

async function show() {
  const account = await connect();
  const { tokens } = await getJSON(`/api/tokens?owner=${account}`);
  document.getElementById("tokens").replaceChildren(...(tokens.length ? tokens.map((t) =>
    el("a", { class: "card", href: `/token?id=${t.token_id}` },
      t.image ? el("img", { src: t.image, alt: `token ${t.token_id}` }) : el("div", {}, t.state),
      el("div", {}, t.metadata?.name ?? `Token ${t.token_id}`))) : [el("p", {}, "No tokens yet.")]));
}
