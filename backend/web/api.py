"""The JSON API: projects, tokens, manifests, health, contract info and the OpenAPI document."""

from __future__ import annotations

import hashlib
import io
import json
import re

import safetensors
from flask import Blueprint, abort, current_app, jsonify, request

from backend.chain.abi import contract_abi, stylemint_abi
from backend.chain.errors import ChainUnavailable, ContractRevert
from backend.chain.styles import registered_style, registered_styles_of, style_problems
from backend.errors import StyleMintError
from backend.ipfs.errors import IpfsError, UploadTooLarge
from backend.ipfs.cid import cid_of
from backend.render.manifest import MAX_MANIFEST_BYTES, ManifestError, StyleManifest, parse_manifest
from backend.render.policy import DEFAULT_POLICY
from backend.web.catalog import NotFoundError
from backend.web.earnings import earnings as earnings_of
from backend.web.ids import parse_id
from backend.web.openapi import OPENAPI

bp = Blueprint("api", __name__, url_prefix="/api")
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
MAX_ADAPTER_BYTES = 32 * 1024 * 1024  # a LoRA for SD-1.5 is a few MB; the shipped ones are 1.5 MB


def safetensors_problem(data: bytes) -> str | None:
    """Why `data` is not a safetensors file of at least one tensor (safetensors' own parser), or
    None. Checked before anything is pinned."""
    try:
        tensors = safetensors.deserialize(data)
    except Exception as err:  # noqa: BLE001 - the library raises its own SafetensorError and others
        return str(err)[:200]
    return None if tensors else "it holds no tensors"


def _catalog():
    view = current_app.config.get("CATALOG")
    if view is None:
        abort(503, description="this server has no chain connection configured")
    return view


@bp.errorhandler(NotFoundError)
def not_found(error):
    return jsonify(error="Not Found", message=str(error)), 404


@bp.errorhandler(ChainUnavailable)
def chain_down(error):
    return jsonify(error="Bad Gateway", message=f"the chain RPC is unavailable: {error}"), 502


@bp.get("/health")
def health():
    view = current_app.config.get("CATALOG")
    report = {"status": "ok", "chain": None, "ipfs": type(current_app.config["IPFS_STORE"]).__name__}
    if view is not None:
        try:
            report["chain"] = {"chain_id": view.chain.chain_id(), "block": view.chain.head(),
                               "contract": view.chain.address}
        except ChainUnavailable as err:
            report["status"], report["chain"] = "degraded", {"error": str(err)}
    return jsonify(report), 200 if report["status"] == "ok" else 503


@bp.get("/contract")
def contract():
    view = _catalog()
    return jsonify(address=view.chain.address, chain_id=view.chain.chain_id(), abi=stylemint_abi(),
                   rpc_url=current_app.config.get("PUBLIC_RPC_URL"), explorer_url=current_app.config.get("EXPLORER_URL"),
                   style_registry={"address": view.chain.registry.address, "abi": contract_abi("StyleRegistry")},
                   quorum={"address": view.chain.quorum().address, "abi": contract_abi("OracleQuorum")},
                   minters=view.chain.minters(), minter_abi=contract_abi("MinterSetPrice"),
                   minter_abis={kind: contract_abi(kind) for kind in ("MinterSetPrice", "MinterDAExpSettlement")})


@bp.get("/projects")
def projects():
    view = _catalog()
    return jsonify(projects=[view.project(pid, previews=1) for pid in view.project_ids()])


@bp.get("/review")
def review():
    """Every project as the platform admin reviews it before approving: the project and what the
    operator's own checks say of its pinned manifest (`problems`: hash, schema, policy, registered
    styles; empty when the oracle would render it), so an approval is never given blind."""
    view = _catalog()
    return jsonify(projects=[{**project, "problems": review_problems(view, project)}
                             for project in (view.project(pid, previews=0) for pid in view.project_ids())])


def review_problems(view, project: dict) -> list[str]:
    """Why the oracle would refuse to render this project's tokens (the checks it runs per job)."""
    try:
        raw = view.store.get(project["manifest_cid"])
    except IpfsError as err:
        return [f"the manifest {project['manifest_cid']} cannot be read: {err}"]
    if "0x" + hashlib.sha256(raw).hexdigest() != project["manifest_sha256"]:
        return ["the pinned manifest does not hash to the manifest hash on chain"]
    try:
        manifest = parse_manifest(raw)
    except ManifestError as err:
        return [f"the pinned manifest is not valid: {err}"]
    registered, _ = registered_styles_of(view.chain, project["id"])
    return current_app.config.get("POLICY", DEFAULT_POLICY).problems(manifest) + style_problems(view.chain, manifest, registered)


@bp.get("/projects/<project_id>")
def project(project_id: str):
    return jsonify(_catalog().project(parse_id(project_id, "project id")))


@bp.get("/tokens/<token_id>")
def token(token_id: str):
    return jsonify(_catalog().token(parse_id(token_id, "token id")))


