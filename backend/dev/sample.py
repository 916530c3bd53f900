"""The sample deployment the demo, the tests and the benchmarks share: StyleMint with the dev
roles (anvil's accounts 0-3: deployer/admin, oracle, platform payout, artist), the sample
manifest pinned, and the sample project open for minting.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend.chain.deployments import Deployment, genesis_hash, save
from backend.dev import ape_contract as core
from backend.render import shipped
from backend.render.samples import sample_manifest

SAMPLE_PRICE_WEI = 10**16  # 0.01 ETH
SAMPLE_MAX_EDITIONS = 100
SAMPLE_STYLES_SHARE_BPS = 3_000  # a blended sample project pays 30 % of the artist's 90 % to its styles
STYLE_OWNER_ACCOUNTS = {"stipple": 5, "inkline": 6, "haze": 7}  # anvil dev accounts owning the shipped styles


@dataclass
class SampleDeployment:
    contract: object  # ape ContractInstance
    project_id: int
    manifest_cid: str
    deployment: Deployment
    style_ids: dict[str, int] = field(default_factory=dict)  # shipped style trigger -> registry id


def pin_manifest(store, manifest) -> str:
    """Pin a manifest and, for a shipped style it names, the style's weights; returns the manifest CID.

    The renderer fetches style weights by CID: a manifest whose weights are not in the store
    could never be rendered, so they go in first, and the CID the store reports must be the one
    the manifest names.
    """
    for weights in ([manifest.style_weights] if manifest.style_weights else manifest.styles):
        style = next((s for s in shipped.ALL_STYLES if s.sha256 == weights.sha256), None)
        if style is None:
            if store.has(weights.cid):  # an artist's own style, pinned already
                continue
            raise ValueError(f"style weights {weights.cid} are not a shipped style; pin them first")
        cid = store.add(style.read())
        if cid != weights.cid:
            raise ValueError(f"the store gave the {style.name} weights CID {cid}, the manifest names {weights.cid}")
    return store.add(manifest.canonical_bytes())


def register_shipped_styles(contract, store, owners: dict[str, object], *, echo=lambda *_: None,
                            model_id: str = shipped.MODEL_ID) -> dict[str, int]:
    """Pin each shipped style's adapter on `model_id` and register it in the deployment's style
    library under its owner (short name -> account) with its trigger; returns short name -> style id."""
    ids = {}
    for name, owner in owners.items():
        style = shipped.styles_for(model_id)[name]
        cid = store.add(style.read())
        ids[name] = core.register_style(contract, owner, name=style.name, trigger=style.trigger, adapter_cid=cid,
                                        adapter_sha256=style.sha256)
        echo(f"style      #{ids[name]} {style.name} ('{style.trigger}') registered by {owner.address}, "
             f"adapter ipfs://{cid}")
    return ids


def deploy_sample(node_url: str, store, *, echo=lambda *_: None, price_wei: int = SAMPLE_PRICE_WEI,
                  max_editions: int = SAMPLE_MAX_EDITIONS, manifest=None, register_styles: bool = False,
                  styles_share_bps: int = SAMPLE_STYLES_SHARE_BPS, oracle_accounts: list[int] | None = None,
                  threshold: int = 1) -> SampleDeployment:
    """Deploy StyleMint with the dev roles, pin the sample manifest (default: the reference
    model's), open the sample project. With `register_styles`, the three shipped styles are
    registered under anvil accounts 5-7 first and the project pays the styles its manifest
    blends (`styles_share_bps` of the artist's 90 %). `oracle_accounts` (anvil account indexes,
    default [1]) are the OracleQuorum's oracles, `threshold` of them settle a token.

    Call inside an ape provider context connected to `node_url`.
    """
    from ape import accounts, networks

    deployer, oracle, platform, artist = accounts.test_accounts[:4]
    oracles = [accounts.test_accounts[i] for i in oracle_accounts] if oracle_accounts else [oracle]
    contract = core.deploy(deployer, admin=deployer, payout=platform, oracles=oracles, threshold=threshold)
    receipt = contract.creation_metadata.receipt if contract.creation_metadata else None
    deployment = Deployment(chain_id=networks.provider.chain_id, address=str(contract.address),
                            block_number=int(receipt.block_number) if receipt else 0, rpc_url=node_url,
                            genesis_hash=genesis_hash(node_url))
    save(deployment)
    echo(f"contract   StyleMint at {contract.address}")
    manifest = manifest or sample_manifest()
    styles_model = manifest.model.id if shipped.styles_for(manifest.model.id) else shipped.MODEL_ID
    style_ids = register_shipped_styles(
        contract, store, {t: accounts.test_accounts[i] for t, i in STYLE_OWNER_ACCOUNTS.items()},
        echo=echo, model_id=styles_model,
    ) if register_styles else {}
    name_of = {style.trigger: name for name, style in shipped.styles_for(styles_model).items()}
    blended = tuple(style_ids[name_of[s.trigger]] for s in manifest.styles or []) if style_ids else ()
    manifest_cid = pin_manifest(store, manifest)
    project_id = core.create_project(
        contract, artist, name=manifest.name, manifest_cid=manifest_cid, manifest_hash=manifest.sha256(),
        price_wei=price_wei, max_editions=max_editions, unpause=True, approve_by=deployer,
        style_ids=blended, styles_share_bps=styles_share_bps if blended else 0,
    )
    echo(f"project    #{project_id} '{manifest.name}' by {artist.address}, {price_wei / 1e18} ETH, "
         f"{max_editions} editions, manifest ipfs://{manifest_cid}"
         + (f", styles {list(blended)} paid {styles_share_bps / 100:g} % of the artist's 90 %" if blended else ""))
    adapters = [manifest.style_weights] if manifest.style_weights else manifest.styles
    echo(f"model      {manifest.model.id} (sha256 {manifest.model.sha256[:16]}...)"
         + "".join(f", style weights ipfs://{w.cid}" for w in adapters))
    return SampleDeployment(contract, project_id, manifest_cid, deployment, style_ids)


