"""The StyleMint contract through ape: deploy it, open projects, mint, and read what a mint did.

The ape scripts in scripts/, the demo, the tests and the benchmarks all go through these
functions, so the contract is driven one way everywhere. Services never import this module.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import lru_cache

from backend.config import PROJECT_ROOT, ensure_toolchain_env

ensure_toolchain_env()

from ape import Project  # noqa: E402  (ape reads its environment on import)

from backend.chain import project_of, token_id_of  # noqa: E402,F401  (re-exported for scripts and tests)
from backend.chain.types import MintLog, to_hex  # noqa: E402

# What `tokenURI` answers until the oracle fulfills a token: a small ERC-721 metadata document.
DEFAULT_PLACEHOLDER_URI = (
    'data:application/json;utf8,{"name":"StyleMint token (rendering)",'
    '"description":"The render oracle has not fulfilled this token yet."}'
)


# ape-solidity copies dependency sources (all of OpenZeppelin) into contracts/.cache, and ape
# scans at most 500 source files: a cache left behind by an earlier compile pushed
# contracts/testing/* out of the build. The copy is rebuilt from .ape/packages on every compile.
DEPENDENCY_CACHE = PROJECT_ROOT / "contracts" / ".cache"


def clear_dependency_cache() -> None:
    shutil.rmtree(DEPENDENCY_CACHE, ignore_errors=True)


@lru_cache(maxsize=1)
def ape_project():
    """This repository as an ape project (compiled on first use), whatever the working directory."""
    clear_dependency_cache()
    return Project(PROJECT_ROOT)


@dataclass(frozen=True)
class MintRecord(MintLog):
    """A mint this process sent: the Mint log plus the gas it cost."""

    gas_used: int = 0


def deploy(deployer, *, admin=None, payout=None, oracle=None, placeholder: str = DEFAULT_PLACEHOLDER_URI):
    """Deploy StyleMint; admin, payout and oracle default to the deployer."""
    admin = admin or deployer
    return deployer.deploy(
        ape_project().StyleMint, admin, payout or admin, oracle or admin, placeholder
    )


def create_project(
    contract,
    artist,
    *,
    name: str,
    manifest_cid: str,
    manifest_hash: bytes,
    price_wei: int,
    max_editions: int,
    unpause: bool = False,
) -> int:
    """Open a project as `artist` (it starts paused; `unpause` opens it for minting)."""
    receipt = contract.createProject(name, manifest_cid, manifest_hash, price_wei, max_editions, sender=artist)
    project_id = int(receipt.decode_logs(contract.ProjectCreated)[0].projectId)
    if unpause:
        contract.setProjectPaused(project_id, False, sender=artist)
    return project_id


def mint(contract, collector, project_id: int) -> MintRecord:
    """Mint the next edition of `project_id` as `collector`, paying the current price."""
    price = contract.projectInfo(project_id).price
    receipt = contract.mint(project_id, sender=collector, value=price)
    return decode_mint(contract, receipt)


def decode_mint(contract, receipt) -> MintRecord:
    """The Mint event of a receipt, with the transaction and block the seed is derived from."""
    events = receipt.decode_logs(contract.Mint)
    if len(events) != 1:
        raise ValueError(f"transaction {receipt.txn_hash} holds {len(events)} Mint events, expected 1")
    event = events[0]
    block = contract.chain_manager.blocks[receipt.block_number]
    return MintRecord(
        token_id=int(event.tokenId),
        project_id=int(event.projectId),
        minter=str(event.minter),
        manifest_hash=bytes(event.manifestHash),
        tx_hash=to_hex(receipt.txn_hash),
        block_number=int(receipt.block_number),
        block_hash=to_hex(block.hash),
        log_index=int(event.log_index),
        gas_used=int(receipt.gas_used),
    )

