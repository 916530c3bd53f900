// A Dutch auction with settlement as a page shows it: the minter's price rule (the same integer
// arithmetic as MinterDAExpSettlement._price), its curve as a chart, and the live line "now X, next
// step in m:ss". Times are the chain's (the API's `chain_time`), never the visitor's clock.
import { el } from "./ui.js";

const MAX_HALVINGS = 20; // as the minter: after 20 halvings the price is the base
const SVG = "http://www.w3.org/2000/svg";

// The auction's price at chain time `now` (seconds): the start price before the start, halved once
// per whole half-life since, never below the base; the settled price once settled.
export function priceAt(auction, now) {
  const start = BigInt(auction.start_price_wei);
  const base = BigInt(auction.base_price_wei);
  if (auction.settled) return BigInt(auction.last_price_wei);
  if (now < auction.start_time) return start;
  const halvings = Math.floor((now - auction.start_time) / auction.half_life);
  if (halvings >= MAX_HALVINGS) return base;
  const price = start >> BigInt(halvings);
  return price > base ? price : base;
}

// How many halvings take the start price down to the base (the steps the chart draws).
export function stepsToBase(auction) {
  const start = BigInt(auction.start_price_wei);
  const base = BigInt(auction.base_price_wei);
  let steps = 0;
  while (steps < MAX_HALVINGS && (start >> BigInt(steps)) > base) steps += 1;
  return steps;
}

// When the price next changes after `now` and to what, or null once it stays (base or settled).
export function nextStep(auction, now) {
  if (auction.settled) return null;
  if (now < auction.start_time) return { at: auction.start_time, price: priceAt(auction, auction.start_time) };
  const current = priceAt(auction, now);
  if (current === BigInt(auction.base_price_wei)) return null;
  const halvings = Math.floor((now - auction.start_time) / auction.half_life);
  const at = auction.start_time + (halvings + 1) * auction.half_life;
  return { at, price: priceAt(auction, at) };
}

// "9 min 58 s", "1 h 2 min", "12 s".
export function duration(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)} h${s % 3600 >= 60 ? ` ${Math.floor((s % 3600) / 60)} min` : ""}`;
  if (s >= 60) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  return `${s} s`;
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// The price curve: a step per half-life from the start price down to the base, one more half-life
// at the base, the base as a dashed line, and a marker at `now` (moved by `mark`).
export function chart(auction, format) {
  const width = 480, height = 170, left = 8, right = 8, top = 18, bottom = 22;
  const steps = stepsToBase(auction);
  const span = (steps + 1) * auction.half_life;
  const start = Number(BigInt(auction.start_price_wei));
  const x = (t) => left + ((t - auction.start_time) / span) * (width - left - right);
  const y = (wei) => top + (1 - Number(wei) / start) * (height - top - bottom);
  let path = "";
  for (let i = 0; i <= steps; i += 1) {
    const t0 = auction.start_time + i * auction.half_life;
    const price = priceAt({ ...auction, settled: false }, t0);
    path += `${i ? "L" : "M"}${x(t0).toFixed(1)},${y(price).toFixed(1)} H${x(t0 + auction.half_life).toFixed(1)} `;
  }
  const base = BigInt(auction.base_price_wei);
  const figure = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "auction-chart",
    "aria-label": `price from ${format(BigInt(auction.start_price_wei))} halving every ${duration(auction.half_life)} to ${format(base)}` });
  figure.append(
    svg("line", { x1: left, x2: width - right, y1: y(base), y2: y(base), class: "base" }),
    svg("path", { d: path, class: "curve" }),
    svg("text", { x: left, y: 12, class: "label" }, `start ${format(BigInt(auction.start_price_wei))}`),
    svg("text", { x: width - right, y: y(base) - 4, class: "label", "text-anchor": "end" }, `base ${format(base)}`),
    svg("text", { x: left, y: height - 6, class: "label" }, "opens"),
    svg("text", { x: width - right, y: height - 6, class: "label", "text-anchor": "end" },
      `+${duration(span)}`),
    svg("line", { x1: 0, x2: 0, y1: top - 4, y2: height - bottom, class: "now", id: "auction-now-line" }));
  figure.mark = (now) => {
    const line = figure.querySelector(".now");
    const at = Math.min(Math.max(x(now), left), width - right);
    line.setAttribute("x1", at.toFixed(1));
    line.setAttribute("x2", at.toFixed(1));
  };
  return figure;
}

// The live lines: the price now and the time to the next step (or why the price stays).
export function lines(auction, now, format) {
  const price = priceAt(auction, now);
  if (auction.settled) {
    return [`Settled at ${format(price)}: every buyer pays this price; who paid more reclaims the difference below.`,
      "The price no longer changes."];
  }
  const next = nextStep(auction, now);
  if (now < auction.start_time) {
    return [`Opens at ${format(price)} in ${duration(auction.start_time - now)}.`,
      `Then halves every ${duration(auction.half_life)} down to ${format(BigInt(auction.base_price_wei))}.`];
  }
  return [`Current price: ${format(price)}.`, next
    ? `Next step in ${duration(next.at - now)}: ${format(next.price)}.`
    : "At its base price: it settles there unless it sells out first (anyone can settle it now)."];
}

// The auction section: chart and live lines, refreshed every second on the chain's clock.
// `chainNow()` gives the chain time; `onTick(now, price)` lets the page follow (its Mint button).
export function show(target, auction, { chainNow, format, onTick }) {
  const figure = chart(auction, format);
  const now = el("p", { id: "auction-now" });
  const next = el("p", { id: "auction-next" });
  target.replaceChildren(figure, now, next);
  target.hidden = false;
  const tick = () => {
    const t = chainNow();
    const [first, second] = lines(auction, t, format);
    now.textContent = first;
    next.textContent = second;
    figure.mark(t);
    onTick?.(t, priceAt(auction, t));
  };
  tick();
  return setInterval(tick, 1000);
}
