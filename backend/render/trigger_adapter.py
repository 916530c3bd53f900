"""Trigger-scoped style adapters: a style that acts on the image only through its own word.

A LoRA changes the UNet's weights, so it changes every render, with or without its trigger
(measured on the shipped LoRAs: the style judge saw the style in 43 % of renders without the
trigger). A trigger-scoped adapter (`kind: "trigger_kv"`, docs/RENDER_SPEC.md §15) changes one
thing: what the cross-attention layers read at the trigger's token positions. For every
cross-attention module of the UNet it holds one key and one value vector per token
of the trigger; where a row of the text batch holds the trigger's tokens, in order, those vectors
(times the manifest's scale) are added to the key and value projections at those positions.
Nothing else is touched:
- a prompt without the trigger (and a negative prompt without it) runs exactly the base model's
  computation, so its bytes are the base model's bytes: no hook is even installed;
- the text encoder, the pooled caption and every weight stay the base model's, so the style's
  whole effect passes through the attention paid to its trigger's positions, which is what the
  attention attribution measures (backend/render/attribution.py);
- two styles' effects sit on different token positions and can be told apart.

The file is safetensors: tensors `<module>.to_k` and `<module>.to_v` of shape (trigger tokens,
projection width), float32, for exactly the UNet's cross-attention modules, nothing else.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

KIND = "trigger_kv"
PROJECTIONS = ("to_k", "to_v")


class AdapterFormatError(ValueError):
    """The bytes are not a trigger-scoped adapter for this model and trigger."""


class TriggerLengthError(AdapterFormatError):
    """The file fits the model but holds vectors for a trigger of another number of tokens: a style
    named by another trigger than the one it was trained with (stylemint-gen's "stipple style"
    registered as "stipple"), which is not the same mistake as an adapter of another base."""


def cross_attention_modules(unet) -> dict[str, object]:
    """The UNet's cross-attention modules (diffusers' `is_cross_attention`: keys and values read
    from the text) by name, in the model's own order: each transformer block's `attn2`, and its
    `attn1` too where a block attends only to the text (`only_cross_attention`)."""
    return {name: module for name, module in unet.named_modules() if getattr(module, "is_cross_attention", False)}


def trigger_ids(tokenizer, trigger: str) -> list[int]:
    return tokenizer(trigger, add_special_tokens=False).input_ids


@dataclass(frozen=True)
class TriggerAdapter:
    """One style's vectors, checked against the model it is applied to."""

    trigger: str
    token_ids: tuple[int, ...]
    vectors: dict[str, object]  # "<module>.to_k" / "<module>.to_v" -> float32 tensor (tokens, width)

    @classmethod
    def parse(cls, data: bytes, *, trigger: str, unet, tokenizer) -> "TriggerAdapter":
        """The adapter in `data`, or AdapterFormatError naming what does not fit this model."""
        import safetensors.torch
        import torch

        try:
            tensors = safetensors.torch.load(data)
        except Exception as err:  # noqa: BLE001 - safetensors raises its own error types
            raise AdapterFormatError(f"not a safetensors file: {str(err)[:120]}") from None
        ids = trigger_ids(tokenizer, trigger)
        if not ids:
            raise AdapterFormatError(f"the trigger {trigger!r} has no tokens")
        expected = {f"{name}.{projection}": getattr(module, projection).out_features
                    for name, module in cross_attention_modules(unet).items() for projection in PROJECTIONS}
        if set(tensors) != set(expected):
            missing, extra = sorted(set(expected) - set(tensors)), sorted(set(tensors) - set(expected))
            raise AdapterFormatError(f"a {KIND} adapter for this model holds exactly {len(expected)} tensors "
                                     f"(missing {missing[:3]}, unexpected {extra[:3]})")
        for key, width in expected.items():
            tensor = tensors[key]
            if tensor.dim() == 2 and tensor.shape[1] == width and tensor.shape[0] != len(ids):
                raise TriggerLengthError(f"it holds vectors for a trigger of {tensor.shape[0]} token(s), and {trigger!r} "
                                         f"is {len(ids)} on this model: name the style by the trigger it was trained with")
            if tensor.dtype != torch.float32 or tuple(tensor.shape) != (len(ids), width):
                raise AdapterFormatError(f"{key} is {tensor.dtype} {tuple(tensor.shape)}, expected float32 "
                                         f"({len(ids)}, {width}) for the trigger {trigger!r}")
            if not torch.isfinite(tensor).all():
                raise AdapterFormatError(f"{key} holds a non-finite value")
        return cls(trigger, tuple(ids), tensors)


