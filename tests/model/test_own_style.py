"""`stylemint style train`: an artist's folder of images (any sizes, captions optional) becomes a
trigger-scoped adapter for the shipped model; bad folders are refused with a clear message."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from backend.model import procedural
from backend.model.own_style import MIN_IMAGES, StyleDataError, load_images, with_trigger

BIN = Path(sys.executable).parent


def artist_folder(directory: Path, count: int = MIN_IMAGES, *, captions: str = "txt") -> Path:
    """`count` cross-hatched drawings at odd sizes (as an artist's files would be), captioned."""
    directory.mkdir(parents=True, exist_ok=True)
    images, scenes = procedural.dataset(4242, count, "crosshatch", single_only=True)
    metadata = []
    for index, (image, scene) in enumerate(zip(images, scenes)):
        size = (96, 72) if index % 2 else (50, 80)
        Image.fromarray(image).resize(size).save(directory / f"drawing-{index:02d}.png")
        if captions == "txt":
            (directory / f"drawing-{index:02d}.txt").write_text(scene.caption)
        elif captions == "jsonl":
            metadata.append(json.dumps({"file_name": f"drawing-{index:02d}.png", "text": scene.caption}))
    if metadata:
        (directory / "metadata.jsonl").write_text("\n".join(metadata) + "\n")
    return directory


@pytest.mark.parametrize("captions", ["txt", "jsonl", "none"])
def test_a_folder_is_cropped_resized_and_captioned(tmp_path, captions):
    images, found = load_images(artist_folder(tmp_path / "art", captions=captions), 64)
    assert images.shape == (MIN_IMAGES, 64, 64, 3) and images.dtype == np.uint8
    if captions == "none":
        assert found == [None] * MIN_IMAGES
        assert with_trigger(found, "hatch") == ["hatch style"] * MIN_IMAGES
    else:
        assert all(c and c.startswith("one ") for c in found)
        assert all(c.endswith(", hatch style") for c in with_trigger(found, "hatch"))
    assert with_trigger(["hatching in hatch style"], "hatch") == ["hatching in hatch style"]
    assert with_trigger(["hatching"], "hatch") == ["hatching, hatch style"]  # not inside another word


def test_too_few_unreadable_or_miscaptioned_folders_are_refused(tmp_path):
    with pytest.raises(StyleDataError, match="holds 19 images.*at least 20"):
        load_images(artist_folder(tmp_path / "few", MIN_IMAGES - 1), 64)
    broken = artist_folder(tmp_path / "broken")
    (broken / "drawing-03.png").write_bytes(b"not a png")
    with pytest.raises(StyleDataError, match="drawing-03.png cannot be read"):
        load_images(broken, 64)
    bad_metadata = artist_folder(tmp_path / "meta", captions="none")
    (bad_metadata / "metadata.jsonl").write_text('{"file_name": "drawing-00.png"}\n')
    with pytest.raises(StyleDataError, match="metadata.jsonl:1"):
        load_images(bad_metadata, 64)


def test_the_command_writes_an_adapter_that_scopes_to_its_trigger(tmp_path):
    import safetensors.torch

    from backend.ipfs.cid import cid_of
    from backend.render import trigger_adapter
    from backend.render.renderer import Renderer
    from backend.render.samples import tiny_manifest

    folder, output = artist_folder(tmp_path / "art"), tmp_path / "hatch.safetensors"
    done = subprocess.run([str(BIN / "stylemint"), "style", "train", str(folder), "--trigger", "hatch", "-o", str(output),
                           "--steps", "8"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    data = output.read_bytes()
    import hashlib

    assert f"sha256  {hashlib.sha256(data).hexdigest()}" in done.stdout and f"cid     {cid_of(data)}" in done.stdout
    assert "style hatch: step 8/8" in done.stderr  # progress shown
    pipe = Renderer(device="cpu", threads=2).pipeline(tiny_manifest(None))
    adapter = trigger_adapter.TriggerAdapter.parse(data, trigger="hatch", unet=pipe.unet, tokenizer=pipe.tokenizer)
    assert len(adapter.token_ids) == 5  # "hatch" is no word of the model's: one token per letter
    assert trigger_adapter.kind_of(data) == "trigger_kv" and any(v.abs().sum() > 0 for v in safetensors.torch.load(data).values())

    again = subprocess.run([str(BIN / "stylemint"), "style", "train", str(folder), "--trigger", "hatch", "-o", str(output)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "exists" in again.stderr
    few = subprocess.run([str(BIN / "stylemint"), "style", "train", str(artist_folder(tmp_path / "few", 3)), "--trigger",
                          "hatch", "-o", str(tmp_path / "x.safetensors")], capture_output=True, text=True, timeout=120)
    assert few.returncode == 2 and "at least 20" in few.stderr and not (tmp_path / "x.safetensors").exists()
    upper = subprocess.run([str(BIN / "stylemint"), "style", "train", str(folder), "--trigger", "Hatch!", "-o",
                            str(tmp_path / "y.safetensors")], capture_output=True, text=True, timeout=120)
    assert upper.returncode == 2 and "lowercase words" in upper.stderr
