"""`stylemint`: the one console entry point (demo now; oracle, serve, render, verify as they land)."""

from __future__ import annotations

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


if __name__ == "__main__":
    main()
