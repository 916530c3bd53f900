"""The OpenAPI 3.1 description of the JSON API (served at /api/openapi.json).

Every status code a route can answer is declared, and every error body is the Error schema:
tests/web/test_hardening.py runs schemathesis over this document against the app, so a route
and its description cannot drift apart. The manifest body's schema is the manifest model's own
(pydantic), so the document and the validator are one source.
"""

from backend.render.manifest import StyleManifest

_ERROR_SCHEMA = {"type": "object", "required": ["error", "message"],
                 "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
_ERROR = {"$ref": "#/components/responses/Error"}
_OBJECT = {"application/json": {"schema": {"type": "object"}}}
MAX_UINT256 = 2**256 - 1
# The manifest's JSON schema, its sub-models under components/schemas where OpenAPI refers to them.
_MANIFEST = StyleManifest.model_json_schema(ref_template="#/components/schemas/{model}")
_MODELS = _MANIFEST.pop("$defs", {})
# The canonical CIDs this gateway names (CIDv1, base32, sha2-256, raw or dag-pb): every string
# this pattern matches is a valid CID (the last character carries 3 bits and 2 zero pad bits).
CID_PATTERN = r"^baf(kr|yb)ei[a-h][a-z2-7]{50}[aeimquy4]$"


def _errors(*codes: int) -> dict:
    return {str(code): _ERROR for code in codes}


def _get(summary: str, params: list | None = None, errors: tuple = (), ok: dict | None = None) -> dict:
    responses = {"200": ok or {"description": "OK", "content": _OBJECT}}
    responses.update(_errors(*errors))
    return {"get": {"summary": summary, "parameters": params or [], "responses": responses}}


def _id_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_UINT256}}


def _int_query(name: str, low: int, high: int) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "integer", "minimum": low, "maximum": high}}


_CHAIN = (502, 503)  # the chain RPC is down; the server has no chain configured
_REPORT = {"type": "object", "required": ["token_id", "outcome", "exit_code", "reason", "checks"],
           "properties": {"token_id": {"type": "integer"}, "outcome": {"type": "string"},
                          "exit_code": {"type": "integer"}, "reason": {"type": "string"},
                          "checks": {"type": "array"}, "cached": {"type": "boolean"},
                          "small_edits_excluded": {"type": "boolean"},
                          # A committed batch's token: its batch and the companions the one render confirmed.
                          "batch": {"type": ["object", "null"],
                                    "properties": {"size": {"type": "integer"}, "row": {"type": "integer"},
                                                   "tokens": {"type": "array", "items": {"type": "string"}},
                                                   "seeds": {"type": "array", "items": {"type": "string"}},
                                                   "confirmed": {"type": "array", "items": {"type": "string"}},
                                                   "unconfirmed": {"type": "object"}}}}}
_REPORT_ERROR = {"description": "A report whose verdict is an error, with the Error fields",
                 "content": {"application/json": {"schema": {"allOf": [_REPORT, _ERROR_SCHEMA]}}}}

_STYLES_PARAM = {"name": "styles", "in": "query", "required": False,
                 "description": "Registry style ids the project will name (e.g. 1,2): the manifest must "
                                "load exactly their adapters, in that order",
                 "schema": {"type": "string", "pattern": "^[0-9]{1,78}(,[0-9]{1,78}){0,3}$"}}
_MANIFEST_BODY = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StyleManifest"}}}}
_PINNED = {"application/json": {"schema": {
    "type": "object", "required": ["cid", "sha256", "canonical", "pinned"],
    "properties": {"cid": {"type": "string"}, "sha256": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"},
                   "canonical": {"type": "string"}, "pinned": {"type": "boolean"}}}}}

OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "stylemint API", "version": "1.1.0",
             "description": "Style projects, tokens and their renders; every error is JSON with a message."},
    "paths": {
        "/api/health": _get("Service health: chain reachability and the content store's kind", errors=(503,)),
        "/api/contract": _get("Contract address, chain id, ABI and the public RPC URL for wallets (null if none)",
                              errors=_CHAIN),
        "/api/projects": _get("All style projects with artist, price, editions left and a preview", errors=_CHAIN),
        "/api/review": _get("Every project as the platform admin reviews it: the project, its styles configuration hash, "
                            "and `problems` (why the oracle would refuse its pinned manifest; empty when none)", errors=_CHAIN),
        "/api/projects/{id}": _get("One project: on-chain data, manifest and preview images", [_id_param("id")],
                                   errors=(400, 404, *_CHAIN)),
        "/api/tokens/{id}": _get("One token: owner, state (pending, rendering, fulfilled, failed), the oracle's live progress and its named steps (phases) "
                              "until fulfilled, mint time and price, project, image, metadata, provenance",
                                 [_id_param("id")], errors=(400, 404, *_CHAIN)),
        "/api/tokens": _get("A page of the tokens an address holds (from the token index), with the total",
                            [{"name": "owner", "in": "query", "required": True,
                              "schema": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}},
                             _int_query("limit", 1, 500), _int_query("offset", 0, 10**9)],
                            errors=(400, *_CHAIN)),
        "/api/projects/{id}/tokens": _get(
            "A page of a project's editions with their traits, filtered by `trait=name:value` (repeatable), "
            "and each trait's values with counts", [_id_param("id"), _int_query("page", 1, 10**9),
                                                    _int_query("per_page", 1, 100),
                                                    {"name": "trait", "in": "query", "required": False,
                                                     "schema": {"type": "array", "items": {
                                                         "type": "string", "pattern": "^[^:]+:.*$", "maxLength": 200}},
                                                     "style": "form", "explode": True}],
            errors=(400, 404, *_CHAIN)),
        "/api/manifests": {"post": {
            "summary": "Validate an artist's style manifest against the schema and the operator policy (and "
                       "each trigger-scoped style against the model it was trained on), pin its "
                       "canonical bytes, return CID and sha256 (rate-limited per client; same-origin pages only)",
            "parameters": [_STYLES_PARAM, {"name": "pin", "in": "query", "required": False,
                                           "description": "0: check and name the CID only, pin nothing",
                                           "schema": {"type": "string", "enum": ["0", "1"]}}],
            "requestBody": _MANIFEST_BODY,
            "responses": {"201": {"description": "Pinned", "content": _PINNED},
                          "200": {"description": "Checked, not pinned (pin=0)", "content": _PINNED},
                          **_errors(400, 403, 413, 415, 422, 429, 502)}}},
        "/api/manifests/preview": {"post": {
            "summary": "Render a few random seeds of a draft manifest, checked as for pinning and capped in "
                       "width x height x steps; nothing is pinned (rate-limited per client; one at a time)",
            "parameters": [_STYLES_PARAM, _int_query("count", 1, 4)],
            "requestBody": _MANIFEST_BODY,
            "responses": {"200": {"description": "The images as data URLs with seed, prompt and traits",
                                  "content": {"application/json": {"schema": {
                                      "type": "object", "required": ["images", "pinned"],
                                      "properties": {"pinned": {"type": "boolean"}, "seconds": {"type": "number"},
                                                     "images": {"type": "array", "items": {"type": "object"}}}}}}},
                          **_errors(400, 403, 413, 415, 422, 429, 503)}}},
        "/api/styles": _get("The style library: every registered style with its owner, trigger, terms, the "
                            "projects that blend it, their mints, what it earned and sample renders", errors=_CHAIN),
        "/api/styles/{id}": _get("One registered style", [_id_param("id")], errors=(400, 404, *_CHAIN)),
        "/api/earnings/{address}": _get(
            "What an account earned: per project it is the artist of, per style it owns, and its credit",
            [{"name": "address", "in": "path", "required": True,
              "schema": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}}], errors=(400, *_CHAIN)),
        "/api/adapters": {"post": {
            "summary": "Pin a style's adapter (a safetensors file, at most 32 MiB) for registerStyle; returns CID "
                       "and sha256 (rate-limited per client; same-origin pages only)",
            "requestBody": {"required": True, "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
            "responses": {"201": {"description": "Pinned", "content": {"application/json": {"schema": {
                "type": "object", "required": ["cid", "sha256", "size"],
                "properties": {"cid": {"type": "string"}, "sha256": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"},
                               "size": {"type": "integer"}}}}}},
                          **_errors(403, 413, 415, 422, 429, 502)}}},
        "/api/images": {"post": {
            "summary": "Pin a project's cover image (PNG or JPEG, at most 2 MiB and 4096 px a side) for its "
                       "manifest's story.cover_cid; returns CID, size and pixel size (rate-limited per client; "
                       "same-origin pages only)",
            "requestBody": {"required": True, "content": {
                kind: {"schema": {"type": "string", "format": "binary"}} for kind in ("image/png", "image/jpeg")}},
            "responses": {"201": {"description": "Pinned", "content": {"application/json": {"schema": {
                "type": "object", "required": ["cid", "size", "width", "height"],
                "properties": {"cid": {"type": "string"}, "size": {"type": "integer"}, "width": {"type": "integer"},
                               "height": {"type": "integer"}}}}}},
                          **_errors(403, 413, 415, 422, 429, 502)}}},
        "/api/allowlists": {"post": {
            "summary": "Pin an allowlist of addresses and return its CID and Merkle root (OpenZeppelin's standard "
                       "tree of addresses) for MinterSetPrice.setMerkleRoot (rate-limited per client; same-origin "
                       "pages only)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["addresses"],
                "properties": {"addresses": {"type": "array", "minItems": 1, "maxItems": 20000,
                                             "items": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}}}}}}},
            "responses": {"201": {"description": "Pinned", "content": {"application/json": {"schema": {
                "type": "object", "required": ["cid", "root", "count"],
                "properties": {"cid": {"type": "string"}, "root": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"},
                               "count": {"type": "integer"}}}}}},
                          **_errors(400, 403, 413, 415, 422, 429, 502)}}},
        "/api/projects/{id}/allowlist": _get(
            "Whether an address is on a project's allowlist, its Merkle proof and the mints it has left",
            [_id_param("id"), {"name": "address", "in": "query", "required": True,
                               "schema": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}}],
            errors=(400, 404, *_CHAIN)),
        "/api/manifests/template": _get("A valid starting manifest on stylemint-gen, the shipped model of generative compositions"),
        "/api/verify/{id}": {"get": {
            "summary": "The auditor's verification report for a token (cached per token; a re-render runs off the "
                       "request thread, and a request that would wait long gets 202 and asks again)",
            "parameters": [_id_param("id")],
            "responses": {
                "200": {"description": "The report", "content": {"application/json": {"schema": _REPORT}}},
                "202": {"description": "The re-render is queued or running; ask again (Retry-After)",
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["token_id", "status", "message"],
                            "properties": {"token_id": {"type": "integer"}, "status": {"enum": ["queued", "running"]},
                                           "message": {"type": "string"}}}}}},
                "400": _ERROR, "404": _REPORT_ERROR, "500": _REPORT_ERROR, "502": _REPORT_ERROR, "503": _ERROR}}},
        "/api/openapi.json": _get("This document"),
        "/ipfs/{cid}": {"get": {
            "summary": "Content by CID from the embedded store (immutable); CIDv0 and other multibases are accepted too",
            "parameters": [{"name": "cid", "in": "path", "required": True,
                            "schema": {"type": "string", "pattern": CID_PATTERN}}],
            "responses": {
                "200": {"description": "The content, its type sniffed from the bytes",
                        "content": {kind: {"schema": {}} for kind in (
                            "image/png", "image/jpeg", "image/gif", "image/webp", "application/json",
                            "text/plain", "application/octet-stream")}},
                "304": {"description": "Not modified"},
                **_errors(400, 404, 500, 503)}}},
    },
    "components": {"schemas": {**_MODELS, "StyleManifest": _MANIFEST}, "responses": {"Error": {"description": "Error", "content": {"application/json": {
        "schema": _ERROR_SCHEMA}}}}},
}
