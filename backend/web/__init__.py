"""The Flask app: an app factory with one blueprint per resource (Flask tutorial layout).

What a browser on another web site can make this app do is bounded here, once for every route:
the Host header must name this server (Flask's TRUSTED_HOSTS: a DNS-rebinding page reaches
127.0.0.1 under its own name), a state-changing request from a page must come from one of this
server's own origins, pinning is rate-limited per client (Flask-Limiter), and every response
carries a Content-Security-Policy, nosniff and a Referrer-Policy.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, abort, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException, InternalServerError

LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "::1"]
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
log = logging.getLogger(__name__)


# Content by CID (the IPFS gateway routes): shown as what it is, never run.
CONTENT_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"


def content_security_policy(public_rpc_url: str | None) -> str:
    """The pages' policy: scripts only from this origin (ES modules, no inline script), nothing
    framed or framing, no plugins, no <base>. `connect-src` adds the public RPC URL that wallets
    are told (an in-page wallet posts to it); images may be data:/blob: (heat maps, previews)."""
    connect = "'self'"
    if public_rpc_url:
        parts = urlsplit(public_rpc_url)
        connect += f" {parts.scheme}://{parts.netloc}"
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            f"connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def create_app(config: dict | None = None) -> Flask:
    """Build the app.

    `config` may set IPFS_STORE (a content store), CATALOG (chain + store + oracle state, for
    the API), VERIFIER, PUBLIC_RPC_URL (the RPC URL wallets are told; none by default: the
    server's own RPC URL is private), PREVIEW_RATE_LIMIT, PREVIEW_MAX_PIXEL_STEPS and PREVIEW_RENDERER
    (backend/web/preview.py), EXPLORER_URL (a public chain's block explorer, linked from
    token pages as <url>/tx/<hash> and <url>/address/<address>; none by default), PUBLIC_URLS (the URLs visitors reach this server at; the
    loopback names are always accepted), PIN_RATE_LIMIT, POLICY (the operator policy for pinned
    manifests) and MAX_CONTENT_LENGTH.
    """
    app = Flask(__name__, static_folder=None)  # frontend/ is served by the pages blueprint
    app.config.from_mapping(MAX_CONTENT_LENGTH=1024 * 1024, JSON_SORT_KEYS=False, PUBLIC_URLS=[],
                            PIN_RATE_LIMIT="10 per minute;100 per day", PUBLIC_RPC_URL=None,
                            PREVIEW_RATE_LIMIT="6 per minute;60 per day",
                            EXPLORER_URL=None)
    if config:
        app.config.update(config)
    if "IPFS_STORE" not in app.config:
        from backend.ipfs.config import store_from_config

        app.config["IPFS_STORE"] = store_from_config()
    public = [urlsplit(url) for url in app.config["PUBLIC_URLS"]]
    app.config["TRUSTED_HOSTS"] = LOOPBACK_HOSTS + [url.hostname for url in public if url.hostname]
    origins = {f"{url.scheme}://{url.netloc}" for url in public}

    from backend.web import api, gateway, pages, preview, verify_api
    from backend.web.progress import close_jobs

    app.register_blueprint(gateway.bp)
    app.register_blueprint(verify_api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(preview.bp)
    app.register_blueprint(pages.bp)
    # One limiter per app (its counts in memory): pins cost storage forever, so each client gets
    # a bounded number of them.
    limiter = Limiter(get_remote_address, app=app, storage_uri="memory://", default_limits=[])
    pin_limit = app.config["PIN_RATE_LIMIT"]
    for endpoint in ("api.manifests", "api.adapters", "api.allowlists", "api.images"):
        app.view_functions[endpoint] = limiter.limit(
            pin_limit, error_message=f"pin limit reached ({pin_limit} per client); try again later")(
            app.view_functions[endpoint])
    preview_limit = app.config["PREVIEW_RATE_LIMIT"]
    app.view_functions["preview.preview"] = limiter.limit(
        preview_limit, error_message=f"preview limit reached ({preview_limit} per client); try again later")(
        app.view_functions["preview.preview"])
    app.teardown_appcontext(close_jobs)

    @app.before_request
    def same_origin_only():
        """A page on another site may send a simple POST to 127.0.0.1; it carries its Origin."""
        origin = request.headers.get("Origin")
        if request.method in UNSAFE_METHODS and origin is not None:
            if origin != request.host_url.rstrip("/") and origin not in origins:
                abort(403, description=f"requests from {origin[:100]} are not accepted; use this site's own pages")

    page_policy = content_security_policy(app.config["PUBLIC_RPC_URL"])

    @app.after_request
    def security_headers(response):
        """Defence in depth on every response: the pages run only this origin's module scripts
        (no inline script, no plugin, no <base>, no framing); content by CID is inert bytes in a
        sandbox (a hostile SVG or HTML pinned by anyone runs nothing on this origin)."""
        content_by_cid = request.path.startswith("/ipfs/")
        response.headers["Content-Security-Policy"] = CONTENT_POLICY if content_by_cid else page_policy
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.errorhandler(HTTPException)
    def json_error(error: HTTPException):
        """Every error is JSON with a message (headers such as Allow kept), except a page that a
        browser asked for and that does not exist: that is the site's own not-found page."""
        if error.code == 404 and "text/html" in request.headers.get("Accept", "") and not request.path.startswith(
                ("/api/", "/ipfs/", "/static/", "/vendor/")):
            return render_template("notfound.html", path=request.path[:200]), 404
        response = jsonify(error=error.name, message=error.description)
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response, error.code

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(InternalServerError(description="the server failed on this request; it is logged"))

    if app.config.get("READ_CACHE") and app.config.get("CATALOG") is not None:
        _answer_reads_once_per_block(app, **app.config["READ_CACHE"])
    return app


def _answer_reads_once_per_block(app: Flask, head_seconds: float, max_age: float) -> None:
    """The read routes' answers kept per head block (backend/web/read_cache.py); every response
    still passes the app's checks and header hooks."""
    from backend.web.read_cache import CACHEABLE, ReadCache

    cache = ReadCache(app.config["CATALOG"].chain.head, head_seconds=head_seconds, max_age=max_age)
    app.extensions["stylemint_read_cache"] = cache
    for endpoint in CACHEABLE:
        app.view_functions[endpoint] = cache.wrap(app.view_functions[endpoint])
