"""Approve a project's current manifest for minting, as the platform admin:
`ape run approve_project --network ... --account ADMIN --project ID` (`--revoke` withdraws it).
"""

import click
from ape import networks
from ape.cli import ConnectedProviderCommand, account_option

from backend.dev import ape_contract as core
from backend.chain.deployments import load


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--contract", "address", default=None, help="StyleMint address (default: the recorded deployment).")
@click.option("--project", "project_id", type=click.IntRange(min=1), required=True)
@click.option("--revoke", is_flag=True, help="Withdraw the approval: the project stops minting.")
def cli(account, address, project_id, revoke):
    """Approve (or revoke) the project's current manifest; minting needs the approval."""
    stylemint = core.ape_project().StyleMint.at(address or load(networks.provider.chain_id).address)
    manifest_hash = bytes(32) if revoke else bytes(stylemint.projectInfo(project_id).manifestHash)
    stylemint.approveProject(project_id, manifest_hash, sender=account)
    click.echo(f"project {project_id} " + ("approval revoked" if revoke else f"approved (manifest 0x{manifest_hash.hex()})"))
