"""`stylemint`: the one console entry point (demo, serve, oracle, verify, render, model, manifest).

Bad input is reported as a one-line message with exit code 2, like click's own usage errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from backend.config import ensure_toolchain_env


@click.group()
@click.version_option(package_name="stylemint")
def main() -> None:
    """stylemint: AI style minting with verifiable renders."""
    ensure_toolchain_env()


@main.command()
@click.option("--once/--keep-running", default=None,
              help="Exit once the first token is fulfilled (default: keep running; DEMO_ONCE=1 also exits).")
def demo(once: bool | None) -> None:
    """Everything on this machine: anvil, deploy, sample project, app, oracle, one minted and rendered token."""
    from backend.dev import demo as demo_module

    demo_module.main(once=once)


class InputError(click.ClickException):
    """Bad input from the user: message and exit code 2."""

    exit_code = 2


def _load_manifest(path: Path, expected_sha256: str | None = None):
    from backend.render.manifest import ManifestError, parse_manifest

    try:
        return parse_manifest(path.read_bytes(), expected_sha256=expected_sha256)
    except ManifestError as err:
        raise InputError(f"{path}: {err}") from None


@main.command()
@click.option("--manifest", "manifest_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="Style manifest JSON.")
@click.option("--seed", required=True, help="The 32-byte render seed, 0x + 64 hex digits.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PNG to write.")
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: $STYLEMINT_DEVICE, else cuda if present).")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Torch CPU threads (default 2; recorded).")
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True,
              help="Fixed batch shape the pipeline runs at (recorded; a verifier must use the same).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON instead of text.")
def render(manifest_path, seed, output, device, threads, batch_size, as_json):
    """Render one seed of a style manifest to a canonical PNG."""
    from backend.render.renderer import RenderError, Renderer
    from backend.render.seed import SeedError, as_bytes32

    manifest = _load_manifest(manifest_path)
    try:
        seed_bytes = as_bytes32(seed, "--seed")
    except SeedError as err:
        raise InputError(str(err)) from None
    try:
        renderer = Renderer(device=device, threads=threads, batch_size=batch_size)
        with click.progressbar(length=manifest.steps, label="rendering", file=sys.stderr) as bar:
            def advance(step, total):
                bar.update(step - bar.pos)

            result = renderer.render(manifest, seed_bytes, progress=advance)
    except RenderError as err:
        raise InputError(str(err)) from None
    output.write_bytes(result.png)
    report = {
        "output": str(output),
        "png_sha256": result.png_sha256,
        "pixel_sha256": result.pixel_sha256,
        "prompt": result.prompt,
        "traits": result.traits,
        "fingerprint": result.fingerprint,
        "attribution": result.attribution,
        "seconds": round(sum(result.timings.values()), 3),
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(f"wrote {output} ({len(result.png)} bytes, {manifest.width}x{manifest.height})")
        click.echo(f"png sha256    {result.png_sha256}")
        click.echo(f"pixel sha256  {result.pixel_sha256}")
        click.echo(f"prompt        {result.prompt}")
        click.echo("environment   " + ", ".join(f"{k}={v}" for k, v in result.fingerprint.items()))
        if result.attribution:
            click.echo(f"attribution   {result.attribution['method']}: " + ", ".join(
                f"{s['trigger']} {s['weight_bps'] / 100:.2f} %" for s in result.attribution["styles"]))


@main.group()
def model() -> None:
    """Models: train the stylemint-tiny models, build the offline reference model, hash a model directory."""


@model.command("build-reference")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def build_reference(directory):
    """Build the tiny reference pipeline into DIRECTORY and print its sha256."""
    from backend.render.reference_model import ReferenceModelMismatch, build_reference_model

    try:
        digest = build_reference_model(directory)
    except ReferenceModelMismatch as err:
        raise click.ClickException(str(err)) from None
    click.echo(digest)


@model.command("train-tiny")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the model and styles/<trigger>-kv2.safetensors (new or empty; a folder of an "
                   "interrupted run resumes it).")
@click.option("--scale", type=click.FloatRange(min=0.001, max=1.0), default=1.0, show_default=True,
              help="Fraction of the shipped recipe's images and steps (1.0 reproduces the shipped quality; "
                   "about 85 minutes on 2 CPU threads).")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="Torch CPU threads.")
@click.option("--model", "model_id", type=click.Choice(["stylemint-tiny-2", "stylemint-gen"]), default="stylemint-tiny-2",
              show_default=True, help="stylemint-gen: the generative compositions at 128 px.")
@click.option("--base-steps", type=click.IntRange(min=1), default=None,
              help="Train the base this many steps instead of the recipe's; on the folder of a run whose base "
                   "stopped at fewer steps, the run is extended from its checkpoint.")
@click.option("--style-steps", type=click.IntRange(min=1), default=None, help="Steps per style instead of the recipe's.")
@click.option("--base-images", type=click.IntRange(min=2), default=None, help="Captioned images the base trains on.")
@click.option("--batch", type=click.IntRange(min=1), default=None, help="Batch size instead of the recipe's 32.")
@click.option("--base-lr", type=click.FloatRange(min=1e-6, max=1e-1), default=None,
              help="The base's peak learning rate instead of the recipe's 6e-4 (a larger batch takes a larger one).")
@click.option("--device", default="cpu", show_default=True, help="Where the networks train: cpu, or cuda on a GPU machine.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes drawing the compositions (the same images either way).")
@click.option("--vae-from", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Reuse the VAE of this model folder (a retrain of the base and styles on a shipped VAE) "
                   "instead of training one.")
def train_tiny(output, scale, threads, model_id, base_steps, style_steps, base_images, batch, base_lr, device, workers,
               vae_from):
    """Train stylemint-tiny-2 (VAE, base, three styles) from scratch on the procedural set,
    or stylemint-gen on the generative compositions; on the CPU, or with --device cuda on a GPU."""
    from dataclasses import replace

    from backend.model import tiny
    from backend.model.train import Recipe, train_all

    resuming = (output / "vae-checkpoint").is_dir()  # a run that stopped: its VAE and base checkpoint are there
    if output.exists() and any(output.iterdir()) and not resuming:
        raise InputError(f"{output} is not empty; choose a new folder")
    if vae_from is not None and not (vae_from / "vae" / "config.json").is_file():
        raise InputError(f"{vae_from} holds no vae/config.json: name a model folder")
    import torch

    if device != "cpu":
        try:
            torch.empty(1, device=device)
        except (RuntimeError, AssertionError) as err:  # no such device here, or a torch built without it
            raise InputError(f"cannot train on {device!r}: {str(err).splitlines()[0]}") from None
    recipe = replace(Recipe().scaled(scale) if scale < 1.0 else Recipe(), threads=threads)
    for name, value in (("base_steps", base_steps), ("style_steps", style_steps), ("base_images", base_images),
                        ("batch", batch), ("base_lr", base_lr)):
        if value:
            recipe = replace(recipe, **{name: value})
    arch = tiny.GENERATIVE if model_id == "stylemint-gen" else tiny.TEXT_THROUGH_ATTENTION
    if vae_from is not None and not resuming:
        from diffusers import AutoencoderKL

        AutoencoderKL.from_pretrained(vae_from / "vae", torch_dtype=torch.float32).save_pretrained(output / "vae-checkpoint")
        click.echo(f"vae: {vae_from / 'vae'}", err=True)
    click.echo(f"training {model_id} into {output} on {device}: {recipe}", err=True)
    try:
        train_all(output, recipe, report=lambda line: click.echo(line, err=True), arch=arch, model_id=model_id,
                  device=device, workers=workers)
    except ValueError as err:  # a checkpoint of another recipe or architecture
        raise InputError(str(err)) from None
    from backend.model.shipping import describe

    click.echo(describe(output))


@model.command("train-styles")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for styles/<trigger>-kv.safetensors (must not exist yet).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Steps per style (default: the recipe's 1,600).")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="Torch CPU threads.")
@click.option("--base", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Train on the model in this folder (a base from `model train-base`) instead of the default shipped model.")
@click.option("--model", "model_id", type=click.Choice(["stylemint-tiny-2", "stylemint-gen"]), default="stylemint-tiny-2",
              show_default=True, help="What the base draws: stylemint-gen's styles train on the generative compositions.")
def train_styles_command(output, steps, threads, base, model_id):
    """Train the three shipped styles as trigger-scoped adapters on the default shipped model (stylemint-tiny-2),
    or on a stylemint-gen base."""
    from dataclasses import replace

    from backend.model import tiny
    from backend.model.train import Recipe, train_styles
    from backend.render import shipped

    if output.exists() and any(output.iterdir()):
        raise InputError(f"{output} is not empty; choose a new folder")
    recipe = replace(Recipe(), threads=threads, **({"style_steps": steps} if steps else {}))
    generative = model_id == "stylemint-gen"
    if generative and base is None:
        base = shipped.MODELS[model_id].directory
    train_styles(output, recipe, report=lambda line: click.echo(line, err=True), base=base,
                 arch=tiny.GENERATIVE if generative else tiny.FIRST)
    import hashlib

    for trigger in shipped.STYLES:
        data = (output / "styles" / shipped.style_file_name(trigger)).read_bytes()
        click.echo(f"style {trigger}: sha256 {hashlib.sha256(data).hexdigest()} ({len(data)} bytes)")


@model.command("tune-decoder")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the model with the tuned decoder (must not exist yet).")
@click.option("--base", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="The stylemint-gen model folder whose decoder to tune (its encoder, UNet and text encoder are kept).")
@click.option("--images", type=click.IntRange(min=4), default=6000, show_default=True,
              help="Compositions (all treatments) the decoder learns from.")
@click.option("--steps", type=click.IntRange(min=1), default=2000, show_default=True, help="Steps of 32.")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="Torch CPU threads.")
def tune_decoder_command(output, base, images, steps, threads):
    """Sharpen a stylemint-gen model's decoder with its encoder frozen (the base and its styles stay
    valid: their latents keep their meaning); prints the new model's hash. The shipped decoder:
    the defaults, on one thread (21 minutes)."""
    import shutil
    from dataclasses import replace

    import torch

    from backend.model import tiny
    from backend.model.train import Recipe, load_shipped_base, tune_decoder
    from backend.render.model_hash import model_sha256
    from backend.render.renderer import quiet_libraries

    if output.exists():
        raise InputError(f"{output} exists; choose a new folder")
    if not (base / "vae" / "config.json").is_file():
        raise InputError(f"{base} holds no vae/config.json: name a model folder")
    quiet_libraries()
    torch.set_num_threads(threads)
    vae = load_shipped_base(directory=base)[0]
    tune_decoder(vae, replace(Recipe(), vae_images=images, threads=threads), lambda line: click.echo(line, err=True),
                 steps=steps, arch=tiny.GENERATIVE)
    shutil.copytree(base, output)
    vae.to(torch.float16).save_pretrained(output / "vae", safe_serialization=True)
    click.echo(f"{output.name}: sha256 {model_sha256(output)}")


@model.command("train-base")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the run: its checkpoint (base-checkpoint.pt) and, when done, the model in model/.")
@click.option("--scale", type=click.FloatRange(min=0.001, max=1.0), default=1.0, show_default=True,
              help="Fraction of the recipe's images and steps.")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="Torch CPU threads.")
def train_base_command(output, scale, threads):
    """Train stylemint-tiny's successor (shipped as stylemint-tiny-2) on the shipped VAE: text only through cross-attention
    (no pooled caption), cross-attention at 16x16, a 32-token window (issue 28). Checkpoints every
    200 steps; run the same command again to resume an interrupted run where it stopped."""
    from dataclasses import replace

    from backend.model import tiny
    from backend.model.train import Recipe, load_shipped_base, run_tokenizer, train_base
    from backend.render.model_hash import model_sha256
    from backend.render.renderer import quiet_libraries

    import torch

    quiet_libraries()
    torch.set_num_threads(threads)
    recipe = replace(Recipe().scaled(scale) if scale < 1.0 else Recipe(), threads=threads)
    output.mkdir(parents=True, exist_ok=True)
    vae, _, _, _ = load_shipped_base("stylemint-tiny")  # every stylemint-tiny model shares its VAE
    tok = run_tokenizer(output, tiny.TEXT_THROUGH_ATTENTION)  # kept in the folder: a resumed run reads the same ids
    report = lambda line: click.echo(line, err=True)  # noqa: E731
    try:
        unet, text = train_base(recipe, vae, tok, report, arch=tiny.TEXT_THROUGH_ATTENTION,
                                checkpoint=output / "base-checkpoint.pt")
    except ValueError as err:
        raise InputError(str(err)) from None
    model_dir = output / "model"
    tiny.pipeline(vae_model=vae, unet_model=unet, text_model=text, tok=tok).save_pretrained(model_dir, safe_serialization=True)
    click.echo(f"model: {model_dir} sha256 {model_sha256(model_dir)}")


@model.command("hash")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def hash_model(directory):
    """Print the sha256 a manifest pins for the model in DIRECTORY."""
    from backend.render.model_hash import model_sha256

    click.echo(model_sha256(directory))


@main.group()
def style() -> None:
    """Styles: train your own from a folder of your images, to register in the style library."""


@style.command("train")
@click.argument("images_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--trigger", required=True, help="The word(s) that invoke the style in a prompt, e.g. crosshatch.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The adapter file to write (.safetensors).")
@click.option("--steps", type=click.IntRange(min=1, max=20_000), default=600, show_default=True,
              help="Training steps of 32 images (600: about 5 minutes on 2 CPU threads).")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="Torch CPU threads.")
def train_style(images_dir, trigger, output, steps, threads):
    """Train a trigger-scoped style for stylemint-tiny-2 from IMAGES_DIR (at least 20 images, any
    size; captions from metadata.jsonl or NAME.txt beside each image are optional). Prints the
    file's sha256 and CID, which you register on the /styles page."""
    from backend.model.own_style import StyleDataError, train_own_style

    if output.exists():
        raise InputError(f"{output} exists; choose a new file")
    try:
        trained = train_own_style(images_dir, trigger, output, steps=steps, threads=threads,
                                  report=lambda line: click.echo(line, err=True))
    except StyleDataError as err:
        raise InputError(str(err)) from None
    click.echo(f"wrote   {trained.path} ({trained.images} images, {trained.captioned} captioned, "
               f"{trained.seconds / 60:.1f} min)")
    click.echo(f"sha256  {trained.sha256}")
    click.echo(f"cid     {trained.cid}")
    click.echo(f"trigger {trigger}")


