"""An artist's own style from a folder of their images, as a trigger-scoped adapter on a shipped model (default: stylemint-tiny-2, which new projects use).

`stylemint style train IMAGES_DIR --trigger WORD -o STYLE.safetensors`. The images may have any
size: each is centre-cropped to a square and resized (Lanczos) to the model's 64x64. Captions are
optional and make a better style: `metadata.jsonl` (Hugging Face's imagefolder layout, lines of
{"file_name": ..., "text": ...}) or a `<name>.txt` beside each image. A caption without the
trigger gets ", <trigger> style" appended; an image without a caption is captioned with the
trigger alone. Only the adapter's key and value vectors train (backend/model/train.py), so a
prompt without the trigger renders exactly as the base model does, whatever the images.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


MIN_IMAGES = 20
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")
DEFAULT_STEPS = 600
TRIGGER = r"^[a-z][a-z0-9]*( [a-z][a-z0-9]*)*$"  # as a registered style's trigger (backend/render/manifest.py)


class StyleDataError(ValueError):
    """The folder, an image, a caption file or the trigger cannot make a style."""


@dataclass(frozen=True)
class TrainedStyle:
    path: Path
    sha256: str
    cid: str
    images: int
    captioned: int
    seconds: float


def _captions(directory: Path) -> dict[str, str]:
    """File name -> caption, from metadata.jsonl and then `<stem>.txt` files (the latter win)."""
    captions: dict[str, str] = {}
    metadata = directory / "metadata.jsonl"
    if metadata.exists():
        for number, line in enumerate(metadata.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                captions[str(entry["file_name"])] = str(entry["text"]).strip()
            except (ValueError, KeyError, TypeError):
                raise StyleDataError(f"{metadata}:{number}: each line must be JSON with file_name and text") from None
    for text in directory.glob("*.txt"):
        for extension in EXTENSIONS:
            if (directory / (text.stem + extension)).exists():
                captions[text.stem + extension] = text.read_text(encoding="utf-8").strip()
    return captions


def load_images(directory: Path, size: int) -> tuple[np.ndarray, list[str | None]]:
    """The folder's images as (N, size, size, 3) uint8, centre-cropped and resized, and each one's caption (or None)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    directory = Path(directory)
    if not directory.is_dir():
        raise StyleDataError(f"{directory} is not a folder of images")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in EXTENSIONS)
    if len(files) < MIN_IMAGES:
        raise StyleDataError(f"{directory} holds {len(files)} images ({', '.join(EXTENSIONS)}); a style needs at least {MIN_IMAGES}")
    captions = _captions(directory)
    images = []
    for path in files:
        try:
            with Image.open(path) as image:
                square = ImageOps.fit(image.convert("RGB"), (size, size), method=Image.Resampling.LANCZOS)
        except (UnidentifiedImageError, OSError) as err:
            raise StyleDataError(f"{path} cannot be read as an image: {err}") from None
        images.append(np.asarray(square, dtype=np.uint8))
    return np.stack(images), [captions.get(p.name) or None for p in files]


def with_trigger(captions: list[str | None], trigger: str) -> list[str]:
    """Every caption holding the trigger as whole words (appended as "<trigger> style" where missing)."""
    import re

    pattern = re.compile(rf"(?<![a-z0-9]){re.escape(trigger)}(?![a-z0-9])")
    return [f"{trigger} style" if not c else c if pattern.search(c.lower()) else f"{c}, {trigger} style"
            for c in captions]


def train_own_style(directory: Path, trigger: str, output: Path, *, steps: int = DEFAULT_STEPS, threads: int = 2,
                    seed: int = 1, report=print, model_id: str | None = None) -> TrainedStyle:
    """Train on the shipped model `model_id` (default: the default one, which new projects use),
    write `output` and return its sha256 and CID (what the artist registers). The folder and
    trigger are checked before the model libraries load, so a refusal comes at once."""
    import re

    from backend.model import procedural

    if not re.fullmatch(TRIGGER, trigger):
        raise StyleDataError(f"trigger {trigger!r}: lowercase words of letters and digits, e.g. 'crosshatch'")
    started = time.perf_counter()
    images, captions = load_images(directory, procedural.SIZE)

    import torch

    from backend.ipfs.cid import cid_of
    from backend.model import tiny, train
    from backend.render import shipped, trigger_adapter
    from backend.render.renderer import quiet_libraries

    quiet_libraries()
    torch.set_num_threads(threads)
    report(f"{len(images)} images from {directory} ({sum(c is not None for c in captions)} captioned)")
    vae, unet, text, tok = train.load_shipped_base(model_id)
    vectors = train.train_trigger_style(vae, unet, text, tok, images, with_trigger(captions, trigger), trigger,
                                        steps=steps, batch=32, seed=seed, report=report,
                                        scheduler=tiny.train_scheduler_of(shipped.MODELS[model_id or shipped.MODEL_ID].directory))
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    trigger_adapter.save(output, vectors)
    data = output.read_bytes()
    return TrainedStyle(output, hashlib.sha256(data).hexdigest(), cid_of(data), len(images),
                        sum(c is not None for c in captions), time.perf_counter() - started)
