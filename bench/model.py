"""Prompt adherence of a shipped model (default: stylemint-tiny-2) and its styles; prints `key: value` lines.

    .venv/bin/python bench/model.py [--seeds 100] [--sheets artifacts/model] [--model stylemint-tiny]
    .venv/bin/python bench/model.py --model stylemint-gen   # the compositions: compositions_bench below

Every image is rendered through the production `Renderer` (hash-pinned model and style weights,
canonical PNG) from the sample manifests' prompt templates, one seed per image; the seed picks
the words (the token's traits), and the judges (backend/model/judges.py) read the picture:
- base family "one {colour} {shape} {place} on a {ground} ground": colour, shape, position and ground;
- count family "two {colour} {shape}s on a {ground} ground": two figures (with the base family's
  one figure, `count_adherence`);
- each style: its trigger in the prompt vs the same prompt without it, the adapter loaded both
  times; the style judge must see the style with the trigger and not without, and the renders
  without the trigger must be the base model's bytes (`bytes_identical_without_trigger`);
- an artist's own style: `stylemint style train`'s code on 200 cross-hatched drawings (a treatment
  neither the base model nor the shipped styles saw), trigger "hatch"; judged the same way, and
  its training minutes.
Goals (issue 13): colour >= 0.90, shape >= 0.80, style with trigger >= 0.90, without <= 0.10,
CPU render <= 0.5 s per image on 2 threads. The judges' own accuracies on held-out procedural
images are printed beside them. Contact sheets (16 renders each) go to --sheets.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.model import judges, procedural  # noqa: E402
from backend.render import shipped  # noqa: E402
from backend.render.renderer import Renderer  # noqa: E402
from backend.render.samples import TINY_VARIABLES, tiny_manifest  # noqa: E402

TARGETS = {"colour_adherence": 0.90, "shape_adherence": 0.80, "style_with_trigger": 0.90}


def seeds(n: int, family: str) -> list[bytes]:
    return [hashlib.sha256(f"bench model {family} {i}".encode()).digest() for i in range(n)]


def contact_sheet(results, path: Path, scale: int | None = None) -> None:
    """16 renders in a 4x4 grid, nearest-neighbour upscaled (4x at 64 px, 2x at 128 px), with their prompts."""
    from PIL import Image

    tiles = [r.pixels() for r in results[:16]]
    scale = scale or max(1, 256 // tiles[0].shape[0])
    while len(tiles) < 16:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[i:i + 4], axis=1) for i in range(0, 16, 4)]
    sheet = Image.fromarray(np.concatenate(rows, axis=0))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.resize((sheet.width * scale, sheet.height * scale), Image.NEAREST).save(path)
    path.with_suffix(".txt").write_text("".join(f"{i + 1:2d} {r.prompt}\n" for i, r in enumerate(results[:16])))


def own_style(folder: Path, images: int, steps: int, model_id: str):
    """An artist's folder (procedural cross-hatched drawings, captioned) and the style trained from it."""
    from PIL import Image

    from backend.model.own_style import train_own_style

    folder.mkdir(parents=True, exist_ok=True)
    drawings, scenes = procedural.dataset(5151, images, "crosshatch", single_only=True)
    for index, (drawing, scene) in enumerate(zip(drawings, scenes)):
        Image.fromarray(drawing).save(folder / f"{index:04d}.png")
        (folder / f"{index:04d}.txt").write_text(scene.caption)
    output = folder.parent / "hatch.safetensors"
    output.unlink(missing_ok=True)
    return train_own_style(folder, "hatch", output, steps=steps, model_id=model_id,
                           report=lambda line: print(line, file=sys.stderr))


def render_all(renderer: Renderer, manifest, family: str, n: int):
    results = renderer.render_batch(manifest, seeds(n, family))
    return results, np.stack([r.pixels() for r in results])


