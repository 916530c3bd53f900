"""Renderer fixtures: one reference model built per test session in a temporary folder."""

import io

import pytest

from backend.render.renderer import Renderer


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def renderer(models_dir):
    """CPU, 2 threads, batch shape 1: the oracle's default."""
    return Renderer(device="cpu", threads=2, batch_size=1, models_dir=models_dir)


def safetensors_bytes(tensors: dict) -> bytes:
    from safetensors.torch import save

    return save(tensors)


def lora_bytes(reference_dir, seed: int = 7) -> bytes:
    """A LoRA for the reference UNet with non-zero weights (so it visibly changes renders)."""
    import torch
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe = StableDiffusionPipeline.from_pretrained(
        reference_dir, safety_checker=None, feature_extractor=None, requires_safety_checker=False
    )
    pipe.unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in pipe.unet.named_parameters():
            if "lora_" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
    state = convert_state_dict_to_diffusers(get_peft_model_state_dict(pipe.unet))
    state = {f"unet.{k}": v.contiguous() for k, v in state.items()}
    return safetensors_bytes(state)


def png_chunk_types(png: bytes) -> list[bytes]:
    stream = io.BytesIO(png[8:])
    types = []
    while header := stream.read(8):
        length = int.from_bytes(header[:4], "big")
        types.append(header[4:])
        stream.seek(length + 4, io.SEEK_CUR)
    return types
