"""`stylemint render`, `model` and `manifest` as a user types them: output, files and exit codes."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.render import shipped
from backend.render.reference_model import REFERENCE_MODEL_SHA256
from backend.render.samples import sample_manifest

BIN = Path(sys.executable).parent

pytestmark = pytest.mark.process  # the CLI in a fresh Python process, as a user runs it


def stylemint(*args, data_dir, cwd=None):
    return subprocess.run(
        [str(BIN / "stylemint"), *args], capture_output=True, text=True, timeout=300, cwd=cwd,
        env={**os.environ, "STYLEMINT_DATA_DIR": str(data_dir)},
    )


@pytest.fixture
def manifest_file(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_bytes(sample_manifest().canonical_bytes())
    return path


def test_render_writes_the_png_and_reports_hashes(tmp_path, manifest_file, models_dir):
    out = tmp_path / "token.png"
    done = stylemint("render", "--manifest", str(manifest_file), "--seed", "0x" + "5a" * 32, "-o", str(out),
                     data_dir=models_dir.parent)
    assert done.returncode == 0, done.stderr
    assert f"png sha256    {hashlib.sha256(out.read_bytes()).hexdigest()}" in done.stdout
    assert "threads=2" in done.stdout and "batch_size=1" in done.stdout
    assert "rendering" in done.stderr  # the progress bar


@pytest.mark.parametrize(
    "seed, message",
    [("0x12", "--seed must be 32 bytes"), ("0x" + "zz" * 32, "--seed is not hex")],
)
def test_render_rejects_a_bad_seed(tmp_path, manifest_file, seed, message):
    out = tmp_path / "token.png"
    done = stylemint("render", "--manifest", str(manifest_file), "--seed", seed, "-o", str(out), data_dir=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert not out.exists()


def test_render_rejects_a_bad_manifest(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "steps": 0}))
    done = stylemint("render", "--manifest", str(bad), "--seed", "0x" + "11" * 32, "-o", str(tmp_path / "o.png"),
                     data_dir=tmp_path)
    assert done.returncode == 2
    assert "invalid manifest" in done.stderr and "steps" in done.stderr


def test_render_refuses_a_model_hash_mismatch(tmp_path, models_dir):
    wrong = tmp_path / "wrong.json"
    wrong.write_bytes(sample_manifest(model={"id": "reference", "sha256": "0" * 64}).canonical_bytes())
    done = stylemint("render", "--manifest", str(wrong), "--seed", "0x" + "11" * 32, "-o", str(tmp_path / "o.png"),
                     data_dir=models_dir.parent)
    assert done.returncode == 2
    assert "refusing to render" in done.stderr


def test_build_reference_prints_the_pinned_hash(tmp_path):
    done = stylemint("model", "build-reference", str(tmp_path / "ref"), data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == REFERENCE_MODEL_SHA256
    hashed = stylemint("model", "hash", str(tmp_path / "ref"), data_dir=tmp_path)
    assert hashed.stdout.strip() == REFERENCE_MODEL_SHA256


def test_manifest_sample_and_check(tmp_path):
    sample = stylemint("manifest", "sample", data_dir=tmp_path)
    path = tmp_path / "sample.json"
    path.write_text(sample.stdout)
    checked = stylemint("manifest", "check", str(path), data_dir=tmp_path)
    assert checked.returncode == 0
    assert f"canonical sha256 0x{hashlib.sha256(path.read_bytes()).hexdigest()}" in checked.stdout
    assert "not in canonical form" not in checked.stdout
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(sample.stdout), indent=2))
    canonical = tmp_path / "canonical.json"
    checked = stylemint("manifest", "check", str(pretty), "--write-canonical", str(canonical), data_dir=tmp_path)
    assert "not in canonical form" in checked.stdout
    assert canonical.read_bytes() == path.read_bytes()


def test_the_default_sample_renders_the_shipped_model_and_style_offline(tmp_path):
    """`manifest sample` then `render`, as the README shows: stylemint-gen's compositions + Stipple, no
    IPFS needed (the shipped style's bytes are on disk and checked against the manifest's sha256)."""
    sample = stylemint("manifest", "sample", data_dir=tmp_path)
    manifest = json.loads(sample.stdout)
    assert manifest["model"] == {"id": "stylemint-gen", "sha256": shipped.GEN_MODEL.sha256}
    assert manifest["prompt"].endswith(", stipple style") and sorted(manifest["variables"]) == ["density", "layout", "motif", "palette"]
    path = tmp_path / "m.json"
    path.write_text(sample.stdout)
    out = tmp_path / "t.png"
    done = stylemint("render", "--manifest", str(path), "--seed", "0x" + "5b" * 32, "-o", str(out), "--json",
                     data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    from PIL import Image

    assert Image.open(out).size == (128, 128)
    plain = json.loads(stylemint("manifest", "sample", "--style", "none", data_dir=tmp_path).stdout)
    assert "style_weights" not in plain or plain["style_weights"] is None
    reference = json.loads(stylemint("manifest", "sample", "--model", "reference", data_dir=tmp_path).stdout)
    assert reference["model"]["id"] == "reference"
    first = json.loads(stylemint("manifest", "sample", "--model", "stylemint-tiny", data_dir=tmp_path).stdout)
    assert first["model"]["sha256"] == shipped.FIRST_MODEL.sha256  # its tokens' manifests stay reproducible
    assert first["styles"][0]["sha256"] == shipped.FIRST_MODEL_STYLES["stipple"].sha256
