"""The models and the three artist styles that ship with stylemint, with their pinned hashes.

stylemint-tiny (and its successor stylemint-tiny-2, the default) is trained from scratch on this project's procedural captioned set (see
backend/model/): a 64x64 text-to-image latent diffusion model in the Stable Diffusion layout whose
colour and shape words steer the picture. Training is not bit-reproducible across CPUs, so the
trained files are committed (the one exception to "no weights in git") and pinned here: a model
directory or a style file whose sha256 differs is refused by the renderer, like any model.

Each style is a trigger-scoped adapter (one small safetensors file of key and value vectors,
backend/render/trigger_adapter.py) trained on one procedural rendering treatment: its trigger (a
word, or on stylemint-gen the phrase "<name> style") in a prompt turns it on, and a prompt without it
renders the base model's bytes, by construction. They are what an artist would register as a style:
bytes, a hash and a trigger.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
STYLES_DIR = WEIGHTS_DIR / "styles"


@dataclass(frozen=True)
class ShippedModel:
    """A shipped model: its directory under weights/ and the sha256 that `model_sha256` gives it
    (docs/RENDER_SPEC.md). A model stays shipped after a successor replaces it as the default, so
    that every token made with it keeps rendering and verifying."""

    id: str
    sha256: str
    description: str
    image_size: int = 64

    @property
    def directory(self) -> Path:
        return WEIGHTS_DIR / self.id


# The first release (2026-11): the caption reaches the UNet twice, through cross-attention and
# pooled into the timestep embedding, so attention maps cannot see all that a word does.
FIRST_MODEL = ShippedModel("stylemint-tiny", "4246a26f7c3c901cb33a160fb83b4c5632ae36e44321f3a515faf341b135fb81",
                           "first release: caption also pooled into the timestep embedding")
# Text only through cross-attention (also at the 16x16 grid), a 32-token window (issue 28): what a
# word does, it does through the attention paid to it. Same VAE as the first release.
MODEL = ShippedModel("stylemint-tiny-2", "8e0afdd632b88559b178f7d7cfae719e87f9520af1c1c110e8ee21d339cefd37",
                     "text only through cross-attention; the default for new projects")
# Generative compositions (issue 32): flow lines, Truchet tiles, rings, packed circles, bands, dots,
# cells and single figures in eight named palettes, 128 px through a factor-8 VAE onto the same
# 16x16 latent grid; text only through cross-attention; files stored in float16. The sample
# projects (the demo's, the artist page's template) use it; stylemint-tiny-2 stays the default of
# `tiny_manifest` and of the attribution and mechanism tests.
GEN_MODEL = ShippedModel("stylemint-gen", "bcbf0cfd71444faf8e989aba6a816a5b4179f116821108d6fe8bc816678fe59d",
                         "generative compositions at 128 px: motif, palette and density words", image_size=128)
MODELS: dict[str, ShippedModel] = {m.id: m for m in (FIRST_MODEL, MODEL, GEN_MODEL)}

# The default for new manifests.
MODEL_ID, MODEL_DIR, MODEL_SHA256, IMAGE_SIZE = MODEL.id, MODEL.directory, MODEL.sha256, MODEL.image_size


def style_file_name(trigger: str) -> str:
    """The file of a shipped style on the default model, as training writes it (earlier files keep their names)."""
    return f"{trigger}-kv2.safetensors"


@dataclass(frozen=True)
class ShippedStyle:
    name: str
    trigger: str
    description: str
    sha256: str
    file: str
    model: str = MODEL_ID
    kind: str = "trigger_kv"

    @property
    def path(self) -> Path:
        return STYLES_DIR / self.file

    @property
    def prompt_words(self) -> str:
        """What a prompt (and every caption the style trained on) ends with to draw in it: the trigger,
        then "style" unless the trigger ends with it ("stipple" -> "stipple style"; "in haze style")."""
        return self.trigger if self.trigger.split()[-1] == "style" else f"{self.trigger} style"

    def read(self) -> bytes:
        """The style's bytes, refused if they are not the pinned ones."""
        data = self.path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise ValueError(f"{self.path} hashes to {digest}, the shipped {self.name!r} style is {self.sha256}")
        return data


_DESCRIPTIONS = {
    "stipple": ("Stipple", "pointillist dots: every shape built from a grid of round dots"),
    "inkline": ("Inkline", "hard ink outlines around flat fills"),
    "haze": ("Haze", "soft gradients: blurred edges, a glow in each shape, a shaded ground"),
}


