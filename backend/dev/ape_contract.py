"""The StyleMint contract through ape: deploy it, open projects, mint, and read what a mint did.

The ape scripts in scripts/, the demo, the tests and the benchmarks all go through these
functions, so the contract is driven one way everywhere. Services never import this module.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
def clear_dependency_cache(root: Path = PROJECT_ROOT) -> None:
    shutil.rmtree(root / "contracts" / ".cache", ignore_errors=True)


@lru_cache(maxsize=2)
def ape_project(root: Path = PROJECT_ROOT):
    """This repository (or a copy of it at `root`) as an ape project, compiled on first use,
    whatever the working directory."""
    clear_dependency_cache(root)
    return Project(root)


@dataclass(frozen=True)
class MintRecord(MintLog):
    """A mint this process sent: the Mint log plus the gas it cost."""

    gas_used: int = 0


# Deployment parameters (docs/RENDER_SPEC.md §1 and README "Trust model" give the reasoning).
# Ethereum mainnet: the seed's RANDAO comes from four epochs after the mint (EIP-4399's advice), a
# refund opens a day (7,200 blocks) after the mint, a new admin takes over two days after accepting.
MAINNET_RANDOMNESS_DELAY = 128
MAINNET_REFUND_DELAY = 7_200
MAINNET_ADMIN_TRANSFER_DELAY = 2 * 24 * 3600
# Local dev chains: the smallest sound randomness delay, refunds after 50 blocks, no admin delay.
DEV_RANDOMNESS_DELAY = 2
DEV_REFUND_DELAY = 50
DEV_ADMIN_TRANSFER_DELAY = 0


def deploy(deployer, *, admin=None, payout=None, oracle=None, placeholder: str = DEFAULT_PLACEHOLDER_URI,
           randomness_delay: int = DEV_RANDOMNESS_DELAY, refund_delay: int = DEV_REFUND_DELAY,
           admin_transfer_delay: int = DEV_ADMIN_TRANSFER_DELAY, accept_weak_randomness: bool = False,
           style_registry=None, oracles=None, threshold: int = 1):
    """Deploy StyleMint; admin, payout and oracle default to the deployer, delays to the dev values.
    A new StyleRegistry (the style library) is deployed first unless one is given, and a new
    OracleQuorum of `oracles` (default: `[oracle]`) needing `threshold` signatures (M) to settle;
    its default admin is the platform admin of both. Then the minters an artist chooses from, the
    fixed-price one (`MinterSetPrice`) and the Dutch auction with settlement
    (`MinterDAExpSettlement`), approved for projects when the deployer is the admin."""
    admin = admin or deployer
    if style_registry is None:
        style_registry = deployer.deploy(ape_project().StyleRegistry)
    keys = list(oracles) if oracles is not None else [oracle or admin]
    quorum = deployer.deploy(ape_project().OracleQuorum, admin, admin_transfer_delay, keys, threshold)
    config = (payout or admin, quorum, placeholder, randomness_delay, refund_delay, accept_weak_randomness,
              style_registry)
    contract = deployer.deploy(ape_project().StyleMint, config)
    for kind in MINTER_TYPES:
        minter = deployer.deploy(getattr(ape_project(), kind), contract)
        if str(admin) == str(deployer.address):
            contract.setMinterApproved(minter, True, sender=deployer)
    return contract


MINTER_TYPES = ("MinterSetPrice", "MinterDAExpSettlement")


def approved_minters(contract) -> dict[str, str]:
    """The minter contracts the admin approved and has not withdrawn, by `minterType()`: read from
    the core's MinterApproved logs (the core keeps no list of them)."""
    from backend.chain.client import minters_from_logs

    web3 = contract.chain_manager.provider.web3
    return minters_from_logs(web3, str(contract.address))


