"""Deterministic renders (in flight, committed batches) vs. plain diffusers batching, on one GPU;
prints `key: value` lines.

    .venv/bin/python bench/gpu.py [--images 16] [--inflight 1,2,4,8] [--committed 4,8]   # CUDA: SD-1.5 size
    .venv/bin/python bench/gpu.py --device cpu --size 64 --steps 4 --images 6 --committed 3   # a smoke run

On a GPU machine without diffusers (the device machines here): `bench/gpu_wheels.sh` fetches the
wheels it needs into .whl/ and says how to install them there and run this in one command.

Every configuration runs in its own fresh process, one after another, on the same card:
  1. the baseline: plain diffusers (no determinism settings), eager and `torch.compile(unet)`, at
     batch 1 and batch 8;
  2. stylemint's Renderer (deterministic settings, batch 1, canonical PNG) with k = 1, 2, 4, 8
     renders in flight: k worker processes on the one GPU, as the oracle's Ray actors with
     `num_gpus=1/k` are (plain processes here, so the device machine needs no Ray);
  3. a solo render of every seed in one more fresh process: each stylemint image must be byte for
     byte that one;
  4. committed batches (docs/RENDER_SPEC.md §5a) of B = 4 and 8, eager and `torch.compile(unet)`:
     each configuration twice, in two fresh processes; every token's bytes must be the same in
     both (a committed batch is only worth its speed if its re-render is exact), with the seconds
     per batch and the part of them spent encoding PNGs;
  5. with `--relax`, committed B = 8 eager once more per named determinism setting switched off,
     to price each setting (and say whether the bytes even change). The oracle never relaxes one.
Printed: images per second for each, the best stylemint figure (in flight or committed) over
compiled plain diffusers at batch 8 (goal >= 0.8), whether every image was byte-identical, and
what verifying one token of a committed batch of 8 costs against a batch-1 render (a verifier
re-renders the batch once and confirms all 8 of its tokens). The model is an
SD-1.5-architecture pipeline with random weights (same compute as the real one; nothing is
downloaded), 512x512, fp16, 20 steps, guidance 7.5 by default.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def seeds(n: int) -> list[bytes]:
    return [hashlib.sha256(b"gpu bench seed %d" % i).digest() for i in range(n)]


# -- children (each configuration in a fresh process) ------------------------------------------

def plain(config: dict) -> dict:
    """Plain diffusers: the pipeline as a user would run it, no determinism settings."""
    import torch
    from diffusers import StableDiffusionPipeline

    dtype = getattr(torch, config["dtype"])
    pipe = StableDiffusionPipeline.from_pretrained(config["model"], torch_dtype=dtype, safety_checker=None,
                                                   requires_safety_checker=False, local_files_only=True)
    pipe = pipe.to(config["device"])
    pipe.set_progress_bar_config(disable=True)
    if config["compile"]:
        pipe.unet = torch.compile(pipe.unet)
    batch, images = config["batch"], config["images"]
    prompt = ["a bench prompt"] * batch

    def run():
        pipe(prompt, num_inference_steps=config["steps"], guidance_scale=7.5, height=config["size"],
             width=config["size"], output_type="np")

    run()  # load, compile, warm up
    run()
    _sync(config["device"])
    started = time.perf_counter()
    for _ in range(max(1, images // batch)):
        run()
    _sync(config["device"])
    done = max(1, images // batch) * batch
    return {"images_per_second": done / (time.perf_counter() - started)}


_RENDERER = None


def _worker_init(device: str, threads: int | None) -> None:
    global _RENDERER
    from backend.render.renderer import Renderer

    _RENDERER = Renderer(device=device, threads=threads, batch_size=1)


def _worker_render(manifest_json: str, seed: bytes) -> str:
    from backend.render.manifest import parse_manifest

    return _RENDERER.render(parse_manifest(manifest_json.encode()), seed).png_sha256


def stylemint(config: dict) -> dict:
    """k worker processes, each a batch-1 Renderer holding its pipeline, all renders in flight."""
    k, todo = config["inflight"], seeds(config["images"])
    with ProcessPoolExecutor(max_workers=k, mp_context=get_context("spawn"), initializer=_worker_init,
                             initargs=(config["device"], config.get("threads"))) as pool:
        list(pool.map(_worker_render, [config["manifest"]] * k, seeds(k)))  # load every worker's pipeline
        list(pool.map(_worker_render, [config["manifest"]] * k, seeds(k)))  # and warm it up
        _sync(config["device"])
        started = time.perf_counter()
        hashes = list(pool.map(_worker_render, [config["manifest"]] * len(todo), todo))
        elapsed = time.perf_counter() - started
    return {"images_per_second": len(todo) / elapsed, "png_sha256": hashes}


def committed(config: dict) -> dict:
    """One Renderer rendering the seeds in committed batches of the manifest's B, in order."""
    import torch

    from backend.render.manifest import parse_manifest
    from backend.render.renderer import Renderer

    relax = config.get("relax")
    if relax:  # measure what one determinism setting costs (never how the oracle renders)
        from backend.render import environment

        pinned = environment.configure_determinism

        def configure(device: str, threads: int) -> None:
            pinned(device, threads)
            if relax == "cudnn_deterministic":
                torch.backends.cudnn.deterministic = False
            elif relax == "deterministic_algorithms":
                torch.use_deterministic_algorithms(False)
            elif relax == "fill_uninitialized_memory":  # on by default under deterministic algorithms
                torch.utils.deterministic.fill_uninitialized_memory = False
            else:
                raise SystemExit(f"unknown setting {relax}")

        environment.configure_determinism = configure
    renderer = Renderer(device=config["device"], threads=config.get("threads"))
    manifest = parse_manifest(config["manifest"].encode())
    size = manifest.environment.batch_size
    if config["compile"]:
        pipe = renderer.pipeline(manifest)
        pipe.unet = torch.compile(pipe.unet)
    todo = seeds(config["images"])
    batches = [todo[i:i + size] for i in range(0, len(todo), size)]
    renderer.render_committed(manifest, batches[0])  # load (and compile) and warm up
    renderer.render_committed(manifest, batches[0])
    _sync(config["device"])
    started = time.perf_counter()
    results = [renderer.render_committed(manifest, batch) for batch in batches]
    _sync(config["device"])
    elapsed = time.perf_counter() - started
    return {"images_per_second": len(todo) / elapsed, "png_sha256": [r.png_sha256 for rs in results for r in rs],
            "encode_seconds_per_batch": sum(rs[0].timings["encode_s"] for rs in results) / len(results),
            "seconds_per_batch": elapsed / len(results)}


