"""Approve a project's sale configuration for minting, as the platform admin, exactly as reviewed:
`ape run approve_project --network ... --account ADMIN --project ID --manifest-hash 0x.. --styles-hash 0x..`
(`--show` prints the hashes to review; `--revoke` withdraws the approval).
"""

import click
from ape import networks
from ape.cli import ConnectedProviderCommand, account_option

from backend.dev import ape_contract as core
from backend.chain.deployments import load


def _hash(_ctx, _param, value):
    if value is None:
        return None
    text = value.lower().removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise click.BadParameter(f"{value!r} is not a 32-byte hex hash (0x + 64 hex digits)")
    return bytes.fromhex(text)


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--contract", "address", default=None, help="StyleMint address (default: the recorded deployment).")
@click.option("--project", "project_id", type=click.IntRange(min=1), required=True)
@click.option("--manifest-hash", callback=_hash, help="The manifest hash you reviewed (0x..).")
@click.option("--styles-hash", callback=_hash, help="The styles configuration hash you reviewed (0x.., see --show).")
@click.option("--show", is_flag=True, help="Print the project's current hashes, styles and share; send nothing.")
@click.option("--revoke", is_flag=True, help="Withdraw the approval: the project stops minting.")
def cli(account, address, project_id, manifest_hash, styles_hash, show, revoke):
    """Approve (or revoke) the manifest and styles you reviewed; refused if the chain has others now."""
    stylemint = core.ape_project().StyleMint.at(address or load(networks.provider.chain_id).address)
    info = stylemint.projectInfo(project_id)
    current = (bytes(info.manifestHash), bytes(stylemint.stylesConfigHash(project_id)))
    if show:
        style_ids, share = stylemint.projectStyles(project_id)
        click.echo(f"project {project_id} {info.name!r}: manifest {info.manifestCID} --manifest-hash 0x{current[0].hex()} "
                   f"--styles-hash 0x{current[1].hex()} (styles {list(style_ids)}, share {share} bps)")
        return
    if revoke:
        stylemint.approveProject(project_id, bytes(32), bytes(32), sender=account)
        click.echo(f"project {project_id} approval revoked")
        return
    if manifest_hash is None or styles_hash is None:
        raise click.UsageError("give the --manifest-hash and --styles-hash you reviewed (--show prints them)")
    for what, reviewed, now in (("manifest", manifest_hash, current[0]), ("styles", styles_hash, current[1])):
        if reviewed != now:
            raise click.ClickException(f"project {project_id}'s {what} hash is 0x{now.hex()} now, not the reviewed "
                                       f"0x{reviewed.hex()}: review it again; nothing was sent")
    stylemint.approveProject(project_id, manifest_hash, styles_hash, sender=account)
    click.echo(f"project {project_id} approved (manifest 0x{manifest_hash.hex()}, styles 0x{styles_hash.hex()})")