def style_figures(renderer: Renderer, base, styled: dict, style_judge, n: int, sheets: Path,
                  other_judges: dict | None = None, kept=None) -> dict:
    """Each style's share of renders judged in it, with its trigger (`styled[trigger]`) and without
    (the same manifest, the base's prompt), and whether every render without the trigger is the
    base model's bytes; contact sheets `<sheets>-<trigger>[-without-trigger].png`. `other_judges`
    (suffix: judge) read the same renders too, their figures' keys ending in the suffix.
    `kept(results, images)`: figures of what the triggered renders still show (the prompt's motif
    and palette), keys `style_<trigger>_<key>`: a style judged present in every render is no
    use if it has painted the picture over (measured: Haze at scale 1.5 is read as Haze in 0.89
    to 0.96 of renders, and they are fog with neither motif nor palette)."""
    base_pngs = {r.seed: r.png for r in render_all(renderer, base, "style", n)[0]}
    readers = {"": style_judge, **(other_judges or {})}
    figures, identical = {}, []
    with_trigger = {suffix: [] for suffix in readers}
    without_trigger = {suffix: [] for suffix in readers}
    for trigger, manifest in styled.items():
        untriggered = manifest.model_copy(update={"prompt": base.prompt, "name": manifest.name + " (no trigger)"})
        results, images = render_all(renderer, manifest, "style", n)
        contact_sheet(results, Path(f"{sheets}-{trigger}.png"))
        for key, value in (kept(results, images) if kept else {}).items():
            figures[f"style_{trigger}_{key}"] = value
        results, plain = render_all(renderer, untriggered, "style", n)
        contact_sheet(results, Path(f"{sheets}-{trigger}-without-trigger.png"))
        identical += [r.png == base_pngs[r.seed] for r in results]
        for suffix, judge in readers.items():
            hits = [p == trigger for p in judge.predict(images)]
            misses = [p == trigger for p in judge.predict(plain)]
            figures[f"style_{trigger}_with_trigger{suffix}"] = round(float(np.mean(hits)), 3)
            figures[f"style_{trigger}_without_trigger{suffix}"] = round(float(np.mean(misses)), 3)
            with_trigger[suffix] += hits
            without_trigger[suffix] += misses
    for suffix in readers:
        figures[f"style_with_trigger{suffix}"] = round(float(np.mean(with_trigger[suffix])), 3)
        figures[f"style_without_trigger{suffix}"] = round(float(np.mean(without_trigger[suffix])), 3)
    figures["bytes_identical_without_trigger"] = str(all(identical)).lower()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="renders per prompt family")
    parser.add_argument("--sheets", type=Path, default=Path("artifacts/model"), help="folder for contact sheets")
    parser.add_argument("--judge-steps", type=int, default=1200, help="training steps of each CNN judge")
    parser.add_argument("--judge-images", type=int, default=6000, help="procedural images each CNN judge trains on")
    parser.add_argument("--own-images", type=int, default=200, help="drawings in the artist's folder")
    parser.add_argument("--own-steps", type=int, default=600, help="training steps of the artist's style")
    parser.add_argument("--model", choices=sorted(shipped.MODELS), default=shipped.MODEL_ID, help="the shipped model to measure")
    # Five, not three: on Inkline single judges trained alike read the same renders 0.55 to 0.93
    # (stop 55), so the ensemble's reading moves with each member it has.
    parser.add_argument("--style-judges", type=int, default=5, metavar="N",
                        help="stylemint-gen: style judges in the ensemble (seeds 11, 12, ...; each about 12 CPU minutes)")
    args = parser.parse_args()
    if shipped.MODELS[args.model].id == shipped.GEN_MODEL.id:
        compositions_bench(args)
        return
    figures: dict[str, object] = {}
    styles = shipped.styles_for(args.model)
    figures["model"] = args.model
    started = time.perf_counter()

    print("training the judges on procedural images ...", file=sys.stderr)
    shape_judge = judges.shape_judge(count=args.judge_images, steps=args.judge_steps)
    style_judge = judges.style_judge(count=args.judge_images, steps=args.judge_steps)
    figures["shape_judge_held_out_accuracy"] = round(shape_judge.held_out_accuracy, 3)
    figures["style_judge_held_out_accuracy"] = round(style_judge.held_out_accuracy, 3)
    held_images, held_scenes = procedural.dataset(991, 400, "plain", single_only=True)
    figures["colour_judge_held_out_accuracy"] = round(float(np.mean(
        [judges.colour_of(im) == s.shapes[0].colour for im, s in zip(held_images, held_scenes)])), 3)

    weights = {}
    from backend.ipfs.cid import cid_of

    for style in styles.values():
        data = style.read()
        weights[cid_of(data)] = data
    renderer = Renderer(device="cpu", threads=2, batch_size=1, fetch_adapter=weights.__getitem__)

    print(f"rendering {args.seeds} seeds per family ...", file=sys.stderr)
    # The base family names every word the model was trained on, positions included (the sample
    # projects publish only the variables it follows: backend/render/samples.py).
    base = tiny_manifest(style=None, base=args.model, prompt="one {colour} {shape} {place} on a {ground} ground",
                         variables=TINY_VARIABLES)
    renderer.render(base, b"\x00" * 32)  # load and warm up
    results, images = render_all(renderer, base, "base", args.seeds)
    contact_sheet(results, args.sheets / "contact-base.png")
    figures["cpu_seconds_per_image"] = round(float(np.mean([r.timings["render_s"] + r.timings["encode_s"] for r in results])), 4)
    traits = [r.traits for r in results]
    shapes = shape_judge.predict(images)
    figures["colour_adherence"] = round(float(np.mean([judges.colour_of(im) == t["colour"] for im, t in zip(images, traits)])), 3)
    figures["shape_adherence"] = round(float(np.mean([p == t["shape"] for p, t in zip(shapes, traits)])), 3)
    for shape in procedural.SHAPES:
        picked = [p == t["shape"] for p, t in zip(shapes, traits) if t["shape"] == shape]
        figures[f"shape_adherence_{shape}"] = round(float(np.mean(picked)), 3) if picked else "n/a"
    places = {phrase: key for key, phrase in procedural.POSITION_PHRASES.items()}
    figures["position_adherence"] = round(float(np.mean(
        [judges.position_of(im) == places[t["place"]] for im, t in zip(images, traits)])), 3)
    figures["ground_adherence"] = round(float(np.mean([judges.ground_of(im) == t["ground"] for im, t in zip(images, traits)])), 3)
    one = [judges.count_of(im) == 1 for im in images]

    two_manifest = tiny_manifest(style=None, base=args.model, name="Pairs", prompt="two {colour} {shape}s on a {ground} ground",
                                 variables={k: v for k, v in base.variables.items() if k != "place"})
    results, images = render_all(renderer, two_manifest, "two", args.seeds)
    contact_sheet(results, args.sheets / "contact-two.png")
    two = [judges.count_of(im) == 2 for im in images]
    figures["count_adherence_one"] = round(float(np.mean(one)), 3)
    figures["count_adherence_two"] = round(float(np.mean(two)), 3)
    figures["count_adherence"] = round(float(np.mean(one + two)), 3)

    figures.update(style_figures(renderer, base, {
        trigger: tiny_manifest(style=trigger, base=args.model, prompt=f"{base.prompt}, {trigger} style", variables=TINY_VARIABLES)
        for trigger in styles}, style_judge, args.seeds, args.sheets / "contact"))

    print("training an artist's own style (hatch) ...", file=sys.stderr)
    own = own_style(args.sheets / "own-style", args.own_images, args.own_steps, args.model)
    weights[own.cid] = own.path.read_bytes()
    hatch = tiny_manifest(None, base=args.model, name="Hatched Shapes", prompt="one {colour} {shape} on a {ground} ground, hatch style",
                          variables={k: v for k, v in base.variables.items() if k != "place"}, attribution="attention",
                          styles=[{"trigger": "hatch", "kind": "trigger_kv", "cid": own.cid, "sha256": own.sha256, "scale": 1.0}])
    results, images = render_all(renderer, hatch, "own", args.seeds)
    contact_sheet(results, args.sheets / "contact-own-hatch.png")
    figures["own_style_with_trigger"] = round(float(np.mean([p == "crosshatch" for p in style_judge.predict(images)])), 3)
    unhatched = hatch.model_copy(update={"prompt": "one {colour} {shape} on a {ground} ground"})
    results, images = render_all(renderer, unhatched, "own", args.seeds)
    contact_sheet(results, args.sheets / "contact-own-hatch-without-trigger.png")
    figures["own_style_without_trigger"] = round(float(np.mean([p == "crosshatch" for p in style_judge.predict(images)])), 3)
    figures["own_style_train_minutes"] = round(own.seconds / 60, 2)

    model_bytes = sum(p.stat().st_size for p in shipped.MODELS[args.model].directory.rglob("*") if p.is_file())
    style_bytes = sum(s.path.stat().st_size for s in styles.values())
    figures["model_mb"] = round(model_bytes / 1e6, 2)
    figures["styles_mb"] = round(style_bytes / 1e6, 2)
    figures["seeds_per_family"] = args.seeds
    figures["judge_steps"] = args.judge_steps
    figures["default_steps"] = base.steps
    figures["default_scheduler"] = base.scheduler.name
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    for key, value in figures.items():
        print(f"{key}: {value}")
    missed = [k for k, goal in TARGETS.items() if figures[k] < goal]
    missed += ["style_without_trigger"] if figures["style_without_trigger"] > 0.05 else []
    missed += ["bytes_identical_without_trigger"] if figures["bytes_identical_without_trigger"] != "true" else []
    missed += ["own_style_with_trigger"] if figures["own_style_with_trigger"] < 0.8 else []
    missed += ["own_style_without_trigger"] if figures["own_style_without_trigger"] > 0.05 else []
    missed += ["own_style_train_minutes"] if figures["own_style_train_minutes"] > 15 else []
    missed += ["position_adherence"] if figures["position_adherence"] < 0.6 else []
    missed += ["cpu_seconds_per_image"] if figures["cpu_seconds_per_image"] > 0.5 else []
    print(f"goals_missed: {', '.join(missed) if missed else 'none'}")