@main.group()
def manifest() -> None:
    """Style manifests: validate, canonicalise, hash."""


@manifest.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--write-canonical", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the canonical bytes (what gets pinned) to this file.")
def check_manifest(path, write_canonical):
    """Validate a manifest and print the sha256 of its canonical bytes (the on-chain hash)."""
    parsed = _load_manifest(path)
    if write_canonical:
        write_canonical.write_bytes(parsed.canonical_bytes())
    click.echo(f"valid manifest '{parsed.name}'")
    click.echo(f"canonical sha256 0x{parsed.sha256_hex()}")
    if parsed.canonical_bytes() != path.read_bytes():
        click.echo("note: the file is not in canonical form; pin the canonical bytes (--write-canonical)")


@manifest.command("sample")
@click.option("--model", "model_id", type=click.Choice(["stylemint-gen", "stylemint-tiny-2", "stylemint-tiny", "reference"]),
              default="stylemint-gen", show_default=True,
              help="A shipped model (stylemint-gen: generative compositions at 128 px; stylemint-tiny-2: shapes at "
                   "64 px; stylemint-tiny: the first release, for its tokens), or the random-weight reference "
                   "(mechanism only).")
@click.option("--style", type=click.Choice(["stipple", "inkline", "haze", "none"]), default="stipple", show_default=True,
              help="Shipped style on the shipped model (none: the base model's look).")
