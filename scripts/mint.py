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
def cli(account, address, project_id):
    """Mint the next edition of a project, paying its price."""
    stylemint = core.ape_project().StyleMint.at(address or load(networks.provider.chain_id).address)
    record = core.mint(stylemint, account, project_id)
    click.echo(f"token {record.token_id} minted to {record.minter}")
    click.echo(f"mint tx {record.tx_hash} in block {record.block_number} ({record.block_hash})")
