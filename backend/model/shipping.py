"""What a training run produced, in the form backend/render/shipped.py pins it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from backend.render import shipped
from backend.render.model_hash import model_sha256


def describe(output: Path) -> str:
    """Hashes and sizes of a trained folder; to ship it, copy it over backend/render/weights/ and pin these."""
    output = Path(output)
    model = output / shipped.MODEL_ID
    size = sum(p.stat().st_size for p in model.rglob("*") if p.is_file())
    lines = [f"{shipped.MODEL_ID}: sha256 {model_sha256(model)} ({size / 1e6:.2f} MB)"]
    for trigger in shipped.STYLES:
        path = output / "styles" / shipped.style_file_name(trigger)
        data = path.read_bytes()
        lines.append(f"style {trigger}: sha256 {hashlib.sha256(data).hexdigest()} ({len(data) / 1e6:.2f} MB)")
    return "\n".join(lines)
