"""The sample style projects: the demo's, on the shipped model, and the mechanism tests' on `reference`."""

from __future__ import annotations

from backend.render import environment, shipped
from backend.render.manifest import StyleManifest
from backend.render.reference_model import REFERENCE_MODEL_SHA256, REFERENCE_SIZE

# The words stylemint-tiny was trained on (backend/model/procedural.py), by variable.
TINY_VARIABLES = {
    "colour": ["red", "amber", "yellow", "green", "blue", "violet"],
    "shape": ["circle", "square", "triangle", "stripe"],
    "place": ["in the centre", "on the left", "on the right", "at the top", "at the bottom"],
    "ground": ["dark", "light"],
}
# What the sample projects publish as traits: only variables the model follows in at least 90 %
# of renders (100 seeds: stylemint-tiny colour 1.0, shape 1.0, ground 1.0, position 0.33;
# stylemint-tiny-2 colour 1.0, ground 1.0, position 0.21), so `place` is not offered: a collector
# buys on traits, and a trait must be true of the image.
PUBLISHED_VARIABLES = {name: words for name, words in TINY_VARIABLES.items() if name != "place"}
TINY_PROMPT = "one {colour} {shape} on a {ground} ground"
# stylemint-gen's words (backend/model/compositions.py), by trait: every one is published (bench/model.py
# measures each on 100 seeds). The layout is a trait of the four motifs that have one, chosen by
# the motif (an OptionsBy), and the prompt is worded as the training captions are: without the
# layout word the model drew flow lines in 0.05 of 300 renders, stacked bands in 0.75, rings in 0.73.
GEN_VARIABLES = {
    "motif": ["flow lines", "truchet tiles", "concentric rings", "packed circles", "stacked bands", "scattered dots",
              "a grid of cells", "a single figure"],
    "palette": ["ember", "lagoon", "moss", "dusk", "bauhaus", "ink", "citrus", "glacier"],
    "density": ["sparse", "dense"],
    "layout": {"by": "motif", "options": {"flow lines": ["horizontal", "vertical"], "stacked bands": ["horizontal", "vertical"],
                                          "concentric rings": ["centred", "offset"],
                                          "a single figure": ["left", "centred", "right"]}},
}
GEN_PROMPT = "{motif}, {density}, {layout}, in {palette} colours"


def sample_manifest(**overrides) -> StyleManifest:
    """'Tidal Glass' on the offline reference model (random weights: the mechanism, not the art)."""
    document = {
        "name": "Tidal Glass",
        "model": {"id": "reference", "sha256": REFERENCE_MODEL_SHA256},
        "prompt": "a study of tidal glass at {hour}, {palette}, soft caustics",
        "variables": {
            "hour": ["dawn", "noon", "dusk", "midnight"],
            "palette": ["sea green", "amber", "violet", "ink blue", "coral"],
        },
        "negative_prompt": "text, watermark",
        "scheduler": {"name": "euler", "config": {"timestep_spacing": "trailing"}},
        "steps": 8,
        "guidance_scale": 2.5,
        "width": REFERENCE_SIZE,
        "height": REFERENCE_SIZE,
        "dtype": "float32",
        "environment": environment.this_machine_class(),
    }
    document.update(overrides)
    return StyleManifest.model_validate(document)


def shipped_adapter(name: str, base: str = shipped.MODEL_ID) -> dict:
    """The manifest entry for a shipped style (by short name) on the shipped model `base`: its CID
    (Kubo-identical, computed here) and sha256."""
    from backend.ipfs.cid import cid_of

    style = shipped.styles_for(base)[name]
    return {"kind": style.kind, "cid": cid_of(style.read()), "sha256": style.sha256, "scale": 1.0}


def tiny_manifest(style: str | None = "stipple", *, base: str = shipped.MODEL_ID, **overrides) -> StyleManifest:
    """A study on a shipped model (default: stylemint-tiny-2's shapes; stylemint-gen's compositions
    with traits motif, palette and density), drawn in one shipped style (None: the base model's look).

    The defaults (DPM-Solver++ 10 steps at guidance 3, stylemint-gen 20 at 2; empty negative prompt: the model's
    unconditional caption) are the ones bench/model.py measures.
    """
    model = shipped.MODELS[base]
    generative = base == shipped.GEN_MODEL.id
    prompt, subject = (GEN_PROMPT, "Compositions") if generative else (TINY_PROMPT, "Shapes")
    document = {
        "name": f"{shipped.STYLES[style].name} {subject}" if style else ("Compositions" if generative else "Shape Studies"),
        "model": {"id": model.id, "sha256": model.sha256},
        "prompt": f"{prompt}, {shipped.styles_for(base)[style].prompt_words}" if style else prompt,
        "variables": GEN_VARIABLES if generative else PUBLISHED_VARIABLES,
        "negative_prompt": "",
        "scheduler": {"name": "dpm++2m", "config": {}},
        # stylemint-gen (v-prediction from pure noise): 20 steps at guidance 2, measured on 48 renders:
        # palette read right in 0.92 (0.88 at guidance 3, 0.69 at 5: stronger guidance washes the
        # colours out), motif 0.71 at 1.5 to 5 alike, 0.31 CPU s an image (10 steps: 0.88, 0.16 s).
        "steps": 20 if generative else 10,
        "guidance_scale": 2.0 if generative else 3.0,
        "width": model.image_size,
        "height": model.image_size,
        "dtype": "float32",
        "environment": environment.this_machine_class(),
    }
    if style:
        document["styles"] = [{"trigger": shipped.styles_for(base)[style].trigger, **shipped_adapter(style, base)}]
        # A trigger-scoped style acts only through the attention paid to its trigger's positions,
        # so that attention is the measure (the counterfactual renders are the auditor's cross-check).
        document["attribution"] = "attention"
    document.update(overrides)
    return StyleManifest.model_validate(document)


def blend_manifest(scales: dict[str, float], *, base: str = shipped.MODEL_ID, **overrides) -> StyleManifest:
    """A study drawn in several shipped styles at once, each adapter at its scale (the attribution
    benchmark's blends, the demo's project): `blend_manifest({"stipple": 0.3, "inkline": 0.7})`."""
    prompt = (GEN_PROMPT if base == shipped.GEN_MODEL.id else TINY_PROMPT) + ", " + ", ".join(shipped.styles_for(base)[s].prompt_words for s in scales)
    styles = [{"trigger": shipped.styles_for(base)[name].trigger, **shipped_adapter(name, base), "scale": scale}
              for name, scale in scales.items()]
    return tiny_manifest(None, base=base, name=" and ".join(shipped.STYLES[s].name for s in scales),
                         prompt=prompt, styles=styles, **overrides)
