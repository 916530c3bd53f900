"""Which StyleMint contract belongs to which chain, remembered between commands.

`stylemint demo` and `ape run deploy` write here; the oracle, the web app and the verifier read
the address from here unless one is given explicitly. A record names its chain by id and by its
genesis block's hash: every local anvil has id 31337 and deploys at the same addresses, so an id
alone once made a fresh chain read an earlier run's record (and its gateway).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from backend.chain.client import StyleMintClient, rpc_call
from backend.config import data_dir
from backend.retry import RetryPolicy

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
    # The chain's genesis block hash (0x hex): which chain of that id the record is about.
    genesis_hash: str | None = None


class NotADeployment(ValueError):
    """The target named is not a StyleMint on this chain (a malformed address, no code there, a
    record of another chain with the same id): the user's input to correct, not an outage."""


ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


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


def load(chain_id: int, genesis_hash: str | None = None) -> Deployment:
    """The deployment recorded for this chain; with `genesis_hash`, only if the record is about
    the chain with that genesis (a record without one, from an older version, is taken as is)."""
    entries = _read(deployments_file())
    if str(chain_id) not in entries:
        raise LookupError(
            f"no StyleMint deployment recorded for chain {chain_id} in {deployments_file()}: "
            "deploy first (`ape run deploy --network ...`) or pass the contract address"
        )
    known = {name for name in Deployment.__dataclass_fields__}
    deployment = Deployment(**{k: v for k, v in entries[str(chain_id)].items() if k in known})
    if genesis_hash and deployment.genesis_hash and deployment.genesis_hash.lower() != genesis_hash.lower():
        raise LookupError(
            f"the deployment recorded for chain {chain_id} in {deployments_file()} is of another chain with that id "
            f"(genesis {deployment.genesis_hash[:10]}…, this chain's is {genesis_hash[:10]}…: an earlier local "
            "chain?): pass the contract address, or deploy again")
    return deployment


def recorded_gateway(address: str, genesis_hash: str | None = None) -> str | None:
    """The gateway recorded with the deployment at `address` (on the chain with `genesis_hash`
    when the record names one); no RPC needed: a gateway is only a source of bytes that the
    reader re-hashes, never an authority."""
    for entry in _read(deployments_file()).values():
        if entry.get("address", "").lower() != address.lower() or not entry.get("gateway"):
            continue
        if genesis_hash and entry.get("genesis_hash") and entry["genesis_hash"].lower() != genesis_hash.lower():
            continue  # the same address on another chain (every local anvil deploys there)
        return entry["gateway"]
    return None


def genesis_hash(rpc: str, *, policy: RetryPolicy = RetryPolicy(), timeout: float = 10.0) -> str:
    """The chain's genesis block hash (0x hex): its identity beside the chain id."""
    return "0x" + bytes(rpc_call(rpc, lambda w3: w3.eth.get_block(0)["hash"], "eth_getBlockByNumber(0)",
                                 policy=policy, timeout=timeout)).hex()


def _read(path: Path) -> dict:
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def rpc_url(rpc: str | None) -> str:
    """The RPC URL a command uses: the flag, else $STYLEMINT_RPC, else the local default."""
    return rpc or os.environ.get("STYLEMINT_RPC", DEFAULT_RPC)


def resolve_target(rpc: str | None, contract: str | None, *, probe: RetryPolicy | None = None,
                   report=None) -> tuple[StyleMintClient, int]:
    """The contract client and its start block (the recorded deployment's block if known).

    `probe`: ask the RPC once under this policy first (a command a person runs fails in seconds
    on a dead RPC, not after the long-running services' patient retries), and check that a
    contract exists at the address (`NotADeployment` otherwise). `report(line)` is told where a
    recorded deployment came from when one is used."""
    rpc = rpc_url(rpc)
    if contract is not None and not ADDRESS.fullmatch(contract):
        raise NotADeployment(f"--contract {contract[:60]!r} is not an address (0x and 40 hex digits)")
    start_block = 0
    policy = probe or RetryPolicy()
    if contract is None or probe is not None:
        chain_id = rpc_call(rpc, lambda w3: w3.eth.chain_id, "eth_chainId", policy=policy,
                            timeout=5.0 if probe else 10.0)
    if contract is None:
        deployment = load(chain_id, genesis_hash(rpc, policy=policy))
        contract, start_block = deployment.address, deployment.block_number
        if report:
            report(f"contract {contract} on chain {chain_id}: the deployment recorded in {deployments_file()}")
    if probe is not None:
        code = rpc_call(rpc, lambda w3: w3.eth.get_code(contract), "eth_getCode", policy=policy, timeout=5.0)
        if not code:
            raise NotADeployment(f"there is no contract at {contract} on chain {chain_id} ({rpc})")
    return StyleMintClient(rpc, contract), start_block
