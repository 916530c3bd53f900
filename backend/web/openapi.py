"""The OpenAPI 3.1 description of the JSON API (served at /api/openapi.json)."""

_ERROR = {"$ref": "#/components/responses/Error"}


def _get(summary: str, params: list | None = None, ok: str = "OK", extra: dict | None = None) -> dict:
    responses = {"200": {"description": ok, "content": {"application/json": {"schema": {"type": "object"}}}}}
    responses.update(extra or {})
    return {"get": {"summary": summary, "parameters": params or [], "responses": responses}}


def _path_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}}


OPENAPI = {
    "openapi": "3.1.0",
    "info": {"title": "stylemint API", "version": "1.0.0",
             "description": "Style projects, tokens and their renders; every error is JSON with a message."},
    "paths": {
        "/api/health": _get("Service health: chain reachability and the content store", extra={"503": _ERROR}),
        "/api/contract": _get("Contract address, chain id and ABI for the pages", extra={"503": _ERROR}),
        "/api/projects": _get("All style projects with artist, price, editions left and a preview"),
        "/api/projects/{id}": _get("One project: on-chain data, manifest and preview images", [_path_param("id")],
                                   extra={"400": _ERROR, "404": _ERROR}),
        "/api/tokens/{id}": _get("One token: owner, state (pending, rendering, fulfilled, failed), image, provenance",
                                 [_path_param("id")], extra={"400": _ERROR, "404": _ERROR}),
        "/api/tokens": _get("Tokens owned by an address", [{"name": "owner", "in": "query", "required": True,
                                                            "schema": {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}}],
                            extra={"400": _ERROR}),
        "/api/manifests": {"post": {
            "summary": "Validate an artist's style manifest, pin its canonical bytes, return CID and sha256",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"201": {"description": "Pinned", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"cid": {"type": "string"}, "sha256": {"type": "string"},
                                                 "canonical": {"type": "string"}}}}}},
                          "400": _ERROR, "413": _ERROR, "422": _ERROR, "502": _ERROR}}},
        "/api/verify/{id}": _get("The auditor's verification report for a token (cached per token and environment)",
                                 [_path_param("id")], extra={"400": _ERROR, "404": _ERROR, "502": _ERROR, "503": _ERROR}),
        "/ipfs/{cid}": {"get": {"summary": "Content by CID from the embedded store (immutable)",
                                "parameters": [{"name": "cid", "in": "path", "required": True, "schema": {"type": "string"}}],
                                "responses": {"200": {"description": "The content"}, "304": {"description": "Not modified"},
                                              "400": _ERROR, "404": _ERROR, "500": _ERROR}}},
    },
    "components": {"responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {
        "type": "object", "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}}}}}},
}
