"""How one primary sale's price is divided: the Python mirror of `StyleMint.splitSale`.

The contract's `splitSale` is the rule that moves money; this mirror exists so that read models
(the artist's earnings, the token page) can show the same numbers without an RPC call per sale.
tests/contracts/test_properties.py keeps the two equal over random prices, shares and weights,
so a change to either fails there. Nothing else in Python may divide a price.
"""

from __future__ import annotations

from typing import NamedTuple

BPS_DENOMINATOR = 10_000
PLATFORM_SHARE_BPS = 1_000  # the platform's 10 %


class Split(NamedTuple):
    artist_wei: int
    platform_wei: int
    styles_wei: list[int]


def split_sale(price_wei: int, styles_share_bps: int = 0, weights_bps: list[int] | tuple[int, ...] = ()) -> Split:
    """The platform's 10 %, each style's part of `styles_share_bps` of the artist's 90 % by its
    weight (rounded down), and the artist the rest, exactly as `splitSale` pays them."""
    if not 0 <= styles_share_bps <= BPS_DENOMINATOR:
        raise ValueError(f"a styles' share of {styles_share_bps} bps is not within 0..{BPS_DENOMINATOR}")
    if weights_bps and sum(weights_bps) != BPS_DENOMINATOR:
        raise ValueError(f"style weights sum to {sum(weights_bps)} bps, not {BPS_DENOMINATOR}")
    platform = price_wei * PLATFORM_SHARE_BPS // BPS_DENOMINATOR
    artist = price_wei - platform
    pool = artist * styles_share_bps // BPS_DENOMINATOR
    styles = [pool * weight // BPS_DENOMINATOR for weight in weights_bps]
    return Split(artist - sum(styles), platform, styles)
