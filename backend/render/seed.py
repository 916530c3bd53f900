"""Seeds: from a mint to 32 bytes, and from 32 bytes to the render's starting noise.

`seed = keccak256("stylemint.seed.v2" ‖ chainId ‖ contract ‖ tokenId ‖ mintTxHash ‖ randao)`,
where `randao` is the `prevrandao` (header `mixHash`) of block `mintBlock + RANDOMNESS_DELAY`.
The transaction hash alone would be chosen by the collector (re-sign the same mint with other gas
prices, render each offline, broadcast the favourite); the mint block's hash was the salt before,
but whoever builds that block sets it freely. The RANDAO of a block D later is fixed only after
the mint, by proposers who are not in it (docs/RENDER_SPEC.md §1 says who can still bias it).

Initial latents are drawn on the CPU from the whole 256-bit seed with NumPy's PCG64, so every
device and every batch position starts from the same noise (torch's generators differ between
CPU and CUDA, and a 64-bit seed would throw away most of the entropy).
"""

from __future__ import annotations

import hashlib

import numpy as np
from eth_hash.auto import keccak


class SeedError(ValueError):
    """A seed, transaction hash or block hash that is not 32 bytes."""


def as_bytes32(value: bytes | str, what: str = "value") -> bytes:
    """32 bytes from bytes or a 0x-prefixed (or bare) 64-digit hex string."""
    if isinstance(value, str):
        text = value[2:] if value[:2].lower() == "0x" else value
        if len(text) != 64:
            raise SeedError(f"{what} must be 32 bytes (64 hex digits), got {len(text)} digits")
        try:
            value = bytes.fromhex(text)
        except ValueError:
            raise SeedError(f"{what} is not hex: {value!r}") from None
    value = bytes(value)
    if len(value) != 32:
        raise SeedError(f"{what} must be 32 bytes, got {len(value)}")
    return value


SEED_DOMAIN = b"stylemint.seed.v2"


def derive_seed(chain_id: int, contract: str, token_id: int, mint_tx_hash: bytes | str,
                randomness: bytes | str) -> bytes:
    """The render seed of a token: keccak256 over 165 bytes, "stylemint.seed.v2" (17 ASCII bytes),
    chain id (uint256), contract (20 bytes), token id (uint256), mint tx hash, randao (32 each).

    The token id keeps two mints in one transaction (a contract wallet buying twice) apart; chain
    and contract keep deployments apart."""
    address = bytes.fromhex(contract.removeprefix("0x"))
    if len(address) != 20:
        raise SeedError(f"contract must be a 20-byte address, got {contract!r}")
    return keccak(SEED_DOMAIN + chain_id.to_bytes(32, "big") + address + token_id.to_bytes(32, "big")
                  + as_bytes32(mint_tx_hash, "mint transaction hash") + as_bytes32(randomness, "randao value"))


def derive_seed_v1(mint_tx_hash: bytes | str, mint_block_hash: bytes | str) -> bytes:
    """The retired rule, keccak256(txHash ‖ mintBlockHash): kept only so that the verifier can name
    a seed still derived this way (a block builder could choose it)."""
    return keccak(as_bytes32(mint_tx_hash, "mint transaction hash") + as_bytes32(mint_block_hash, "mint block hash"))


def seed_int(seed: bytes) -> int:
    return int.from_bytes(as_bytes32(seed, "seed"), "big")


def initial_latents(seed: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """Standard-normal float32 noise of `shape`, a pure function of the 32-byte seed.

    Generator(PCG64(SeedSequence(seed as a 256-bit big-endian integer))).standard_normal(shape,
    dtype=float64), then rounded to float32. NumPy is pinned (constraints.txt) because NumPy does
    not promise the same normal stream across releases; the spec gives test vectors.
    """
    rng = np.random.Generator(np.random.PCG64(seed_int(seed)))
    return rng.standard_normal(shape, dtype=np.float64).astype(np.float32)


def choose(seed: bytes, name: str, options: list[str]) -> str:
    """Pick one of `options` for prompt variable `name`: sha256(seed ‖ utf8(name)) mod len(options)."""
    digest = hashlib.sha256(as_bytes32(seed, "seed") + name.encode()).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


def filler_seed(first: bytes | str, row: int) -> bytes:
    """The seed of filler row `row` of a committed batch whose first token's seed is `first`:
    sha256("stylemint filler" ‖ first ‖ row as one byte). Fillers are fixed by the batch, so the
    oracle cannot pick them to steer a token's row (docs/RENDER_SPEC.md §5a)."""
    if not 0 < row < 256:
        raise ValueError("a filler row is 1..255")
    return hashlib.sha256(b"stylemint filler" + as_bytes32(first, "seed") + bytes([row])).digest()


def committed_batch(seeds: list[bytes], size: int) -> list[bytes]:
    """The `size` rows of one committed batch: the tokens' seeds in token-id order, then fillers."""
    if not 0 < len(seeds) <= size:
        raise ValueError(f"a committed batch holds 1..{size} tokens, not {len(seeds)}")
    return list(seeds) + [filler_seed(seeds[0], row) for row in range(len(seeds), size)]
