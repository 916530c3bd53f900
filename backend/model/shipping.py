"""What a training run produced, in the form backend/render/shipped.py pins it."""

from __future__ import annotations

import hashlib
from pathlib import Path

from backend.render.model_hash import model_sha256


def describe(output: Path) -> str:
    """Hashes and sizes of each model folder and style file a run wrote into `output`; to ship
    them, copy them under backend/render/weights/ and pin these hashes in shipped.py."""
    output = Path(output)
    lines = []
    for index in sorted(output.glob("*/model_index.json")):
        model = index.parent
        size = sum(p.stat().st_size for p in model.rglob("*") if p.is_file())
        lines.append(f"{model.name}: sha256 {model_sha256(model)} ({size / 1e6:.2f} MB)")
    for path in sorted((output / "styles").glob("*.safetensors")):
        data = path.read_bytes()
        lines.append(f"style {path.name}: sha256 {hashlib.sha256(data).hexdigest()} ({len(data) / 1e6:.2f} MB)")
    return "\n".join(lines)
