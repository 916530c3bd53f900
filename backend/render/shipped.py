"""The model and the three artist styles that ship with stylemint, with their pinned hashes.

stylemint-tiny is trained from scratch on this project's procedural captioned set (see
backend/model/): a 64x64 text-to-image latent diffusion model in the Stable Diffusion layout whose
colour and shape words steer the picture. Training is not bit-reproducible across CPUs, so the
trained files are committed (the one exception to "no weights in git") and pinned here: a model
directory or a style file whose sha256 differs is refused by the renderer, like any model.

Each style is a trigger-scoped adapter (one small safetensors file of key and value vectors,
backend/render/trigger_adapter.py) trained on one procedural rendering treatment: its trigger word
in a prompt turns it on, and a prompt without the word renders the base model's bytes, by
construction. They are what an artist would register as a style: bytes, a hash and a trigger word.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

MODEL_ID = "stylemint-tiny"
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_DIR = WEIGHTS_DIR / MODEL_ID
STYLES_DIR = WEIGHTS_DIR / "styles"
IMAGE_SIZE = 64

# sha256 of the model directory as `model_sha256` computes it (docs/RENDER_SPEC.md).
MODEL_SHA256 = "4246a26f7c3c901cb33a160fb83b4c5632ae36e44321f3a515faf341b135fb81"


def style_file_name(trigger: str) -> str:
    """The file of a shipped trigger-scoped style (the LoRAs of the first release keep `<trigger>.safetensors`)."""
    return f"{trigger}-kv.safetensors"


@dataclass(frozen=True)
class ShippedStyle:
    name: str
    trigger: str
    description: str
    sha256: str
    kind: str = "trigger_kv"

    @property
    def path(self) -> Path:
        return STYLES_DIR / (style_file_name(self.trigger) if self.kind == "trigger_kv" else f"{self.trigger}.safetensors")

    def read(self) -> bytes:
        """The style's bytes, refused if they are not the pinned ones."""
        data = self.path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise ValueError(f"{self.path} hashes to {digest}, the shipped {self.name!r} style is {self.sha256}")
        return data


# The shipped styles: trigger-scoped adapters (backend/render/trigger_adapter.py) on stylemint-tiny.
STYLES: dict[str, ShippedStyle] = {
    style.trigger: style
    for style in (
        ShippedStyle("Stipple", "stipple", "pointillist dots: every shape built from a grid of round dots",
                     "b53faac06aa392437ff3f3ca18dd30a7a21ebe1627989643619b7d6e860d877c"),
        ShippedStyle("Inkline", "inkline", "hard ink outlines around flat fills",
                     "b32e724e48f1e855df40ad24401f6a477d2047fb9922739642bb2520dd3ee7b3"),
        ShippedStyle("Haze", "haze", "soft gradients: blurred edges, a glow in each shape, a shaded ground",
                     "bbdbe1af5772190f9f6b21190b6a09490923c2819a5ba4550cc6ed2dc0a7abda"),
    )
}

# The first release's styles: LoRAs that changed the picture with or without their trigger
# (bench/model.py measured the style in 43 % of renders without it). Still shipped and resolvable
# by CID so that tokens and test vectors made with them keep rendering and verifying; new
# manifests use STYLES.
LEGACY_LORA_STYLES: dict[str, ShippedStyle] = {
    style.trigger: style
    for style in (
        ShippedStyle("Stipple (LoRA, 2026-11)", "stipple", "pointillist dots, as a LoRA",
                     "2b3e569de8b570a6c6e1da7d389b2476ecfa67ece2a572afd5e45d7315ff5074", kind="lora"),
        ShippedStyle("Inkline (LoRA, 2026-11)", "inkline", "ink outlines, as a LoRA",
                     "ed85202723d481e06dcec2436bd49bbc9df0eb3a66118a548a4aba236810b574", kind="lora"),
        ShippedStyle("Haze (LoRA, 2026-11)", "haze", "soft gradients, as a LoRA",
                     "77585de3eff46a51eeadbb2fbe6d65f28526edda13e8354858703464ec266040", kind="lora"),
    )
}


_BY_CID: dict[str, ShippedStyle] = {}


def style_for_cid(cid: str) -> ShippedStyle | None:
    """The shipped style whose file has this CID (Kubo-identical, computed from the file), if any."""
    from backend.ipfs.cid import canonical, cid_of

    if not _BY_CID:
        for style in (*STYLES.values(), *LEGACY_LORA_STYLES.values()):
            if style.path.exists():
                _BY_CID[cid_of(style.path.read_bytes())] = style
    try:
        return _BY_CID.get(canonical(cid))
    except ValueError:
        return None
