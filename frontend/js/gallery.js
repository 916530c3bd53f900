import { getJSON } from "./api.js";
import { initNav } from "./wallet.js";
import { el, eth, linkCard, short, showMessage } from "./ui.js";

initNav();
// The gallery shows what collectors can buy: projects the platform approved. Projects awaiting
// its review are listed apart, for their artists and the admin (who approves them on /review).
try {
  const { projects } = await getJSON("/api/projects");
  const live = projects.filter((project) => project.approved);
  const awaiting = projects.filter((project) => !project.approved);
  const cards = live.map((project) => linkCard(`/project?id=${project.id}`, {
    image: project.previews[0]?.image, alt: `${project.name} preview`, placeholder: "no edition yet",
    attributes: { class: "project" }, lines: [
      el("h3", {}, project.name),
      el("div", {}, `by ${short(project.artist)}`),
      project.manifest ? el("div", { class: "model" }, `model ${project.manifest.model.id}`) : "",
      el("div", {}, eth(project.price_wei)),
      el("div", { class: "left" }, `${project.remaining} of ${project.max_editions} left`),
      project.paused || project.admin_paused ? el("div", {}, "paused") : ""] }));
  document.getElementById("projects").replaceChildren(...cards);
  const box = document.getElementById("awaiting");
  box.hidden = !awaiting.length;
  box.replaceChildren(
    el("summary", {}, `${awaiting.length} project${awaiting.length === 1 ? "" : "s"} awaiting the platform's review`),
    el("p", {}, "They cannot be minted until the platform admin approves their manifest and styles on the ",
      el("a", { href: "/review" }, "Review page"), "."),
    el("ul", {}, ...awaiting.map((project) => el("li", { "data-project": project.id },
      el("a", { href: `/project?id=${project.id}` }, project.name), ` by ${short(project.artist)}`))));
  if (!projects.length) showMessage("No style projects yet: open one on the Artist page.", "info");
  else if (!live.length) showMessage("No project is approved for minting yet.", "info");
} catch (error) {
  showMessage(error.message, "error");
}
