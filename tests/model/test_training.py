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
    assert f"{shipped.MODEL_ID}: sha256 {digest}" in done.stdout
    styles = {}
    for trigger in shipped.STYLES:
        name = shipped.style_file_name(trigger)
        data = (output / "styles" / name).read_bytes()
        assert f"style {name}: sha256 {hashlib.sha256(data).hexdigest()}" in done.stdout
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


def test_an_interrupted_base_run_resumes_exactly_where_it_stopped(tmp_path):
    """Training survives interruption: stopped after 3 of 6 steps and resumed from its checkpoint,
    a run ends with the same weights, bit for bit, as one that never stopped (this CPU, 2 threads)."""
    import torch

    from backend.model import tiny
    from backend.model.train import Recipe, load_shipped_base, train_base

    torch.set_num_threads(2)
    recipe = Recipe(base_images=48, base_steps=6, batch=4)
    arch = tiny.TEXT_THROUGH_ATTENTION
    tok = tiny.tokenizer(arch)
    lines = []
    whole = train_base(recipe, load_shipped_base("stylemint-tiny")[0], tok, lines.append, arch=arch)
    checkpoint = tmp_path / "base-checkpoint.pt"
    assert train_base(recipe, load_shipped_base("stylemint-tiny")[0], tok, lines.append, arch=arch, checkpoint=checkpoint,
                      stop_after=3) is None and checkpoint.exists()
    resumed = train_base(recipe, load_shipped_base("stylemint-tiny")[0], tok, lines.append, arch=arch, checkpoint=checkpoint)
    assert f"base: resumed at step 3 from {checkpoint}" in lines
    for a, b in zip(whole, resumed):
        mine, theirs = a.state_dict(), b.state_dict()
        assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
    for other in (Recipe(base_images=50, base_steps=6, batch=4), Recipe(base_images=48, base_steps=2, batch=4)):
        with pytest.raises(ValueError, match="choose another folder"):  # another recipe, or fewer steps than done
            train_base(other, load_shipped_base("stylemint-tiny")[0], tok, lines.append, arch=arch, checkpoint=checkpoint)
    # More base steps extend the run from its checkpoint (how stylemint-gen's base went from 6,000 to 12,000).
    lines.clear()
    longer = train_base(Recipe(base_images=48, base_steps=8, batch=4), load_shipped_base("stylemint-tiny")[0], tok,
                        lines.append, arch=arch, checkpoint=checkpoint)
    assert lines[:2] == ["base: extending a run of 6 steps to 8", f"base: resumed at step 3 from {checkpoint}"]
    assert any(line.startswith("base: step 8/8 ") for line in lines) and longer is not None


