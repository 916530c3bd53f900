"""The committed render environment class, measured: inside it, are renders byte-identical across
processes; outside it (a CPU auditor re-rendering a GPU project's token), how far apart are they,
and would the verifier say tolerant or mismatch?

    python bench/environment_class.py [--seeds 16] [--device cuda]

Prints `key: value` lines. Without a GPU it measures the CPU class against itself and against
another thread count (the nearest "outside the class" a CPU-only machine has).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backend.render import environment  # noqa: E402
from backend.render.renderer import Renderer, quiet_libraries  # noqa: E402
from backend.render.samples import tiny_manifest  # noqa: E402
from backend.render.compare import compare_pixels, within_tolerance  # noqa: E402


def seeds(count: int) -> list[bytes]:
    return [hashlib.sha256(b"stylemint environment class bench %d" % i).digest() for i in range(count)]


def manifest_for(device: str, threads: int):
    return tiny_manifest("stipple", environment=environment.this_machine_class(device=device, threads=threads))


def render(device: str, threads: int, count: int, manifest=None):
    renderer = Renderer(device=device, threads=threads)
    manifest = manifest or manifest_for(device, threads)
    renderer.render(manifest, seeds(1)[0])  # load and warm up
    started = time.perf_counter()
    results = [renderer.render(manifest, seed) for seed in seeds(count)]
    return results, (time.perf_counter() - started) / count, manifest


def verdicts(reference, others) -> dict:
    """What a verifier outside the class would say of each pinned image (reference) re-rendered here."""
    counts = {"exact": 0, "tolerant": 0, "image_mismatch": 0}
    worst_diff, worst_psnr = 0, None
    for pinned, here in zip(reference, others):
        if pinned.png == here.png:
            counts["exact"] += 1
            continue
        pixels = compare_pixels(pinned.pixels(), here.pixels())
        worst_diff = max(worst_diff, pixels["max_abs_diff"])
        if pixels["psnr_db"] is not None:
            worst_psnr = pixels["psnr_db"] if worst_psnr is None else min(worst_psnr, pixels["psnr_db"])
        counts["tolerant" if within_tolerance(pixels) else "image_mismatch"] += 1
    return {"verdicts": counts, "max_abs_diff": worst_diff, "min_psnr_db": worst_psnr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda when available)")
    parser.add_argument("--child", action="store_true", help="internal: render and print the PNG hashes as JSON")
    args = parser.parse_args()
    quiet_libraries()
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.child:
        results, _, _ = render(device, 2, args.seeds)
        print(json.dumps([r.png_sha256 for r in results]))
        return

    results, seconds, manifest = render(device, 2, args.seeds)
    print(f"device: {device} ({environment.fingerprint(device, 'float32', 2, 1)['device_name']})")
    print(f"environment_class: {json.dumps(manifest.environment.model_dump(), sort_keys=True)}")
    print(f"model: stylemint-tiny + stipple, {manifest.width}x{manifest.height}, {manifest.steps} steps")
    print(f"render_s_per_image_{device}: {seconds:.4f}")
    from backend.render.seed import initial_latents

    first = [float(v) for v in initial_latents(bytes(range(32)), (4,))]  # docs/RENDER_SPEC.md section 5
    print(f"numpy: {environment.fingerprint(device, 'float32', 2, 1)['numpy']}, latents_match_spec: "
          f"{first == [-0.018161289393901825, -0.5457710027694702, -0.5354093909263611, 0.6451498866081238]}")
    child = subprocess.run([sys.executable, __file__, "--child", "--device", device, "--seeds", str(args.seeds)],
                           capture_output=True, text=True, timeout=600)
    other_process = json.loads(child.stdout.strip().splitlines()[-1]) if child.returncode == 0 else []
    same = sum(a == b.png_sha256 for a, b in zip(other_process, results))
    print(f"same_class_other_process_identical: {same}/{args.seeds}")
    # Outside the class: on a GPU, a CPU auditor; on a CPU, another thread count.
    if device.startswith("cuda"):
        outside, outside_seconds, _ = render("cpu", 2, args.seeds, manifest=manifest)
        label = "cpu_auditor"
    else:
        outside, outside_seconds, _ = render("cpu", 1, args.seeds, manifest=manifest)
        label = "one_thread_auditor"
    summary = verdicts(results, outside)
    print(f"{label}_render_s_per_image: {outside_seconds:.4f}")
    print(f"{label}_verdicts: {json.dumps(summary['verdicts'])}")
    print(f"{label}_max_abs_diff: {summary['max_abs_diff']}")
    print(f"{label}_min_psnr_db: {summary['min_psnr_db']}")


if __name__ == "__main__":
    main()
