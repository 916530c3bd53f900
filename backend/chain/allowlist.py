"""A project's allowlist: the addresses an artist lets buy, as a Merkle tree the minter checks.

The tree is OpenZeppelin's standard Merkle tree (leaves `["address"]`), built by OpenZeppelin's
own `@openzeppelin/merkle-tree` package (scripts/allowlist.mjs) so that its root and proofs are
exactly what `MerkleProof` in MinterSetPrice verifies; this module validates the list, runs it,
and serves each address its proof.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass

from eth_utils import is_address, to_checksum_address

from backend.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "allowlist.mjs"
MAX_ADDRESSES = 20_000  # a proof stays 15 hashes; the list pins as a few hundred kB


class InvalidAllowlist(ValueError):
    """The list is not a non-empty JSON list of distinct Ethereum addresses."""


@dataclass(frozen=True)
class Allowlist:
    root: str
    proofs: dict[str, list[str]]  # checksummed address -> proof (bytes32 hex)

    @property
    def addresses(self) -> list[str]:
        return sorted(self.proofs)

    def proof_for(self, address: str) -> list[str] | None:
        """The address's proof, or None when it is not on the list."""
        if not is_address(address):
            return None
        return self.proofs.get(to_checksum_address(address))

    def to_json(self) -> dict:
        """What is pinned beside the root: the list itself (anyone rebuilds the tree from it)."""
        return {"format": "openzeppelin-standard-merkle-tree/address", "root": self.root, "addresses": self.addresses}


def parse_addresses(entries) -> list[str]:
    """The distinct addresses of a list, checksummed, in the order given; InvalidAllowlist says
    which entry is wrong."""
    if not isinstance(entries, list) or not entries:
        raise InvalidAllowlist("an allowlist is a non-empty list of addresses")
    if len(entries) > MAX_ADDRESSES:
        raise InvalidAllowlist(f"{len(entries)} addresses; at most {MAX_ADDRESSES}")
    seen: dict[str, None] = {}
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, str) or not is_address(entry.strip()):
            raise InvalidAllowlist(f"entry {position} ({str(entry)[:60]!r}) is not an Ethereum address")
        seen.setdefault(to_checksum_address(entry.strip()), None)
    return list(seen)


def build(entries) -> Allowlist:
    """The allowlist of these addresses (validated, duplicates dropped)."""
    addresses = parse_addresses(entries)
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH: `make setup` installs it (the allowlist uses @openzeppelin/merkle-tree)")
    result = subprocess.run([node, str(SCRIPT)], input=json.dumps(addresses), capture_output=True, text=True,
                            timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"scripts/allowlist.mjs failed: {result.stderr.strip()[-500:]}")
    tree = json.loads(result.stdout)
    return Allowlist(root=tree["root"], proofs={to_checksum_address(a): p for a, p in tree["proofs"].items()})
