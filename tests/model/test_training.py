"""`stylemint model train-tiny` end to end at a tiny scale: it writes a model and three styles that
load and render through the production Renderer, with hashes `model hash` agrees with."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from backend.ipfs.cid import cid_of
from backend.render import shipped
from backend.render.model_hash import model_sha256
from backend.render.renderer import Renderer
from backend.render.samples import tiny_manifest

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def test_train_tiny_writes_a_model_and_styles_that_render(tmp_path):
    output = tmp_path / "trained"
    done = subprocess.run([str(BIN / "stylemint"), "model", "train-tiny", "-o", str(output), "--scale", "0.003"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "vae: step" in done.stderr and "base: step" in done.stderr  # progress is shown
    model_dir = output / shipped.MODEL_ID
    digest = model_sha256(model_dir)
    assert f"sha256 {digest}" in done.stdout
    styles = {}
    for trigger in shipped.STYLES:
        data = (output / "styles" / shipped.style_file_name(trigger)).read_bytes()
        assert f"style {trigger}: sha256 {hashlib.sha256(data).hexdigest()}" in done.stdout
        styles[cid_of(data)] = data
    stipple = (output / "styles" / shipped.style_file_name("stipple")).read_bytes()
    model = {"id": str(model_dir), "sha256": digest}
    manifest = tiny_manifest(style=None, model=model, prompt=tiny_manifest(None).prompt + ", stipple style",
                             styles=[{"trigger": "stipple", "kind": "trigger_kv", "cid": cid_of(stipple),
                                      "sha256": hashlib.sha256(stipple).hexdigest(), "scale": 1.0}])
    result = Renderer(device="cpu", threads=2, fetch_adapter=styles.__getitem__).render(manifest, b"\x07" * 32)
    assert (result.width, result.height) == (64, 64) and result.png.startswith(b"\x89PNG")
    assert result.attribution["styles"][0]["weight_bps"] == 10_000


def test_train_tiny_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    done = subprocess.run([str(BIN / "stylemint"), "model", "train-tiny", "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "not empty" in done.stderr
    assert (tmp_path / "keep.txt").read_text() == "mine"
