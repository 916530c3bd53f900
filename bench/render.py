"""Render speed; prints `key: value` lines.

    .venv/bin/python bench/render.py [--images 8] [--skip-gpu]

CPU: the offline reference model at its default size (64x64, 8 steps, guidance 2.5) at batch 1
and batch 4 (the batch-independence probe runs first and may fall back to 1; the effective
batch is printed). GPU, where CUDA is present: a full-size SD-1.5-architecture pipeline with
random weights (same compute as the real model) at 512x512, fp16, 20 steps, batch 1/4/8, through
the same Renderer code path (determinism settings, model hash, canonical PNG).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.render.model_hash import model_sha256  # noqa: E402
from backend.render.renderer import Renderer  # noqa: E402
from backend.render.samples import sample_manifest  # noqa: E402


def seeds(n: int, salt: bytes = b"") -> list[bytes]:
    return [hashlib.sha256(salt + b"bench seed %d" % i).digest() for i in range(n)]


def measure(renderer: Renderer, manifest, count: int) -> tuple[float, int]:
    renderer.render_batch(manifest, seeds(renderer.batch_size, b"warm"))  # load, probe, warm up
    started = time.perf_counter()
    renderer.render_batch(manifest, seeds(count))
    return (time.perf_counter() - started) / count, renderer.batch_size


def cpu(images: int, figures: dict) -> None:
    manifest = sample_manifest()
    for batch in (1, 4):
        per_image, effective = measure(Renderer(device="cpu", batch_size=batch), manifest, images)
        figures[f"cpu_reference_b{batch}_seconds_per_image"] = round(per_image, 4)
        figures[f"cpu_reference_b{batch}_images_per_second"] = round(1 / per_image, 2)
        figures[f"cpu_reference_b{batch}_effective_batch"] = effective


def build_sd15_random(directory: Path) -> None:
    """SD-1.5-architecture pipeline with random weights (diffusers' default UNet config is SD 1.5's)."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    from backend.render.reference_model import _components

    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768)
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512), latent_channels=4, layers_per_block=2,
        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4, sample_size=512,
    )
    text_encoder = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                                num_attention_heads=12, vocab_size=600, max_position_embeddings=77))
    tokenizer = _components()["tokenizer"]
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="trailing", steps_offset=1)
    StableDiffusionPipeline(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler,
                            safety_checker=None, feature_extractor=None, requires_safety_checker=False,
                            ).to(torch.float16).save_pretrained(directory, safe_serialization=True)


def gpu(images: int, figures: dict) -> None:
    import torch

    if not torch.cuda.is_available():
        figures["gpu"] = "not available (no CUDA device on this machine)"
        return
    figures["gpu"] = torch.cuda.get_device_name(0)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "sd15-random"
        build_sd15_random(directory)
        manifest = sample_manifest(
            model={"id": str(directory), "sha256": model_sha256(directory)},
            width=512, height=512, steps=20, guidance_scale=7.5, dtype="float16",
        )
        for batch in (1, 4, 8):
            renderer = Renderer(device="cuda", batch_size=batch)
            per_image, effective = measure(renderer, manifest, max(images, batch * 2))
            figures[f"gpu_sd15_512_fp16_20steps_b{batch}_seconds_per_image"] = round(per_image, 4)
            figures[f"gpu_sd15_512_fp16_20steps_b{batch}_images_per_second"] = round(1 / per_image, 2)
            figures[f"gpu_sd15_512_fp16_20steps_b{batch}_effective_batch"] = effective
            figures[f"gpu_b{batch}_peak_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
            torch.cuda.reset_peak_memory_stats()


def main() -> None:
    parser = argparse.ArgumentParser(description="stylemint render benchmark")
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--skip-gpu", action="store_true")
    args = parser.parse_args()
    import torch

    figures: dict = {"torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                     "threads": Renderer(device="cpu").threads}
    cpu(args.images, figures)
    if not args.skip_gpu:
        gpu(args.images, figures)
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
