"""The deterministic render: (manifest, 32-byte seed) -> canonical PNG, the same bytes every time.

One readable path, step by step (docs/RENDER_SPEC.md is the normative version):
1. resolve and load the model, refusing weights whose hash differs from the manifest;
2. fill the prompt template from the seed;
3. draw the initial latents on the CPU from the whole seed, move them to the device;
4. run the diffusers pipeline at a fixed batch shape (padding rows are dummies), after checking
   that on this backend a row's bytes depend neither on its companions nor on its position;
5. quantise to 8-bit RGB and encode a PNG with fixed settings and no metadata chunks.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from backend import __version__ as backend_version
from backend.config import data_dir
from backend.errors import PermanentError
from backend.render import attribution, environment, shipped, trigger_adapter
from backend.render.manifest import SCHEDULERS, OptionsBy, StyleManifest, all_choices, contains_words
from backend.render.model_hash import model_sha256
from backend.render.reference_model import BUILD_LOCK, build_reference_model
from backend.render.seed import as_bytes32, choose, committed_batch, initial_latents

log = logging.getLogger(__name__)
# Loading is not thread-safe in one process: accelerate's init_empty_weights (used by
# from_pretrained) patches torch.nn.Module globally, so two interleaved loads can leave the patch
# in place and every later model is built on the meta device (seen in CI). One load at a time.
_MODEL_BUILD_LOCK = BUILD_LOCK

RENDERER_VERSION = f"stylemint-render/1 ({backend_version})"
REFERENCE = "reference"
PNG_COMPRESS_LEVEL = 9

# Fetches style weights by CID (the IPFS layer provides it); returns the file's bytes.
WeightsFetcher = Callable[[str], bytes]
Progress = Callable[[int, int], None]


def quiet_libraries() -> None:
    """Silence diffusers/transformers progress bars and advisories: our own progress and logs speak.

    Both libraries map every installed distribution to its modules when imported
    (`importlib.metadata.packages_distributions`, 0.34 s and 0.40 s here, the same answer twice):
    it is computed once per process instead, which a one-token `stylemint verify` waits for."""
    import functools
    from importlib import metadata

    if not hasattr(metadata.packages_distributions, "cache_info"):
        metadata.packages_distributions = functools.cache(metadata.packages_distributions)
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.set_verbosity_error()
    diffusers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()


class RenderError(RuntimeError, PermanentError):
    """The render cannot run as the manifest asks (missing model, wrong hash, bad device)."""


class ModelHashMismatch(RenderError):
    """The model on disk is not the one the manifest pins."""


@dataclass
class RenderResult:
    png: bytes
    png_sha256: str
    pixel_sha256: str
    width: int
    height: int
    seed: str
    prompt: str
    traits: dict[str, str]
    model_sha256: str
    manifest_sha256: str
    fingerprint: dict
    renderer_version: str = RENDERER_VERSION
    timings: dict[str, float] = field(default_factory=dict)
    # Per style: trigger, score, weight in basis points, heat-map CID (attribution.describe);
    # None for a manifest without `styles`. The heat-map PNGs by CID, for the oracle to pin.
    attribution: dict | None = None
    heatmaps: dict[str, bytes] = field(default_factory=dict)
    # A committed batch's render (docs/RENDER_SPEC.md §5a): {"size": B, "row": r, "seeds": the
    # tokens' seeds in row order, fillers left out}; None for a row-independent render.
    batch: dict | None = None

    def pixels(self) -> np.ndarray:
        from PIL import Image

        return np.asarray(Image.open(io.BytesIO(self.png)).convert("RGB"))


def committed_size(manifest: StyleManifest) -> int:
    """The batch size B the manifest's environment class commits: > 1 means committed batches."""
    return manifest.environment.batch_size if manifest.environment else 1


def prompt_for(manifest: StyleManifest, seed: bytes) -> tuple[str, dict[str, str]]:
    """The prompt and the chosen variables (the token's traits, by name) for one seed
    (docs/RENDER_SPEC.md §4): the list variables first, then each OptionsBy from the entry for
    its `by` variable's choice; one with no entry there is no trait, and ", {name}" leaves the
    template."""
    traits = {name: choose(seed, name, options) for name, options in manifest.variables.items() if isinstance(options, list)}
    template = manifest.prompt
    for name, options in manifest.variables.items():
        if isinstance(options, OptionsBy):
            if traits[options.by] in options.options:
                traits[name] = choose(seed, name, options.options[traits[options.by]])
            else:
                template = template.replace(", {" + name + "}", "")
    traits = dict(sorted(traits.items()))
    return template.format(**traits), traits


