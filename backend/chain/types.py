"""Plain values that cross the chain boundary: a Mint log, and hex spelled one way."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_hex as _eth_to_hex


@dataclass(frozen=True)
class MintLog:
    """A `Mint` event where it sits in the chain: the inputs of the token's seed."""

    token_id: int
    project_id: int
    minter: str
    manifest_hash: bytes
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int
    price_wei: int = 0  # what the token was sold for
    payer: str = ""  # who paid the minter (the recipient, unless bought as a gift)


def to_hex(value) -> str:
    """0x-prefixed hex of bytes, HexBytes or a hex string."""
    if isinstance(value, str):
        return value if value.startswith("0x") else "0x" + value
    return _eth_to_hex(value)