def test_the_generative_model_trains_at_a_tiny_scale_and_renders_128_px_compositions(tmp_path):
    """Issue 32's model, end to end at a tiny scale: a factor-8 VAE, the base and the three styles
    trained on the generative compositions; the model renders 128x128 through the production
    Renderer on the same 16x16 latent grid, and its tokenizer reads every composition word whole."""
    from backend.model import compositions

    output = tmp_path / "gen"
    done = subprocess.run([str(BIN / "stylemint"), "model", "train-tiny", "-o", str(output), "--scale", "0.002",
                           "--model", "stylemint-gen"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "vae: " in done.stderr and "64x64 crops" in done.stderr and "base: step" in done.stderr
    model_dir = output / "stylemint-gen"
    digest = model_sha256(model_dir)
    assert f"stylemint-gen: sha256 {digest}" in done.stdout
    model = {"id": str(model_dir), "sha256": digest}
    caption = compositions.composition(3).caption
    manifest = tiny_manifest(style=None, model=model, prompt=caption, variables={}, width=128, height=128)
    result = Renderer(device="cpu", threads=2).render(manifest, b"\x07" * 32)
    assert (result.width, result.height) == (128, 128) and result.pixels().shape == (128, 128, 3)
    import json

    vae_config = json.loads((model_dir / "vae" / "config.json").read_text())
    assert len(vae_config["block_out_channels"]) == 4  # 128 px -> 16x16 latents
    # Stored in float16 (the git budget), rendered above in the manifest's float32.
    import torch
    from safetensors import safe_open

    assert manifest.dtype == "float32"
    for part in ("unet", "vae", "text_encoder"):
        with safe_open(next((model_dir / part).glob("*.safetensors")), "pt") as stored:
            assert {stored.get_tensor(k).dtype for k in stored.keys()} == {torch.float16}, part
    assert sorted(p.name for p in (output / "styles").glob("*.safetensors")) == sorted(
        shipped.style_file_name(t) for t in shipped.STYLES)


def test_an_interrupted_train_tiny_run_resumes_from_its_folder(tmp_path):
    """The folder of a run stopped during its base training (its VAE saved, the base checkpointed
    at step 6 of 12) is resumed by the same command, not refused: the VAE is not trained again and
    the base goes on from its checkpoint."""
    from dataclasses import replace

    from backend.model import tiny
    from backend.model.train import Recipe, run_tokenizer, train_base, train_vae

    output = tmp_path / "gen"
    recipe = replace(Recipe().scaled(0.002), threads=2)
    vae = train_vae(recipe, lambda _: None, arch=tiny.GENERATIVE)
    vae.save_pretrained(output / "vae-checkpoint")
    tok = run_tokenizer(output, tiny.GENERATIVE)
    assert train_base(recipe, vae, tok, lambda _: None, arch=tiny.GENERATIVE,
                      checkpoint=output / "base-checkpoint.pt", stop_after=6) is None
    # The run's tokenizer is kept with it: the library's BPE trainer may order tied merges otherwise
    # in another process. Swap two pieces' ids in the kept one: the resumed run must read with it.
    import json

    kept_file = output / "tokenizer-checkpoint" / "tokenizer.json"
    kept = kept_file.read_text()
    vocab = json.loads(kept)["model"]["vocab"]
    swapped = json.loads(kept)
    swapped["model"]["vocab"] |= {"ss</w>": vocab["sk</w>"], "sk</w>": vocab["ss</w>"]}
    kept_file.write_text(json.dumps(swapped))
    with pytest.raises(ValueError, match="another tokenizer"):  # the checkpoint knows which it began with
        train_base(recipe, vae, run_tokenizer(output, tiny.GENERATIVE), lambda _: None, arch=tiny.GENERATIVE,
                   checkpoint=output / "base-checkpoint.pt")
    kept_file.write_text(kept)
    done = subprocess.run([str(BIN / "stylemint"), "model", "train-tiny", "-o", str(output), "--scale", "0.002",
                           "--model", "stylemint-gen"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "vae: resumed from" in done.stderr and "base: resumed at step 6" in done.stderr
    assert "vae: step" not in done.stderr and (output / "stylemint-gen" / "model_index.json").is_file()
    assert json.loads((output / "stylemint-gen" / "tokenizer" / "tokenizer.json").read_text())["model"]["vocab"] == vocab
    assert not any((output / name).exists() for name in ("base-checkpoint.pt", "vae-checkpoint", "tokenizer-checkpoint"))


def test_train_base_runs_at_a_tiny_scale(tmp_path):
    """`stylemint model train-base` (stylemint-tiny-2's base on the shipped VAE) runs end to end and
    prints the model's hash (a stray name once made it fail before training started)."""
    done = subprocess.run([str(BIN / "stylemint"), "model", "train-base", "-o", str(tmp_path / "base"), "--scale", "0.001"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    digest = model_sha256(tmp_path / "base" / "model")
    assert f"sha256 {digest}" in done.stdout + done.stderr


def test_tuning_the_decoder_leaves_the_encoder_and_so_the_latent_space_alone():
    """`tune_decoder` (how stylemint-gen's decoder was sharpened after its base was trained) changes
    only the decoder: every encoder weight is bit for bit what it was, so the base's and the
    styles' latents keep their meaning; the decoder's weights move."""
    import torch

    from backend.model import tiny
    from backend.model.train import Recipe, load_shipped_base, tune_decoder

    torch.set_num_threads(2)
    vae = load_shipped_base("stylemint-gen")[0]
    before = {k: v.clone() for k, v in vae.state_dict().items()}
    lines = []
    tune_decoder(vae, Recipe(vae_images=8, batch=4), lines.append, steps=3, arch=tiny.GENERATIVE)
    after = vae.state_dict()
    encoder = [k for k in before if k.startswith(("encoder.", "quant_conv."))]
    decoder = [k for k in before if k.startswith(("decoder.", "post_quant_conv."))]
    assert encoder and decoder and len(encoder) + len(decoder) == len(before)
    assert all(torch.equal(before[k], after[k]) for k in encoder)
    assert sum(not torch.equal(before[k], after[k]) for k in decoder) > len(decoder) // 2
    assert lines[0].startswith("decoder: 8 images") and lines[-1].startswith("decoder: step 3/3 ")
    assert not any(p.requires_grad for p in vae.parameters()) and not vae.training


def test_through_decoder_returns_what_the_shipped_decoder_makes_of_a_picture():
    """The style judge learns every drawing also as `through_decoder` returns it: pixels of the same
    shape, near the drawing (stylemint-gen's decoder: 15 of 255 mean error measured on 200), not the
    drawing itself, and the same whatever the batch."""
    import numpy as np
    import torch

    from backend.model import compositions
    from backend.model.train import load_shipped_base, through_decoder

    torch.set_num_threads(2)
    vae = load_shipped_base("stylemint-gen")[0]
    drawn, _ = compositions.dataset(5, 6, "plain")
    decoded = through_decoder(vae, drawn)
    assert decoded.shape == drawn.shape and decoded.dtype == np.uint8
    error = np.abs(decoded.astype(int) - drawn.astype(int)).mean()
    assert 2 < error < 30, error
    in_twos = through_decoder(vae, drawn, batch=2)
    assert np.abs(in_twos.astype(int) - decoded.astype(int)).max() <= 1


def test_train_styles_trains_stylemint_gen_s_styles_on_the_compositions(tmp_path):
    """`model train-styles --model stylemint-gen`: the styles of a generative base are trained on
    compositions captioned with its own words (a scene caption holds words its tokenizer splits,
    and was refused), on float32 copies of its float16 files."""
    from dataclasses import replace

    from backend.model import tiny
    from backend.model.train import Recipe, load_shipped_base, train_styles

    lines = []
    timings = train_styles(tmp_path, replace(Recipe().scaled(0.002), style_steps=2), lines.append,
                           base=shipped.MODELS["stylemint-gen"].directory, arch=tiny.GENERATIVE)
    assert sorted(timings) == sorted(f"style_{t}_s" for t in shipped.STYLES)
    assert sorted(p.name for p in (tmp_path / "styles").glob("*.safetensors")) == sorted(
        shipped.style_file_name(t) for t in shipped.STYLES)
    assert any(line.startswith("style stipple style: step 2/2 ") for line in lines)
    # Each file is an adapter for its shipped trigger (two words, Haze's three): a key and a value
    # vector per word, trained on captions ending as the sample prompts do.
    from backend.render import trigger_adapter

    _, unet, _, tok = load_shipped_base("stylemint-gen")
    for name, style in shipped.GEN_STYLES.items():
        adapter = trigger_adapter.TriggerAdapter.parse((tmp_path / "styles" / shipped.style_file_name(name)).read_bytes(),
                                                       trigger=style.trigger, unet=unet, tokenizer=tok)
        assert len(adapter.token_ids) == len(style.trigger.split()) and style.prompt_words == style.trigger
    assert shipped.GEN_STYLES["haze"].trigger == "in haze style"
    assert any(line.startswith("style in haze style: step 2/2 ") for line in lines)


def test_train_tiny_refuses_a_device_it_cannot_use(tmp_path):
    done = subprocess.run([str(BIN / "stylemint"), "model", "train-tiny", "-o", str(tmp_path / "run"), "--model",
                           "stylemint-gen", "--device", "nonsense"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "cannot train on 'nonsense'" in done.stderr, done.stderr[-2000:]
    assert not (tmp_path / "run").exists()


def test_tune_decoder_writes_a_model_whose_encoder_unet_and_text_encoder_are_the_base_s(tmp_path):
    """`stylemint model tune-decoder` (how the shipped stylemint-gen decoder was made): a new model
    folder with only the decoder changed, hashed, and refusing to overwrite a folder."""
    import torch
    from safetensors.torch import load_file

    base = shipped.MODELS["stylemint-gen"].directory
    output = tmp_path / "tuned"
    command = [str(BIN / "stylemint"), "model", "tune-decoder", "-o", str(output), "--base", str(base),
               "--images", "8", "--steps", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"tuned: sha256 {model_sha256(output)}" in done.stdout and "decoder: step 2/2" in done.stderr
    for part in ("unet", "text_encoder"):
        for path in (base / part).glob("*.safetensors"):
            assert (output / part / path.name).read_bytes() == path.read_bytes()
    before = load_file(next((base / "vae").glob("*.safetensors")))
    after = load_file(next((output / "vae").glob("*.safetensors")))
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith(("encoder.", "quant_conv.")))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("decoder."))
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "exists" in again.stderr
