"""Seed derivation and initial noise: test vectors a third-party implementation must reproduce."""

import numpy as np
import pytest
from Crypto.Hash import keccak as pycryptodome_keccak

from backend.render.seed import SeedError, as_bytes32, choose, derive_seed, derive_seed_v1, initial_latents

TX = "0x" + "11" * 32
BLOCK = "0x" + "22" * 32


def reference_keccak(data: bytes) -> bytes:
    """An independent keccak256 (pycryptodome) to check ours against."""
    return pycryptodome_keccak.new(digest_bits=256, data=data).digest()


CONTRACT = "0x" + "ab" * 20
RANDAO = "0x" + "22" * 32


def test_seed_layout_and_vectors():
    seed = derive_seed(1, CONTRACT, 1_000_000, TX, RANDAO)
    assert seed.hex() == "db988079d0abceabba4aef01a5ac8ee2706a0d284b94c399ffc427bae506b2a7"
    layout = (b"stylemint.seed.v2" + (1).to_bytes(32, "big") + bytes.fromhex("ab" * 20)
              + (1_000_000).to_bytes(32, "big") + bytes.fromhex("11" * 32 + "22" * 32))
    assert len(layout) == 165 and seed == reference_keccak(layout)
    assert derive_seed(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 1_000_003, b"\0" * 32,
                       b"\0" * 32).hex() == "19612a09e6dcc482d287de39d223b44d1ee8b52da0088cfb9f69d0b215277ea1"


def test_every_input_moves_the_seed():
    base = derive_seed(1, CONTRACT, 1_000_000, TX, RANDAO)
    assert base != derive_seed(1, CONTRACT, 1_000_000, TX, "0x" + "23" * 32)  # only the RANDAO changed
    assert base != derive_seed(1, CONTRACT, 1_000_001, TX, RANDAO)  # a second mint in the same tx
    assert base != derive_seed(5, CONTRACT, 1_000_000, TX, RANDAO)
    assert base != derive_seed(1, "0x" + "ac" * 20, 1_000_000, TX, RANDAO)
    assert base != derive_seed(1, CONTRACT, 1_000_000, RANDAO, TX)


def test_the_retired_rule_is_still_computable_for_the_verifier():
    assert derive_seed_v1(TX, BLOCK).hex() == "3e92e0db88d6afea9edc4eedf62fffa4d92bcdfc310dccbe943747fe8302e871"
    assert derive_seed_v1(TX, BLOCK) == reference_keccak(bytes.fromhex("11" * 32 + "22" * 32))


@pytest.mark.parametrize("bad", ["0x1234", "0x" + "zz" * 32, b"\x01" * 31, "", "0x" + "11" * 33])
def test_bad_hashes_are_refused(bad):
    with pytest.raises(SeedError):
        derive_seed(1, CONTRACT, 1, bad, RANDAO)
    with pytest.raises(SeedError):
        derive_seed(1, CONTRACT, 1, TX, bad)


def test_bad_contract_is_refused():
    with pytest.raises(SeedError):
        derive_seed(1, "0x1234", 1, TX, RANDAO)


def test_hex_forms_are_equivalent():
    assert as_bytes32("0x" + "ab" * 32) == as_bytes32("AB" * 32) == bytes([0xAB]) * 32


def test_initial_latents_vectors_and_type():
    latents = initial_latents(bytes(range(32)), (4,))
    assert latents.dtype == np.float32
    assert latents.tolist() == pytest.approx(
        [-0.018161289393901825, -0.5457710027694702, -0.5354093909263611, 0.6451498866081238], abs=0
    )
    assert initial_latents(b"\xff" * 32, (4,)).tolist() == pytest.approx(
        [-0.4343668222427368, 0.14116285741329193, 1.7298470735549927, -0.8292229771614075], abs=0
    )


def test_latents_are_a_pure_function_of_all_256_bits():
    seed = bytes(range(32))
    first = initial_latents(seed, (4, 8, 8))
    assert np.array_equal(first, initial_latents(seed, (4, 8, 8)))
    # Seeds that differ only in the top byte or only in the bottom byte: both change the noise
    # (a generator seeded with 64 bits of the hash would miss one of them).
    top = bytes([seed[0] ^ 1]) + seed[1:]
    bottom = seed[:31] + bytes([seed[31] ^ 1])
    assert not np.array_equal(first, initial_latents(top, (4, 8, 8)))
    assert not np.array_equal(first, initial_latents(bottom, (4, 8, 8)))
    assert abs(float(first.mean())) < 0.5 and 0.5 < float(first.std()) < 1.5


def test_variable_choice_is_seeded_and_stable():
    options = [str(i) for i in range(100)]
    seed = derive_seed(1, CONTRACT, 1, TX, RANDAO)
    assert choose(seed, "mood", options) == choose(seed, "mood", options)
    picks = {choose(derive_seed(1, CONTRACT, 1, TX, bytes([i]) * 32), "mood", options) for i in range(40)}
    assert len(picks) > 20  # spread over the options
