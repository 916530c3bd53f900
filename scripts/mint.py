"""Mint one token: `ape run mint --network ... --account ... --project 1`."""

import click
from ape import networks
from ape.cli import ConnectedProviderCommand, account_option

from backend.dev import ape_contract as core
from backend.chain.deployments import load


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--contract", "address", default=None, help="StyleMint address (default: the recorded deployment).")
@click.option("--project", "project_id", type=click.IntRange(min=1), required=True)
@click.option("--manifest-hash", default=None,
              help="sha256 (0x hex) of the manifest you reviewed; the mint reverts if the project's differs "
                   "(default: the project's manifest now, printed before minting).")
@click.option("--to", "recipient", default=None, help="Give the token to this address (the minter's purchaseTo); you pay.")
def cli(account, address, project_id, manifest_hash, recipient):
    """Mint the next edition of a project, paying its price (held in escrow until it is rendered)."""
    stylemint = core.ape_project().StyleMint.at(address or load(networks.provider.chain_id).address)
    if manifest_hash is None:
        info = stylemint.projectInfo(project_id)
        click.echo(f"minting with manifest {info.manifestCID} (sha256 0x{bytes(info.manifestHash).hex()})")
        expected = bytes(info.manifestHash)
    else:
        expected = bytes.fromhex(manifest_hash.removeprefix("0x"))
        if len(expected) != 32:
            raise click.BadParameter("a sha256 is 32 bytes (64 hex digits)", param_hint="--manifest-hash")
    record = core.mint(stylemint, account, project_id, to=recipient, manifest_hash=expected)
    click.echo(f"token {record.token_id} minted to {record.minter}")
    click.echo(f"mint tx {record.tx_hash} in block {record.block_number} ({record.block_hash})")