def set_price_minter(contract):
    """The deployment's fixed-price minter (`MinterSetPrice`)."""
    address = approved_minters(contract).get("MinterSetPrice")
    if address is None:
        raise LookupError(f"no approved MinterSetPrice for StyleMint at {contract.address}")
    return ape_project().MinterSetPrice.at(address)


def project_minter(contract, project_id: int):
    """The minter that sells a project, with its own type's ABI (every one is an IStyleMinter:
    `priceInfo`, `purchase`, `purchaseTo`)."""
    address = str(contract.projectInfo(project_id).minter)
    if int(address, 16) == 0:
        raise LookupError(f"project {project_id} has no minter: its artist has not chosen one")
    kind = ape_project().MinterSetPrice.at(address).minterType()
    return getattr(ape_project(), kind if kind in MINTER_TYPES else "MinterSetPrice").at(address)


def auction_minter(contract):
    """The deployment's Dutch auction with settlement (`MinterDAExpSettlement`)."""
    address = approved_minters(contract).get("MinterDAExpSettlement")
    if address is None:
        raise LookupError(f"no approved MinterDAExpSettlement for StyleMint at {contract.address}")
    return ape_project().MinterDAExpSettlement.at(address)


def set_auction(contract, artist, project_id: int, *, start_price_wei: int, base_price_wei: int, opens_in: int,
                half_life: int) -> int:
    """Sell a project by the Dutch auction with settlement: the artist picks the deployment's
    auction minter (unless it already sells the project) and sets the auction to open `opens_in`
    seconds after the newest block. Returns the auction's start time (chain seconds)."""
    auction = auction_minter(contract)
    if str(contract.projectInfo(project_id).minter) != str(auction.address):
        contract.setProjectMinter(project_id, auction, sender=artist)
    start = contract.chain_manager.blocks.head.timestamp + opens_in
    auction.setAuction(project_id, start_price_wei, base_price_wei, start, half_life, sender=artist)
    return start


def oracle_quorum(contract):
    """The OracleQuorum whose signatures settle a StyleMint deployment's tokens."""
    return ape_project().OracleQuorum.at(contract.ORACLES())


def grant_oracle(contract, account, admin) -> None:
    """Make `account` an oracle of `contract`'s quorum (idempotent); on a dev deployment (admin
    delay 0) its signatures count from the next block."""
    quorum = oracle_quorum(contract)
    if not quorum.hasRole(quorum.ORACLE_ROLE(), account):
        quorum.grantRole(quorum.ORACLE_ROLE(), account, sender=admin)


def settlement_domain(contract):
    from backend.chain.settlement import Domain

    return Domain(int(contract.chain_manager.chain_id), str(contract.ORACLES()), str(contract.address))


def style_registry(contract):
    """The StyleRegistry a StyleMint deployment blends styles from."""
    return ape_project().StyleRegistry.at(contract.STYLE_REGISTRY())


def register_style(contract, owner, *, name: str, trigger: str, adapter_cid: str, adapter_sha256: str,
                   approved_only: bool = False) -> int:
    """Register a style in the deployment's library as `owner`; returns its id."""
    registry = style_registry(contract)
    receipt = registry.registerStyle(name, trigger, adapter_cid, bytes.fromhex(adapter_sha256.removeprefix("0x")),
                                     1 if approved_only else 0, sender=owner)
    return int(receipt.decode_logs(registry.StyleRegistered)[0].styleId)


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
    approve_by=None,
    style_ids: tuple[int, ...] = (),
    styles_share_bps: int = 0,
) -> int:
    """Open a project as `artist` (it starts paused; `unpause` opens it for minting), sold by the
    fixed-price minter at `price_wei`, blending the registered `style_ids` (in the manifest's
    order) paid `styles_share_bps` of the artist's 90 %; with `approve_by` (the platform admin) its
    manifest is approved for minting too."""
    receipt = contract.createProject(name, manifest_cid, manifest_hash, max_editions, sender=artist)
    project_id = int(receipt.decode_logs(contract.ProjectCreated)[0].projectId)
    minter = set_price_minter(contract)
    contract.setProjectMinter(project_id, minter, sender=artist)
    minter.setPrice(project_id, price_wei, sender=artist)
    if style_ids:
        contract.setProjectStyles(project_id, list(style_ids), styles_share_bps, sender=artist)
    if approve_by is not None:
        contract.approveProject(project_id, manifest_hash, contract.stylesConfigHash(project_id), sender=approve_by)
    if unpause:
        contract.setProjectPaused(project_id, False, sender=artist)
    return project_id


