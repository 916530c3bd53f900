"""The sample style project that the demo, the tests and the benchmarks render with."""

from __future__ import annotations

from backend.render.manifest import StyleManifest
from backend.render.reference_model import REFERENCE_MODEL_SHA256, REFERENCE_SIZE


def sample_manifest(**overrides) -> StyleManifest:
    """'Tidal Glass' on the offline reference model; keyword arguments replace fields."""
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
    }
    document.update(overrides)
    return StyleManifest.model_validate(document)
