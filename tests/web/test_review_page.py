"""The platform admin's review page in a real browser: it shows each project's manifest (read
from the pinned bytes, checked against the hash on chain), styles, share and both hashes, previews
renders, approves exactly what it showed (nothing is sent when the artist changed the share behind
the reviewer's back) and revokes in one click. A visitor who is not the admin can look, not approve."""

import hashlib

import pytest
from ape import accounts

from backend.dev import ape_contract as core
from backend.dev.sample import pin_manifest, register_shipped_styles
from backend.render.samples import tiny_manifest
from tests.support.pages import COLLECTOR
from tests.web.conftest import screenshot

pytestmark = pytest.mark.e2e
SENT = "() => window.__walletCalls.eth_sendTransaction || 0"


def test_the_admin_reviews_previews_approves_and_revokes(open_page, site):
    base, node, sample, store = site
    stylemint, admin, artist = sample.contract, accounts.test_accounts[0], accounts.test_accounts[3]
    ids = register_shipped_styles(stylemint, store, {"inkline": accounts.test_accounts[5]})
    manifest = tiny_manifest("inkline", name="Ink Studies")
    blend = core.create_project(stylemint, artist, name="Ink Studies", manifest_cid=pin_manifest(store, manifest),
                                manifest_hash=bytes.fromhex(manifest.sha256_hex()), price_wei=10**9, max_editions=10,
                                style_ids=(ids["inkline"],), styles_share_bps=2_500)
    # An artist who pins one manifest and declares another one's hash: never shown as reviewed.
    forged = core.create_project(stylemint, artist, name="Decoy", manifest_cid=pin_manifest(store, tiny_manifest(None)),
                                 manifest_hash=bytes.fromhex(tiny_manifest(None, steps=12).sha256_hex()),
                                 price_wei=10**9, max_editions=10)
    # Compositions, whose layout is chosen by the motif (RENDER_SPEC §4).
    composed = tiny_manifest(None, base="stylemint-gen")
    compositions = core.create_project(stylemint, artist, name="Compositions", manifest_cid=pin_manifest(store, composed),
                                       manifest_hash=bytes.fromhex(composed.sha256_hex()), price_wei=10**9, max_editions=10)

    # And one whose pinned bytes hash right but are no manifest: shown as such, the page unharmed.
    junk = core.create_project(stylemint, artist, name="Junk", manifest_cid=store.add(b'{"model": 1}'),
                               manifest_hash=hashlib.sha256(b'{"model": 1}').digest(), price_wei=10**9, max_editions=10)

    visitor = open_page("/review", account=COLLECTOR, authorized=True)
    visitor.wait_for_function("() => document.getElementById('role').innerText.includes('is not the platform admin')")
    visitor.wait_for_selector(f"#awaiting [data-project='{blend}'] .approve")
    assert visitor.is_disabled(f"[data-project='{blend}'] .approve")

    page = open_page("/review", account=admin.address, authorized=True)
    page.wait_for_function("() => document.getElementById('role').innerText.includes('You are the platform admin')")
    card = f"#awaiting [data-project='{blend}']"
    page.wait_for_selector(card + " .approve:not([disabled])")
    text = page.inner_text(card)
    assert 'Inkline (#1, "inkline")' in text and "25 % of the artist's 90 %" in text
    assert "✓ matches the pinned bytes" in text and "✓ the styles and share above" in text
    assert "none: the oracle would render it" in text and "one {colour} {shape} on a {ground} ground, inkline style" in text
    assert page.get_attribute(card + " .styles-hash button.copy", "data-copy") == "0x" + bytes(stylemint.stylesConfigHash(blend)).hex()
    decoy = page.inner_text(f"#awaiting [data-project='{forged}']")
    assert "✗ the pinned bytes hash to" in decoy and "does not hash to the manifest hash on chain" in decoy
    assert "layout: by motif: a single figure → left, centred, right | concentric rings → centred, offset | flow lines" in page.inner_text(
        f"#awaiting [data-project='{compositions}']")
    assert page.is_disabled(f"[data-project='{forged}'] .approve") and page.is_disabled(f"[data-project='{forged}'] .preview")
    junk_card = page.inner_text(f"#awaiting [data-project='{junk}']")
    assert "not a manifest this page can show" in junk_card and "the pinned manifest is not valid" in junk_card
    assert page.is_disabled(f"[data-project='{junk}'] .approve")
    page.wait_for_selector("#approved [data-project='1'] .revoke:not([disabled])")

    page.click(card + " .preview")
    page.wait_for_function(f"() => document.querySelectorAll(\"{card} .previews img\").length === 4 "
                           "|| document.querySelector('#messages .error')", timeout=120_000)
    assert page.query_selector("#messages .error") is None, page.inner_text("#messages")

    # The artist sets the styles' share to 0 after the page loaded: the approval is refused unsent.
    stylemint.setProjectStyles(blend, [ids["inkline"]], 0, sender=artist)
    page.click(card + " .approve")
    page.wait_for_selector("text=styles or share changed since this page loaded: nothing was sent")
    assert page.evaluate(SENT) == 0 and bytes(stylemint.approvedManifestHash(blend)) == bytes(32)
    page.click("text=Reload the review")
    page.wait_for_selector(card + " .share >> text=the styles' owners earn nothing")
    page.click(card + " .approve")
    page.wait_for_selector(f"text=Project {blend} \"Ink Studies\" approved", timeout=30_000)
    assert bytes(stylemint.approvedManifestHash(blend)).hex() == manifest.sha256_hex() and page.evaluate(SENT) == 1
    page.wait_for_selector(f"#approved [data-project='{blend}']")

    warnings = []
    page.on("dialog", lambda dialog: (warnings.append(dialog.message), dialog.accept()))
    page.click("#approved [data-project='1'] .revoke")
    page.wait_for_selector("text=Approval of project 1 revoked", timeout=30_000)
    assert bytes(stylemint.approvedManifestHash(1)) == bytes(32) and len(warnings) == 1
    page.wait_for_selector("#awaiting [data-project='1']")
    screenshot(page, "review")
