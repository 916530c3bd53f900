"""Training stylemint-tiny from nothing on a CPU: VAE, then UNet + text encoder, then one adapter per style.

Why this recipe (measured on the 2-core development machine, torch 2.13, 2 threads):
- The VAE is fully convolutional (no mid-block attention), so it trains on 32x32 crops at a
  quarter of the cost of whole images (0.47 s per batch of 32) and still encodes 64x64 images.
  It sees all four treatments: the adapters' textures must be decodable by the shared decoder.
- The UNet trains on latents encoded once (posterior means), with the text encoder jointly,
  10 % caption dropout (classifier-free guidance needs the empty caption), min-SNR-5 loss
  weighting (faster convergence at the same step count) and an EMA of the weights, which is
  what ships. 0.5 s per batch of 32.
- Each style is a trigger-scoped adapter (backend/render/trigger_adapter.py): key and value
  vectors at the trigger's positions of every cross-attention layer, trained on the frozen base
  (`train_trigger_style`). The first release trained LoRAs instead (UNet and text encoder, half
  the data without the trigger as prior preservation) and they still acted without their trigger;
  a trigger-scoped adapter cannot.
Training is not bit-reproducible across CPUs (thread scheduling, ISA), which is why the results
are committed with pinned hashes; this module reproduces a model of the same quality.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from backend.model import procedural, tiny

log = logging.getLogger(__name__)
Report = Callable[[str], None]


@dataclass(frozen=True)
class Recipe:
    """Step counts and data sizes; the defaults are what the shipped weights were trained with."""

    seed: int = 20261127
    vae_images: int = 12_000
    vae_steps: int = 1_600
    base_images: int = 20_000
    base_steps: int = 6_000
    # The shipped Stipple took these; Inkline and Haze were trained with 2,000 images and 800
    # steps, which already gave them 1.0 and 0.94 of renders judged in style (Stipple: 0.875).
    style_images: int = 3_000
    style_steps: int = 1_600
    batch: int = 32
    threads: int = 2
    base_lr: float = 6e-4  # the peak; a larger batch (a GPU run) takes a larger one

    def scaled(self, factor: float) -> "Recipe":
        """A proportionally smaller run (smoke tests of the training code itself)."""
        def shrink(n: int) -> int:
            return max(2, int(n * factor))

        return dataclasses.replace(
            self, vae_images=shrink(self.vae_images), vae_steps=shrink(self.vae_steps), base_images=shrink(self.base_images),
            base_steps=shrink(self.base_steps), style_images=shrink(self.style_images), style_steps=shrink(self.style_steps),
            batch=min(self.batch, shrink(self.base_images)))


def _to_tensor(images: np.ndarray):
    import torch

    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


class _Progress:
    """One line every `every` steps: loss (running mean), steps per second and time left."""

    def __init__(self, name: str, total: int, report: Report, every: int = 50, start: int = 0):
        self.name, self.total, self.report, self.every, self.start = name, total, report, every, start
        self.started = time.perf_counter()
        self.losses: list[float] = []

    def step(self, index: int, loss) -> None:
        """`index`: the step just taken, counted from 0 over the whole run (a resumed one included);
        `loss`: a number or a one-element tensor, read only when a line is printed (on a GPU, reading
        it every step would make the host wait for the device every step)."""
        self.losses = self.losses[-(self.every - 1):] + [loss]
        done = index + 1
        if done % self.every == 0 or done == self.total:
            elapsed = time.perf_counter() - self.started
            left = elapsed / max(1, done - self.start) * (self.total - done)
            mean = sum(float(value) for value in self.losses) / len(self.losses)
            self.report(f"{self.name}: step {done}/{self.total} loss {mean:.4f} "
                        f"({elapsed:.0f} s, about {left:.0f} s left)")


def _schedule(step: int, total: int, peak: float, warmup: int = 100) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup))))


def drawn(arch: tiny.Architecture, seed: int, count: int, treatment: str = "plain",
          workers: int = 1) -> tuple[np.ndarray, list[str]]:
    """`count` training images of what `arch` learns to draw (the procedural scenes or the
    generative compositions) with one treatment, and their captions; the compositions drawn by
    `workers` processes (the same images in the same order)."""
    if arch.subjects == "compositions":
        from backend.model import compositions

        images, items = compositions.dataset(seed, count, treatment, workers=workers)
        return images, [item.caption for item in items]
    images, scenes = procedural.dataset(seed, count, treatment)
    return images, [scene.caption for scene in scenes]


def _every_treatment(arch: tiny.Architecture, seed: int, count: int, workers: int) -> np.ndarray:
    """`count` images for an autoencoder: a quarter in each styled treatment, the rest plain (the
    styles' pictures must decode too), treatment i drawn from seed + i."""
    per = count // len(procedural.TREATMENTS)
    parts = []
    for index, treatment in enumerate(procedural.TREATMENTS):
        share = count - per * (len(procedural.TREATMENTS) - 1) if treatment == "plain" else per
        parts.append(drawn(arch, seed + index, share, treatment, workers=workers)[0])
    return np.concatenate(parts)


def train_vae(recipe: Recipe, report: Report, *, vae=None, steps: int | None = None, peak: float = 1e-3,
              arch: tiny.Architecture = tiny.FIRST, device: str = "cpu", workers: int = 1):
    """Train (or, given `vae`, continue training) the autoencoder for `steps` (default: the recipe's),
    on every treatment (the styles' pictures must decode too), on crops of half the image's side."""
    import torch

    generator = torch.Generator().manual_seed(recipe.seed)
    images = _to_tensor(_every_treatment(arch, recipe.seed + 100, recipe.vae_images, workers))
    steps = steps or recipe.vae_steps
    crop, factor = arch.image_size // 2, 2 ** (len(arch.vae_blocks) - 1)
    report(f"vae: {len(images)} images (all treatments), {steps} steps on {crop}x{crop} crops")
    torch.manual_seed(recipe.seed)
    vae = (vae or tiny.vae(arch)).to(device)
    optimiser = torch.optim.AdamW(vae.parameters(), lr=peak, weight_decay=0.0)
    progress = _Progress("vae", steps, report)
    vae.train()
    for step in range(steps):
        for group in optimiser.param_groups:
            group["lr"] = _schedule(step, steps, peak)
        index = torch.randint(0, len(images), (recipe.batch,), generator=generator)
        x0, y0 = (int(v) for v in torch.randint(0, arch.image_size - crop + 1, (2,), generator=generator) // factor * factor)
        batch = images[index, :, y0:y0 + crop, x0:x0 + crop].to(device)
        posterior = vae.encode(batch).latent_dist
        reconstruction = vae.decode(posterior.sample(generator=generator)).sample
        loss = (reconstruction - batch).abs().mean() + (reconstruction - batch).pow(2).mean() \
            + 1e-6 * posterior.kl().mean()
        loss.backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        progress.step(step, loss.item())
    vae.eval()
    return vae


def tune_decoder(vae, recipe: Recipe, report: Report, *, steps: int, arch: tiny.Architecture = tiny.FIRST,
                 peak: float = 3e-4, workers: int = 1):
    """Train only the VAE's decoder further, the encoder frozen: the latent space stays what the base
    and the styles were trained in, so a sharper decoder improves every render of the model without
    retraining either. The decoder learns to draw each image (every treatment, on crops of half the
    side) from a sample of its posterior, as in `train_vae`.

    Why: stylemint-gen's VAE had 1,600 steps; measured on 200 held-out compositions its
    reconstructions blurred dense rings and flow lines into an 8 px checkerboard (mean absolute
    error 17 of 255), and no base can draw finer than its decoder."""
    import torch

    generator = torch.Generator().manual_seed(recipe.seed + 200)
    images = _every_treatment(arch, recipe.seed + 300, recipe.vae_images, workers)
    vae.requires_grad_(False)
    with torch.inference_mode():  # the frozen encoder's posteriors, once
        moments = torch.cat([vae.quant_conv(vae.encoder(_to_tensor(images[i:i + 256])))
                             for i in range(0, len(images), 256)])
    images = _to_tensor(images)
    factor = 2 ** (len(arch.vae_blocks) - 1)
    crop = arch.image_size // 2
    report(f"decoder: {len(images)} images (all treatments), {steps} steps on {crop}x{crop} crops, encoder frozen")
    decoder = list(vae.post_quant_conv.parameters()) + list(vae.decoder.parameters())
    for parameter in decoder:
        parameter.requires_grad_(True)
    optimiser = torch.optim.AdamW(decoder, lr=peak, weight_decay=0.0)
    progress = _Progress("decoder", steps, report)
    vae.train()
    for step in range(steps):
        for group in optimiser.param_groups:
            group["lr"] = _schedule(step, steps, peak)
        index = torch.randint(0, len(images), (recipe.batch,), generator=generator)
        x0, y0 = (int(v) for v in torch.randint(0, (arch.image_size - crop) // factor + 1, (2,), generator=generator))
        mean, logvar = moments[index, :, y0:y0 + crop // factor, x0:x0 + crop // factor].chunk(2, dim=1)
        latent = mean + torch.exp(0.5 * logvar.clamp(-30.0, 20.0)) * torch.randn(mean.shape, generator=generator)
        target = images[index, :, y0 * factor:y0 * factor + crop, x0 * factor:x0 * factor + crop]
        reconstruction = vae.decode(latent).sample
        loss = (reconstruction - target).abs().mean() + (reconstruction - target).pow(2).mean()
        loss.backward()
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        progress.step(step, loss.detach())
    vae.eval().requires_grad_(False)
    return vae


def encode(vae, images: np.ndarray, batch: int = 256):
    """Posterior means, unscaled (the caller applies the scaling factor), on the VAE's device."""
    import torch

    out = []
    device = next(vae.parameters()).device
    with torch.inference_mode():
        for start in range(0, len(images), batch):
            out.append(vae.encode(_to_tensor(images[start:start + batch]).to(device)).latent_dist.mean)
    return torch.cat(out)


def through_decoder(vae, images: np.ndarray, batch: int = 64) -> np.ndarray:
    """`images` encoded (posterior means) and decoded again by `vae`, as uint8 pixels: the closest
    any render can come to them, since every render leaves through the same decoder (a judge shown
    these learns that the decoder's softness belongs to no style)."""
    import torch

    latents = encode(vae, images, batch)
    out = []
    with torch.inference_mode():
        for start in range(0, len(latents), batch):
            decoded = vae.decode(latents[start:start + batch]).sample.clamp(-1, 1)
            out.append(((decoded + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())
    return np.concatenate(out)


def _snr_weights(scheduler, timesteps):
    alphas = scheduler.alphas_cumprod[timesteps.cpu()].to(timesteps.device)
    snr = alphas / (1 - alphas)
    return snr.clamp(max=5.0) / snr


def _diffusion_loss(unet, text_states, latents, scheduler, generator, snr_weighted: bool = True):
    """The scheduler's objective: epsilon (min-SNR weighted unless told otherwise) or v (plain mean:
    v's loss already weighs a step by SNR + 1 in epsilon's terms, and min-SNR would weigh the pure
    noise step, where the caption alone must decide the picture, by zero)."""
    import torch

    # Drawn by the CPU generator wherever the model runs: a run's noise is its recipe's, and its
    # checkpoint holds one generator state.
    noise = torch.randn(latents.shape, generator=generator).to(latents.device)
    timesteps = torch.randint(0, tiny.TRAIN_TIMESTEPS, (len(latents),), generator=generator).to(latents.device)
    noisy = scheduler.add_noise(latents, noise, timesteps)
    predicted = unet(noisy, timesteps, text_states).sample
    if scheduler.config.prediction_type == "v_prediction":
        return (predicted - scheduler.get_velocity(latents, noise, timesteps)).pow(2).mean()
    per_sample = (predicted - noise).pow(2).mean(dim=(1, 2, 3))
    return (per_sample * _snr_weights(scheduler, timesteps)).mean() if snr_weighted else per_sample.mean()


def _ids(tok, captions: list[str]):
    return tok(captions, padding="max_length", max_length=tok.model_max_length, truncation=True,
               return_tensors="pt").input_ids


def train_base(recipe: Recipe, vae, tok, report: Report, *, arch: tiny.Architecture = tiny.FIRST,
               checkpoint: Path | None = None, checkpoint_every: int = 200, stop_after: int | None = None,
               device: str = "cpu", workers: int = 1):
    """The UNet and text encoder (their EMA copies, which ship), trained jointly on captioned latents.

    With `checkpoint` (a file), everything a step depends on (weights, EMA, optimiser, the step,
    the data generator's and torch's random states) is written there every `checkpoint_every`
    steps, atomically, and a later call resumes from it: an interrupted run continues as if it
    had not stopped (tested bit for bit on this CPU). `stop_after` ends a run after that many
    steps, checkpointed, returning None (how the test interrupts one). `device` (with `vae` on it)
    is where the networks train; the data and noise are drawn on the CPU either way."""
    import torch

    state = None
    if checkpoint is not None and Path(checkpoint).exists():  # checked before the data is made: a refusal comes at once
        state = torch.load(checkpoint, weights_only=False, map_location="cpu")  # loading moves the weights
        # The thread count is how fast, not what: a run may resume on more threads (the sums then
        # round differently, so bit-for-bit equality with an uninterrupted run needs the same count).
        # A run may also be extended: the same recipe with more base steps continues from the
        # checkpoint, its learning-rate schedule stretched to the new length from there on.
        same = dataclasses.replace(state["recipe"], threads=recipe.threads, base_steps=recipe.base_steps)
        if state.get("vocab", tok.get_vocab()) != tok.get_vocab():
            raise ValueError(f"{checkpoint} began with another tokenizer (its ids would change meaning mid-run): "
                             "resume with the run's own (train.run_tokenizer)")
        if same != recipe or state["arch"] != arch or state["step"] > recipe.base_steps:
            raise ValueError(f"{checkpoint} is a run of {state['recipe']} ({state['arch']}) at step {state['step']}; "
                             f"this one is {recipe} ({arch}): choose another folder")
        if state["recipe"].base_steps != recipe.base_steps:
            report(f"base: extending a run of {state['recipe'].base_steps} steps to {recipe.base_steps}")
    images, captions = drawn(arch, recipe.seed + 1, recipe.base_images, workers=workers)
    latents = encode(vae, images)
    scale = float(1.0 / latents.std())
    vae.register_to_config(scaling_factor=scale)
    latents = latents * scale
    ids = _ids(tok, captions).to(device)
    empty = _ids(tok, [""])[0].to(device)
    torch.manual_seed(recipe.seed + 2)
    unet, text = tiny.unet(arch).to(device), tiny.text_encoder(len(tok), arch).to(device)
    ema_unet, ema_text = copy.deepcopy(unet).requires_grad_(False), copy.deepcopy(text).requires_grad_(False)
    parameters = list(unet.parameters()) + list(text.parameters())
    live, ema = parameters, list(ema_unet.parameters()) + list(ema_text.parameters())
    optimiser = torch.optim.AdamW(parameters, lr=recipe.base_lr, weight_decay=1e-2)
    scheduler = tiny.train_scheduler(arch)
    generator = torch.Generator().manual_seed(recipe.seed + 3)
    start = 0
    if state is not None:
        for module, key in ((unet, "unet"), (text, "text"), (ema_unet, "ema_unet"), (ema_text, "ema_text"),
                            (optimiser, "optimiser")):
            module.load_state_dict(state[key])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        start = state["step"]
        report(f"base: resumed at step {start} from {checkpoint}")
    report(f"base: {len(latents)} captioned images, latent scale {scale:.4f}, {recipe.base_steps} steps ({arch})")

    def save(step: int) -> None:
        partial = Path(checkpoint).with_suffix(".partial")
        torch.save({"recipe": recipe, "arch": arch, "step": step, "vocab": tok.get_vocab(),
                    "unet": unet.state_dict(), "text": text.state_dict(),
                    "ema_unet": ema_unet.state_dict(), "ema_text": ema_text.state_dict(),
                    "optimiser": optimiser.state_dict(), "generator": generator.get_state(),
                    "torch_rng": torch.get_rng_state()}, partial)
        partial.replace(checkpoint)

    progress = _Progress("base", recipe.base_steps, report, start=start)
    unet.train()
    text.train()
    for step in range(start, recipe.base_steps):
        for group in optimiser.param_groups:
            group["lr"] = _schedule(step, recipe.base_steps, recipe.base_lr)
        index = torch.randint(0, len(latents), (recipe.batch,), generator=generator).to(device)
        batch_ids = ids[index].clone()
        dropped = (torch.rand(recipe.batch, generator=generator) < 0.1).to(device)
        batch_ids[dropped] = empty
        loss = _diffusion_loss(unet, text(batch_ids)[0], latents[index], scheduler, generator)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()
        optimiser.zero_grad(set_to_none=True)
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():  # one kernel a step for all the weights, not one a tensor
            torch._foreach_mul_(ema, decay)
            torch._foreach_add_(ema, live, alpha=1 - decay)
        progress.step(step, loss.detach())
        done = step + 1
        if checkpoint is not None and (done % checkpoint_every == 0 or done == stop_after):
            save(done)
        if stop_after is not None and done >= stop_after:
            return None
    return ema_unet.eval(), ema_text.eval()


def train_trigger_style(vae, unet, text, tok, images: np.ndarray, captions: list[str], trigger: str, *, steps: int,
                        batch: int, seed: int, report: Report, peak: float = 3e-2, scheduler=None) -> dict:
    """The vectors of a trigger-scoped adapter (backend/render/trigger_adapter.py) that draw the
    look of `images` wherever a prompt holds `trigger`, on the frozen base model.

    `scheduler`: the base's training objective (`tiny.train_scheduler_of` its directory; default the
    epsilon objective of the first models). Only the key and value vectors at the trigger's positions train (1,152 numbers for a one-token
    trigger on stylemint-tiny), so no prior-preservation set is needed: a prompt without the
    trigger cannot change, by construction. Every caption must hold the trigger. Unweighted loss
    (min-SNR down-weights the low-noise steps where texture is drawn). Measured on this 2-core
    CPU (stipple, 2,000 images, 600 steps of 32, about 0.45 s a step): the style judge saw the
    style in 0.875 of renders with the trigger, 0 without.
    """
    import torch

    from backend.render import trigger_adapter

    token_ids = tuple(trigger_adapter.trigger_ids(tok, trigger))
    ids = _ids(tok, captions)
    if missing := [c for c, row in zip(captions, ids.tolist()) if not trigger_adapter.occurrences(row, token_ids)]:
        raise ValueError(f"{len(missing)} captions do not hold the trigger {trigger!r} (first: {missing[0]!r})")
    device = next(unet.parameters()).device  # the networks' (a GPU run's styles train on its GPU)
    latents = encode(vae, images) * vae.config.scaling_factor
    with torch.no_grad():
        states = text(ids.to(device))[0]
    for module in (vae, unet, text):
        module.requires_grad_(False)
    vectors = {f"{name}.{projection}": torch.zeros(len(token_ids), getattr(module, projection).out_features,
                                                   requires_grad=True, device=device)
               for name, module in trigger_adapter.cross_attention_modules(unet).items()
               for projection in trigger_adapter.PROJECTIONS}
    adapter = trigger_adapter.TriggerAdapter(trigger, token_ids, vectors)
    report(f"style {trigger!r}: {len(latents)} images, {sum(v.numel() for v in vectors.values())} numbers "
           f"({len(token_ids)} trigger token(s)), {steps} steps")
    optimiser = torch.optim.Adam(vectors.values(), lr=peak)
    scheduler = scheduler or tiny.train_scheduler()
    generator = torch.Generator().manual_seed(seed)
    progress = _Progress(f"style {trigger}", steps, report)
    unet.train()
    try:
        for step in range(steps):
            for group in optimiser.param_groups:
                group["lr"] = _schedule(step, steps, peak, warmup=20)
            index = torch.randint(0, len(latents), (min(batch, len(latents)),), generator=generator)
            rows = [ids[i].tolist() for i in index]
            on = index.to(device)
            with trigger_adapter.applied(unet, [(adapter, 1.0)], rows):
                loss = _diffusion_loss(unet, states[on], latents[on], scheduler, generator, snr_weighted=False)
            loss.backward()
            optimiser.step()
            optimiser.zero_grad(set_to_none=True)
            progress.step(step, loss.detach())
    finally:
        unet.eval()
    return {key: value.detach().cpu().clone() for key, value in vectors.items()}


def train_shipped_style(recipe: Recipe, style: str, vae, unet, text, tok, report: Report,
                        arch: tiny.Architecture = tiny.FIRST, *, scheduler, workers: int = 1) -> dict:
    """One of the three shipped styles, from its procedural treatment with the trigger in every caption,
    trained with its base's objective (`scheduler`: `tiny.train_scheduler_of` the saved base). The
    trigger is the shipped one for `arch`: "stipple" on the shapes' models, "stipple style" or "in
    haze style" on stylemint-gen (a vector pair for each word); every caption ends with its
    `prompt_words`, as the sample prompts do."""
    from backend.render import shipped

    shipped_style = (shipped.GEN_STYLES if arch == tiny.GENERATIVE else shipped.STYLES)[style]
    index_of = procedural.STYLES.index(style)
    images, plain = drawn(arch, recipe.seed + 10 + index_of, recipe.style_images, style, workers=workers)
    captions = [f"{caption}, {shipped_style.prompt_words}" for caption in plain]
    return train_trigger_style(vae, unet, text, tok, images, captions, shipped_style.trigger, steps=recipe.style_steps,
                               batch=recipe.batch, seed=recipe.seed + 40 + index_of, report=report,
                               scheduler=scheduler)


def load_shipped_base(model_id: str | None = None, directory: Path | None = None):
    """(vae, unet, text encoder, tokenizer) of a shipped model (default: the default one), refused
    unless its hash is the pinned one; or of any model `directory` (a base under training)."""
    import torch
    from diffusers import StableDiffusionPipeline

    from backend.render import shipped
    from backend.render.model_hash import model_sha256

    if directory is None:
        model = shipped.MODELS[model_id or shipped.MODEL_ID]
        directory = model.directory
        digest = model_sha256(directory)
        if digest != model.sha256:
            raise RuntimeError(f"{directory} hashes to {digest}, not the pinned {model.sha256}")
    # In float32 whatever the files store (stylemint-gen's are float16; its text encoder would
    # otherwise load as float16 beside a float32 UNet), as the renderer upcasts them.
    pipe = StableDiffusionPipeline.from_pretrained(directory, safety_checker=None, feature_extractor=None,
                                                   requires_safety_checker=False, local_files_only=True,
                                                   torch_dtype=torch.float32)
    return pipe.vae.eval(), pipe.unet.eval(), pipe.text_encoder.eval(), pipe.tokenizer


def train_styles(output: Path, recipe: Recipe = Recipe(), report: Report = print, base: Path | None = None,
                 arch: tiny.Architecture = tiny.FIRST) -> dict:
    """The three shipped styles as trigger-scoped adapters on the default shipped model (or the
    model in `base`, which draws what `arch` draws: tiny.GENERATIVE for a stylemint-gen base), into
    `output/styles/`; returns timings (seconds per style)."""
    import torch

    from backend.render import shipped, trigger_adapter
    from backend.render.renderer import quiet_libraries

    quiet_libraries()
    torch.set_num_threads(recipe.threads)
    vae, unet, text, tok = load_shipped_base(directory=base)
    objective = tiny.train_scheduler_of(base or shipped.MODELS[shipped.MODEL_ID].directory)
    timings = {}
    for style in procedural.STYLES:
        mark = time.perf_counter()
        vectors = train_shipped_style(recipe, style, vae, unet, text, tok, report, arch, scheduler=objective)
        (Path(output) / "styles").mkdir(parents=True, exist_ok=True)
        trigger_adapter.save(Path(output) / "styles" / shipped.style_file_name(style), vectors)
        timings[f"style_{style}_s"] = time.perf_counter() - mark
    report("timings: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    return timings


def run_tokenizer(output: Path, arch: tiny.Architecture):
    """The run's tokenizer, made once and kept in its folder (`tokenizer-checkpoint/`) until the run
    ends, so that a resumed run reads every caption with the token ids it began with: the library's
    BPE trainer breaks ties between equally frequent pairs in no fixed order (measured: three merge
    orders in six processes started at once; the pieces' ids differed, the whole words' not)."""
    from transformers import CLIPTokenizer

    folder = Path(output) / "tokenizer-checkpoint"
    if (folder / "tokenizer.json").is_file():
        return CLIPTokenizer.from_pretrained(folder)
    tok = tiny.tokenizer(arch)
    tok.save_pretrained(folder)
    return tok


def train_all(output: Path, recipe: Recipe = Recipe(), report: Report = print, *,
              arch: tiny.Architecture = tiny.TEXT_THROUGH_ATTENTION, model_id: str = "stylemint-tiny-2",
              device: str = "cpu", workers: int = 1) -> dict:
    """Train everything from scratch into `output` (`<model_id>/` and `styles/<trigger>-kv2.safetensors`):
    the VAE, the base in `arch` (default: the shipped stylemint-tiny-2's) and the three styles; returns timings.
    `device`: where the networks train ("cuda" on a GPU machine); `workers`: processes drawing the
    compositions (the same images either way)."""
    import torch

    from backend.render import shipped, trigger_adapter
    from backend.render.model_hash import model_sha256
    from backend.render.renderer import quiet_libraries

    quiet_libraries()
    torch.set_num_threads(recipe.threads)
    output = Path(output)
    timings = {}
    started = time.perf_counter()
    tok = run_tokenizer(output, arch)
    checkpoint = output / "vae-checkpoint"
    if (checkpoint / "config.json").exists():  # a run that stopped after its VAE resumes from it
        from diffusers import AutoencoderKL

        vae = AutoencoderKL.from_pretrained(checkpoint, torch_dtype=torch.float32).eval().to(device)
        report(f"vae: resumed from {checkpoint}")
    else:
        vae = train_vae(recipe, report, arch=arch, device=device, workers=workers)
        vae.save_pretrained(checkpoint)
    timings["vae_s"] = time.perf_counter() - started
    mark = time.perf_counter()
    # Checkpointed every 200 steps: the same command resumes an interrupted run where it stopped.
    unet, text = train_base(recipe, vae, tok, report, arch=arch, checkpoint=output / "base-checkpoint.pt",
                            device=device, workers=workers)
    timings["base_s"] = time.perf_counter() - mark
    pipe = tiny.pipeline(vae_model=vae, unet_model=unet, text_model=text, tok=tok, arch=arch)
    if arch.stored_dtype != "float32":
        # The renderer loads the stored weights and upcasts them to the manifest's dtype; the styles
        # are trained on exactly those (rounded) weights, as every render will use them.
        pipe.to(getattr(torch, arch.stored_dtype))
    pipe.save_pretrained(output / model_id, safe_serialization=True)
    for module in (vae, unet, text):
        module.to(torch.float32)
    report(f"saved {output / model_id} (sha256 {model_sha256(output / model_id)})")
    objective = tiny.train_scheduler_of(output / model_id)
    for style in procedural.STYLES:
        mark = time.perf_counter()
        vectors = train_shipped_style(recipe, style, vae, unet, text, tok, report, arch, scheduler=objective,
                                      workers=workers)
        (output / "styles").mkdir(parents=True, exist_ok=True)
        trigger_adapter.save(output / "styles" / shipped.style_file_name(style), vectors)
        timings[f"style_{style}_s"] = time.perf_counter() - mark
    shutil.rmtree(checkpoint, ignore_errors=True)
    shutil.rmtree(output / "tokenizer-checkpoint", ignore_errors=True)
    (output / "base-checkpoint.pt").unlink(missing_ok=True)
    timings["total_s"] = time.perf_counter() - started
    report("timings: " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()))
    return timings
