"""The JSON API: projects, tokens, manifests, health, contract info and the OpenAPI document."""

from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, jsonify, request

from backend.chain.abi import stylemint_abi
from backend.chain.errors import ChainUnavailable
from backend.ipfs.errors import IpfsError, UploadTooLarge
from backend.render.manifest import MAX_MANIFEST_BYTES, ManifestError, parse_manifest
from backend.render.policy import DEFAULT_POLICY
from backend.web.chain_view import NotFoundError
from backend.web.ids import parse_id
from backend.web.openapi import OPENAPI

bp = Blueprint("api", __name__, url_prefix="/api")
ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def _view():
    view = current_app.config.get("CHAIN_VIEW")
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
    view = current_app.config.get("CHAIN_VIEW")
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
    view = _view()
    return jsonify(address=view.chain.address, chain_id=view.chain.chain_id(), abi=stylemint_abi(),
                   rpc_url=current_app.config.get("PUBLIC_RPC_URL"))


@bp.get("/projects")
def projects():
    view = _view()
    return jsonify(projects=[view.project(pid, previews=1) for pid in view.project_ids()])


@bp.get("/projects/<project_id>")
def project(project_id: str):
    return jsonify(_view().project(parse_id(project_id, "project id")))


@bp.get("/tokens/<token_id>")
def token(token_id: str):
    return jsonify(_view().token(parse_id(token_id, "token id")))


@bp.get("/tokens")
def tokens():
    owner = request.args.get("owner", "")
    if not ADDRESS.match(owner):
        abort(400, description="query parameter owner must be a 0x-prefixed 20-byte address")
    return jsonify(owner=owner, tokens=_view().tokens_of(owner))


@bp.post("/manifests")
def manifests():
    """Validate an artist's manifest, pin its canonical bytes, return CID and hash."""
    if request.mimetype != "application/json":
        # text/plain would let any web page post here without a CORS preflight.
        abort(415, description="send the manifest as Content-Type: application/json")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_MANIFEST_BYTES:
        abort(413, description=f"manifest is {len(raw)} bytes; the limit is {MAX_MANIFEST_BYTES}")
    if not raw:
        abort(400, description="send the manifest JSON as the request body")
    try:
        manifest = parse_manifest(raw)
    except ManifestError as err:
        abort(422, description=str(err))
    problems = current_app.config.get("POLICY", DEFAULT_POLICY).problems(manifest)
    if problems:
        abort(422, description="the operator policy refuses this manifest: " + "; ".join(problems))
    canonical = manifest.canonical_bytes()
    try:
        cid = current_app.config["IPFS_STORE"].add(canonical)
    except UploadTooLarge as err:
        abort(413, description=str(err))
    except IpfsError as err:
        abort(502, description=f"could not pin the manifest: {err}")
    return jsonify(cid=cid, sha256="0x" + manifest.sha256_hex(), canonical=canonical.decode()), 201


@bp.get("/manifests/template")
def manifest_template():
    """A valid starting manifest on the shipped stylemint-tiny model (the artist page fills in the rest)."""
    from backend.render.samples import tiny_manifest

    return jsonify(tiny_manifest(style=None).model_dump(mode="json"))


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)
