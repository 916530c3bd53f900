"""The pages (frontend/) and the one third-party module they import, ethers, from npm.

Every page extends frontend/layout.html (nav, message box, wallet chooser) through Flask's own
Jinja templates, so the shared parts are written once. No build step and no committed copy of
third-party code: ethers' own ES module is served from node_modules at /vendor/ethers.js.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, send_from_directory

from backend.config import PROJECT_ROOT

FRONTEND = PROJECT_ROOT / "frontend"
ETHERS_DIST = PROJECT_ROOT / "node_modules" / "ethers" / "dist"

bp = Blueprint("pages", __name__, template_folder=str(FRONTEND))
PAGES = {"": "index.html", "project": "project.html", "token": "token.html", "artist": "artist.html",
         "mine": "mine.html", "styles": "styles.html", "review": "review.html"}


@bp.get("/")
@bp.get("/<page>")
def page(page: str = ""):
    if page not in PAGES:
        abort(404, description=f"no page /{page}")
    return render_template(PAGES[page])


@bp.get("/static/<path:name>")
def static_file(name: str):
    return send_from_directory(FRONTEND, name)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico before they read the page's icon link."""
    return send_from_directory(FRONTEND, "favicon.svg", mimetype="image/svg+xml")


@bp.get("/vendor/ethers.js")
def ethers():
    if not (ETHERS_DIST / "ethers.min.js").exists():
        abort(503, description="ethers is not installed: run `make setup`")
    return send_from_directory(ETHERS_DIST, "ethers.min.js", mimetype="text/javascript")
