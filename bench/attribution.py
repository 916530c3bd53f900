"""Does style attribution mean anything, and what does it cost? On the shipped stylemint-tiny:

- attention_overhead_pct: render time with the attention recorded vs without (same seeds); the
  counterfactual method's cost (one more render per style) beside it;
- bytes_unchanged: every scheduler renders the same PNG with and without recording;
- colour_word_miou / shape_word_miou: the colour and shape words' attention maps (DAAM's
  aggregation, thresholded at 0.4 of their maximum as in the DAAM paper) against where the figure
  is in the render (pixels that differ from the ground), mean IoU over scenes;
- blends of the shipped trigger-scoped Stipple and Inkline at scales 0.1/0.9 .. 0.9/0.1: how each method's Stipple
  weight tracks the scale (Spearman rank correlation of the mean weight per scale), and how far
  the two methods are apart.

    python bench/attribution.py [--seeds 4] [--scenes 24]

Prints `key: value` lines (this machine's CPU, 2 threads).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.render import attribution, shipped  # noqa: E402
from backend.render.manifest import SCHEDULERS  # noqa: E402
from backend.render.renderer import Renderer, prompt_for, quantise, quiet_libraries  # noqa: E402
from backend.render.samples import blend_manifest, tiny_manifest  # noqa: E402

DAAM_THRESHOLD = 0.4


def seeds(count: int, salt: bytes = b"") -> list[bytes]:
    return [hashlib.sha256(b"stylemint attribution bench %s %d" % (salt, i)).digest() for i in range(count)]


def ranks(values: list[float]) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    result = np.empty(len(values))
    result[order] = np.arange(len(values))
    return result


def spearman(a: list[float], b: list[float]) -> float:
    ra, rb = ranks(a), ranks(b)
    return float(np.corrcoef(ra, rb)[0, 1])


def overhead(recording: Renderer, plain: Renderer, count: int, method: str = "attention") -> float:
    manifest = tiny_manifest("stipple", attribution=method)
    recording.render(manifest, seeds(1)[0])
    plain.render(manifest, seeds(1)[0])
    timed = {"recording": 0.0, "plain": 0.0}
    for seed in seeds(count, b"overhead"):  # interleaved, so drift hits both alike
        for name, renderer in (("plain", plain), ("recording", recording)):
            started = time.perf_counter()
            renderer.render(manifest, seed)
            timed[name] += time.perf_counter() - started
    return 100 * (timed["recording"] - timed["plain"]) / timed["plain"]


def bytes_unchanged(recording: Renderer, plain: Renderer) -> bool:
    seed = seeds(1, b"schedulers")[0]
    same = []
    for name in sorted(SCHEDULERS):
        manifest = blend_manifest({"stipple": 0.5, "haze": 0.5}, scheduler={"name": name, "config": {}},
                                  attribution="attention")
        same.append(recording.render(manifest, seed).png == plain.render(manifest, seed).png)
    return all(same)


def figure_mask(pixels: np.ndarray) -> np.ndarray:
    """Where the figure is: pixels far from the ground colour (the median of the border)."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).astype(np.int16)
    ground = np.median(border, axis=0)
    return np.abs(pixels.astype(np.int16) - ground).max(axis=-1) > 40


def word_iou(renderer: Renderer, count: int) -> dict[str, float]:
    """Mean IoU of the colour word's and the shape word's thresholded attention with the figure."""
    import torch
    import torch.nn.functional as F

    manifest = tiny_manifest(None)
    pipe = renderer.pipeline(manifest)
    factor = pipe.vae_scale_factor
    found = {"colour": [], "shape": []}
    for seed in seeds(count, b"scenes"):
        prompt, traits = prompt_for(manifest, seed)
        words = [traits["colour"], traits["shape"]]
        positions = [[attribution.token_positions(pipe.tokenizer, prompt, w) for w in words]]
        recorder = attribution.AttentionRecorder(positions, (manifest.height // factor, manifest.width // factor),
                                                 guided=manifest.guidance_scale > 1)
        image = quantise(renderer._denoise(pipe, manifest, [seed], recorder=recorder)[0])
        truth = figure_mask(image)
        for key, heat in zip(("colour", "shape"), recorder.maps[0]):
            grid = torch.from_numpy(heat).view(1, 1, *heat.shape)
            full = F.interpolate(grid, size=image.shape[:2], mode="bilinear", align_corners=False)[0, 0].numpy()
            mask = full >= DAAM_THRESHOLD * full.max() if full.max() > 0 else np.zeros_like(truth)
            union = np.logical_or(mask, truth).sum()
            found[key].append(float(np.logical_and(mask, truth).sum() / union) if union else 0.0)
    return {k: float(np.mean(v)) for k, v in found.items()}


def blends(renderer: Renderer, count: int) -> dict:
    scales = [round(0.1 * i, 1) for i in range(1, 10)]
    means = {"attention": [], "counterfactual": []}
    gaps = []
    for scale in scales:
        weights = {"attention": [], "counterfactual": []}
        for seed in seeds(count, b"blends"):
            for method in weights:
                manifest = blend_manifest({"stipple": scale, "inkline": round(1 - scale, 1)}, attribution=method)
                weights[method].append(renderer.render(manifest, seed).attribution["styles"][0]["weight_bps"])
            gaps.append(abs(weights["attention"][-1] - weights["counterfactual"][-1]))
        for method in means:
            means[method].append(float(np.mean(weights[method])))
    return {
        "scales": scales,
        "attention_stipple_bps": [round(x) for x in means["attention"]],
        "counterfactual_stipple_bps": [round(x) for x in means["counterfactual"]],
        "attention_rank_corr": spearman(scales, means["attention"]),
        "counterfactual_rank_corr": spearman(scales, means["counterfactual"]),
        "methods_mean_abs_gap_bps": float(np.mean(gaps)),
        "attention_vs_counterfactual_rank_corr": spearman(means["attention"], means["counterfactual"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=4, help="seeds per blend scale")
    parser.add_argument("--scenes", type=int, default=24, help="scenes for the word IoU")
    parser.add_argument("--overhead-renders", type=int, default=12)
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    args = parser.parse_args()
    quiet_libraries()
    recording = Renderer(device=args.device, threads=2)
    plain = Renderer(device=args.device, threads=2, attribute=False)
    name = recording.fingerprint(tiny_manifest(None))["device_name"]
    print(f"model: {shipped.MODEL_ID}, 64x64, dpm++2m 10 steps, guidance 3, {args.device} ({name}), 2 threads")
    print(f"attention_overhead_pct: {overhead(recording, plain, args.overhead_renders):.2f}")
    print(f"counterfactual_overhead_pct_one_style: "
          f"{overhead(recording, plain, args.overhead_renders // 2, 'counterfactual'):.2f}")
    print(f"bytes_unchanged: {str(bytes_unchanged(recording, plain)).lower()}")
    iou = word_iou(recording, args.scenes)
    print(f"colour_word_miou: {iou['colour']:.3f}")
    print(f"shape_word_miou: {iou['shape']:.3f}")
    result = blends(recording, args.seeds)
    for key, value in result.items():
        print(f"{key}: {json.dumps(value) if isinstance(value, list) else round(value, 3)}")


if __name__ == "__main__":
    main()
