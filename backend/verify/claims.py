"""What a token's metadata claims, type-checked, and what it should claim, derived from public data.

The metadata is written by the oracle, so every field in it is a claim. The verifier derives all
it can (chain facts, names, edition, traits and prompt from the seed and the manifest, hashes from
the image bytes, the environment from the committed class and the manifest) by building the
document the honest oracle would have pinned and naming every field that differs, an unknown key
included. What cannot be derived is bounded: without a committed environment its fields are
short strings and bounded numbers, and the renderer version is a short string.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from backend.chain.types import MintLog
from backend.ipfs.cid import InvalidCID, canonical
from backend.render.environment import CLASS_FIELDS, class_differences
from backend.render.manifest import RenderEnvironment, StyleManifest, canonical_json, strict_json
from backend.render.metadata import build_metadata
from backend.render.renderer import RenderResult, prompt_for


class FalseClaim(ValueError):
    """Metadata that is malformed or claims something false; the message names the field."""


def parse(data: bytes) -> tuple[dict, dict, str]:
    """(metadata, provenance, image CID) from the metadata bytes, or FalseClaim saying what is wrong."""
    try:
        metadata = strict_json(data)
    except ValueError as err:
        raise FalseClaim(f"metadata is not JSON: {err}") from None
    if not isinstance(metadata, dict):
        raise FalseClaim(f"metadata is a JSON {type(metadata).__name__}, not an object")
    if canonical_json(metadata) != bytes(data):  # the one form an honest oracle writes (RENDER_SPEC §10)
        raise FalseClaim("metadata is not canonical JSON: whitespace, key order, escapes or bytes after the "
                         "document differ from the one form the oracle writes")
    provenance = metadata.get("provenance")
    if not isinstance(provenance, dict):
        raise FalseClaim("metadata has no provenance object: it is not stylemint ERC-721 metadata")
    image = metadata.get("image")
    if not isinstance(image, str) or not image.startswith("ipfs://"):
        raise FalseClaim(f"metadata image must be an ipfs:// URI, got {image!r:.100}")
    try:
        image_cid = canonical(image.removeprefix("ipfs://"))
    except InvalidCID:
        raise FalseClaim(f"metadata image {image!r:.100} does not name a CID") from None
    return metadata, provenance, image_cid


def _bounded_int(environment: dict, key: str, default: int, limit: int) -> int:
    value = environment.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise FalseClaim(f"provenance.environment.{key} must be an integer 1..{limit}, got {value!r:.40}")
    return value


def environment(provenance: dict, committed: RenderEnvironment | None, max_threads: int, max_batch: int) -> dict:
    """The threads and batch shape to re-render at. With a committed environment the claim must
    be in that class (an oracle cannot pick another one per token); without one the claim is used,
    within bounds, and only a byte-exact result will count."""
    claimed = provenance.get("environment")
    if not isinstance(claimed, dict):
        raise FalseClaim(f"provenance.environment must be an object, got {type(claimed).__name__}")
    if committed is not None:
        differences = class_differences(committed.model_dump(), claimed)
        if differences:
            raise FalseClaim("provenance.environment is not the environment the project commits to: " + ", ".join(
                f"{key} {value['other']!r:.40} claimed, {value['committed']!r} committed"
                for key, value in differences.items()))
        return {"threads": committed.threads, "batch_size": committed.batch_size}
    return {"threads": _bounded_int(claimed, "threads", 2, max_threads),
            "batch_size": _bounded_int(claimed, "batch_size", 1, max_batch)}


def expected_environment(provenance: dict, manifest: StyleManifest) -> dict:
    """The `provenance.environment` an honest oracle records (RENDER_SPEC §8): the committed class
    and the manifest's dtype. Without a commitment the class fields cannot be derived; they are
    taken from the claim only as short strings (threads and batch shape already bounded by
    `environment`), and only a byte-exact re-render counts then. Any other key is not expected,
    so `differences` names it."""
    if manifest.environment is not None:
        base = manifest.environment.model_dump()
    else:
        claimed = provenance.get("environment") or {}
        base = {}
        for key in CLASS_FIELDS:
            value = claimed.get(key)
            if value is not None and (not isinstance(value, (str, int)) or isinstance(value, bool)
                                      or len(str(value)) > 64):
                raise FalseClaim(f"provenance.environment.{key} must be a short string or null, got {value!r:.40}")
            base[key] = value
    return {**{key: base.get(key) for key in CLASS_FIELDS}, "dtype": manifest.dtype}


def derive(*, token_id: int, project_id: int, project_name: str, artist: str, manifest: StyleManifest,
           manifest_cid: str, seed: bytes, image: bytes, pixels: np.ndarray, image_cid: str, chain_id: int,
           contract: str, mint: MintLog, randomness_block: tuple[int, str, str], claimed: dict,
           batch: dict | None = None) -> dict:
    """The metadata document an honest oracle pins for this token: nothing copied from the claim
    but the renderer version (a bounded string) and the recorded attribution (re-computed with the
    render and compared there); the environment is derived (`expected_environment`); `batch` is
    the committed batch as the verifier checked it against the chain (RENDER_SPEC §5a)."""
    provenance = claimed["provenance"]
    version = provenance.get("renderer_version")
    if not isinstance(version, str) or len(version) > 64:
        raise FalseClaim("provenance.renderer_version must be a string of at most 64 characters")
    prompt, traits = prompt_for(manifest, seed)
    # The attribution is re-computed with the render (Verifier._check_attribution); here only its
    # presence and type are checked, so that the rest of the document can be compared now.
    recorded = provenance.get("attribution")
    if manifest.styles and not isinstance(recorded, dict):
        raise FalseClaim("provenance.attribution must record each style's share: the manifest blends styles")
    render = RenderResult(
        png=image, png_sha256=hashlib.sha256(image).hexdigest(), pixel_sha256=hashlib.sha256(pixels.tobytes()).hexdigest(),
        width=manifest.width, height=manifest.height, seed="0x" + seed.hex(), prompt=prompt, traits=traits,
        model_sha256=manifest.model.sha256, manifest_sha256="0x" + mint.manifest_hash.hex(),
        fingerprint=expected_environment(provenance, manifest), renderer_version=version,
        attribution=recorded if manifest.styles else None, batch=batch)
    document = build_metadata(
        token_id=token_id, project_id=project_id, project_name=project_name, artist=artist, manifest=manifest,
        manifest_cid=manifest_cid, manifest_sha256="0x" + mint.manifest_hash.hex(), render=render,
        image_cid=image_cid, chain_id=chain_id, contract=contract, mint_tx=mint.tx_hash,
        mint_block_number=mint.block_number, mint_block_hash=mint.block_hash,
        randomness_block_number=randomness_block[0], randomness_block_hash=randomness_block[1],
        randomness=randomness_block[2])
    return json.loads(document)


def differences(expected, claimed, path: str = "") -> dict[str, tuple]:
    """{field path: (claimed, expected)} for every leaf where the claim differs, extra fields included."""
    if isinstance(expected, dict) and isinstance(claimed, dict):
        found = {}
        for key in sorted(set(expected) | set(claimed), key=str):
            found |= differences(expected.get(key), claimed.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(expected, list) and isinstance(claimed, list) and len(expected) == len(claimed):
        found = {}
        for index, (want, got) in enumerate(zip(expected, claimed)):
            found |= differences(want, got, f"{path}[{index}]")
        return found
    if type(expected) is not type(claimed) or expected != claimed:
        if isinstance(expected, str) and isinstance(claimed, str) and expected.lower() == claimed.lower() \
                and expected.startswith("0x"):
            return {}  # hex case is not a claim
        return {path or "(document)": (claimed, expected)}
    return {}
