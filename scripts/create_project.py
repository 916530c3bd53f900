"""Open a style project: `ape run create_project --network ... --account ... --name ... --manifest-cid ...`.

The manifest hash is the sha256 of the manifest's canonical bytes (hex, 0x-prefixed or not). A
project blending registered styles names them with `--styles 1,2` (in the order of the manifest's
`styles`) and `--styles-share-bps` (their share of the artist's 90 %).
"""

import click
from ape import networks
from ape.cli import ConnectedProviderCommand, account_option

from backend.dev import ape_contract as core
from backend.chain.deployments import load


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--contract", "address", default=None, help="StyleMint address (default: the recorded deployment).")
@click.option("--name", required=True)
@click.option("--manifest-cid", required=True)
@click.option("--manifest-hash", required=True, help="sha256 of the canonical manifest bytes, 32 bytes hex.")
@click.option("--price-wei", type=click.IntRange(min=0), required=True)
@click.option("--max-editions", type=click.IntRange(1, 1_000_000), required=True)
@click.option("--unpause/--paused", default=False, help="Open for minting right away (default: stay paused).")
@click.option("--styles", default="", help="Registry style ids the manifest blends, in its order (e.g. 1,2).")
@click.option("--styles-share-bps", type=click.IntRange(0, 10_000), default=0,
              help="Share of the artist's 90 % paid to the styles by measured weight, in basis points.")
def cli(account, address, name, manifest_cid, manifest_hash, price_wei, max_editions, unpause, styles,
        styles_share_bps):
    """Create a project as the given account (its artist)."""
    try:
        digest = bytes.fromhex(manifest_hash.removeprefix("0x"))
    except ValueError:
        raise click.BadParameter("not hex", param_hint="--manifest-hash")
    if len(digest) != 32:
        raise click.BadParameter(f"{len(digest)} bytes, expected 32", param_hint="--manifest-hash")
    try:
        style_ids = tuple(int(part) for part in styles.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter("comma-separated style ids, e.g. 1,2", param_hint="--styles")
    stylemint = core.ape_project().StyleMint.at(address or load(networks.provider.chain_id).address)
    project_id = core.create_project(
        stylemint, account, name=name, manifest_cid=manifest_cid, manifest_hash=digest,
        price_wei=price_wei, max_editions=max_editions, unpause=unpause, style_ids=style_ids,
        styles_share_bps=styles_share_bps,
    )
    state = "open for minting" if unpause else "paused"
    click.echo(f"project {project_id} created by {account.address} ({state})")
