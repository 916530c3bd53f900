"""The end-to-end test vectors an auditor reimplements against (docs/test-vectors.json and the
PNGs beside it): manifest + seed -> PNG, byte for byte in the committed environment."""

import json

import pytest

from backend.config import PROJECT_ROOT
from backend.render.environment import class_differences
from backend.render.manifest import canonical_json, parse_manifest
from backend.render.compare import compare_pixels, within_tolerance
from backend.render.renderer import Renderer
from backend.verify.verifier import ATTRIBUTION_TOLERANCE_BPS, _pixels

DOCS = PROJECT_ROOT / "docs"
VECTORS = json.loads((DOCS / "test-vectors.json").read_text())["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_a_vector_renders_as_written(vector, models_dir):
    manifest = parse_manifest(canonical_json(vector["manifest"]))
    assert manifest.sha256_hex() == vector["manifest_sha256"]
    committed = manifest.environment
    renderer = Renderer(device="cpu", threads=committed.threads, batch_size=committed.batch_size, models_dir=models_dir)
    result = renderer.render(manifest, bytes.fromhex(vector["seed"][2:]))
    expected_png = (DOCS / vector["png"]).read_bytes()
    assert result.prompt == vector["prompt"]
    if not class_differences(committed.model_dump(), result.fingerprint):
        assert result.png == expected_png
        assert (result.png_sha256, result.pixel_sha256) == (vector["png_sha256"], vector["pixel_sha256"])
        assert result.attribution == vector["attribution"]  # scores, weights and heat-map CIDs
    else:  # another CPU or library versions than the vector's committed class: the documented tolerance
        assert within_tolerance(compare_pixels(_pixels(expected_png), result.pixels()))
        if vector["attribution"]:
            assert all(abs(mine["weight_bps"] - theirs["weight_bps"]) <= ATTRIBUTION_TOLERANCE_BPS
                       for mine, theirs in zip(result.attribution["styles"], vector["attribution"]["styles"]))
