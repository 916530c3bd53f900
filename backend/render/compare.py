"""Comparing two renders' pixels, and the tolerance a verifier outside the committed environment
class applies (docs/VERIFY.md). Below the chain and the verifier, so a benchmark on a GPU machine
can use it with the renderer alone."""

from __future__ import annotations

import math

import numpy as np

# A render in another environment may move a few pixels by a level or two (measured: thread
# count 1 vs 2 changed at most 1 level on under 0.01 % of pixels). Beyond this it is another image.
TOLERANCE_MAX_ABS = 4
TOLERANCE_MIN_PSNR = 40.0


def compare_pixels(expected: np.ndarray, actual: np.ndarray) -> dict:
    if expected.shape != actual.shape:
        return {"same_shape": False, "expected_shape": list(expected.shape), "actual_shape": list(actual.shape)}
    difference = np.abs(expected.astype(np.int16) - actual.astype(np.int16))
    mse = float(np.mean(difference.astype(np.float64) ** 2))
    return {
        "same_shape": True,
        "max_abs_diff": int(difference.max()),
        "differing_share": float(np.mean(difference.max(axis=-1) > 0)),
        # Identical pixels have no finite PSNR: null, since JSON has no Infinity.
        "psnr_db": None if mse == 0 else round(10 * math.log10(255**2 / mse), 2),
    }


def within_tolerance(pixels: dict) -> bool:
    return bool(pixels.get("same_shape") and pixels["max_abs_diff"] <= TOLERANCE_MAX_ABS
                and (pixels["psnr_db"] is None or pixels["psnr_db"] >= TOLERANCE_MIN_PSNR))
