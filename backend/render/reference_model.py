"""The offline reference model: a tiny Stable-Diffusion-architecture pipeline built in code.

No PyPI package ships diffusion weights and the Hugging Face hub is out of reach here, yet tests,
the demo and auditors need a real pipeline (UNet, VAE, CLIP text encoder, tokenizer, scheduler)
that loads with `from_pretrained` exactly like a production model. Weights are random from a
fixed torch seed, so every machine that builds it gets the same bytes and the same hash; the hash
below is pinned and `build_reference_model` refuses a build that differs from it.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from backend.render.model_hash import model_sha256

# sha256 of the reference model directory as computed by `model_sha256` (see docs/RENDER_SPEC.md).
REFERENCE_MODEL_SHA256 = "aa1ccc7bbce62fe4e6c94c133a456867e040a042e83d011f7e41c3b4e6465da3"
REFERENCE_SIZE = 64  # pixels, width and height
INIT_SEED = 20261125


# Weights come from torch's global RNG: two builds interleaved in one process would draw from the
# same stream (measured: a wrong hash). One build at a time, on a forked RNG. Re-entrant and
# shared with the renderer's loads (loading patches torch.nn.Module process-wide).
BUILD_LOCK = threading.RLock()


class ReferenceModelMismatch(RuntimeError):
    """This machine built reference weights that differ from the pinned ones."""


def _byte_level_vocab() -> tuple[dict[str, int], list[str]]:
    """A CLIP vocabulary over single bytes (no merges): every prompt tokenizes, one token per byte."""
    from tokenizers import pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for char in alphabet:
        vocab[char] = len(vocab)
    for char in alphabet:
        vocab[char + "</w>"] = len(vocab)
    return vocab, []


def _components():
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab, merges = _byte_level_vocab()
    tokenizer = CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)

    torch.manual_seed(INIT_SEED)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=77,
        projection_dim=32,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    ))
    torch.manual_seed(INIT_SEED + 1)
    unet = UNet2DConditionModel(
        sample_size=REFERENCE_SIZE // 8,
        in_channels=4,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=8,
    )
    torch.manual_seed(INIT_SEED + 2)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=(16, 32, 32, 32),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=1,
        norm_num_groups=8,
        sample_size=REFERENCE_SIZE,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
        timestep_spacing="trailing", steps_offset=1,
    )
    return dict(unet=unet, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, scheduler=scheduler)


def write_reference_model(directory: Path) -> str:
    """Build the pipeline, `save_pretrained` it into `directory`, return its hash (not checked)."""
    import torch
    from diffusers import StableDiffusionPipeline

    with BUILD_LOCK, torch.random.fork_rng(devices=[]):
        pipeline = StableDiffusionPipeline(
            **_components(), safety_checker=None, feature_extractor=None, requires_safety_checker=False
        )
    pipeline.save_pretrained(directory, safe_serialization=True)
    return model_sha256(directory)


def build_reference_model(directory: Path, *, check: bool = True) -> str:
    """Build the reference model into `directory` (atomically) and return its hash.

    With `check`, a build whose hash differs from REFERENCE_MODEL_SHA256 is refused: renders from
    it would not match anyone else's.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    if (directory / "model_index.json").exists() and model_sha256(directory) == REFERENCE_MODEL_SHA256:
        return REFERENCE_MODEL_SHA256  # another thread or process finished it meanwhile
    with tempfile.TemporaryDirectory(dir=directory.parent, prefix=".reference-") as tmp:
        staging = Path(tmp) / "model"
        digest = write_reference_model(staging)
        if check and digest != REFERENCE_MODEL_SHA256:
            raise ReferenceModelMismatch(
                f"reference model built here hashes to {digest}, expected {REFERENCE_MODEL_SHA256}: "
                "this torch/diffusers/transformers set initialises weights differently; "
                "install the pinned versions (constraints.txt)"
            )
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
        try:
            staging.rename(directory)
        except OSError:
            if model_sha256(directory) != digest:  # lost a race to an identical build: fine
                raise
    return digest
