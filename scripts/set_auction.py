"""Sell a project by Dutch auction with settlement: `ape run set_auction --network ... --account
ARTIST --project 2 --start-price-wei ... --base-price-wei ... --opens-in 600 --half-life 600`.

The price starts at the start price when the auction opens and halves every half-life down to the
base; every buyer pays the final price (the last sale's if the edition sells out, otherwise the
base) and reclaims what they paid above it from the minter. Only before the auction opens and
before any sale of the project, while it is unlocked.
"""

import click
from ape import networks
from ape.cli import ConnectedProviderCommand, account_option

from backend.chain.deployments import load
from backend.dev import ape_contract as core

MIN_HALF_LIFE, MAX_HALF_LIFE = 60, 86_400  # the minter's bounds (seconds)


@click.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--contract", "address", default=None, help="StyleMint address (default: the recorded deployment).")
@click.option("--project", "project_id", type=click.IntRange(min=1), required=True)
@click.option("--start-price-wei", type=click.IntRange(min=1), required=True)
@click.option("--base-price-wei", type=click.IntRange(min=1), required=True,
              help="The lowest price (at least the platform's minimum); the price halves down to it.")
@click.option("--opens-in", type=click.IntRange(min=1), default=600, show_default=True,
              help="Seconds from the newest block to the auction's start.")
@click.option("--half-life", type=click.IntRange(MIN_HALF_LIFE, MAX_HALF_LIFE), default=600, show_default=True,
              help="Seconds between halvings.")
def cli(account, address, project_id, start_price_wei, base_price_wei, opens_in, half_life):
    """Set a project's auction as its artist (the given account)."""
    if start_price_wei < base_price_wei:
        raise click.BadParameter(f"{start_price_wei} is below the base price {base_price_wei}",
                                 param_hint="--start-price-wei")
    if start_price_wei > base_price_wei << 20:
        raise click.BadParameter("more than 20 halvings above the base price", param_hint="--start-price-wei")
    stylemint = core.ape_project().StyleMint.at(address or load(networks.provider.chain_id).address)
    minimum = stylemint.minimumPrice()
    if base_price_wei < minimum:
        raise click.BadParameter(f"below the platform's minimum of {minimum} wei", param_hint="--base-price-wei")
    start = core.set_auction(stylemint, account, project_id, start_price_wei=start_price_wei,
                             base_price_wei=base_price_wei, opens_in=opens_in, half_life=half_life)
    auction = core.auction_minter(stylemint)
    click.echo(f"project {project_id} sells by Dutch auction at {auction.address}: from {start_price_wei} wei at "
               f"{start} (chain time), halving every {half_life} s down to {base_price_wei} wei")
