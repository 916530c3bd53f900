// Small DOM helpers shared by the pages: messages, elements, formatting.
import { formatEther } from "/vendor/ethers.js";

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "onclick") node.addEventListener("click", value);
    else if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : String(child));
  return node;
}

// A card that links to a token or project page: its image, or a placeholder saying why there is
// none yet, then its lines. `attributes` adds classes (after "card") and data attributes.
export function linkCard(href, { image, alt, placeholder, lines = [], attributes = {} }) {
  const { class: extra, ...rest } = attributes;
  return el("a", { class: extra ? `card ${extra}` : "card", href, ...rest },
    image ? el("img", { src: image, alt }) : el("div", { class: "art placeholder" }, placeholder), ...lines);
}

export function showMessage(text, kind = "info", action = null) {
  const box = el("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  if (action) box.append(" ", el("button", { onclick: action.onClick }, action.label));
  document.getElementById("messages").replaceChildren(box);
  return box;
}

export function clearMessages() {
  document.getElementById("messages").replaceChildren();
}

export const eth = (wei) => (wei === null || wei === undefined ? "not for sale yet" : `${formatEther(BigInt(wei))} ETH`);
export const short = (address) => `${address.slice(0, 6)}…${address.slice(-4)}`;

export function facts(target, entries) {
  target.replaceChildren(...entries.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

// A long hex value or CID, shortened for reading, whole in its title and on the copy button;
// a link when `href` is given.
export function hashValue(value, { href = null, label = null } = {}) {
  if (value === null || value === undefined) return "—";
  const text = label ?? (value.length > 18 ? `${value.slice(0, 10)}…${value.slice(-6)}` : value);
  const shown = href ? el("a", { href, title: value }, text) : el("code", { title: value }, text);
  const button = el("button", { class: "copy", type: "button", "data-copy": value, "aria-label": `copy ${value}`,
    onclick: () => navigator.clipboard.writeText(value).then(() => {
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    }, () => { button.textContent = "Select and copy"; }) }, "Copy");
  return el("span", { class: "hash" }, shown, button);
}

// A block time (unix seconds) as "2026-11-27 10:42 UTC": the same for every visitor.
export const utc = (seconds) => `${new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
