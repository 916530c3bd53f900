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

export function showMessage(text, kind = "info", action = null) {
  const box = el("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  if (action) box.append(" ", el("button", { onclick: action.onClick }, action.label));
  document.getElementById("messages").replaceChildren(box);
  return box;
}

export function clearMessages() {
  document.getElementById("messages").replaceChildren();
}

export const eth = (wei) => `${formatEther(BigInt(wei))} ETH`;
export const short = (address) => `${address.slice(0, 6)}…${address.slice(-4)}`;

export function facts(target, entries) {
  target.replaceChildren(...entries.flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}
