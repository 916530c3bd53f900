"""Deploy StyleMint: `ape run deploy --network ethereum:local:foundry --account TEST::0`.

Works on any network ape knows (`--network ethereum:sepolia:node`, or a custom RPC configured in
ape-config.yaml). Admin, platform payout and oracle default to the deploying account. The address
is recorded in the data directory so that the other scripts, the oracle and the web app find it.
"""

import click
from ape import networks
from ape.cli import ConnectedProviderCommand, account_option

from backend.dev import ape_contract as core
from backend.chain.deployments import Deployment, save


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--admin", default=None, help="Platform admin address (default: the deployer).")
@click.option("--payout", default=None, help="Platform payout address (default: the admin).")
@click.option("--oracle", default=None, help="Oracle address allowed to fulfill (default: the admin).")
@click.option("--placeholder", default=core.DEFAULT_PLACEHOLDER_URI, show_default=False,
              help="tokenURI before fulfillment.")
def cli(account, admin, payout, oracle, placeholder):
    """Deploy the StyleMint core and record its address."""
    stylemint = core.deploy(account, admin=admin, payout=payout, oracle=oracle, placeholder=placeholder)
    receipt = stylemint.creation_metadata.receipt
    path = save(Deployment(
        chain_id=networks.provider.chain_id,
        address=str(stylemint.address),
        block_number=int(receipt.block_number),
        rpc_url=getattr(networks.provider, "uri", None),
    ))
    click.echo(f"StyleMint deployed at {stylemint.address} (block {receipt.block_number}, "
               f"{receipt.gas_used} gas); recorded in {path}")