def _styles(model: str, hashes: dict[str, str], file: str, suffix: str = "", kind: str = "trigger_kv",
            phrase: str = "{name}", phrases: dict[str, str] | None = None) -> dict[str, ShippedStyle]:
    """The styles by short name ("stipple"); each one's trigger is `phrase` filled with that name, or
    its own in `phrases`."""
    return {name: ShippedStyle(_DESCRIPTIONS[name][0] + suffix, (phrases or {}).get(name, phrase).format(name=name),
                               _DESCRIPTIONS[name][1], digest, file.format(trigger=name), model, kind)
            for name, digest in hashes.items()}


# The shipped styles: trigger-scoped adapters (backend/render/trigger_adapter.py) on the default model.
STYLES: dict[str, ShippedStyle] = _styles(MODEL_ID, {
    "stipple": "a36dff8e725b366033d1d29d6a133455692db577763fccfe112bed26b38c61b1",
    "inkline": "0d27c58f6a9f48a5b4c554e5f39d5d20942e946d60d0a8eada69ee87df1b4a01",
    "haze": "9468f6a423db2674dcd8465c1a128078d36685bcc9f26709f5723b14b5ded537",
}, "{trigger}-kv2.safetensors")

# The same styles as trigger-scoped adapters on the first release's model (an adapter is trained
# on one base: its vectors mean nothing to another).
FIRST_MODEL_STYLES: dict[str, ShippedStyle] = _styles(FIRST_MODEL.id, {
    "stipple": "b53faac06aa392437ff3f3ca18dd30a7a21ebe1627989643619b7d6e860d877c",
    "inkline": "b32e724e48f1e855df40ad24401f6a477d2047fb9922739642bb2520dd3ee7b3",
    "haze": "bbdbe1af5772190f9f6b21190b6a09490923c2819a5ba4550cc6ed2dc0a7abda",
}, "{trigger}-kv.safetensors", " (stylemint-tiny)")

# The same three styles on stylemint-gen, trained on the compositions drawn in each treatment. Their
# triggers are the phrase every styled caption ends with, "<name> style" and Haze's "in haze style":
# a trigger_kv adapter holds one key and one value vector per trigger token and module, so each token
# adds room (bench/model.py, 100 renders each, read in their style with the two-word trigger against
# the one-word one: Stipple 0.97 / 0.92, Inkline 0.90 / 0.86, Haze 0.79 / 0.63; Haze by three
# judges, three words against two: 0.85 / 0.79).
GEN_STYLES: dict[str, ShippedStyle] = _styles(GEN_MODEL.id, {
    "stipple": "44d85a6a834fc0097ae828c034726b0a878592d668b6f888a35c866ac10841df",
    "inkline": "3d3ed54ade544b6d411aefac3deb013ee478610f04958990146d727ee11f0350",
    "haze": "71476efbd155cbcd011877af676a80069cbe255ebbbb348a6ff988a371efd9a0",
}, "{trigger}-gen.safetensors", phrase="{name} style", phrases={"haze": "in {name} style"})

# The first release's styles: LoRAs that changed the picture with or without their trigger
# (bench/model.py measured the style in 43 % of renders without it).
LEGACY_LORA_STYLES: dict[str, ShippedStyle] = _styles(FIRST_MODEL.id, {
    "stipple": "2b3e569de8b570a6c6e1da7d389b2476ecfa67ece2a572afd5e45d7315ff5074",
    "inkline": "ed85202723d481e06dcec2436bd49bbc9df0eb3a66118a548a4aba236810b574",
    "haze": "77585de3eff46a51eeadbb2fbe6d65f28526edda13e8354858703464ec266040",
}, "{trigger}.safetensors", " (LoRA, 2026-11)", kind="lora")

# Every shipped style file, resolvable by CID so that tokens and test vectors made with any of
# them keep rendering and verifying; new manifests use STYLES.
ALL_STYLES: tuple[ShippedStyle, ...] = (*STYLES.values(), *GEN_STYLES.values(), *FIRST_MODEL_STYLES.values(),
                                         *LEGACY_LORA_STYLES.values())


def styles_for(model_id: str) -> dict[str, ShippedStyle]:
    """The trigger-scoped shipped styles trained on `model_id` by short name (empty for any other model)."""
    return {MODEL_ID: STYLES, FIRST_MODEL.id: FIRST_MODEL_STYLES, GEN_MODEL.id: GEN_STYLES}.get(model_id, {})


_BY_CID: dict[str, ShippedStyle] = {}


def style_for_cid(cid: str) -> ShippedStyle | None:
    """The shipped style whose file has this CID (Kubo-identical, computed from the file), if any."""
    from backend.ipfs.cid import canonical, cid_of

    if not _BY_CID:
        for style in ALL_STYLES:
            if style.path.exists():
                _BY_CID[cid_of(style.path.read_bytes())] = style
    try:
        return _BY_CID.get(canonical(cid))
    except ValueError:
        return None
