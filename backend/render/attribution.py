"""How much each style contributed to a render, measured reproducibly (docs/RENDER_SPEC.md §13).

Attention attribution (DAAM's aggregation): forward hooks on every cross-attention module of the
UNet recompute the attention probabilities softmax(QK^T/sqrt(d)) from the module's own inputs
and weights, keep the conditional half of the guidance batch, sum every head's probabilities on
the style's trigger tokens (a trigger spread over several tokens: summed), bring each map to the
latent grid by bilinear interpolation and add it up over every layer and step, in float64. The
hooks only read: the UNet's own computation is untouched, so the image bytes are the same with
and without recording (tested on every scheduler). The `daam` package replaces the attention
computation instead, which changes the bytes, so it is not used.

Counterfactual attribution renders the same seed once more without each style's adapter and
measures how far the pixels move.

Scores become weights in basis points by the largest-remainder rule (`basis_points`).
"""

from __future__ import annotations

import io
import math
from contextlib import contextmanager

import numpy as np

ATTRIBUTION_VERSION = 1
TOTAL_BPS = 10_000


def basis_points(scores: list[float]) -> list[int]:
    """Scores -> weights summing to exactly 10,000: floor of each share, then the remaining points
    one each to the largest remainders, ties to the earlier style. All-zero (or no finite total)
    scores share equally by the same rule. One style always gets 10,000."""
    if not scores:
        return []
    total = math.fsum(scores)
    if not total > 0 or not math.isfinite(total) or any(s < 0 or not math.isfinite(s) for s in scores):
        scores, total = [1.0] * len(scores), float(len(scores))
    exact = [s * TOTAL_BPS / total for s in scores]
    floors = [math.floor(x) for x in exact]
    left = TOTAL_BPS - sum(floors)
    order = sorted(range(len(scores)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return floors


def token_positions(tokenizer, prompt: str, words: str) -> list[int]:
    """Positions of every occurrence of `words`' tokens in the tokenized prompt (as the pipeline
    tokenizes it: padded to the model's length, truncated)."""
    ids = tokenizer(prompt, padding="max_length", max_length=tokenizer.model_max_length, truncation=True).input_ids
    word = tokenizer(words, add_special_tokens=False).input_ids
    found: list[int] = []
    for start in range(len(ids) - len(word) + 1):
        if word and ids[start:start + len(word)] == word:
            found += range(start, start + len(word))
    return sorted(set(found))


class AttentionRecorder:
    """Accumulates, per image row and style, the attention maps of the style's trigger tokens.

    The query and key are taken as the attention module computed them (forward hooks on its
    `to_q` and `to_k`), so nothing of the UNet is computed twice; only the probabilities
    softmax(Q K^T * scale) per head, in float32, for the conditional rows."""

    def __init__(self, positions: list[list[list[int]]], latent_hw: tuple[int, int], guided: bool):
        self.positions = positions  # [row][style] -> token positions
        self.latent_hw = latent_hw
        self.guided = guided
        self._sums: list[list[dict]] = [[{} for _ in row] for row in positions]  # per attention grid size
        self._captured: dict[int, dict] = {}  # per attention module: its q and k of the current call

    @property
    def maps(self) -> list[list[np.ndarray]]:
        """Per row and style, the map on the latent grid (float64): each attention resolution's sum
        over layers and steps, brought to the latent grid bilinearly, added smallest first."""
        import torch.nn.functional as F

        result = []
        for row in self._sums:
            maps = []
            for by_size in row:
                total = np.zeros(self.latent_hw)
                for size in sorted(by_size):
                    grid = by_size[size].view(1, 1, *size)
                    if size != self.latent_hw:
                        grid = F.interpolate(grid, size=self.latent_hw, mode="bilinear", align_corners=False)
                    total = total + grid[0, 0].cpu().numpy()
                maps.append(total)
            result.append(maps)
        return result

    def capture(self, attention, name: str):
        """A hook for one of `attention`'s projections that keeps its output for `hook`."""
        def hook(_projection, _args, output):
            self._captured.setdefault(id(attention), {})[name] = output
        return hook

    def hook(self, module, args, kwargs, _output):
        import torch

        captured = self._captured.pop(id(module), {})
        if kwargs.get("encoder_hidden_states") is None or "q" not in captured or "k" not in captured:
            return
        with torch.no_grad():
            query, key = captured["q"], captured["k"]
            batch, pixels = query.shape[0], query.shape[1]
            first = batch // 2 if self.guided else 0  # the conditional half of the guidance batch
            heads = module.heads
            query = query[first:].unflatten(-1, (heads, -1)).transpose(1, 2).float()  # (rows, heads, pixels, d)
            key = key[first:].unflatten(-1, (heads, -1)).transpose(1, 2).float()  # (rows, heads, tokens, d)
            probs = torch.softmax(query @ key.transpose(-1, -2) * module.scale, dim=-1)
            lh, lw = self.latent_hw
            h = round(lh * math.sqrt(pixels / (lh * lw)))
            size = (h, pixels // h)
            for row, styles in enumerate(self.positions):
                for index, positions in enumerate(styles):
                    if positions:
                        mass = probs[row][:, :, positions].sum(dim=(0, 2)).double()
                        sums = self._sums[row][index]
                        sums[size] = mass if size not in sums else sums[size] + mass


@contextmanager
def recording(unet, recorder: AttentionRecorder):
    """Hooks on every cross-attention module (`trigger_adapter.cross_attention_modules`: each
    transformer block's `attn2`) and its query and key projections; removed after."""
    from backend.render.trigger_adapter import cross_attention_modules

    modules = list(cross_attention_modules(unet).values())
    handles = []
    for module in modules:
        handles.append(module.to_q.register_forward_hook(recorder.capture(module, "q")))
        handles.append(module.to_k.register_forward_hook(recorder.capture(module, "k")))
        handles.append(module.register_forward_hook(recorder.hook, with_kwargs=True))
    try:
        yield recorder
    finally:
        for handle in handles:
            handle.remove()


def heatmap_png(values: np.ndarray, size: tuple[int, int]) -> bytes:
    """A canonical 8-bit grayscale PNG of a map: bilinear to the image size (float64), scaled to
    its own maximum (an all-zero map stays black), rounded half to even."""
    import torch
    import torch.nn.functional as F
    from PIL import Image

    grid = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64)).view(1, 1, *values.shape)
    if tuple(values.shape) != tuple(size):
        grid = F.interpolate(grid, size=size, mode="bilinear", align_corners=False)
    image = grid[0, 0].numpy()
    peak = float(image.max())
    scaled = np.zeros(image.shape) if peak <= 0 else np.clip(image / peak, 0.0, 1.0) * 255.0
    buffer = io.BytesIO()
    Image.fromarray(scaled.round().astype(np.uint8), mode="L").save(buffer, format="PNG", compress_level=9,
                                                                     optimize=False)
    return buffer.getvalue()


def pixel_distance(a: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean absolute difference of two uint8 RGB images in [0, 1], and its per-pixel map."""
    difference = np.abs(a.astype(np.int16) - b.astype(np.int16)).astype(np.float64) / 255.0
    per_pixel = difference.mean(axis=-1)
    return float(per_pixel.mean()), per_pixel


def describe(method: str, triggers: list[str], scores: list[float], heatmap_cids: list[str]) -> dict:
    """The attribution as recorded in the token's provenance."""
    weights = basis_points(scores)
    return {"method": method, "version": ATTRIBUTION_VERSION,
            "styles": [{"trigger": t, "score": s, "weight_bps": w, "heatmap_cid": c}
                       for t, s, w, c in zip(triggers, scores, weights, heatmap_cids)]}