GEN_TARGETS = {"motif_adherence": 0.85, "palette_adherence": 0.85, "distinct_images_per_100_seeds": 95,
               "style_with_trigger": 0.9}


def distinct_images(images: np.ndarray, near: int = 4) -> tuple[int, int]:
    """How many images have no near-duplicate before them (perceptual hashes within `near` bits of
    64), and the least Hamming distance between any two."""
    import imagehash
    from PIL import Image

    hashes = [imagehash.phash(Image.fromarray(im)) for im in images]
    distinct = sum(all(h - earlier > near for earlier in hashes[:i]) for i, h in enumerate(hashes))
    closest = min((a - b for i, a in enumerate(hashes) for b in hashes[i + 1:]), default=64)
    return distinct, closest


def compositions_bench(args) -> None:
    """stylemint-gen (issue 32): motif, density, palette and layout adherence, distinct images, the
    three styles with and without their trigger (and the motif, palette and layout their triggered
    renders keep), the share of blank renders (the base's and each style's), CPU seconds per 128 px
    image, the size in git; contact sheets per motif family and per style. The styles are read
    by an ensemble of --style-judges judges, each member's figures and their spread beside it."""
    from backend.model import compositions
    from backend.render.samples import GEN_VARIABLES

    figures: dict[str, object] = {"model": args.model}
    started = time.perf_counter()
    styles = shipped.styles_for(args.model)
    print("training the judges on held-out compositions ...", file=sys.stderr)
    reader = judges.composition_judge(count=args.judge_images, steps=args.judge_steps)
    drawings_judge = judges.style_judge(count=args.judge_images, steps=args.judge_steps, subjects="compositions")
    held, items = compositions.dataset(977, 400, "plain")
    read = [judges.motif_density(label) for label in reader.predict(held)]
    figures["motif_judge_held_out_accuracy"] = round(float(np.mean([m == c.motif for (m, _), c in zip(read, items)])), 3)
    figures["density_judge_held_out_accuracy"] = round(float(np.mean([d == c.density for (_, d), c in zip(read, items)])), 3)
    figures["motif_density_judge_held_out_accuracy_all_treatments"] = round(reader.held_out_accuracy, 3)
    for treatment in procedural.DRAWABLE:
        drawn, truth = compositions.dataset(979, 200, treatment)
        figures[f"palette_judge_held_out_accuracy_{treatment}"] = round(float(np.mean(
            [judges.palette_of(im) == c.palette for im, c in zip(drawn, truth)])), 3)
        drawn, truth = compositions.dataset(983, 400, treatment)  # its rule was tuned on other seeds (981)
        figures[f"layout_judge_held_out_accuracy_{treatment}"] = round(float(np.mean(
            [judges.layout_of(im, c.motif) == c.layout for im, c in zip(drawn, truth) if c.layout])), 3)

    weights = {}
    from backend.ipfs.cid import cid_of

    for style in styles.values():
        data = style.read()
        weights[cid_of(data)] = data
    renderer = Renderer(device="cpu", threads=2, batch_size=1, fetch_adapter=weights.__getitem__)
    phrase_of = {phrase: motif for motif, phrase in compositions.MOTIFS.items()}
    base = tiny_manifest(style=None, base=args.model)
    renderer.render(base, b"\x00" * 32)  # load and warm up
    print(f"rendering {args.seeds} seeds of '{base.prompt}' ...", file=sys.stderr)
    results, images = render_all(renderer, base, "base", args.seeds)
    contact_sheet(results, args.sheets / "gen-contact-base.png")
    figures["cpu_seconds_per_image"] = round(float(np.mean([r.timings["render_s"] + r.timings["encode_s"] for r in results])), 4)

    def read_against_prompt(results, images) -> np.ndarray:
        """Per render: whether its motif, density and palette were read as its prompt names them."""
        read = [judges.motif_density(label) for label in reader.predict(images)]
        return np.array([(m == phrase_of[r.traits["motif"]], d == r.traits["density"], judges.palette_of(im) == r.traits["palette"])
                         for (m, d), r, im in zip(read, results, images)], dtype=float)

    def layout_adherence(results, images) -> float:
        """The share of renders with a layout trait (flow lines, bands, rings, a single figure) whose
        pixels show that layout (judges.layout_of)."""
        return round(float(np.mean([judges.layout_of(im, phrase_of[r.traits["motif"]]) == r.traits["layout"]
                                    for r, im in zip(results, images) if "layout" in r.traits])), 3)

    def blank_renders(results, images) -> float:
        """The share of renders that show almost nothing (judges.is_blank): duds a judge can miss."""
        return round(float(np.mean([judges.is_blank(im, r.traits["palette"]) for r, im in zip(results, images)])), 3)

    def adherence(results, images) -> dict:
        """The motif and palette adherence of other renders (each style's, with its trigger), and
        their share of blank ones."""
        hits = read_against_prompt(results, images)
        return {"motif_adherence": round(float(hits[:, 0].mean()), 3), "palette_adherence": round(float(hits[:, 2].mean()), 3),
                "layout_adherence": layout_adherence(results, images), "blank_renders": blank_renders(results, images)}

    hits = read_against_prompt(results, images)
    figures["motif_adherence"] = round(float(hits[:, 0].mean()), 3)
    for motif, phrase in compositions.MOTIFS.items():
        picked = [hit[0] for hit, r in zip(hits, results) if r.traits["motif"] == phrase]
        figures[f"motif_adherence_{motif}"] = round(float(np.mean(picked)), 3) if picked else "n/a"
    figures["density_adherence"] = round(float(hits[:, 1].mean()), 3)
    figures["palette_adherence"] = round(float(hits[:, 2].mean()), 3)
    figures["layout_adherence"] = layout_adherence(results, images)
    figures["blank_renders"] = blank_renders(results, images)
    figures["distinct_images_per_100_seeds"], figures["closest_phash_bits"] = distinct_images(images[:100])

    print("contact sheets, one per motif family ...", file=sys.stderr)
    for motif, phrase in compositions.MOTIFS.items():
        # One motif, with its own layout words (a motif without them has no layout placeholder).
        layouts = GEN_VARIABLES["layout"]["options"].get(phrase)
        variables = {**GEN_VARIABLES, "motif": [phrase], "layout": {"by": "motif", "options": {phrase: layouts}}}
        if not layouts:
            del variables["layout"]
        fixed = type(base).model_validate({**base.model_dump(), "variables": variables, "name": f"{base.name} ({motif})",
                                           "prompt": base.prompt if layouts else base.prompt.replace(", {layout}", "")})
        contact_sheet(renderer.render_batch(fixed, seeds(16, f"sheet {motif}")), args.sheets / f"gen-contact-{motif}.png")

    # The style judge also sees the base's own renders as "plain" (judges.style_judge), from seeds
    # the figures do not use, and every drawing also as the model's decoder returns it (so that the
    # decoder's softness reads as no style); the judge of drawings alone reads the same renders,
    # its keys suffixed.
    print("rendering the style judge's plain examples ...", file=sys.stderr)
    _, plain = render_all(renderer, base, "style judge plain", 3 * args.seeds)
    from backend.model.train import load_shipped_base, through_decoder

    vae = load_shipped_base(args.model)[0]
    # An ensemble (judges.Ensemble): one such judge's reading of a style moved by up to 0.28
    # with its seed (stop 50). The style figures are the ensemble's; each member's, suffixed
    # `_judge_<seed>`, and their spread (largest less smallest) are printed beside them.
    print(f"training {args.style_judges} style judges on drawings as drawn and as the decoder returns them ...", file=sys.stderr)
    seeds_of_judges = tuple(range(11, 11 + args.style_judges))
    style_judge = judges.style_judges(seeds_of_judges, count=args.judge_images, steps=args.judge_steps, subjects="compositions",
                                      plain_renders=plain, through_decoder=lambda drawn: through_decoder(vae, drawn),
                                      report=lambda line: print(line, file=sys.stderr))
    figures["style_judges"] = len(seeds_of_judges)
    figures["style_judge_held_out_accuracy"] = round(style_judge.held_out_accuracy, 3)
    figures["style_judge_held_out_accuracy_through_decoder"] = round(style_judge.held_out_accuracy_through_decoder, 3)
    members = {f"_judge_{seed}": member for seed, member in zip(seeds_of_judges, style_judge.members)}
    for suffix, member in members.items():
        figures[f"style{suffix}_held_out_accuracy"] = round(member.held_out_accuracy, 3)
        figures[f"style{suffix}_held_out_accuracy_through_decoder"] = round(member.held_out_accuracy_through_decoder, 3)
    figures["style_judge_of_drawings_only_held_out_accuracy"] = round(drawings_judge.held_out_accuracy, 3)
    figures["style_judge_plain_renders"] = len(plain)
    figures.update(style_figures(renderer, base, {trigger: tiny_manifest(style=trigger, base=args.model) for trigger in styles},
                                 style_judge, args.seeds, args.sheets / "gen-contact",
                                 other_judges={**members, "_judge_of_drawings_only": drawings_judge}, kept=adherence))
    for key in ["style_with_trigger", "style_without_trigger"] + [f"style_{t}_{w}" for t in styles for w in ("with_trigger", "without_trigger")]:
        read = [figures[key + suffix] for suffix in members]
        figures[f"{key}_judges_spread"] = round(max(read) - min(read), 3)

    model_bytes = sum(p.stat().st_size for p in shipped.MODELS[args.model].directory.rglob("*") if p.is_file())
    figures["model_mb"] = round(model_bytes / 1e6, 2)
    figures["styles_mb"] = round(sum(s.path.stat().st_size for s in styles.values()) / 1e6, 3)
    unique = {hashlib.sha256(p.read_bytes()).digest(): p.stat().st_size for p in shipped.WEIGHTS_DIR.rglob("*") if p.is_file()}
    figures["all_shipped_weights_mb"] = round(sum(unique.values()) / 1e6, 2)
    figures["seeds_per_family"] = args.seeds
    figures["judge_steps"] = args.judge_steps
    figures["default_steps"] = base.steps
    figures["default_scheduler"] = base.scheduler.name
    figures["bench_seconds"] = round(time.perf_counter() - started, 1)
    for key, value in figures.items():
        print(f"{key}: {value}")
    missed = [k for k, goal in GEN_TARGETS.items() if figures[k] < goal]
    missed += ["style_without_trigger"] if figures["style_without_trigger"] > 0.05 else []
    missed += ["bytes_identical_without_trigger"] if figures["bytes_identical_without_trigger"] != "true" else []
    missed += ["cpu_seconds_per_image"] if figures["cpu_seconds_per_image"] > 1.0 else []
    missed += ["model_mb"] if figures["model_mb"] > 40 else []
    missed += ["all_shipped_weights_mb"] if figures["all_shipped_weights_mb"] > 40 else []
    print(f"goals_missed: {', '.join(missed) if missed else 'none'}")


if __name__ == "__main__":
    main()
