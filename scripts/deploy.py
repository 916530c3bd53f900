"""Deploy StyleMint: `ape run deploy --network ethereum:local:foundry --account TEST::0`.

Works on any network ape knows (`--network ethereum:sepolia:node`, or a custom RPC configured in
ape-config.yaml). Admin, platform payout and the oracle default to the deploying account; `--oracle` (repeatable)
and `--threshold` set up the OracleQuorum (M of N oracle keys must sign a settlement; README
"Trust model"). The delays
default to the mainnet values (D = 128, R = 7,200 blocks, admin hand-over after 2 days; README
"The contract") and to the dev values on a local chain (31337 or 1337). The address is recorded in
the data directory so that the other scripts, the oracle and the web app find it.
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
@click.option("--oracle", "oracles", multiple=True,
              help="An oracle key whose signature counts towards settling tokens (repeatable; default: the admin).")
@click.option("--threshold", type=click.IntRange(min=1), default=1, show_default=True,
              help="M: distinct oracle signatures a settlement needs (at most the number of --oracle).")
@click.option("--placeholder", default=core.DEFAULT_PLACEHOLDER_URI, show_default=False,
              help="tokenURI before fulfillment.")
@click.option("--randomness-delay", type=click.IntRange(2, 128), default=None,
              help="D: blocks from a mint to the block whose RANDAO seeds it (default: 128, or 2 on a local chain).")
@click.option("--refund-delay", type=click.IntRange(min=3), default=None,
              help="R: blocks after a mint until an unfulfilled token is refundable (default: 7200, or 50 locally).")
@click.option("--admin-delay", type=click.IntRange(min=0), default=None,
              help="Seconds before a new admin takes over (default: 2 days, or 0 locally).")
@click.option("--accept-weak-randomness", is_flag=True,
              help="Deploy on a chain whose prevrandao is not RANDAO (docs/RENDER_SPEC.md §1: seeds are then "
                   "only as fair as that chain); public on chain as WEAK_RANDOMNESS().")
@click.option("--gateway", default=None, metavar="URL",
              help="An HTTP IPFS gateway serving this deployment's content (e.g. the operator's `stylemint serve`): "
                   "recorded, so `stylemint verify` reads there what its local store lacks.")
def cli(account, admin, payout, oracles, threshold, placeholder, randomness_delay, refund_delay, admin_delay,
        accept_weak_randomness, gateway):
    """Deploy the StyleMint core and record its address."""
    local = networks.provider.chain_id in (31337, 1337)
    if threshold > max(1, len(oracles)):
        raise click.BadParameter(f"{threshold} signatures cannot come from {max(1, len(oracles))} oracle(s)",
                                 param_hint="--threshold")
    stylemint = core.deploy(
        account, admin=admin, payout=payout, oracles=list(oracles) or None, threshold=threshold,
        oracle=admin, placeholder=placeholder,
        randomness_delay=randomness_delay or (core.DEV_RANDOMNESS_DELAY if local else core.MAINNET_RANDOMNESS_DELAY),
        refund_delay=refund_delay or (core.DEV_REFUND_DELAY if local else core.MAINNET_REFUND_DELAY),
        admin_transfer_delay=(admin_delay if admin_delay is not None else
                              core.DEV_ADMIN_TRANSFER_DELAY if local else core.MAINNET_ADMIN_TRANSFER_DELAY),
        accept_weak_randomness=accept_weak_randomness)
    receipt = stylemint.creation_metadata.receipt
    path = save(Deployment(
        chain_id=networks.provider.chain_id,
        address=str(stylemint.address),
        block_number=int(receipt.block_number),
        rpc_url=getattr(networks.provider, "uri", None),
        gateway=gateway.rstrip("/") if gateway else None,
        # The chain's identity beside its id: a record of an earlier local chain is never taken for this one.
        genesis_hash="0x" + bytes(networks.provider.web3.eth.get_block(0)["hash"]).hex(),
    ))
    click.echo(f"StyleMint deployed at {stylemint.address} (block {receipt.block_number}, "
               f"{receipt.gas_used} gas); recorded in {path}")
    quorum = core.oracle_quorum(stylemint)
    click.echo(f"randomness delay {stylemint.RANDOMNESS_DELAY()} blocks, refunds after {stylemint.REFUND_DELAY()} "
               f"blocks, admin hand-over delay {quorum.defaultAdminDelay()} s (the admin is OracleQuorum's)"
               + (", WEAK randomness accepted" if stylemint.WEAK_RANDOMNESS() else ""))
    minters = core.approved_minters(stylemint)
    if minters:
        click.echo("minters: " + ", ".join(f"{kind} at {address}" for kind, address in sorted(minters.items())))
    else:
        click.echo("minters: MinterSetPrice deployed but not approved: the admin sends "
                   "setMinterApproved(<its address>, true) before projects can sell")
    click.echo(f"oracles: OracleQuorum at {quorum.address}, {quorum.threshold()} of "
               f"{len(oracles) or 1} signature(s) settle a token")
