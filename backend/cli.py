"""`stylemint`: the one console entry point (demo, render, model, manifest; oracle, serve and verify as they land).

Bad input is reported as a one-line message with exit code 2, like click's own usage errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from backend.config import ensure_toolchain_env


@click.group()
@click.version_option(package_name="stylemint")
def main() -> None:
    """stylemint: AI style minting with verifiable renders."""
    ensure_toolchain_env()


@main.command()
@click.option("--once/--keep-running", default=None,
              help="Exit after the mint (default: keep the chain up; DEMO_ONCE=1 also exits).")
def demo(once: bool | None) -> None:
    """Start anvil, deploy, open a sample project, mint one token and show the split."""
    from backend import demo as demo_module

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


@main.group()
def model() -> None:
    """Models: build the offline reference model, hash a model directory."""


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


@model.command("hash")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def hash_model(directory):
    """Print the sha256 a manifest pins for the model in DIRECTORY."""
    from backend.render.model_hash import model_sha256

    click.echo(model_sha256(directory))


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
def sample_manifest_command():
    """Print the sample manifest (reference model) in canonical form."""
    from backend.render.samples import sample_manifest

    click.echo(sample_manifest().canonical_bytes().decode(), nl=False)


if __name__ == "__main__":
    main()