def sample_manifest_command(model_id, style):
    """Print a sample manifest in canonical form (default: stylemint-gen's compositions in Stipple)."""
    from backend.render.samples import sample_manifest, tiny_manifest

    chosen = (sample_manifest() if model_id == "reference"
              else tiny_manifest(None if style == "none" else style, base=model_id))
    click.echo(chosen.canonical_bytes().decode(), nl=False)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (loopback by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--rpc", default=None, help="RPC URL (default: $STYLEMINT_RPC, else http://127.0.0.1:8545).")
@click.option("--contract", default=None, help="StyleMint address (default: the recorded deployment).")
@click.option("--ipfs", "ipfs_setting", default=None, help="Content store setting (default: $STYLEMINT_IPFS).")
@click.option("--public-rpc", default=None,
              help="RPC URL the pages give wallets (default: none; --rpc is never published).")
@click.option("--public-url", "public_urls", multiple=True,
              help="A URL visitors reach this server at (repeatable); Host and Origin must match it or loopback.")
@click.option("--explorer", default=None, metavar="URL",
              help="A block explorer for this chain (e.g. https://sepolia.etherscan.io): token pages link "
                   "transactions and addresses to it. Default: none (a local chain has none).")
@click.option("--threads", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Requests served at once (waitress threads in one process, so the rate limits count "
                   "every request).")
def serve(host, port, rpc, contract, ipfs_setting, public_rpc, public_urls, explorer, threads):
    """Serve the pages, the JSON API and the IPFS gateway (waitress, a production WSGI server)."""
    from waitress import create_server

    from backend.web.server import build_app

    from backend.chain.abi import AbiUnavailable

    if explorer and urlsplit(explorer).scheme not in ("http", "https"):
        raise InputError(f"--explorer must be an http(s) URL, not {explorer[:80]!r}")
    try:
        app = build_app(rpc=rpc, contract=contract, ipfs=ipfs_setting, public_rpc=public_rpc, public_urls=public_urls,
                        explorer=explorer)
    except (AbiUnavailable, LookupError) as err:
        raise InputError(str(err)) from None
    # Waitress buffers each response and serves `threads` requests at once; a slow route no
    # longer holds up the others, as the Werkzeug development server's did under load.
    server = create_server(app, host=host, port=port, threads=threads, ident="stylemint")
    click.echo(f"stylemint on http://{host}:{server.effective_port} ({threads} threads; Ctrl-C stops)")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _setup_logging(as_json: bool) -> None:
    import logging

    class JsonFormatter(logging.Formatter):
        def format(self, record):
            return json.dumps({"time": self.formatTime(record), "level": record.levelname,
                               "logger": record.name, "message": record.getMessage()})

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "urllib3", "web3", "ape"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@main.group(invoke_without_command=True)
@click.option("--rpc", default=None, help="RPC URL (default: $STYLEMINT_RPC, else http://127.0.0.1:8545).")
@click.option("--contract", default=None, help="StyleMint address (default: the recorded deployment).")
@click.option("--state", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="SQLite state file (default: <data dir>/oracle/state.sqlite).")
@click.option("--confirmations", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--batch", "batch_size", type=click.IntRange(min=1), default=4, show_default=True,
              help="Jobs claimed per pass (renders of one manifest go in one render call).")
@click.option("--poll", type=click.FloatRange(min=0.05), default=1.0, show_default=True, help="Seconds between scans.")
@click.option("--start-block", type=click.IntRange(min=0), default=0, help="First block to scan (default: deployment block).")
@click.option("--account", default=None, help="ape account alias holding the oracle key.")
@click.option("--keystore", default=None, help="Encrypted keystore file (password in $STYLEMINT_ORACLE_PASSWORD).")
@click.option("--worker-id", default=None,
              help="This worker's lease owner id (default: host, process and a random part, unique per run; "
                   "a supervisor that restarts a worker with a fixed id gets its leases back at once).")
@click.option("--final-depth", type=click.IntRange(min=0), default=64, show_default=True,
              help="Blocks a mint and its fulfillment must be buried under before a token counts as final "
                   "(until then reorgs are watched for and undone).")
@click.option("--lease", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Seconds a claimed job stays reserved for this worker.")
@click.option("--until-idle", is_flag=True, help="Exit once every seen mint is done (for scripts and CI).")
@click.option("--dev-mine", is_flag=True,
              help="Development chains only (anvil without --block-time): mine the blocks a seed's randomness "
                   "waits for instead of waiting for them.")
@click.option("--log-json", is_flag=True, help="One JSON object per log line.")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Render on this many Ray actors (a local Ray is started unless --ray-address is given); "
                   "0: render in this process. Each token is still rendered alone (batch 1). On a CPU, at most "
                   "cores / committed threads (refused beyond, with the reason).")
@click.option("--ray-address", default=None, help="Join this Ray cluster (e.g. ray://head:10001 or head:6379).")
@click.option("--listen", default="127.0.0.1:0", show_default=True, metavar="HOST:PORT",
              help="Serve this operator's attestations and countersign its peers' settlements here "
                   "(port 0: any free port, logged at start).")
@click.option("--peer", "peers", multiple=True, metavar="URL",
              help="Another operator of the same OracleQuorum (its --listen URL); repeat for each. Needed when "
                   "a settlement takes more than one oracle's signature.")
@click.option("--takeover", type=click.FloatRange(min=0), default=20.0, show_default=True,
              help="Seconds a follower waits (times its rank) before proposing a settlement the leader has not sent.")
@click.option("--batch-wait", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="Projects that commit batches of B > 1: seconds the oldest token waits for companions "
                   "before a partial batch is rendered, padded with filler rows.")
@click.option("--gpus-per-worker", type=click.FloatRange(min=0, min_open=True, max=1), default=None,
              help="Fraction of a GPU per render actor: 0.25 puts 4 renders in flight per GPU (default: CPU slots).")
@click.pass_context
def oracle(ctx, rpc, contract, state, confirmations, batch_size, poll, start_block, account, keystore, worker_id,
           final_depth, lease, until_idle, dev_mine, log_json, workers, ray_address, listen, peers, takeover,
           batch_wait, gpus_per_worker):
    """Run the render oracle: Mint event -> render -> pin -> fulfill, exactly once per token."""
    ctx.ensure_object(dict)
    ctx.obj.update(rpc=rpc, contract=contract, state=state)
    if ctx.invoked_subcommand is not None:
        return
    import signal
    import threading

    stop = threading.Event()

    def on_signal(signum, _frame):
        import logging

        logging.getLogger("stylemint.oracle").info("event=stopping signal=%s: finishing the job in hand", signum)
        stop.set()

    # Installed first, so a SIGTERM during start-up is also a graceful stop.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    from backend.chain.abi import AbiUnavailable
    from backend.oracle.factory import make_oracle
    from backend.oracle.keys import KeyLoadError
    from backend.oracle.ray_pool import TooManyWorkers
    from backend.oracle.service import OracleConfig, OracleNotAuthorized

    _setup_logging(log_json)
    # A pass claims at least one job per render actor, so every actor has a render in flight.
    config = OracleConfig(start_block=start_block, confirmations=confirmations, batch_size=max(batch_size, workers),
                          poll_interval=poll, lease_seconds=lease, final_depth=final_depth, dev_mine=dev_mine,
                          peers=list(peers), takeover_seconds=takeover, batch_wait=batch_wait)
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:8650")
    if worker_id:
        config.worker_id = worker_id
    try:
        service = make_oracle(rpc=rpc, contract=contract, state=state, account=account, keystore=keystore,
                              config=config, workers=workers, ray_address=ray_address, gpus_per_worker=gpus_per_worker)
    except (AbiUnavailable, KeyLoadError, LookupError, OracleNotAuthorized, TooManyWorkers) as err:
        raise InputError(str(err)) from None
    import logging

    try:
        server = service.serve_attestations(host, int(port))
    except OSError as err:
        raise InputError(f"cannot listen on {listen}: {err}") from None
    logging.getLogger("stylemint.oracle").info(
        "event=start contract=%s chain=%d signer=%s worker=%s quorum=%d attestations=%s peers=%d",
        service.chain.address, service.chain_id, service.signer.address, service.config.worker_id,
        service.threshold, server.url, len(peers))
    try:
        service.run(stop, until_idle=until_idle)
    finally:
        server.close()
        if workers or ray_address:  # stop the actors (and the local Ray this process started)
            import ray

            service.renderer.shutdown()
            ray.shutdown()


def _job_store(ctx):
    from backend.oracle.factory import default_state_path
    from backend.oracle.jobs import JobStore

    path = ctx.obj.get("state") or default_state_path()
    if not Path(path).exists():
        raise InputError(f"no oracle state at {path}: the oracle has not run here (or pass --state)")
    return JobStore(path)


@oracle.command("status")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def oracle_status(ctx, as_json):
    """Counts per state, failed jobs with reasons, cursor and lag."""
    report = _job_store(ctx).status()
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"contract {report['contract']} on chain {report['chain']}")
    click.echo("  ".join(f"{state}={n}" for state, n in report["counts"].items()))
    click.echo(f"cursor block {report['cursor']}, head when last scanned {report['head_seen']}, "
               f"lag {report['lag_blocks']} blocks")
    for job in report["failed"]:
        click.echo(f"failed token {job['token_id']} after {job['attempts']} attempts: {job['reason']}")
    for job in report["waiting"]:
        click.echo(f"waiting token {job['token_id']} ({job['state']}): {job['reason']}")
    for job in report["disagree"]:
        ours = job["ours"] or {}
        click.echo(f"oracles disagree on token {job['token_id']} ({job['state']}): this oracle committed seed "
                   f"{ours.get('seed')} metadata {ours.get('metadata_digest')} weights {ours.get('weights_bps')}")
        for oracle, theirs in job["others"].items():
            click.echo(f"  {oracle} committed seed {theirs.get('seed')} metadata {theirs.get('metadata_digest')} "
                       f"weights {theirs.get('weights_bps')}")


@oracle.command("retry")
@click.option("--token", "token_id", type=int, default=None, help="Only this token (default: every failed job).")
@click.pass_context
def oracle_retry(ctx, token_id):
    """Put failed jobs back in line for the running (or next) oracle."""
    count = _job_store(ctx).retry_failed(token_id)
    click.echo(f"{count} failed job(s) queued again")


def _with_recorded_gateway(content, client):
    """The local store, then the gateway recorded with this contract's deployment (if any)."""
    from backend.chain.deployments import recorded_gateway
    from backend.ipfs.gateway_client import GatewayReader
    from backend.ipfs.store import ReadThrough

    from backend.chain.deployments import deployments_file, genesis_hash
    from backend.chain.errors import ChainUnavailable
    from backend.retry import RetryPolicy

    if not recorded_gateway(client.address):
        return content  # none recorded for this address on any chain: nothing to ask the chain
    try:
        gateway = recorded_gateway(client.address, genesis_hash(client.rpc_url, policy=RetryPolicy(attempts=1),
                                                                timeout=5.0))
    except ChainUnavailable:
        return content  # the verifier says UNREACHABLE when it needs the chain
    if gateway:
        click.echo(f"content  also from {gateway}: the gateway recorded with this deployment in {deployments_file()}",
                   err=True)
    return ReadThrough(content, GatewayReader(gateway)) if gateway else content


def _plain(value) -> str:
    """Evidence for a person: `none`, a list joined by commas, an object as `key=value` pairs (a
    nested one in braces), never Python's repr of a dict."""
    if value is None or value == [] or value == {}:
        return "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_plain(v) if not isinstance(v, dict) else '{' + _plain(v) + '}'}"
                         for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) if not isinstance(v, dict) else "{" + _plain(v) + "}" for v in value)
    return str(value)


