"""The sample deployment the demo, the tests and the benchmarks share: StyleMint with the dev
roles (anvil's accounts 0-3: deployer/admin, oracle, platform payout, artist), the sample
manifest pinned, and the sample project open for minting.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.chain.deployments import Deployment, save
from backend.dev import ape_contract as core
from backend.render.samples import sample_manifest

SAMPLE_PRICE_WEI = 10**16  # 0.01 ETH
SAMPLE_MAX_EDITIONS = 100


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


