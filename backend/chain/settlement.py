"""What the oracles sign to settle tokens: an EIP-712 `Settlement` of one or more `Fulfilment`s.

A render is a pure function of the seed and the committed manifest, so independent oracles that
render the same token sign byte-identical commitments; the contract settles a token only when M
distinct oracle keys signed the same settlement (contracts/OracleQuorum.sol, RENDER_SPEC §16).
This module is the one place that builds the typed data: the oracle signs with it, the tests
forge with it, and the verifier recovers the signers with it. eth_account does the EIP-712
encoding (arrays of structs included); nothing here hashes by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_typed_data

DOMAIN_NAME = "StyleMint oracles"
DOMAIN_VERSION = "1"

FULFILMENT_FIELDS = [
    {"name": "tokenId", "type": "uint256"},
    {"name": "seed", "type": "bytes32"},
    {"name": "metadataDigest", "type": "bytes32"},
    {"name": "prompt", "type": "string"},
    {"name": "weightsBps", "type": "uint16[]"},
    {"name": "mintBlockHash", "type": "bytes32"},
    {"name": "randomnessBlockHash", "type": "bytes32"},
]
TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Settlement": [{"name": "collection", "type": "address"}, {"name": "fulfilments", "type": "Fulfilment[]"}],
    "Fulfilment": FULFILMENT_FIELDS,
}
# The contract's `FulfillRequest` fields, in its order (= Commitment.of's arguments).
REQUEST_FIELDS = ("tokenId", "seed", "metadataDigest", "prompt", "weightsBps", "mintBlockHash", "randomnessBlockHash")
# The contract's `Proof` (ERC-7007 `proof` of one token), ABI-encoded as one tuple.
PROOF_TYPE = "(uint256,bytes32,uint16[],bytes32,bytes32,bytes32[],uint256,bytes[])"


def _bytes32(value: bytes | str) -> bytes:
    data = bytes.fromhex(value.removeprefix("0x")) if isinstance(value, str) else bytes(value)
    if len(data) != 32:
        raise ValueError(f"expected 32 bytes, got {len(data)}")
    return data


@dataclass(frozen=True)
class Commitment:
    """One token's commitment: what an oracle rendered and is ready to be held to."""

    token_id: int
    seed: bytes
    metadata_digest: bytes
    prompt: str
    weights_bps: tuple[int, ...]
    mint_block_hash: bytes
    randomness_block_hash: bytes

    @classmethod
    def of(cls, token_id: int, seed, metadata_digest, prompt: str, weights_bps, mint_block_hash,
           randomness_block_hash) -> "Commitment":
        return cls(int(token_id), _bytes32(seed), _bytes32(metadata_digest), str(prompt),
                   tuple(int(w) for w in weights_bps), _bytes32(mint_block_hash), _bytes32(randomness_block_hash))

    def message(self) -> dict:
        return {"tokenId": self.token_id, "seed": self.seed, "metadataDigest": self.metadata_digest,
                "prompt": self.prompt, "weightsBps": list(self.weights_bps), "mintBlockHash": self.mint_block_hash,
                "randomnessBlockHash": self.randomness_block_hash}

    def to_json(self) -> dict:
        """JSON form (bytes as 0x-hex), as operators publish and exchange commitments."""
        return {"token_id": self.token_id, "seed": "0x" + self.seed.hex(),
                "metadata_digest": "0x" + self.metadata_digest.hex(), "prompt": self.prompt,
                "weights_bps": list(self.weights_bps), "mint_block_hash": "0x" + self.mint_block_hash.hex(),
                "randomness_block_hash": "0x" + self.randomness_block_hash.hex()}

    @classmethod
    def from_json(cls, data: dict) -> "Commitment":
        """The inverse of `to_json`; raises ValueError (or KeyError, TypeError) on anything else."""
        if not isinstance(data.get("prompt"), str) or not isinstance(data.get("weights_bps"), list) or not all(
                isinstance(w, int) and 0 <= w <= 10_000 for w in data["weights_bps"]):
            raise ValueError("a commitment needs a prompt string and weights_bps, integers 0..10000")
        return cls.of(int(data["token_id"]), data["seed"], data["metadata_digest"], data["prompt"],
                      data["weights_bps"], data["mint_block_hash"], data["randomness_block_hash"])

    def request(self) -> tuple:
        """The contract's `FulfillRequest` tuple."""
        return (self.token_id, self.seed, self.metadata_digest, self.prompt, list(self.weights_bps),
                self.mint_block_hash, self.randomness_block_hash)


@dataclass(frozen=True)
class Domain:
    """Where a settlement counts: the chain, the OracleQuorum that checks it, the StyleMint it settles."""

    chain_id: int
    quorum: str
    collection: str


def typed_data(domain: Domain, commitments: list[Commitment]) -> dict:
    return {
        "types": TYPES,
        "primaryType": "Settlement",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": domain.chain_id,
                   "verifyingContract": domain.quorum},
        "message": {"collection": domain.collection, "fulfilments": [c.message() for c in commitments]},
    }


def sign(private_key, domain: Domain, commitments: list[Commitment]) -> bytes:
    """One oracle's 65-byte signature over the settlement of `commitments` (in this order)."""
    return bytes(Account.sign_message(encode_typed_data(full_message=typed_data(domain, commitments)),
                                      private_key).signature)


def signer_of(signature: bytes, domain: Domain, commitments: list[Commitment]) -> str:
    """The address that made `signature` over this settlement (a wrong settlement gives another address)."""
    return Account.recover_message(encode_typed_data(full_message=typed_data(domain, commitments)),
                                   signature=bytes(signature))


def in_signer_order(signatures: dict[str, bytes]) -> list[bytes]:
    """Signatures by signer address, ordered as the contract requires (ascending addresses)."""
    return [signatures[address] for address in sorted(signatures, key=lambda a: int(a, 16))]


def proof(commitments: list[Commitment], index: int, signatures: list[bytes], fulfilment_hashes: list[bytes]) -> bytes:
    """The ERC-7007 `proof` of `commitments[index]` (the contract's `Proof`), given the settlement's
    struct hashes (`StyleMint.fulfilmentHash` of each commitment, in order)."""
    c = commitments[index]
    return abi_encode([PROOF_TYPE], [(c.token_id, c.seed, list(c.weights_bps), c.mint_block_hash,
                                      c.randomness_block_hash, list(fulfilment_hashes), index, list(signatures))])


@dataclass(frozen=True)
class Proof:
    """A decoded ERC-7007 `proof` (the contract's `Proof`)."""

    token_id: int
    seed: bytes
    weights_bps: tuple[int, ...]
    mint_block_hash: bytes
    randomness_block_hash: bytes
    fulfilments: tuple[bytes, ...]  # struct hashes of every commitment of the settlement, in order
    index: int
    signatures: tuple[bytes, ...]

    @classmethod
    def decode(cls, data: bytes) -> "Proof":
        (token, seed, weights, mint_hash, randomness_hash, items, index, signatures), = abi_decode([PROOF_TYPE],
                                                                                                  bytes(data))
        return cls(int(token), bytes(seed), tuple(int(w) for w in weights), bytes(mint_hash), bytes(randomness_hash),
                   tuple(bytes(i) for i in items), int(index), tuple(bytes(s) for s in signatures))

    def signers(self, digest: bytes) -> list[str]:
        """Who signed the settlement, given its EIP-712 digest (`OracleQuorum.digest(settlementHash)`,
        computed by the contracts' own views), in the proof's order."""
        return [Account._recover_hash(bytes(digest), signature=signature) for signature in self.signatures]
