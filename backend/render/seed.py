"""Seeds: from a mint to 32 bytes, and from 32 bytes to the render's starting noise.

`seed = keccak256(mintTxHash ‖ mintBlockHash)`. The transaction hash alone would be chosen by
the collector (re-sign the same mint with other gas prices, render each offline, broadcast the
favourite); the hash of the including block does not exist when they sign, so it salts the seed.

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


def derive_seed(mint_tx_hash: bytes | str, mint_block_hash: bytes | str) -> bytes:
    """The render seed of a token: keccak256 over the 64 bytes txHash ‖ blockHash."""
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
