"""The Flask app: an app factory with one blueprint per resource (Flask tutorial layout)."""

from __future__ import annotations

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException


def create_app(config: dict | None = None) -> Flask:
    """Build the app.

    `config` may set IPFS_STORE (a content store), CHAIN_VIEW (chain + store + oracle state, for
    the API), VERIFIER, PUBLIC_RPC_URL (what the pages tell wallets) and MAX_CONTENT_LENGTH.
    """
    app = Flask(__name__, static_folder=None)  # frontend/ is served by the pages blueprint
    app.config.from_mapping(MAX_CONTENT_LENGTH=1024 * 1024, JSON_SORT_KEYS=False)
    if config:
        app.config.update(config)
    if "IPFS_STORE" not in app.config:
        from backend.ipfs.config import store_from_config

        app.config["IPFS_STORE"] = store_from_config()

    from backend.web import api, gateway, pages, verify_api
    from backend.web.chain_view import close_jobs

    app.register_blueprint(gateway.bp)
    app.register_blueprint(verify_api.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.teardown_appcontext(close_jobs)

    @app.errorhandler(HTTPException)
    def json_error(error: HTTPException):
        """Every error is JSON with a message, never an HTML page."""
        return jsonify(error=error.name, message=error.description), error.code

    return app