def _print_report(report) -> None:
    for check in report.checks:
        label = "WARN" if check.warning else ("PASS" if check.passed else "FAIL")
        click.echo(f"{label}  {check.step:<9} {check.detail}")
        if check.passed and set(check.evidence) == {"recorded", "recomputed"}:
            # They agree (the detail line says how): once in full is for --json, not three times here.
            click.echo("      recorded: as recomputed (both in full with --json)")
            continue
        for key, value in check.evidence.items():
            click.echo(f"      {key}: {_plain(value)}")
    click.echo(f"{report.outcome.upper()}: {report.reason}")
    timings = ", ".join(f"{k} {v:.2f}" for k, v in report.timings.items())
    click.echo(f"({timings})")


class TokenIdType(click.ParamType):
    """A token id as collectors' tools show it (project × 1,000,000 + edition − 1); a negative
    number is said to be no token id, not taken for an unknown option."""

    name = "TOKEN_ID"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        if not str(value).isdigit():
            self.fail(f"{str(value)[:40]!r} is not a token id: a whole number, project × 1,000,000 + edition − 1 "
                      "(token 1000000 is project 1's first edition)", param, ctx)
        return int(value)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("token_id", type=TokenIdType(), required=False)
@click.option("--project", "project_id", type=click.IntRange(min=1), default=None,
              help="Verify every fulfilled token of this project instead of one token.")
