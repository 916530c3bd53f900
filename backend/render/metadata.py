"""The ERC-721 metadata document the oracle pins for each token, with its provenance block.

Canonical JSON bytes, so the same render always pins to the same CID (re-pinning after a crash
is a no-op) and an auditor can check every provenance field against the chain.
"""

from __future__ import annotations

from backend.chain import edition_of
from backend.render.environment import recorded_environment
from backend.render.manifest import StyleManifest, canonical_json
from backend.render.renderer import RenderResult


def build_metadata(
    *,
    token_id: int,
    project_id: int,
    project_name: str,
    artist: str,
    manifest: StyleManifest,
    manifest_cid: str,
    manifest_sha256: str,
    render: RenderResult,
    image_cid: str,
    chain_id: int,
    contract: str,
    mint_tx: str,
    mint_block_number: int,
    mint_block_hash: str,
    randomness_block_number: int,
    randomness_block_hash: str,
    randomness: str,
) -> bytes:
    edition = edition_of(token_id)
    attributes = [
        {"trait_type": "Project", "value": project_name},
        {"trait_type": "Artist", "value": artist},
        {"trait_type": "Edition", "value": edition, "display_type": "number"},
        {"trait_type": "Style", "value": manifest.name},
        {"trait_type": "Model", "value": manifest.model.id},
    ] + [{"trait_type": name, "value": value} for name, value in sorted(render.traits.items())]
    document = {
        "name": f"{project_name} #{edition}",
        "description": (
            f"Edition {edition} of the stylemint project '{project_name}'. Rendered deterministically from "
            f"a seed from its mint transaction and the RANDAO of block {randomness_block_number}, with the "
            f"style manifest {manifest_cid}; "
            "`stylemint verify` re-renders it from public data."
        ),
        "image": f"ipfs://{image_cid}",
        # ERC-7007's AIGC fields: the rendered prompt, the content, and how it is proven (a validity
        # proof: M oracles' signatures over the commitment, checked by the contract's `verify`).
        "prompt": render.prompt,
        "aigc_type": "image",
        "aigc_data": f"ipfs://{image_cid}",
        "proof_type": "validity",
        "attributes": attributes,
        "provenance": {
            "token_id": str(token_id),
            "project_id": project_id,
            "seed": render.seed,
            "mint_tx": mint_tx,
            "mint_block_number": mint_block_number,
            "mint_block_hash": mint_block_hash,
            "randomness_block_number": randomness_block_number,
            "randomness_block_hash": randomness_block_hash,
            "randomness": randomness,
            "chain_id": chain_id,
            "contract": contract,
            "manifest_cid": manifest_cid,
            "manifest_sha256": manifest_sha256,
            "model_id": manifest.model.id,
            "model_sha256": render.model_sha256,
            "prompt": render.prompt,
            "renderer_version": render.renderer_version,
            "environment": recorded_environment(render.fingerprint),
            "image_cid": image_cid,
            "png_sha256": render.png_sha256,
            "pixel_sha256": render.pixel_sha256,
        },
    }
    if render.batch:  # the committed batch it was rendered in (RENDER_SPEC §5a)
        document["provenance"]["batch"] = {key: render.batch[key] for key in ("size", "row", "tokens", "seeds")}
    if render.attribution is not None:  # each style's share of this image (RENDER_SPEC §13)
        document["provenance"]["attribution"] = render.attribution
    return canonical_json(document)