def encode_png(pixels: np.ndarray) -> bytes:
    """Canonical PNG: 8-bit RGB, zlib level 9, no ancillary chunks (no time, text or gamma)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL, optimize=False)
    return buffer.getvalue()


def quantise(image: np.ndarray) -> np.ndarray:
    """float [0, 1] HWC -> uint8, rounding half to even, as diffusers' own conversion."""
    return (np.clip(image, 0.0, 1.0) * 255.0).round().astype(np.uint8)


class Renderer:
    """Renders manifests on one device; loaded pipelines are cached per (model, dtype, weights)."""

    def __init__(
        self,
        *,
        device: str | None = None,
        threads: int | None = None,
        batch_size: int = 1,
        models_dir: Path | None = None,
        fetch_adapter: WeightsFetcher | None = None,
        progress_bar: bool = False,
        attribute: bool = True,
    ):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.device = device or environment.default_device()
        self.threads = threads or environment.default_threads()
        self.batch_size = batch_size
        self.models_dir = Path(models_dir) if models_dir else data_dir() / "models"
        self.fetch_adapter = fetch_adapter
        self.progress_bar = progress_bar
        self.attribute = attribute  # False: no attribution (the tests' "without recording" side)
        self._pipelines: dict[tuple, object] = {}
        self._hashes: dict[str, str] = {}
        self._batch_checked: set[str] = set()
        self._adapter_targets: dict[str, tuple] = {}
        if self.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise RenderError(f"device {self.device} requested but CUDA is not available")
        environment.configure_determinism(self.device, self.threads)
        quiet_libraries()

    # -- model --------------------------------------------------------------------------

    def model_dir(self, model_id: str) -> Path:
        """Local directory of a model: a shipped one (stylemint-tiny-2, stylemint-tiny), the built-in reference, a path, or a hub snapshot."""
        if model_id in shipped.MODELS:
            directory = shipped.MODELS[model_id].directory
            if not (directory / "model_index.json").exists():
                raise RenderError(f"the shipped model {model_id} is missing from {directory}: reinstall stylemint")
            return directory
        if model_id == REFERENCE:
            directory = self.models_dir / REFERENCE
            with _MODEL_BUILD_LOCK:
                if not (directory / "model_index.json").exists():
                    build_reference_model(directory)
            return directory
        path = Path(model_id).expanduser()
        if path.is_dir():
            return path
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model_id, local_files_only=os.environ.get("HF_HUB_OFFLINE", "1") != "0"))
        except Exception as err:  # the hub's errors vary by version; the message is what matters
            raise RenderError(
                f"model {model_id!r} is neither a shipped model ({', '.join(shipped.MODELS)}), 'reference', a local directory, nor a hub model available "
                f"offline ({type(err).__name__}); download it where the hub is reachable (HF_HUB_OFFLINE=0)"
            ) from None

    def checked_model_dir(self, manifest: StyleManifest) -> Path:
        directory = self.model_dir(manifest.model.id)
        key = str(directory.resolve())
        if key not in self._hashes:
            self._hashes[key] = model_sha256(directory)
        if self._hashes[key] != manifest.model.sha256:
            raise ModelHashMismatch(
                f"model {manifest.model.id!r} at {directory} hashes to {self._hashes[key]}, "
                f"the manifest pins {manifest.model.sha256}; refusing to render"
            )
        return directory

    def pipeline(self, manifest: StyleManifest):
        """The loaded pipeline for a manifest (model hash checked, scheduler set, weights applied)."""
        if manifest.dtype != "float32" and not self.device.startswith("cuda"):
            raise RenderError(f"dtype {manifest.dtype} needs a CUDA device; this renderer runs on {self.device}")
        directory = self.checked_model_dir(manifest)
        key = (str(directory), manifest.dtype, manifest.scheduler.model_dump_json(), manifest.style_weights,
               tuple(manifest.styles))
        if key not in self._pipelines:
            with _MODEL_BUILD_LOCK:
                self._pipelines[key] = self._load(directory, manifest)
        return self._pipelines[key]

    def _load(self, directory: Path, manifest: StyleManifest):
        import diffusers
        import torch

        pipe = diffusers.StableDiffusionPipeline.from_pretrained(
            directory, torch_dtype=getattr(torch, manifest.dtype), safety_checker=None,
            feature_extractor=None, requires_safety_checker=False, local_files_only=True,
        )
        scheduler_class = getattr(diffusers, SCHEDULERS[manifest.scheduler.name])
        pipe.scheduler = scheduler_class.from_config(pipe.scheduler.config, **manifest.scheduler.config)
        # Trigger-scoped adapters leave the weights alone: they act per render, at their trigger's
        # positions (`_denoise`). Weight adapters are fused one after another, in manifest order.
        pipe.stylemint_trigger_adapters = []
        for adapter in ([manifest.style_weights] if manifest.style_weights else manifest.styles):
            if adapter.kind == trigger_adapter.KIND:
                try:
                    parsed = trigger_adapter.TriggerAdapter.parse(self._adapter_bytes(adapter), trigger=adapter.trigger,
                                                                  unet=pipe.unet, tokenizer=pipe.tokenizer)
                except trigger_adapter.AdapterFormatError as err:
                    raise RenderError(f"style adapter {adapter.cid}: {err}") from None
                pipe.stylemint_trigger_adapters.append((parsed, adapter.scale))
            else:
                self._apply_adapter(pipe, adapter)
        pipe.to(self.device)
        pipe.set_progress_bar_config(disable=not self.progress_bar)
        return pipe

    def adapter_problems(self, manifest: StyleManifest) -> list[str]:
        """Why a manifest's trigger-scoped styles cannot act on its model, in words (empty: they can).

        An adapter trained on another base names other modules or widths: every mint of such a
        project would fail at render. Checked against the model's UNet and tokenizer alone (the
        same parse as a render's, without loading the VAE and text encoder), so the artist is told
        when the manifest is pinned. Raises RenderError where the model or an adapter is not here."""
        styles = [adapter for adapter in manifest.styles if adapter.kind == trigger_adapter.KIND]
        if not styles:
            return []
        directory = self.checked_model_dir(manifest)
        key = str(directory.resolve())
        with _MODEL_BUILD_LOCK:
            if key not in self._adapter_targets:
                from diffusers import UNet2DConditionModel
                from transformers import CLIPTokenizer

                self._adapter_targets[key] = (UNet2DConditionModel.from_pretrained(directory, subfolder="unet"),
                                              CLIPTokenizer.from_pretrained(directory, subfolder="tokenizer"))
        unet, tokenizer = self._adapter_targets[key]
        found = []
        for adapter in styles:
            try:
                trigger_adapter.TriggerAdapter.parse(self._adapter_bytes(adapter), trigger=adapter.trigger, unet=unet,
                                                     tokenizer=tokenizer)
            except trigger_adapter.TriggerLengthError as err:
                found.append(f"style {adapter.trigger!r} ({adapter.cid}): {err}")
            except trigger_adapter.AdapterFormatError as err:
                found.append(f"style {adapter.trigger!r} ({adapter.cid}) was not trained on {manifest.model.id}: {err}")
        # The template filled with each variable's longest choice in tokens (the tokenizer splits at
        # words first, so no other choice puts a trigger further back): if a trigger is cut off
        # there, some mints would fail at render, so the artist is told now.
        longest = manifest.prompt.format(**{name: max(all_choices(options), key=lambda o: len(tokenizer(o, add_special_tokens=False).input_ids))
                                            for name, options in manifest.variables.items()})
        try:
            self._check_triggers_fit(tokenizer, manifest, [longest])
        except RenderError as err:
            found.append(f"with its longest traits, {err}")
        return found

    def _adapter_bytes(self, adapter) -> bytes:
        # A shipped style's bytes are on disk; any other adapter comes from the fetcher (IPFS). The
        # sha256 below is checked either way, so where the bytes came from cannot change a render.
        local = shipped.style_for_cid(adapter.cid)
        if local is not None and local.sha256 == adapter.sha256:
            data = local.path.read_bytes()
        elif self.fetch_adapter is None:
            raise RenderError(f"manifest loads the style adapter {adapter.cid}, which are not a shipped style, "
                              "and this renderer has no way to fetch them by CID")
        else:
            data = self.fetch_adapter(adapter.cid)
        digest = hashlib.sha256(data).hexdigest()
        if digest != adapter.sha256:
            raise ModelHashMismatch(f"style adapter {adapter.cid} hashes to {digest}, manifest pins {adapter.sha256}")
        return data

    def _apply_adapter(self, pipe, adapter) -> None:
        data = self._adapter_bytes(adapter)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "adapter.safetensors"
            path.write_bytes(data)
            if adapter.kind == "textual_inversion":
                pipe.load_textual_inversion(str(path), token=adapter.token)
            else:
                pipe.load_lora_weights(str(path))
                pipe.fuse_lora(lora_scale=adapter.scale)
                pipe.unload_lora_weights()  # keep the fused weights, drop the adapter

    # -- render -------------------------------------------------------------------------

    def fingerprint(self, manifest: StyleManifest) -> dict:
        """This renderer's environment for `manifest`: a manifest that commits batches renders at its B."""
        size = committed_size(manifest)
        return environment.fingerprint(self.device, manifest.dtype, self.threads, size if size > 1 else self.batch_size)

    def render(self, manifest: StyleManifest, seed: bytes | str, progress: Progress | None = None) -> RenderResult:
        return self.render_batch(manifest, [seed], progress=progress)[0]

    def render_batch(
        self, manifest: StyleManifest, seeds: Sequence[bytes | str], progress: Progress | None = None
    ) -> list[RenderResult]:
        """Render each seed; the pipeline always runs at `batch_size` rows, padded with dummies."""
        seeds = [as_bytes32(s, "seed") for s in seeds]
        # torch's thread count is per process: set it for every call, since another renderer in
        # this process (a verifier simulating another environment, say) may have changed it.
        environment.configure_determinism(self.device, self.threads)
        started = time.perf_counter()
        pipe = self.pipeline(manifest)
        if self.batch_size > 1 and manifest.sha256_hex() not in self._batch_checked:
            self._check_batch_independence(pipe, manifest)
        loaded = time.perf_counter()
        results: list[RenderResult] = []
        for start in range(0, len(seeds), self.batch_size):
            chunk = seeds[start:start + self.batch_size]
            results += self._render_chunk(pipe, manifest, chunk, progress, load_seconds=loaded - started)
        return results

    def render_committed(
        self, manifest: StyleManifest, seeds: Sequence[bytes | str], progress: Progress | None = None
    ) -> list[RenderResult]:
        """One committed batch: the tokens' seeds in token-id order, padded with filler rows to
        the B that the manifest's environment class commits, rendered at exactly B rows.

        Where rows are not independent of their companions (CUDA, CPU at batch 3), a row's bytes
        are fixed by the whole batch, not by its seed: the same batch re-rendered in the same
        class gives the same bytes, so the batch is what the provenance records and the
        verifier re-renders (RENDER_SPEC §5a). No independence probe: nothing here assumes it.
        """
        size = committed_size(manifest)
        seeds = [as_bytes32(s, "seed") for s in seeds]
        rows = committed_batch(seeds, size)
        environment.configure_determinism(self.device, self.threads)
        started = time.perf_counter()
        pipe = self.pipeline(manifest)
        loaded = time.perf_counter()
        results = self._render_chunk(pipe, manifest, rows, progress, load_seconds=loaded - started)[:len(seeds)]
        record = ["0x" + seed.hex() for seed in seeds]
        for row, result in enumerate(results):
            result.batch = {"size": size, "row": row, "seeds": record}
        return results

    def _check_batch_independence(self, pipe, manifest: StyleManifest) -> None:
        """Probe whether rows are independent at this batch shape; if not, fall back to batch 1.

        Measured on CPU (torch 2.13, AVX512, 2 threads, reference model with guidance): at batch
        shapes 2, 4 and 8 every row's float output was bit-identical whatever its companions and
        position; at 3 most rows differed in the last bits, and about one image in five changed
        in its 8-bit pixels. GPUs have the same hazard (diffusers #2659, #6222). So before
        batching, B+1 probe seeds are rendered alone (padded) and in three arrangements, and the
        *float* outputs are compared bit for bit (PNG bytes would hide most differences). A shape
        that passes is recorded in the fingerprint so that a verifier renders at it too.
        """
        probes = [hashlib.sha256(b"stylemint batch probe %d" % i).digest() for i in range(self.batch_size + 1)]
        alone = {p: self._denoise(pipe, manifest, [p])[0] for p in probes}
        arrangements = [probes[: self.batch_size], probes[::-1][: self.batch_size], probes[1:]]
        dependent = any(
            not np.array_equal(image, alone[seed])
            for arrangement in arrangements
            for seed, image in zip(arrangement, self._denoise(pipe, manifest, arrangement))
        )
        if dependent:
            log.warning(
                "batch shape %d is not row-independent on %s (%s): rendering one image at a time",
                self.batch_size, self.device, environment.fingerprint(self.device, manifest.dtype, self.threads, 1)["cpu_capability"],
            )
            self.batch_size = 1
        self._batch_checked.add(manifest.sha256_hex())

    def _denoise(self, pipe, manifest, seeds, progress: Progress | None = None,
                 recorder: attribution.AttentionRecorder | None = None) -> np.ndarray:
        """Float images in [0, 1] (B, H, W, 3) for `seeds`, run at exactly `batch_size` rows;
        with a recorder, the cross-attention of the styles' triggers is recorded on the side."""
        import torch

        # The latent grid is the model's own (SD: 4 x H/8 x W/8; stylemint-tiny: 4 x H/4 x W/4).
        factor = pipe.vae_scale_factor
        multiple = factor * 2 ** (len(pipe.unet.config.block_out_channels) - 1)
        if manifest.width % multiple or manifest.height % multiple:
            raise RenderError(f"{manifest.width}x{manifest.height}: this model renders sizes that are multiples of {multiple}")
        shape = (pipe.unet.config.in_channels, manifest.height // factor, manifest.width // factor)
        padding = max(0, self.batch_size - len(seeds))  # a committed batch brings its own fillers
        rows = [initial_latents(seed, shape) for seed in seeds] + [np.zeros(shape, dtype=np.float32)] * padding
        prompts = [prompt_for(manifest, seed)[0] for seed in seeds] + [""] * padding
        self._check_triggers_fit(pipe.tokenizer, manifest, prompts[:len(seeds)])
        latents = torch.from_numpy(np.stack(rows)).to(self.device, getattr(torch, manifest.dtype))

        def on_step(_pipe, step, _timestep, kwargs):
            if progress:
                progress(step + 1, manifest.steps)
            return kwargs

        # Trigger-scoped styles first, so that the attention recorder reads the keys they shaped.
        guided = manifest.guidance_scale > 1 and pipe.unet.config.time_cond_proj_dim is None
        scoped = getattr(pipe, "stylemint_trigger_adapters", [])
        rows = trigger_adapter.batch_rows(pipe.tokenizer, prompts, manifest.negative_prompt, guided) if scoped else []
        with torch.inference_mode(), trigger_adapter.applied(pipe.unet, scoped, rows), \
                attribution.recording(pipe.unet, recorder) if recorder else nullcontext():
            output = pipe(
                prompt=prompts,
                negative_prompt=[manifest.negative_prompt] * len(prompts) if manifest.negative_prompt else None,
                height=manifest.height,
                width=manifest.width,
                num_inference_steps=manifest.steps,
                guidance_scale=manifest.guidance_scale,
                latents=latents,
                output_type="np",
                callback_on_step_end=on_step,
            )
        return output.images[: len(seeds)]

    @staticmethod
    def _check_triggers_fit(tokenizer, manifest, prompts) -> None:
        """A style whose trigger the prompt names but the model's text length cuts off would render
        and be paid as if absent: refused instead (stylemint-tiny-2 reads 32 tokens, stylemint-tiny 20; a word outside
        its vocabulary takes one token per letter)."""
        for style in manifest.styles:
            trigger = tuple(trigger_adapter.trigger_ids(tokenizer, style.trigger))
            for prompt in prompts:
                ids = trigger_adapter.batch_rows(tokenizer, [prompt], None, False)[0]
                if contains_words(prompt, style.trigger) and not trigger_adapter.occurrences(ids, trigger):
                    length = len(tokenizer(prompt).input_ids)
                    raise RenderError(f"the prompt {prompt!r} is {length} tokens, and this model reads "
                                      f"{tokenizer.model_max_length}: the trigger {style.trigger!r} is cut off; "
                                      "shorten the prompt template")

    def _attention_recorder(self, pipe, manifest, seeds) -> attribution.AttentionRecorder:
        positions = [[attribution.token_positions(pipe.tokenizer, prompt_for(manifest, seed)[0], style.trigger)
                      for style in manifest.styles] for seed in seeds]
        positions += [[[] for _ in manifest.styles]] * max(0, self.batch_size - len(seeds))  # padding rows
        factor = pipe.vae_scale_factor
        guided = manifest.guidance_scale > 1 and pipe.unet.config.time_cond_proj_dim is None
        return attribution.AttentionRecorder(positions, (manifest.height // factor, manifest.width // factor), guided)

    def _attribute(self, pipe, manifest, seeds, images, recorder) -> list[tuple[dict, dict[str, bytes]]]:
        """Per seed: the attribution and its heat maps (docs/RENDER_SPEC.md §13)."""
        from backend.ipfs.cid import cid_of

        size = (manifest.height, manifest.width)
        triggers = [style.trigger for style in manifest.styles]
        if manifest.attribution == "attention":
            per_row = [(list(map(float, (m.sum() for m in maps))), maps) for maps in recorder.maps[:len(seeds)]]
        else:  # counterfactual: the same seeds without each style's adapter, one style at a time
            full = [quantise(image) for image in images]
            per_row = [([], []) for _ in seeds]
            for index in range(len(manifest.styles)):
                without = manifest.model_copy(update={"styles": [s for j, s in enumerate(manifest.styles) if j != index]})
                for row, image in enumerate(self._denoise(self.pipeline(without), without, seeds)):
                    distance, per_pixel = attribution.pixel_distance(full[row], quantise(image))
                    per_row[row][0].append(distance)
                    per_row[row][1].append(per_pixel)
        results = []
        for scores, maps in per_row:
            pngs = [attribution.heatmap_png(m, size) for m in maps]
            cids = [cid_of(png) for png in pngs]
            results.append((attribution.describe(manifest.attribution, triggers, scores, cids), dict(zip(cids, pngs))))
        return results

    def _encode_rows(self, images) -> list[tuple[np.ndarray, bytes]]:
        """Each row quantised and PNG-encoded, the rows side by side on threads (zlib releases the
        GIL). Serially, a committed batch of 8 at 512 px spent about 0.24 s in zlib (level 9) after
        its denoise on a 2-core CPU, and about 0.5 s on an H200's host (bench/gpu.py). On CPU the committed thread count is the ceiling, as for the denoise; on CUDA
        the host's cores are otherwise idle. The bytes are each row's alone, whatever the order."""
        def encode(image):
            pixels = quantise(image)
            return pixels, encode_png(pixels)

        workers = min(len(images), (os.cpu_count() or 1) if self.device.startswith("cuda") else self.threads)
        if workers <= 1:
            return [encode(image) for image in images]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="png") as pool:
            return list(pool.map(encode, images))

    def _render_chunk(self, pipe, manifest, seeds, progress, load_seconds) -> list[RenderResult]:
        t0 = time.perf_counter()
        attribute = self.attribute and bool(manifest.styles)
        recorder = (self._attention_recorder(pipe, manifest, seeds)
                    if attribute and manifest.attribution == "attention" else None)
        images = self._denoise(pipe, manifest, seeds, progress, recorder)
        attributed = self._attribute(pipe, manifest, seeds, images, recorder) if attribute else None
        t1 = time.perf_counter()
        fingerprint = self.fingerprint(manifest)
        manifest_sha = manifest.sha256_hex()
        results = []
        for row, (seed, (pixels, png)) in enumerate(zip(seeds, self._encode_rows(images))):
            prompt, traits = prompt_for(manifest, seed)
            results.append(RenderResult(
                png=png,
                png_sha256=hashlib.sha256(png).hexdigest(),
                pixel_sha256=hashlib.sha256(pixels.tobytes()).hexdigest(),
                width=manifest.width,
                height=manifest.height,
                seed="0x" + seed.hex(),
                prompt=prompt,
                traits=traits,
                model_sha256=manifest.model.sha256,
                manifest_sha256=manifest_sha,
                fingerprint=fingerprint,
                timings={"load_s": load_seconds, "render_s": (t1 - t0) / len(seeds),
                         "encode_s": time.perf_counter() - t1},
                attribution=attributed[row][0] if attributed else None,
                heatmaps=attributed[row][1] if attributed else {},
            ))
        return results