@click.option("--rpc", default=None, help="RPC URL (default: $STYLEMINT_RPC, else http://127.0.0.1:8545).")
@click.option("--contract", default=None, help="StyleMint address (default: the recorded deployment).")
@click.option("--ipfs", "ipfs_setting", default=None,
              help="Where to fetch content: embedded, kubo+URL or gateway+URL (default: $STYLEMINT_IPFS, then "
                   "the gateway recorded with the deployment, if any). Every response is re-hashed, so no "
                   "gateway needs to be trusted.")
@click.option("--threads", type=click.IntRange(min=1), default=None, help="Override the recorded thread count.")
@click.option("--device", default=None, help="Render device (default: as $STYLEMINT_DEVICE / auto).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.option("--cross-check", is_flag=True,
              help="Also measure the styles the other way (for attention attribution: one more render per "
                   "style, without it) and report both, side by side.")
def verify(token_id, project_id, rpc, contract, ipfs_setting, threads, device, as_json, cross_check):
    """Prove or refute that a token's image is the render of its mint's seed.

    Exit 0: exact. 3: tolerant (this machine is outside the project's committed render
    environment; the pixels are close, but small edits cannot be excluded). 10-19: a failure.
    20: unavailable (the token's content could not be fetched from this source: not checked)."""
    from backend.chain.abi import AbiUnavailable
    from backend.ipfs.config import IpfsConfigError, store_from_config
    from backend.chain.deployments import NotADeployment, resolve_target, rpc_url
    from backend.chain.errors import ChainUnavailable, RpcRejected
    from backend.retry import RetryPolicy
    from backend.verify.verifier import Outcome, Verifier

    if (token_id is None) == (project_id is None):
        raise InputError("give a TOKEN_ID or --project ID")
    try:
        # Asked once, briefly: a person waiting for an answer hears of a dead RPC in seconds.
        # (Not for an id no token can have, beyond uint256: the verifier refutes it without the chain.)
        impossible = token_id is not None and token_id >= 2**256
        client, _ = resolve_target(rpc, contract, probe=None if impossible else RetryPolicy(attempts=1),
                                   report=lambda line: click.echo(line, err=True))
        content = store_from_config(ipfs_setting)
        if ipfs_setting is None:
            content = _with_recorded_gateway(content, client)
    except IpfsConfigError as err:
        raise InputError(str(err)) from None
    except (AbiUnavailable, LookupError, NotADeployment) as err:
        raise InputError(str(err)) from None
    except (ChainUnavailable, RpcRejected, OSError) as err:
        click.echo(f"UNREACHABLE: the RPC at {rpc_url(rpc)} did not answer: {err}", err=True)
        sys.exit(Outcome.UNREACHABLE.exit_code)
    verifier = Verifier(client, content, threads=threads, device=device, cross_check=cross_check)

    if token_id is not None:
        report = verifier.verify(token_id)
        if as_json:
            click.echo(json.dumps(report.to_json(), indent=2, default=str))
        else:
            _print_report(report)
        sys.exit(report.exit_code)

    info = client.project_info(project_id)
    from backend.chain import token_id_of

    tokens = [token_id_of(project_id, i) for i in range(int(info["invocations"]))]
    fulfilled = [t for t in tokens if client.is_fulfilled(t)]
    reports = []
    with click.progressbar(fulfilled, label=f"verifying project {project_id}", file=sys.stderr,
                           show_pos=True) as bar:
        for token in bar:
            reports.append(verifier.verify(token))
    if as_json:
        click.echo(json.dumps({"project_id": project_id, "minted": len(tokens), "fulfilled": len(fulfilled),
                               "reports": [r.to_json() for r in reports]}, indent=2, default=str))
    else:
        click.echo(f"{'token':>10}  {'result':<16} reason")
        for report in reports:
            click.echo(f"{report.token_id:>10}  {report.outcome:<16} {report.reason}")
        counts: dict[str, int] = {}
        for report in reports:
            counts[report.outcome] = counts.get(report.outcome, 0) + 1
        click.echo(f"project {project_id}: {len(tokens)} minted, {len(fulfilled)} fulfilled, "
                   + ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
    worst = max((r.exit_code for r in reports), default=0)
    sys.exit(worst)


@main.command()
@click.option("--rpc", default=None, help="RPC URL (default: $STYLEMINT_RPC, else http://127.0.0.1:8545).")
@click.option("--contract", default=None, help="StyleMint address (default: the recorded deployment).")
@click.option("--ipfs", "ipfs_setting", default=None,
              help="Where to fetch content: embedded, kubo+URL or gateway+URL (default: $STYLEMINT_IPFS).")
@click.option("--from-block", type=click.IntRange(min=0), default=None,
              help="First block to watch (default: the deployment's block).")
@click.option("--confirmations", type=click.IntRange(min=0), default=0, show_default=True,
              help="Blocks a fulfillment must be buried under before it is checked.")
@click.option("--poll", type=click.FloatRange(min=0.1), default=12.0, show_default=True,
              help="Seconds between looks at the chain.")
@click.option("--grace", type=click.FloatRange(min=0), default=600.0, show_default=True,
              help="Seconds a fulfilled token's content may stay unavailable before it is an ALERT.")
@click.option("--once", is_flag=True, help="Check everything up to the head, then exit (1 if any check failed).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per checked fulfillment.")
@click.option("--operator", "operators", multiple=True, metavar="URL",
              help="An oracle operator's attestation URL (its `stylemint oracle --listen`); repeat for each. "
                   "ALERT when operators commit differently to a token, or one signed what was not settled.")
def watch(rpc, contract, ipfs_setting, from_block, confirmations, poll, grace, once, as_json, operators):
    """Verify every fulfillment as it lands and report each one whose check fails (a lying oracle)."""
    import time

    from backend.chain.abi import AbiUnavailable
    from backend.chain.errors import ChainUnavailable
    from backend.ipfs.config import IpfsConfigError, store_from_config
    from backend.chain.deployments import resolve_target
    from backend.verify.verifier import Outcome, Verifier
    from backend.verify.watch import FulfillmentWatch, WatchState

    try:
        client, start_block = resolve_target(rpc, contract)
        content = store_from_config(ipfs_setting)
        if ipfs_setting is None:  # a watcher with only the deployment record reads its gateway
            content = _with_recorded_gateway(content, client)
    except (IpfsConfigError, AbiUnavailable, LookupError) as err:
        raise InputError(str(err)) from None

    def show(report, alert):
        if as_json:
            click.echo(json.dumps({"token_id": report.token_id, "outcome": report.outcome, "alert": alert,
                                   "exit_code": report.exit_code, "reason": report.reason}))
        elif report.exit_code == 0:
            click.echo(f"ok     token {report.token_id}: {report.outcome}")
        elif not alert:  # not proven exact (tolerant), or content not there yet: no evidence of a lie
            click.echo(f"warn   token {report.token_id}: {report.reason}")
        else:
            click.echo(f"ALERT  token {report.token_id}: {report.outcome}: {report.reason}")

    def disagree(token_id, message):
        if as_json:
            click.echo(json.dumps({"token_id": token_id, "outcome": "oracles_disagree", "alert": True,
                                   "reason": message}))
        else:
            click.echo(f"ALERT  token {token_id}: {message}")

    state = WatchState(next_block=start_block if from_block is None else from_block)
    from backend.verify.operators import OperatorWatch

    watcher = FulfillmentWatch(client, Verifier(client, content), confirmations=confirmations, grace=grace,
                               on_report=show,
                               operators=OperatorWatch(client, list(operators), disagree) if operators else None)
    click.echo(f"watching fulfillments of {client.address} from block {state.next_block}", err=True)
    try:
        while True:
            try:
                watcher.poll(state)
            except ChainUnavailable as err:
                click.echo(f"chain unavailable, trying again in {poll:.0f} s: {err}", err=True)
                if once:
                    sys.exit(Outcome.UNREACHABLE.exit_code)
            if once:
                break
            time.sleep(poll)
    except KeyboardInterrupt:
        pass
    click.echo(f"{state.checked} fulfillment(s) checked, {state.failed} failed, {len(state.unavailable)} unavailable "
               f"within the grace period; next block {state.next_block}", err=True)
    sys.exit(1 if state.failed else 0)


if __name__ == "__main__":
    main()
