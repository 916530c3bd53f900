"""Which StyleMint contract belongs to which chain, remembered between commands.

`stylemint demo` and `ape run deploy` write here; the oracle, the web app and the verifier read
the address from here unless one is given explicitly.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from backend.chain.client import StyleMintClient, rpc_call
from backend.config import data_dir

DEFAULT_RPC = "http://127.0.0.1:8545"


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    address: str
    block_number: int
    rpc_url: str | None = None
    # An HTTP IPFS gateway that serves this deployment's content (its operator's `stylemint serve`):
    # the verifier reads there what the local store does not have. Re-hashed, so never trusted.
    gateway: str | None = None


def deployments_file() -> Path:
    return data_dir() / "deployments.json"


def save(deployment: Deployment) -> Path:
    """Record a deployment (atomically: a half-written file would lose every other chain's entry)."""
    path = deployments_file()
    entries = _read(path)
    entries[str(deployment.chain_id)] = asdict(deployment)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entries, indent=2, sort_keys=True))
    os.replace(tmp, path)
    return path


def load(chain_id: int) -> Deployment:
    entries = _read(deployments_file())
    if str(chain_id) not in entries:
        raise LookupError(
            f"no StyleMint deployment recorded for chain {chain_id} in {deployments_file()}: "
            "deploy first (`ape run deploy --network ...`) or pass the contract address"
        )
    known = {name for name in Deployment.__dataclass_fields__}
    return Deployment(**{k: v for k, v in entries[str(chain_id)].items() if k in known})


def recorded_gateway(address: str) -> str | None:
    """The gateway recorded with the deployment at `address` on any chain (no RPC needed: a
    gateway is only a source of bytes that the reader re-hashes, never an authority)."""
    for entry in _read(deployments_file()).values():
        if entry.get("address", "").lower() == address.lower() and entry.get("gateway"):
            return entry["gateway"]
    return None


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def rpc_url(rpc: str | None) -> str:
    """The RPC URL a command uses: the flag, else $STYLEMINT_RPC, else the local default."""
    return rpc or os.environ.get("STYLEMINT_RPC", DEFAULT_RPC)


def resolve_target(rpc: str | None, contract: str | None) -> tuple[StyleMintClient, int]:
    """The contract client and its start block (the recorded deployment's block if known)."""
    rpc = rpc_url(rpc)
    start_block = 0
    if contract is None:
        deployment = load(rpc_call(rpc, lambda w3: w3.eth.chain_id, "eth_chainId"))
        contract, start_block = deployment.address, deployment.block_number
    return StyleMintClient(rpc, contract), start_block