@bp.get("/tokens")
def tokens():
    owner = request.args.get("owner", "")
    if not ADDRESS.fullmatch(owner):
        abort(400, description="query parameter owner must be a 0x-prefixed 20-byte address")
    limit = _int_arg("limit", 100, 1, 500)
    offset = _int_arg("offset", 0, 0, 10**9)
    tokens, total = _catalog().tokens_of(owner, limit=limit, offset=offset)
    return jsonify(owner=owner, tokens=tokens, total=total, limit=limit, offset=offset)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        abort(400, description=f"query parameter {name} must be an integer {low}..{high}, got {text[:40]!r}")
    return int(text)


@bp.get("/projects/<project_id>/tokens")
def project_tokens(project_id: str):
    """A page of the project's editions, optionally filtered: `?trait=Colour:red&trait=Shape:circle`."""
    traits = {}
    for value in request.args.getlist("trait"):
        name, sep, wanted = value.partition(":")
        if not sep or not name or len(value) > 200:
            abort(400, description=f"trait filters are name:value, got {value[:80]!r}")
        traits[name] = wanted
    return jsonify(_catalog().project_tokens(parse_id(project_id, "project id"), page=_int_arg("page", 1, 1, 10**9),
                                          per_page=_int_arg("per_page", 24, 1, 100), traits=traits))


@bp.get("/styles")
def styles():
    return jsonify(styles=_catalog().styles())


@bp.get("/styles/<style_id>")
def style(style_id: str):
    return jsonify(_catalog().style(parse_id(style_id, "style id")))


@bp.get("/earnings/<address>")
def earnings(address: str):
    if not ADDRESS.fullmatch(address):
        abort(400, description="the address must be 0x-prefixed 20 bytes")
    return jsonify(earnings_of(_catalog(), address))


@bp.post("/adapters")
def adapters():
    """Pin a style's adapter file (a LoRA or textual inversion in safetensors) for `registerStyle`;
    returns its CID and sha256, the two values the registry records."""
    if request.mimetype != "application/octet-stream":
        abort(415, description="send the adapter file as Content-Type: application/octet-stream")
    request.max_content_length = MAX_ADAPTER_BYTES  # the app's 1 MiB default is for JSON
    data = request.stream.read(MAX_ADAPTER_BYTES + 1)
    if len(data) > MAX_ADAPTER_BYTES:
        abort(413, description=f"the adapter is larger than the limit of {MAX_ADAPTER_BYTES} bytes")
    problem = safetensors_problem(data)
    if problem:
        abort(422, description=f"not a safetensors adapter: {problem}")
    return jsonify(cid=_pin(data, "adapter"), sha256="0x" + hashlib.sha256(data).hexdigest(), size=len(data)), 201


def _pin(data: bytes, what: str) -> str:
    """Add to the configured store; its refusals become 413 (too large) or 502 (store failed)."""
    try:
        return current_app.config["IPFS_STORE"].add(data)
    except UploadTooLarge as err:
        abort(413, description=str(err))
    except IpfsError as err:
        abort(502, description=f"could not pin the {what}: {err}")


def _registry_styles(text: str) -> list:
    """The registry styles named by `?styles=1,2` (the ids the artist will give `setProjectStyles`)."""
    ids = [parse_id(part.strip(), "style id") for part in text.split(",") if part.strip()]
    try:
        return [registered_style(_catalog().chain, style_id) for style_id in ids]
    except ContractRevert:
        abort(422, description=f"the style library has no style among {ids}")


def checked_manifest() -> StyleManifest:
    """The request body as a manifest that the schema and the operator policy accept (and, with
    `?styles=1,2`, that loads exactly those registered styles' adapters, in order); else 4xx."""
    if request.mimetype != "application/json":
        # text/plain would let any web page post here without a CORS preflight.
        abort(415, description="send the manifest as Content-Type: application/json")
    # At most one byte past the limit is read: a chunked upload has no Content-Length to report,
    # so the answer names the limit, never a size that was not measured.
    raw = request.stream.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        abort(413, description=f"the manifest is larger than the limit of {MAX_MANIFEST_BYTES} bytes")
    if not raw:
        abort(400, description="send the manifest JSON as the request body")
    try:
        manifest = parse_manifest(raw)
    except ManifestError as err:
        abort(422, description=str(err))
    problems = current_app.config.get("POLICY", DEFAULT_POLICY).problems(manifest)
    if problems:
        abort(422, description="the operator policy refuses this manifest: " + "; ".join(problems))
    # Without a chain (a pin-only server) there is no registry to consult; the oracle and the
    # verifier hold the manifest to it all the same.
    named = _registry_styles(request.args["styles"]) if request.args.get("styles") else []
    has_chain = current_app.config.get("CATALOG") is not None
    mismatches = style_problems(_catalog().chain, manifest, named) if has_chain else []
    if mismatches:
        abort(422, description="the manifest does not load the registered styles: " + "; ".join(mismatches))
    unfit = _adapter_problems(manifest)
    if unfit:
        abort(422, description="a style cannot act on this manifest's model: " + "; ".join(unfit))
    return manifest


