"""`stylemint demo`: the whole product on one machine, from an empty folder to a minted token.

Stage by stage it starts a local anvil on 127.0.0.1, deploys StyleMint, opens and unpauses a
sample style project as a dev artist, mints one token as a dev collector and prints what the
mint produced. Later stages (oracle, IPFS, web app) hook in here.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import click

from backend.chain import contract as core
from backend.chain.anvil import Anvil
from backend.chain.deployments import Deployment, save
from backend.config import data_dir
from backend.render.renderer import Renderer
from backend.render.samples import sample_manifest
from backend.render.seed import derive_seed

SAMPLE_PRICE_WEI = 10**16  # 0.01 ETH
SAMPLE_MAX_EDITIONS = 100


def raw_cid(data: bytes) -> str:
    """CIDv1 (raw, sha2-256, base32) of a single block, as Kubo gives for files up to 256 KiB."""
    from multiformats import CID, multihash

    return str(CID("base32", 1, "raw", multihash.digest(data, "sha2-256")))


@dataclass
class DemoResult:
    rpc_url: str
    contract: str
    project_id: int
    mint: core.MintRecord
    artist_credit: int
    platform_credit: int
    seed: str
    image_path: str
    png_sha256: str


@dataclass
class SampleDeployment:
    contract: object  # ape ContractInstance
    project_id: int
    manifest_cid: str
    deployment: Deployment


def deploy_sample(node_url: str, store, *, echo=lambda *_: None, price_wei: int = SAMPLE_PRICE_WEI,
                  max_editions: int = SAMPLE_MAX_EDITIONS) -> SampleDeployment:
    """Deploy StyleMint with the dev roles, pin the sample manifest, open the sample project.

    Call inside an ape provider context connected to `node_url`.
    """
    from ape import accounts, networks

    deployer, oracle, platform, artist = accounts.test_accounts[:4]
    contract = core.deploy(deployer, admin=deployer, payout=platform, oracle=oracle)
    receipt = contract.creation_metadata.receipt if contract.creation_metadata else None
    deployment = Deployment(chain_id=networks.provider.chain_id, address=str(contract.address),
                            block_number=int(receipt.block_number) if receipt else 0, rpc_url=node_url)
    save(deployment)
    echo(f"contract   StyleMint at {contract.address}")
    manifest = sample_manifest()
    manifest_cid = store.add(manifest.canonical_bytes())
    project_id = core.create_project(
        contract, artist, name=manifest.name, manifest_cid=manifest_cid, manifest_hash=manifest.sha256(),
        price_wei=price_wei, max_editions=max_editions, unpause=True,
    )
    echo(f"project    #{project_id} '{manifest.name}' by {artist.address}, {price_wei / 1e18} ETH, "
         f"{max_editions} editions, manifest ipfs://{manifest_cid}")
    return SampleDeployment(contract, project_id, manifest_cid, deployment)


def run_demo(node: Anvil, echo=click.echo) -> DemoResult:
    """Deploy, open the sample project and mint once against a running node."""
    from ape import accounts, networks

    from backend.ipfs.config import store_from_config

    store = store_from_config()
    with networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
        echo(f"chain      {node.url} (chain id {networks.provider.chain_id})")
        sample = deploy_sample(node.url, store, echo=echo)
        contract, project_id = sample.contract, sample.project_id
        artist, collector, platform = accounts.test_accounts[3], accounts.test_accounts[4], accounts.test_accounts[2]
        manifest = sample_manifest()

        record = core.mint(contract, collector, project_id)
        artist_credit = int(contract.creditOf(artist))
        platform_credit = int(contract.creditOf(platform))
        echo(f"minted     token {record.token_id} to {record.minter}")
        echo(f"mint tx    {record.tx_hash} (block {record.block_number}, {record.gas_used} gas)")
        echo(f"split      artist {artist_credit} wei + platform {platform_credit} wei "
             f"= {artist_credit + platform_credit} wei paid")
        echo(f"tokenURI   {contract.tokenURI(record.token_id)} (until the oracle fulfils it)")

        # The render the oracle will produce for this token, from its mint's tx and block hashes.
        seed = derive_seed(record.tx_hash, record.block_hash)
        result = Renderer().render(manifest, seed)
        image = data_dir() / "demo" / f"{record.token_id}.png"
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(result.png)
        echo(f"seed       0x{seed.hex()} = keccak256(mint tx hash ‖ block hash)")
        echo(f"render     {image} ({result.width}x{result.height}, sha256 {result.png_sha256})")
        echo(f"prompt     {result.prompt}")
        return DemoResult(node.url, str(contract.address), project_id, record, artist_credit, platform_credit,
                          "0x" + seed.hex(), str(image), result.png_sha256)


def main(once: bool | None = None) -> DemoResult:
    """Run the demo; unless `once` (or DEMO_ONCE=1), keep the chain up until Ctrl-C."""
    if once is None:
        once = os.environ.get("DEMO_ONCE", "") not in ("", "0")
    with Anvil() as node:
        result = run_demo(node)
        if once:
            return result
        click.echo(f"\nThe local chain stays up at {node.url}; press Ctrl-C to stop.")
        try:
            while node.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            click.echo("stopping")
        return result
