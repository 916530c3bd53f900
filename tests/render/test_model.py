"""The reference model and the model hash: reproducible builds, and any change detected."""

import json
import shutil

import pytest

from backend.render.model_hash import model_sha256
from backend.render.reference_model import (
    REFERENCE_MODEL_SHA256,
    ReferenceModelMismatch,
    build_reference_model,
    write_reference_model,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    directory = tmp_path_factory.mktemp("ref") / "model"
    return directory, build_reference_model(directory)


def test_two_builds_hash_equal_and_match_the_pinned_hash(built, tmp_path):
    directory, digest = built
    again = write_reference_model(tmp_path / "again")
    assert digest == again == REFERENCE_MODEL_SHA256
    assert model_sha256(directory) == digest


def test_loads_with_from_pretrained(built):
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(built[0], safety_checker=None, feature_extractor=None,
                                                   requires_safety_checker=False, local_files_only=True)
    assert pipe.vae_scale_factor == 8
    assert pipe.tokenizer("a tidal glass").input_ids[0] == 0  # the byte-level vocabulary works


def test_version_stamps_do_not_change_the_hash(built, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built[0], copy)
    config = copy / "unet" / "config.json"
    document = json.loads(config.read_text())
    document["_diffusers_version"] = "9.9.9"
    config.write_text(json.dumps(document, indent=4))
    assert model_sha256(copy) == built[1]


@pytest.mark.parametrize("change", ["weights", "config", "tokenizer", "new_file", "removed_file"])
def test_any_real_change_changes_the_hash(built, tmp_path, change):
    copy = tmp_path / "copy"
    shutil.copytree(built[0], copy)
    if change == "weights":
        weights = copy / "unet" / "diffusion_pytorch_model.safetensors"
        data = bytearray(weights.read_bytes())
        data[-1] ^= 1
        weights.write_bytes(bytes(data))
    elif change == "config":
        config = copy / "scheduler" / "scheduler_config.json"
        document = json.loads(config.read_text())
        document["beta_end"] = 0.02
        config.write_text(json.dumps(document))
    elif change == "tokenizer":
        (copy / "tokenizer" / "tokenizer_config.json").write_text('{"model_max_length": 12}')
    elif change == "new_file":
        (copy / "unet" / "extra.bin").write_bytes(b"\0")
    else:
        (copy / "vae" / "config.json").unlink()
    assert model_sha256(copy) != built[1]


def test_a_build_that_differs_from_the_pin_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr("backend.render.reference_model.REFERENCE_MODEL_SHA256", "0" * 64)
    with pytest.raises(ReferenceModelMismatch, match="install the pinned versions"):
        build_reference_model(tmp_path / "model")
    assert not (tmp_path / "model").exists()  # nothing half-built left behind


def test_hash_of_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        model_sha256(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError):
        model_sha256(tmp_path / "empty")