def server_renderer():
    """The renderer this server loads models with (previews; whether a manifest's styles fit its
    model), made on first use: `PREVIEW_RENDERER` where the app was given one."""
    from backend.render.renderer import Renderer

    if "stylemint_renderer" not in current_app.extensions:
        verifier = current_app.config.get("VERIFIER")
        current_app.extensions["stylemint_renderer"] = current_app.config.get("PREVIEW_RENDERER") or Renderer(
            models_dir=getattr(verifier, "models_dir", None), attribute=False,
            fetch_adapter=current_app.config["IPFS_STORE"].get)
    return current_app.extensions["stylemint_renderer"]


def _adapter_problems(manifest: StyleManifest) -> list[str]:
    """Trigger-scoped styles trained on another base than the manifest's model (every mint would
    fail at render). A model or adapter this server does not hold is left to the oracle, which
    refuses such a render with the same reason."""
    from backend.render import trigger_adapter

    if not any(adapter.kind == trigger_adapter.KIND for adapter in manifest.styles):
        return []
    try:
        return server_renderer().adapter_problems(manifest)
    except StyleMintError as err:
        current_app.logger.info("styles not checked against the model here: %s", err)
        return []


@bp.post("/manifests")
def manifests():
    """Validate an artist's manifest, pin its canonical bytes, return CID and hash. `?pin=0` pins
    nothing and returns the CID it would have (the page creates the project first and pins after,
    so a refused or abandoned create leaves nothing pinned)."""
    manifest = checked_manifest()
    canonical = manifest.canonical_bytes()
    if request.args.get("pin", "1") == "0":
        return jsonify(cid=cid_of(canonical), sha256="0x" + manifest.sha256_hex(), canonical=canonical.decode(),
                       pinned=False), 200
    return jsonify(cid=_pin(canonical, "manifest"), sha256="0x" + manifest.sha256_hex(),
                   canonical=canonical.decode(), pinned=True), 201


MAX_IMAGE_BYTES = 2 * 1024 * 1024
IMAGE_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}


@bp.post("/images")
def images():
    """Pin a project's cover image (PNG or JPEG, at most 2 MiB, at most 4096 px a side) for its
    manifest's `story.cover_cid`; returns its CID and size (`?pin=0`: checks, pins nothing). The
    bytes must decode as the type they claim to be: a page shows them to every visitor."""
    from PIL import Image, UnidentifiedImageError

    if request.mimetype not in IMAGE_TYPES:
        abort(415, description="send the image as Content-Type: image/png or image/jpeg")
    too_large = f"the image is larger than the limit of {MAX_IMAGE_BYTES} bytes"
    if (request.content_length or 0) > MAX_IMAGE_BYTES:
        abort(413, description=too_large)
    request.max_content_length = MAX_IMAGE_BYTES + 1  # a chunked upload: read one byte past the limit
    data = request.stream.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        abort(413, description=too_large)
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, size = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        abort(422, description=f"not a readable image: {err}")
    if kind != IMAGE_TYPES[request.mimetype]:
        abort(422, description=f"the bytes are a {kind} image, not {request.mimetype}")
    if max(size) > 4096:
        abort(422, description=f"the image is {size[0]}x{size[1]}: at most 4096 px a side")
    if request.args.get("pin", "1") == "0":  # the CID it would have (the page pins after the create)
        return jsonify(cid=cid_of(data), size=len(data), width=size[0], height=size[1], pinned=False), 200
    return jsonify(cid=_pin(data, "image"), size=len(data), width=size[0], height=size[1], pinned=True), 201


@bp.post("/allowlists")
def allowlists():
    """Pin an artist's allowlist (`{"addresses": [...]}`) and return its CID and Merkle root (the
    tree OpenZeppelin's library builds, the one MinterSetPrice checks): the page then sends
    `setMerkleRoot(projectId, root, cid)`."""
    from backend.chain.allowlist import InvalidAllowlist, build

    if request.mimetype != "application/json":
        abort(415, description="send the allowlist as Content-Type: application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "addresses" not in body:
        abort(400, description='send {"addresses": ["0x...", ...]}')
    try:
        tree = build(body["addresses"])
    except InvalidAllowlist as err:
        abort(422, description=str(err))
    document = json.dumps(tree.to_json(), sort_keys=True, separators=(",", ":")).encode()
    return jsonify(cid=_pin(document, "allowlist"), root=tree.root, count=len(tree.proofs)), 201


@bp.get("/projects/<project_id>/allowlist")
def project_allowlist(project_id: str):
    """Whether `?address=` is on the project's allowlist, its Merkle proof and its mints left."""
    address = request.args.get("address", "")
    if not ADDRESS.fullmatch(address):
        abort(400, description="the address must be 0x-prefixed 20 bytes")
    try:
        return jsonify(_catalog().allowlist_status(parse_id(project_id, "project id"), address))
    except ContractRevert:
        abort(404, description=f"project {project_id} does not exist")


@bp.get("/manifests/template")
def manifest_template():
    """A valid starting manifest on stylemint-gen, the shipped model of generative compositions, with
    its traits motif, palette and density (the artist page fills in the rest)."""
    from backend.render import shipped
    from backend.render.samples import tiny_manifest

    return jsonify(tiny_manifest(style=None, base=shipped.GEN_MODEL.id).model_dump(mode="json"))


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)
