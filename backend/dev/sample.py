"""The sample deployment the demo, the tests and the benchmarks share: StyleMint with the dev
roles (anvil's accounts 0-3: deployer/admin, oracle, platform payout, artist), the sample
manifest pinned, and the sample project open for minting.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.chain.deployments import Deployment, save
from backend.dev import ape_contract as core
from backend.render import shipped
from backend.render.samples import sample_manifest

SAMPLE_PRICE_WEI = 10**16  # 0.01 ETH
SAMPLE_MAX_EDITIONS = 100


@dataclass
class SampleDeployment:
    contract: object  # ape ContractInstance
    project_id: int
    manifest_cid: str
    deployment: Deployment


def pin_manifest(store, manifest) -> str:
    """Pin a manifest and, for a shipped style it names, the style's weights; returns the manifest CID.

    The renderer fetches style weights by CID: a manifest whose weights are not in the store
    could never be rendered, so they go in first, and the CID the store reports must be the one
    the manifest names.
    """
    for weights in ([manifest.style_weights] if manifest.style_weights else manifest.styles):
        style = next((s for s in shipped.STYLES.values() if s.sha256 == weights.sha256), None)
        if style is None:
            raise ValueError(f"style weights {weights.cid} are not a shipped style; pin them first")
        cid = store.add(style.read())
        if cid != weights.cid:
            raise ValueError(f"the store gave the {style.name} weights CID {cid}, the manifest names {weights.cid}")
    return store.add(manifest.canonical_bytes())


def deploy_sample(node_url: str, store, *, echo=lambda *_: None, price_wei: int = SAMPLE_PRICE_WEI,
                  max_editions: int = SAMPLE_MAX_EDITIONS, manifest=None) -> SampleDeployment:
    """Deploy StyleMint with the dev roles, pin the sample manifest (default: the reference
    model's), open the sample project.

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
    manifest = manifest or sample_manifest()
    manifest_cid = pin_manifest(store, manifest)
    project_id = core.create_project(
        contract, artist, name=manifest.name, manifest_cid=manifest_cid, manifest_hash=manifest.sha256(),
        price_wei=price_wei, max_editions=max_editions, unpause=True, approve_by=deployer,
    )
    echo(f"project    #{project_id} '{manifest.name}' by {artist.address}, {price_wei / 1e18} ETH, "
         f"{max_editions} editions, manifest ipfs://{manifest_cid}")
    adapters = [manifest.style_weights] if manifest.style_weights else manifest.styles
    echo(f"model      {manifest.model.id} (sha256 {manifest.model.sha256[:16]}...)"
         + "".join(f", style weights ipfs://{w.cid}" for w in adapters))
    return SampleDeployment(contract, project_id, manifest_cid, deployment)