def kind_of(data: bytes) -> str | None:
    """The manifest `kind` an adapter file needs: "trigger_kv" when it holds only cross-attention
    key and value vectors, "lora" for any other safetensors file, None when it is not one."""
    import safetensors.torch

    try:
        names = list(safetensors.torch.load(data))
    except Exception:  # noqa: BLE001 - safetensors raises its own error types
        return None
    scoped = names and all(n.rsplit(".", 1)[-1] in PROJECTIONS and n.rsplit(".", 1)[0][-5:] in ("attn1", "attn2")
                           for n in names)
    return KIND if scoped else "lora"


def occurrences(ids: list[int], trigger: tuple[int, ...]) -> list[int]:
    """Start positions of every whole occurrence of `trigger` in a row of token ids (as the pipeline
    tokenizes it: padded and truncated to the model's length), non-overlapping, left to right."""
    starts, position, n = [], 0, len(trigger)
    while position + n <= len(ids):
        if tuple(ids[position:position + n]) == trigger:
            starts.append(position)
            position += n
        else:
            position += 1
    return starts


def batch_rows(tokenizer, prompts: list[str], negative_prompt: str | None, guided: bool) -> list[list[int]]:
    """The token ids of each row of the text batch the UNet sees: with classifier-free guidance,
    the negative prompt's rows (diffusers: "" when none) first, then the prompts'."""
    def ids(text):
        return tokenizer(text, padding="max_length", max_length=tokenizer.model_max_length, truncation=True).input_ids

    rows = [ids(p) for p in prompts]
    return [ids(negative_prompt or "") for _ in prompts] + rows if guided else rows


def _adder(indices, vectors, scale: float):
    """A forward hook adding `scale * vectors[j]` to the projection's output at each (row, position, j)."""
    import torch

    rows = torch.tensor([r for r, _, _ in indices])
    positions = torch.tensor([p for _, p, _ in indices])
    which = torch.tensor([j for _, _, j in indices])

    def hook(_projection, _args, output):
        delta = (vectors[which] * scale).to(output.dtype)
        return output.index_put((rows.to(output.device), positions.to(output.device)),
                                output[rows, positions] + delta.to(output.device))
    return hook


@contextmanager
def applied(unet, adapters: list[tuple[TriggerAdapter, float]], rows: list[list[int]]):
    """Apply each (adapter, scale) at its trigger's positions in `rows` for the duration; adapters in
    manifest order, each one hook per projection. Without any occurrence, nothing is installed."""
    handles = []
    try:
        modules = cross_attention_modules(unet)
        for adapter, scale in adapters:
            indices = [(r, start + j, j) for r, ids in enumerate(rows)
                       for start in occurrences(ids, adapter.token_ids) for j in range(len(adapter.token_ids))]
            if not indices:
                continue
            for name, module in modules.items():
                for projection in PROJECTIONS:
                    vectors = adapter.vectors[f"{name}.{projection}"]
                    handles.append(getattr(module, projection).register_forward_hook(_adder(indices, vectors, scale)))
        yield
    finally:
        for handle in handles:
            handle.remove()


def save(path, vectors: dict[str, object]) -> None:
    """Write an adapter file (tensors made contiguous float32 on the CPU)."""
    import safetensors.torch
    import torch

    safetensors.torch.save_file({k: v.detach().to("cpu", torch.float32).contiguous() for k, v in vectors.items()},
                                str(path))
