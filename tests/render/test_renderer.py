"""The render itself: byte-reproducible, seed-sensitive, batch-independent, and refusing wrong models."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from backend.render.manifest import StyleWeights
from backend.render.renderer import ModelHashMismatch, RenderError, Renderer, prompt_for
from backend.render.samples import sample_manifest
from backend.render.seed import derive_seed_v1
from tests.render.conftest import lora_bytes, png_chunk_types, safetensors_bytes

SEEDS = [derive_seed_v1("0x" + f"{i:02x}" * 32, "0x" + "aa" * 32) for i in range(1, 6)]  # any 32 bytes
BIN = Path(sys.executable).parent


def test_same_seed_twice_gives_identical_bytes(renderer):
    first = renderer.render(sample_manifest(), SEEDS[0])
    second = renderer.render(sample_manifest(), SEEDS[0])
    assert first.png == second.png
    assert first.png_sha256 == hashlib.sha256(first.png).hexdigest()
    assert first.pixel_sha256 == hashlib.sha256(first.pixels().tobytes()).hexdigest()


@pytest.mark.process
def test_same_seed_in_another_process_gives_identical_bytes(renderer, models_dir, tmp_path):
    expected = renderer.render(sample_manifest(), SEEDS[1])
    manifest_path = tmp_path / "m.json"
    manifest_path.write_bytes(sample_manifest().canonical_bytes())
    out = tmp_path / "out.png"
    done = subprocess.run(
        [str(BIN / "stylemint"), "render", "--manifest", str(manifest_path), "--seed", "0x" + SEEDS[1].hex(),
         "-o", str(out), "--device", "cpu", "--threads", "2", "--json"],
        capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ, "STYLEMINT_DATA_DIR": str(models_dir.parent)},
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == expected.png
    report = json.loads(done.stdout)
    assert report["png_sha256"] == expected.png_sha256 and report["fingerprint"] == expected.fingerprint


def test_different_seeds_give_different_images(renderer):
    results = renderer.render_batch(sample_manifest(), SEEDS)
    assert len({r.pixel_sha256 for r in results}) == len(SEEDS)
    a, b = results[0].pixels().astype(int), results[1].pixels().astype(int)
    assert np.mean(a != b) > 0.5  # not a one-pixel difference: another image


def test_batch_render_equals_single_renders(renderer):
    singles = [renderer.render(sample_manifest(), s).png for s in SEEDS]
    assert [r.png for r in renderer.render_batch(sample_manifest(), SEEDS)] == singles


@pytest.mark.parametrize("batch_size", [3, 4])
def test_bytes_do_not_depend_on_batch_companions_or_position(models_dir, batch_size):
    """Whatever batch shape the renderer settles on, a row equals the same seed rendered alone."""
    renderer = Renderer(device="cpu", threads=2, batch_size=batch_size, models_dir=models_dir)
    manifest = sample_manifest()
    together = renderer.render_batch(manifest, SEEDS[:3])
    shuffled = renderer.render_batch(manifest, [SEEDS[2], SEEDS[0], SEEDS[1]])
    mixed = renderer.render_batch(manifest, [SEEDS[4], SEEDS[1], SEEDS[3]])
    alone = {s: renderer.render(manifest, s).png for s in SEEDS[:5]}  # each padded with dummies
    assert [r.png for r in together] == [alone[s] for s in SEEDS[:3]]
    assert [r.png for r in shuffled] == [alone[SEEDS[2]], alone[SEEDS[0]], alone[SEEDS[1]]]
    assert [r.png for r in mixed] == [alone[SEEDS[4]], alone[SEEDS[1]], alone[SEEDS[3]]]
    assert together[0].fingerprint["batch_size"] == renderer.batch_size in (1, batch_size)


def test_position_dependent_backend_falls_back_to_one_at_a_time(models_dir, monkeypatch, caplog):
    """Fault injection: a backend whose output leaks the row position must not be used batched."""
    renderer = Renderer(device="cpu", threads=2, batch_size=4, models_dir=models_dir)
    real_pipe = renderer.pipeline(sample_manifest())
    real_call = type(real_pipe).__call__

    def leaky(self, *args, **kwargs):
        output = real_call(self, *args, **kwargs)
        for row in range(1, len(output.images)):
            output.images[row] = np.clip(output.images[row] + 0.01 * row, 0, 1)
        return output

    monkeypatch.setattr(type(real_pipe), "__call__", leaky)
    results = renderer.render_batch(sample_manifest(), SEEDS[:4])
    assert renderer.batch_size == 1
    assert "not row-independent" in caplog.text
    assert all(r.fingerprint["batch_size"] == 1 for r in results)
    assert [r.png for r in results] == [renderer.render(sample_manifest(), s).png for s in SEEDS[:4]]


def test_prompt_variables_are_drawn_from_the_seed(renderer):
    manifest = sample_manifest()
    result = renderer.render(manifest, SEEDS[0])
    prompt, traits = prompt_for(manifest, SEEDS[0])
    assert result.prompt == prompt and result.traits == traits
    assert set(traits) == {"hour", "palette"}
    assert traits["hour"] in manifest.variables["hour"]
    assert prompt == manifest.prompt.format(**traits)


def test_fingerprint_fields(renderer):
    fingerprint = renderer.render(sample_manifest(), SEEDS[0]).fingerprint
    assert fingerprint["torch"] == torch.__version__
    assert fingerprint["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert fingerprint["threads"] == 2 == torch.get_num_threads()
    assert (fingerprint["device"], fingerprint["dtype"], fingerprint["batch_size"], fingerprint["cuda"]) == (
        "cpu", "float32", 1, None)
    for key in ("diffusers", "transformers", "numpy", "pillow", "python", "device_name"):
        assert fingerprint[key] and fingerprint[key] != "absent"


def test_png_is_canonical(renderer):
    result = renderer.render(sample_manifest(), SEEDS[0])
    assert png_chunk_types(result.png) in ([b"IHDR", b"IDAT", b"IEND"], [b"IHDR", b"IDAT", b"IDAT", b"IEND"])
    assert result.pixels().shape == (64, 64, 3)


def test_wrong_model_hash_is_refused(renderer):
    manifest = sample_manifest(model={"id": "reference", "sha256": "1" * 64})
    with pytest.raises(ModelHashMismatch, match="refusing to render"):
        renderer.render(manifest, SEEDS[0])


def test_modified_weights_are_refused(renderer, models_dir, tmp_path):
    import shutil

    tampered = tmp_path / "tampered"
    shutil.copytree(models_dir / "reference", tampered)
    weights = tampered / "unet" / "diffusion_pytorch_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-4] ^= 0x40
    weights.write_bytes(bytes(data))
    manifest = sample_manifest(model={"id": str(tampered), "sha256": sample_manifest().model.sha256})
    with pytest.raises(ModelHashMismatch):
        renderer.render(manifest, SEEDS[0])


def test_unknown_model_and_unsupported_dtype(renderer):
    with pytest.raises(RenderError, match="neither a shipped model \\(stylemint-tiny, stylemint-tiny-2, stylemint-gen\\), 'reference', a local directory"):
        renderer.render(sample_manifest(model={"id": "someone/unknown-model", "sha256": "2" * 64}), SEEDS[0])
    with pytest.raises(RenderError, match="needs a CUDA device"):
        renderer.render(sample_manifest(dtype="float16"), SEEDS[0])
    with pytest.raises(RenderError, match="CUDA is not available"):
        Renderer(device="cuda")


def test_textual_inversion_weights_fetched_by_cid_and_checked(models_dir):
    embedding = safetensors_bytes({"emb_params": torch.randn(1, 32, generator=torch.Generator().manual_seed(3))})
    store = {"bafyembedding": embedding}
    renderer = Renderer(device="cpu", threads=2, models_dir=models_dir, fetch_adapter=store.__getitem__)
    weights = StyleWeights(kind="textual_inversion", cid="bafyembedding",
                           sha256=hashlib.sha256(embedding).hexdigest(), token="<tide>")
    styled = sample_manifest(prompt="a study in <tide> at {hour}, {palette}", style_weights=weights)
    plain = sample_manifest(prompt="a study in <tide> at {hour}, {palette}")
    with_weights = renderer.render(styled, SEEDS[0])
    assert with_weights.png == renderer.render(styled, SEEDS[0]).png
    assert with_weights.png != Renderer(device="cpu", threads=2, models_dir=models_dir).render(plain, SEEDS[0]).png
    bad = styled.model_copy(update={"style_weights": weights.model_copy(update={"sha256": "3" * 64})})
    with pytest.raises(ModelHashMismatch, match="style adapter .* hashes to"):
        renderer.render(bad, SEEDS[0])


def test_lora_weights_change_the_render(renderer, models_dir):
    lora = lora_bytes(models_dir / "reference")
    store = {"bafylora": lora}
    styled = sample_manifest(style_weights={"kind": "lora", "cid": "bafylora",
                                            "sha256": hashlib.sha256(lora).hexdigest(), "scale": 1.0})
    lora_renderer = Renderer(device="cpu", threads=2, models_dir=models_dir, fetch_adapter=store.__getitem__)
    first = lora_renderer.render(styled, SEEDS[0])
    assert first.png == lora_renderer.render(styled, SEEDS[0]).png
    assert first.png != renderer.render(sample_manifest(), SEEDS[0]).png
    with pytest.raises(RenderError, match="no way to fetch"):
        Renderer(device="cpu", threads=2, models_dir=models_dir).render(styled, SEEDS[0])


def test_progress_reports_every_step(renderer):
    steps = []
    renderer.render(sample_manifest(), SEEDS[0], progress=lambda step, total: steps.append((step, total)))
    assert steps == [(i, 8) for i in range(1, 9)]


def test_a_committed_batch_pads_with_fillers_from_its_first_seed_and_records_itself(renderer):
    """RENDER_SPEC §5a: rows are the tokens in order, then sha256("stylemint filler" ‖ first ‖ row)."""
    import hashlib

    from backend.render import environment
    from backend.render.renderer import committed_size
    from backend.render.samples import sample_manifest
    from backend.render.seed import committed_batch, filler_seed

    first, second = (hashlib.sha256(b"committed %d" % i).digest() for i in range(2))
    assert filler_seed(first, 2) == hashlib.sha256(b"stylemint filler" + first + b"\x02").digest()
    assert committed_batch([first, second], 4) == [first, second, filler_seed(first, 2), filler_seed(first, 3)]
    with pytest.raises(ValueError, match="1..3 tokens"):
        committed_batch([first] * 4, 3)
    manifest = sample_manifest(environment=environment.this_machine_class(batch_size=3))
    assert committed_size(manifest) == 3 and committed_size(sample_manifest(environment=None)) == 1
    results = renderer.render_committed(manifest, [first, second])
    assert [r.batch for r in results] == [{"size": 3, "row": row, "seeds": ["0x" + first.hex(), "0x" + second.hex()]}
                                          for row in range(2)]
    assert all(r.fingerprint["batch_size"] == 3 for r in results)
    assert [r.png for r in renderer.render_committed(manifest, [first, second])] == [r.png for r in results]


def test_a_variable_chosen_by_another_is_drawn_from_its_entry_and_leaves_the_prompt_where_it_has_none():
    """RENDER_SPEC §4, computed here from its formula: `light` exists only at dawn and dusk."""
    light = {"by": "hour", "options": {"dawn": ["low sun"], "dusk": ["long shadows", "afterglow", "blue hour"]}}
    manifest = sample_manifest(variables={**sample_manifest().variables, "light": light},
                               prompt="tidal glass at {hour}, {light}, {palette}")
    seen = set()
    for index in range(64):
        seed = hashlib.sha256(bytes([index])).digest()
        prompt, traits = prompt_for(manifest, seed)
        pick = lambda name, options: options[int.from_bytes(hashlib.sha256(seed + name.encode()).digest(), "big") % len(options)]
        hour, palette = pick("hour", manifest.variables["hour"]), pick("palette", manifest.variables["palette"])
        if hour in light["options"]:
            chosen = pick("light", light["options"][hour])
            assert traits == {"hour": hour, "light": chosen, "palette": palette}
            assert prompt == f"tidal glass at {hour}, {chosen}, {palette}"
        else:
            assert traits == {"hour": hour, "palette": palette}
            assert prompt == f"tidal glass at {hour}, {palette}"
        assert list(traits) == sorted(traits)
        seen.add((hour, traits.get("light")))
    assert {("dusk", "long shadows"), ("dusk", "afterglow"), ("dusk", "blue hour"), ("dawn", "low sun"), ("noon", None)} <= seen
