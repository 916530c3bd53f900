import { getJSON } from "./api.js";
import { initNav } from "./wallet.js";
import { el, eth, linkCard, short, showMessage } from "./ui.js";

initNav();
try {
  const { projects } = await getJSON("/api/projects");
  const cards = projects.map((project) => linkCard(`/project?id=${project.id}`, {
    image: project.previews[0]?.image, alt: `${project.name} preview`, placeholder: "no edition yet",
    attributes: { class: "project" }, lines: [
      el("h3", {}, project.name),
      el("div", {}, `by ${short(project.artist)}`),
      project.manifest ? el("div", { class: "model" }, `model ${project.manifest.model.id}`) : "",
      el("div", {}, eth(project.price_wei)),
      el("div", { class: "left" }, `${project.remaining} of ${project.max_editions} left`),
      project.paused || project.admin_paused ? el("div", {}, "paused") : ""] }));
  document.getElementById("projects").replaceChildren(...cards);
  if (!projects.length) showMessage("No style projects yet: open one on the Artist page.", "info");
} catch (error) {
  showMessage(error.message, "error");
}