def solo(config: dict) -> dict:
    _worker_init(config["device"], config.get("threads"))
    return {"png_sha256": [_worker_render(config["manifest"], seed) for seed in seeds(config["images"])]}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def child(kind: str, config: dict, timeout: float) -> dict:
    """Run one configuration in a fresh Python process; its result is the last stdout line."""
    done = subprocess.run([sys.executable, __file__, "--child", kind, json.dumps(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the run --------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description="stylemint GPU concurrency benchmark")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--inflight", default="1,2,4,8")
    parser.add_argument("--committed", default="4,8", help="Committed batch sizes B to measure ('' for none).")
    parser.add_argument("--compile-committed", default="4,8", help="Committed B also measured with torch.compile.")
    parser.add_argument("--plain-batches", default="1,8", help="Batch sizes of the plain diffusers baseline.")
    parser.add_argument("--plain-modes", default="eager,compiled", help="Plain baseline modes: eager, compiled.")
    parser.add_argument("--relax", default="", help="Determinism settings whose cost is measured at committed "
                        "B = 8 eager, one at a time: cudnn_deterministic, deterministic_algorithms, "
                        "fill_uninitialized_memory ('' for none).")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=240, help="Seconds per configuration.")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, config = args.child[0], json.loads(args.child[1])
        print(json.dumps({"plain": plain, "stylemint": stylemint, "solo": solo, "committed": committed}[kind](config)))
        return

    import torch

    from backend.render import environment
    from backend.render.model_hash import model_sha256
    from backend.render.samples import sample_manifest
    from bench.render import build_sd15_random

    figures: dict = {"device": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu",
                     "torch": torch.__version__}
    dtype = "float16" if args.device.startswith("cuda") else "float32"
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "sd15-random"
        build_sd15_random(model)
        if dtype == "float32":  # CPU smoke run: the same architecture in float32
            from diffusers import StableDiffusionPipeline

            StableDiffusionPipeline.from_pretrained(model, torch_dtype=torch.float32).save_pretrained(model)
        manifest = sample_manifest(model={"id": str(model), "sha256": model_sha256(model)}, width=args.size,
                                   height=args.size, steps=args.steps, guidance_scale=7.5, dtype=dtype,
                                   environment=None)  # the bench measures; it commits to no class
        base = {"device": args.device, "model": str(model), "dtype": dtype, "size": args.size, "steps": args.steps,
                "images": args.images, "manifest": manifest.canonical_bytes().decode()}
        for compiled in (mode == "compiled" for mode in args.plain_modes.split(",") if mode):
            for batch in (int(v) for v in args.plain_batches.split(",")):
                name = f"plain_{'compiled' if compiled else 'eager'}_b{batch}_images_per_second"
                result = child("plain", {**base, "batch": batch, "compile": compiled}, args.timeout)
                figures[name] = round(result["images_per_second"], 3) if "images_per_second" in result else result
                print(f"{name}: {figures[name]}", flush=True)
        inflight = [int(v) for v in args.inflight.split(",") if v]
        reference = child("solo", base, args.timeout) if inflight else {}
        identical = True
        best = 0.0
        for k in inflight:
            result = child("stylemint", {**base, "inflight": k}, args.timeout)
            name = f"stylemint_inflight{k}_images_per_second"
            if "images_per_second" not in result:
                figures[name] = result
                identical = False
            else:
                figures[name] = round(result["images_per_second"], 3)
                best = max(best, result["images_per_second"])
                same = result["png_sha256"] == reference.get("png_sha256")
                figures[f"stylemint_inflight{k}_byte_identical_to_solo"] = same
                identical = identical and same
            print(f"{name}: {figures[name]}", flush=True)
        compiled_b8 = figures.get("plain_compiled_b8_images_per_second")
        if inflight:
            figures["best_stylemint_over_compiled_b8"] = (round(best / compiled_b8, 3)
                                                      if isinstance(compiled_b8, float) and compiled_b8 else "n/a")
            figures["every_image_byte_identical_to_solo"] = identical and "png_sha256" in reference
        batch1 = figures.get("stylemint_inflight1_images_per_second")
        best_committed, rerender_identical, b8_eager = 0.0, None, None
        for size in (int(v) for v in args.committed.split(",") if v):
            cls = environment.environment_class(environment.fingerprint(args.device, dtype, environment.DEFAULT_THREADS, size))
            committed_manifest = type(manifest).model_validate({**manifest.model_dump(mode="json"), "environment": cls})
            config = {**base, "manifest": committed_manifest.canonical_bytes().decode(), "threads": environment.DEFAULT_THREADS}
            compile_sizes = [int(v) for v in args.compile_committed.split(",") if v]
            for compiled in (False, True) if size in compile_sizes else (False,):
                name = f"committed_b{size}_{'compiled' if compiled else 'eager'}"
                first, again = (child("committed", {**config, "compile": compiled}, args.timeout) for _ in range(2))
                if "images_per_second" not in first or "images_per_second" not in again:
                    figures[f"{name}_images_per_second"] = first.get("error") or again.get("error")
                    print(f"{name}_images_per_second: {figures[f'{name}_images_per_second']}", flush=True)
                    continue
                figures[f"{name}_images_per_second"] = round(first["images_per_second"], 3)
                figures[f"{name}_seconds_per_batch"] = round(first["seconds_per_batch"], 4)
                figures[f"{name}_png_seconds_per_batch"] = round(first["encode_seconds_per_batch"], 4)
                same = first["png_sha256"] == again["png_sha256"]
                figures[f"{name}_identical_on_rerender"] = same
                if "png_sha256" in reference:
                    figures[f"{name}_rows_equal_to_solo"] = sum(a == b for a, b in zip(first["png_sha256"], reference.get("png_sha256", [])))
                rerender_identical = same if rerender_identical is None else rerender_identical and same
                if same:
                    best_committed = max(best_committed, first["images_per_second"])
                if size == 8 and not compiled:
                    b8_eager = (config, first["png_sha256"])
                print(f"{name}_images_per_second: {figures[f'{name}_images_per_second']} (identical on rerender: {same}; "
                      f"{first['seconds_per_batch']:.3f} s a batch, {first['encode_seconds_per_batch']:.3f} s of it PNG)", flush=True)
                if size == 8 and not compiled and isinstance(batch1, float):
                    # A verifier re-renders the committed batch once and confirms its 8 tokens.
                    figures["verify_seconds_per_token_at_b8"] = round(1 / first["images_per_second"], 4)
                    figures["verify_per_token_at_b8_over_batch1_render"] = round(batch1 / first["images_per_second"], 3)
        for setting in (v for v in args.relax.split(",") if v and b8_eager):  # last: the goal's figures first
            relaxed = child("committed", {**b8_eager[0], "compile": False, "relax": setting}, args.timeout)
            key = f"committed_b8_eager_without_{setting}"
            figures[f"{key}_images_per_second"] = (round(relaxed["images_per_second"], 3)
                                                   if "images_per_second" in relaxed else relaxed.get("error"))
            figures[f"{key}_same_bytes"] = relaxed.get("png_sha256") == b8_eager[1]
            print(f"{key}_images_per_second: {figures[f'{key}_images_per_second']}", flush=True)
        if rerender_identical is not None:
            figures["every_token_identical_on_batch_rerender"] = rerender_identical
            figures["best_committed_batch_over_compiled_b8"] = (round(best_committed / compiled_b8, 3)
                                                                if isinstance(compiled_b8, float) and compiled_b8 else "n/a")
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
