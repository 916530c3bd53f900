"""Trigger-scoped adapters with random vectors for the shipped model (the mechanism tests' styles)."""

from backend.ipfs.cid import cid_of


def random_trigger_adapter(pipe, trigger: str, *, seed: int, magnitude: float = 3.0) -> bytes:
    """Adapter bytes for `pipe`'s UNet with one random key and value vector per trigger token and layer."""
    import safetensors.torch
    import torch

    from backend.render import trigger_adapter

    generator = torch.Generator().manual_seed(seed)
    tokens = len(trigger_adapter.trigger_ids(pipe.tokenizer, trigger))
    tensors = {f"{name}.{projection}": torch.randn(tokens, getattr(module, projection).out_features,
                                                   generator=generator) * magnitude
               for name, module in trigger_adapter.cross_attention_modules(pipe.unet).items()
               for projection in trigger_adapter.PROJECTIONS}
    return safetensors.torch.save(tensors)


def style_entry(data: bytes, trigger: str, scale: float = 1.0) -> dict:
    import hashlib

    return {"kind": "trigger_kv", "cid": cid_of(data), "sha256": hashlib.sha256(data).hexdigest(),
            "scale": scale, "trigger": trigger}