def mint(contract, collector, project_id: int, *, to=None, manifest_hash: bytes | None = None) -> MintRecord:
    """Buy the next edition of `project_id` from its minter as `collector` (for `to` with
    `purchaseTo`), paying the current price for the current manifest unless `manifest_hash` names
    the one the caller saw."""
    info = contract.projectInfo(project_id)
    expected = bytes(info.manifestHash) if manifest_hash is None else manifest_hash
    minter = project_minter(contract, project_id)
    _, price = minter.priceInfo(project_id)
    if to is None:
        receipt = minter.purchase(project_id, expected, sender=collector, value=price)
    else:
        receipt = minter.purchaseTo(to, project_id, expected, sender=collector, value=price)
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



def randomness_block(contract, token_id: int) -> tuple[int, str, str]:
    """(number, hash, prevrandao) of a pending token's randomness block, mining up to one block
    past it first on a dev chain (so that a fulfillment runs after it)."""
    mint_block = int(contract.escrowOf(token_id)[0])
    number = mint_block + int(contract.RANDOMNESS_DELAY())
    chain = contract.chain_manager
    if chain.blocks.head.number < number + 1:
        chain.mine(number + 1 - chain.blocks.head.number)
    block = chain.provider.web3.eth.get_block(number)
    return number, to_hex(block["hash"]), to_hex(block["mixHash"])


def commitment(contract, token_id: int, seed: bytes, metadata_cid: str, weights_bps: list[int] | None = None,
               prompt: str = ""):
    """A token's commitment as an oracle would sign it (mining up to its randomness block first).
    Without `weights_bps`, a blended project's styles are weighted equally (largest remainder)."""
    from backend.chain.settlement import Commitment
    from backend.ipfs.cid import raw_digest
    from backend.render.attribution import basis_points

    if weights_bps is None:
        style_ids, _ = contract.projectStyles(token_id // 1_000_000)
        weights_bps = basis_points([1.0] * len(style_ids)) if style_ids else []
    _, block_hash, _ = randomness_block(contract, token_id)
    mint_block = int(contract.escrowOf(token_id)[0])
    mint_hash = to_hex(contract.chain_manager.provider.web3.eth.get_block(mint_block)["hash"])
    return Commitment.of(token_id, seed, raw_digest(metadata_cid), prompt, weights_bps, mint_hash, block_hash)


def settle(contract, commitments: list, signers, sender):
    """Sign the settlement of `commitments` with each of `signers` (accounts holding their keys)
    and submit it in one `fulfillBatch` as `sender` (anyone). Returns the receipt."""
    from backend.chain import settlement

    domain = settlement_domain(contract)
    signatures = {str(s.address): settlement.sign(s.private_key, domain, commitments) for s in signers}
    return contract.fulfillBatch([c.request() for c in commitments], settlement.in_signer_order(signatures),
                                 sender=sender)


def fulfill(contract, token_id: int, seed: bytes, metadata_cid: str, sender, weights_bps: list[int] | None = None,
            signers=None, prompt: str = ""):
    """Settle a token by hand: signed by `signers` (default: `sender`, an oracle of a quorum of one)
    and submitted by `sender`; for tests, benches and a rival oracle in the demos of what the
    verifier catches. Returns the receipt."""
    return settle(contract, [commitment(contract, token_id, seed, metadata_cid, weights_bps, prompt)],
                  signers if signers is not None else [sender], sender)
