"""A lying oracle, a hostile artist and hostile input: each gets a specific verdict, never a pass,
never a traceback (issue 14, points 1 to 6)."""

import io
import json
import subprocess
import threading

import numpy as np
import pytest
from ape import accounts
from PIL import Image

from backend.chain.client import StyleMintClient
from backend.dev import ape_contract as core
from backend.ipfs.cid import cid_of
from backend.render.manifest import canonical_json
from backend.render.renderer import encode_png
from backend.render.samples import sample_manifest
from backend.verify.verifier import Outcome, compare_pixels
from tests.oracle.conftest import make_oracle
from tests.verify.conftest import fulfill_with, honest_metadata, verifier_for
from tests.support.cli import stylemint

pytestmark = pytest.mark.e2e
COLLECTOR = 4


def victim_of(sample):
    return core.mint(sample.contract, accounts.test_accounts[COLLECTOR], sample.project_id)


def verify(node, sample, store, renderer, token_id, **options):
    return verifier_for(node, sample, store, renderer.models_dir, **options).verify(token_id)


def forged(fulfilled, renderer, *, edit=lambda metadata: None, png_of=None, document=None):
    """A new token fulfilled by a lying oracle with its honest metadata edited (or with `document`
    instead), then verified: the report."""
    node, sample, store, _, _ = fulfilled
    victim = victim_of(sample)
    metadata, seed = honest_metadata(node, sample, store, renderer, victim, png_of=png_of)
    edit(metadata)
    fulfill_with(sample, store, victim, seed, metadata if document is None else document)
    return verify(node, sample, store, renderer, victim.token_id)


def counted_renders(monkeypatch, renderer) -> list:
    """Every `render_batch` call on `renderer` from now on (the real render still runs)."""
    calls, real = [], renderer.render_batch
    monkeypatch.setattr(renderer, "render_batch", lambda *args, **kwargs: calls.append(args) or real(*args, **kwargs))
    return calls


def patch_edit(pixels):
    """A 24x24 patch moved by 4 levels: inside the old tolerance (max 4 levels, PSNR >= 40 dB)."""
    pixels[4:28, 4:28] = np.clip(pixels[4:28, 4:28].astype(np.int16) + 4, 0, 255).astype(np.uint8)
    return encode_png(pixels)


def hidden_pattern(pixels):
    """A +-2 pattern on every pixel: a watermark no eye sees."""
    pattern = np.where((np.indices(pixels.shape[:2]).sum(axis=0) % 2)[..., None] == 0, 2, -2)
    return encode_png(np.clip(pixels.astype(np.int16) + pattern, 0, 255).astype(np.uint8))


# -- 1. the oracle cannot switch on the tolerance -------------------------------------------------

@pytest.mark.parametrize("edit", [patch_edit, hidden_pattern], ids=["24x24 patch +4", "+-2 everywhere"])
@pytest.mark.parametrize("claimed", [None, {"numpy": "1.26.5"}, {"cpu_capability": "DEFAULT"}, {"threads": 1}],
                         ids=["honest environment", "other numpy", "other cpu", "other thread count"])
def test_an_edited_image_is_never_tolerated_whatever_environment_the_oracle_claims(
        fulfilled, shared_renderer, edit, claimed):
    report = forged(fulfilled, shared_renderer, png_of=edit,
                    edit=lambda metadata: metadata["provenance"]["environment"].update(claimed or {}))
    assert report.exit_code != 0 and report.outcome != "tolerant"
    if claimed is None:  # the same environment renders byte-exact: any edit is a mismatch
        assert report.outcome == "image_mismatch" and "committed environment" in report.reason
    else:  # a claim of another environment is itself a false claim, named
        assert report.outcome == "metadata_mismatch", report.reason
        assert "not the environment the project commits to" in report.reason
        assert all(key in report.reason for key in claimed)


def test_a_manifest_commits_its_environment_and_the_oracle_refuses_another(sample_chain, shared_renderer, env, monkeypatch):
    """An oracle outside the committed class renders nothing: it fails the job with the reason."""
    node, sample, store = sample_chain
    other = sample_manifest(name="Other class", environment={**sample_manifest().environment.model_dump(),
                                                             "torch": "2.0.0"})
    cid = store.add(other.canonical_bytes())
    project_id = core.create_project(sample.contract, accounts.test_accounts[3], name=other.name, manifest_cid=cid,
                                     manifest_hash=other.sha256(), price_wei=0, max_editions=2, unpause=True,
                                     approve_by=accounts.test_accounts[0])
    mint = core.mint(sample.contract, accounts.test_accounts[COLLECTOR], project_id)
    renders = counted_renders(monkeypatch, shared_renderer)
    make_oracle(node, sample, store, shared_renderer, env / "state.sqlite").run(threading.Event(), until_idle=True)
    job = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite").jobs.for_token(mint.token_id)
    assert job.state == "failed" and "environment the project commits to" in job.last_error
    assert "'2.0.0' committed" in job.last_error
    assert renders == [] and not sample.contract.isFulfilled(mint.token_id)


# -- 2. crashes become verdicts -------------------------------------------------------------------

def edited(path: str, value):
    def edit(metadata):
        target = metadata
        *parents, last = path.split(".")
        for key in parents:
            target = target[key]
        target[last] = value
    return edit


HOSTILE_METADATA = {
    "threads 'abc'": (edited("provenance.environment.threads", "abc"), "environment"),
    "threads -1": (edited("provenance.environment.threads", -1), "environment"),
    "batch_size 0": (edited("provenance.environment.batch_size", 0), "environment"),
    "batch_size 10**6": (edited("provenance.environment.batch_size", 10**6), "environment"),
    "provenance a list": (edited("provenance", [1, 2]), "provenance object"),
    "environment a list": (edited("provenance.environment", ["cpu"]), "provenance.environment must be an object"),
    "image an https URL": (edited("image", "https://example.com/x.png"), "must be an ipfs:// URI"),
    "image not a CID": (edited("image", "ipfs://not-a-cid"), "does not name a CID"),
}


@pytest.mark.parametrize("case", list(HOSTILE_METADATA))
def test_hostile_metadata_gets_a_specific_verdict(fulfilled, shared_renderer, case):
    edit, words = HOSTILE_METADATA[case]
    report = forged(fulfilled, shared_renderer, edit=edit)
    assert report.outcome == "metadata_mismatch" and report.exit_code == Outcome.METADATA_MISMATCH, report.reason
    assert words in report.reason


@pytest.mark.parametrize("document", [b"[1, 2]", b"not json", b"[" * 60_000, b'{"x": NaN}'],
                         ids=["a list", "not json", "60,000 brackets", "NaN"])
def test_metadata_that_is_not_an_object(fulfilled, shared_renderer, document):
    report = forged(fulfilled, shared_renderer, document=document)
    assert report.outcome == "metadata_mismatch", report.reason


def test_an_image_that_is_not_an_image(fulfilled, shared_renderer):
    report = forged(fulfilled, shared_renderer, png_of=lambda _: b"GIF89a not a png")
    assert report.outcome == "image_mismatch" and "not a PNG" in report.reason


def huge_png(_) -> bytes:
    """A 10000 x 10000 PNG of one colour: about 100 KB on the wire, 300 MB decoded as RGB."""
    buffer = io.BytesIO()
    Image.new("L", (10_000, 10_000)).save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def test_an_oversized_png_is_refused_before_it_is_decoded(fulfilled, shared_renderer, monkeypatch):
    """Memory for this token is measured by bench/hostile_png.py (peak RSS, honest vs hostile)."""
    from PIL import Image as pil_image

    node, sample, store, _, _ = fulfilled
    victim = victim_of(sample)
    metadata, seed = honest_metadata(node, sample, store, shared_renderer, victim, png_of=huge_png)
    fulfill_with(sample, store, victim, seed, metadata)
    opened = []
    real_open = pil_image.open
    monkeypatch.setattr(pil_image, "open", lambda data, *a, **k: opened.append(data) or real_open(data, *a, **k))
    report = verify(node, sample, store, shared_renderer, victim.token_id)
    assert report.outcome == "image_mismatch" and "refused undecoded" in report.reason, report.reason
    assert "10000x10000 pixels, the manifest renders" in report.reason
    huge = [data for data in opened if isinstance(data, io.BytesIO) and data.getvalue()[16:20] == (10_000).to_bytes(4, "big")]
    assert huge == []  # Pillow never saw the hostile image


# -- hostile JSON: one document, one reading ------------------------------------------------------

def _raw_edit(change):
    """A forged metadata document as bytes: the honest canonical form, then `change`d."""
    def forge(fulfilled, renderer):
        node, sample, store, _, _ = fulfilled
        victim = victim_of(sample)
        metadata, seed = honest_metadata(node, sample, store, renderer, victim)
        fulfill_with(sample, store, victim, seed, change(canonical_json(metadata), metadata))
        return verify(node, sample, store, renderer, victim.token_id)
    return forge


def _duplicate_seed(raw, metadata):
    """A second `seed` key in provenance, placed first: Python reads the last (honest) one, a
    reader that keeps the first sees another seed."""
    return raw.replace(b'"provenance":{', b'"provenance":{"seed":"0x' + b"00" * 32 + b'",', 1)


HOSTILE_JSON = {
    "duplicate key": (_duplicate_seed, "duplicate key(s) 'seed'"),
    "NaN": (lambda raw, m: raw.replace(b'"project_id":%d' % m["provenance"]["project_id"], b'"project_id":NaN'),
            "NaN is not JSON"),
    "trailing newline": (lambda raw, m: raw + b"\n", "not canonical JSON"),
    "a second document after it": (lambda raw, m: raw + b'{"seed":"0x00"}', "Extra data"),
    "byte-order mark": (lambda raw, m: b"\xef\xbb\xbf" + raw, "byte-order mark"),
    "pretty-printed": (lambda raw, m: json.dumps(m, indent=1).encode(), "not canonical JSON"),
}


@pytest.mark.parametrize("case", list(HOSTILE_JSON))
def test_metadata_with_more_than_one_reading_is_a_lie(fulfilled, shared_renderer, case):
    change, words = HOSTILE_JSON[case]
    report = _raw_edit(change)(fulfilled, shared_renderer)
    assert report.outcome == "metadata_mismatch" and report.exit_code == Outcome.METADATA_MISMATCH, report.reason
    assert words in report.reason, report.reason


def test_a_metadata_cid_that_is_not_a_cid(fulfilled, shared_renderer):
    """The contract derives the metadata CID, but a verifier may be pointed at any RPC: a node that
    answers `not-a-cid` gets a verdict too."""
    node, sample, store, mints, _ = fulfilled

    class LyingNode(StyleMintClient):
        def view(self, name, *args):
            return "not-a-cid" if name == "tokenMetadataCID" else super().view(name, *args)

    from backend.verify.verifier import Verifier

    verifier = Verifier(LyingNode(node.url, sample.deployment.address, retries=1), store,
                        models_dir=shared_renderer.models_dir)
    report = verifier.verify(mints[0].token_id)
    assert report.outcome == "metadata_mismatch" and "'not-a-cid' is not a CID" in report.reason


@pytest.mark.parametrize("token_id", [2**256, -1, 2**300])
def test_token_ids_outside_uint256(fulfilled, shared_renderer, env, token_id):
    node, sample, store, _, _ = fulfilled
    report = verify(node, sample, store, shared_renderer, token_id)
    assert report.outcome == "unknown_token" and "0 .. 2^256-1" in report.reason
    result = stylemint(env, "verify", "--rpc", node.url, "--", str(token_id))
    if token_id < 0:  # not a number a token id can be written as: a bad argument, said so
        assert result.returncode == 2 and f"'{token_id}' is not a token id" in result.stderr, result.stderr
    else:
        assert result.returncode == Outcome.UNKNOWN_TOKEN, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_manifest_cid_that_is_not_a_cid_and_the_project_summary_goes_on(fulfilled, shared_renderer, env):
    """The artist sets `not-a-cid`: the oracle fails the job with the reason (it renders nothing),
    a token a rival oracle fulfilled gets its verdict, and `verify --project` reports every token."""
    node, sample, store, mints, _ = fulfilled
    manifest = sample_manifest()
    project_id = core.create_project(sample.contract, accounts.test_accounts[3], name="Garbage CID",
                                     manifest_cid="not-a-cid", manifest_hash=manifest.sha256(), price_wei=0,
                                     max_editions=3, unpause=True, approve_by=accounts.test_accounts[0])
    pending = core.mint(sample.contract, accounts.test_accounts[COLLECTOR], project_id)
    forged = core.mint(sample.contract, accounts.test_accounts[COLLECTOR], project_id)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    oracle.run(threading.Event(), until_idle=True)
    job = oracle.jobs.for_token(pending.token_id)
    assert job.state == "failed" and "'not-a-cid', is not a CID" in job.last_error
    core.randomness_block(sample.contract, forged.token_id)
    from tests.support.chain import canonical_seed

    seed = canonical_seed(node.url, sample.deployment.address, forged.token_id, forged.tx_hash)
    fulfill_with(sample, store, forged, seed, {"name": "x"})
    report = verify(node, sample, store, shared_renderer, forged.token_id)
    assert report.outcome == "manifest_mismatch" and "'not-a-cid' is not a CID" in report.reason
    result = stylemint(env, "verify", "--project", str(project_id), "--rpc", node.url)
    assert result.returncode == Outcome.MANIFEST_MISMATCH and "Traceback" not in result.stderr
    assert f"project {project_id}: 2 minted, 1 fulfilled, 1 manifest_mismatch" in result.stdout


# -- 3. every derivable claim is checked ----------------------------------------------------------

FALSE_CLAIMS = {
    "attributes": lambda m: m["attributes"][-1].update(value=m["attributes"][-1]["value"] + " (rare)"),
    "provenance.prompt": lambda m: m["provenance"].update(prompt="a masterpiece"),
    "name": lambda m: m.update(name="Tidal Glass #1 of 1"),
    "provenance.png_sha256": lambda m: m["provenance"].update(png_sha256="ab" * 32),
    "provenance.pixel_sha256": lambda m: m["provenance"].update(pixel_sha256="cd" * 32),
    "provenance.project_id": lambda m: m["provenance"].update(project_id=7),
    "description": lambda m: m.update(description="certified by a famous auditor"),
    "extra field": lambda m: m.update(rarity="legendary"),
    # The environment is derived (the committed class and the manifest's dtype), never copied.
    "provenance.environment.python": lambda m: m["provenance"]["environment"].update(python="2.7.18"),
    "provenance.environment.gpu_driver": lambda m: m["provenance"]["environment"].update(gpu_driver="555.1"),
    "provenance.environment.dtype": lambda m: m["provenance"]["environment"].update(dtype="float16"),
}


@pytest.mark.parametrize("claim", list(FALSE_CLAIMS))
def test_a_false_claim_is_named(fulfilled, shared_renderer, claim):
    report = forged(fulfilled, shared_renderer, edit=FALSE_CLAIMS[claim])
    assert report.outcome == "metadata_mismatch", report.reason
    named = claim.split()[0] if claim != "extra field" else "rarity"
    assert named in report.reason and "metadata claims are false" in report.reason


def test_honest_metadata_built_by_the_test_is_exact(fulfilled, shared_renderer):
    """The forging helper itself builds what the oracle builds: unedited, it verifies exact."""
    report = forged(fulfilled, shared_renderer)
    assert report.outcome == "exact", report.reason


# -- 4. a later manifest change never affects an earlier token ------------------------------------

def test_a_later_manifest_change_never_breaks_earlier_tokens(fulfilled, shared_renderer, env):
    node, sample, store, mints, _ = fulfilled
    artist = accounts.test_accounts[3]
    pending = victim_of(sample)  # minted now, rendered after the artist's changes
    manifest = sample_manifest()
    from multiformats import CID

    other_encoding = CID.decode(sample.manifest_cid).encode("base58btc")
    for later_cid in ("not-a-cid", other_encoding, cid_of(b"some other bytes")):
        sample.contract.setProjectManifest(sample.project_id, later_cid, manifest.sha256(), sender=artist)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    oracle.run(threading.Event(), until_idle=True)
    assert oracle.jobs.for_token(pending.token_id).state == "fulfilled", oracle.jobs.for_token(pending.token_id).last_error
    for token in (mints[0], pending):
        report = verify(node, sample, store, shared_renderer, token.token_id)
        assert report.outcome == "exact", report.reason
        assert report.checks[2].evidence["manifest_cid"] == sample.manifest_cid
    # A token minted under the base58 CID form of the same manifest renders and verifies too.
    sample.contract.setProjectManifest(sample.project_id, other_encoding, manifest.sha256(), sender=artist)
    later = victim_of(sample)
    oracle.run(threading.Event(), until_idle=True)
    report = verify(node, sample, store, shared_renderer, later.token_id)
    assert report.outcome == "exact" and report.checks[2].evidence["manifest_cid"] == other_encoding, report.reason


# -- 5. and 6. what a claim can make the verifier do; valid JSON ----------------------------------

def test_identical_pixels_give_valid_json_everywhere(fulfilled, shared_renderer, env):
    """The pinned PNG re-encoded (same pixels): PSNR has no finite value, and the report is JSON
    that Node's parser (the token page's) accepts."""
    node, sample, store, _, _ = fulfilled
    victim = victim_of(sample)

    def reencode(pixels):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    metadata, seed = honest_metadata(node, sample, store, shared_renderer, victim, png_of=reencode)
    fulfill_with(sample, store, victim, seed, metadata)
    assert compare_pixels(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 2, 3), np.uint8))["psnr_db"] is None
    result = stylemint(env, "verify", str(victim.token_id), "--rpc", node.url, "--json")
    assert result.returncode == Outcome.IMAGE_MISMATCH, result.stdout + result.stderr
    parsed = subprocess.run(["node", "-e", "const r = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
                             "console.log(r.outcome, r.comparison.max_abs_diff, r.comparison.psnr_db)"],
                            input=result.stdout, capture_output=True, text=True, timeout=60)
    assert parsed.returncode == 0 and parsed.stdout.split() == ["image_mismatch", "0", "null"], parsed.stderr
    assert "PNG encoding" in json.loads(result.stdout)["reason"]


def test_the_oracle_applies_the_operator_policy_before_rendering(sample_chain, shared_renderer, env, monkeypatch):
    """A manifest pinned elsewhere (not through the API) still gets no render past the policy."""
    from backend.render.policy import OperatorPolicy

    node, sample, store = sample_chain
    mint = victim_of(sample)
    renders = counted_renders(monkeypatch, shared_renderer)
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite",
                         policy=OperatorPolicy(max_pixel_steps=64 * 64 * 4))
    oracle.run(threading.Event(), until_idle=True)
    job = oracle.jobs.for_token(mint.token_id)
    assert job.state == "failed" and "operator policy" in job.last_error and "32,768 pixel-steps" in job.last_error
    assert renders == [] and not sample.contract.isFulfilled(mint.token_id)


# -- attribution (issue 15): the recorded weights are what the render gives ----------------------

@pytest.fixture
def blend_project(sample_chain):
    """A project of two styles at 0.3 and 0.7 on the sample contract."""
    from backend.dev.sample import pin_manifest
    from backend.render.samples import blend_manifest

    node, sample, store = sample_chain
    manifest = blend_manifest({"stipple": 0.3, "inkline": 0.7})
    project_id = core.create_project(sample.contract, accounts.test_accounts[3], name=manifest.name,
                                     manifest_cid=pin_manifest(store, manifest), manifest_hash=manifest.sha256(),
                                     price_wei=0, max_editions=10, unpause=True, approve_by=accounts.test_accounts[0])
    return node, sample, store, project_id


@pytest.mark.parametrize("tamper", ["none", "weights", "score", "heat map", "dropped"])
def test_a_tampered_attribution_is_caught(blend_project, shared_renderer, tamper):
    node, sample, store, project_id = blend_project
    victim = core.mint(sample.contract, accounts.test_accounts[COLLECTOR], project_id)
    metadata, seed = honest_metadata(node, sample, store, shared_renderer, victim)
    styles = metadata["provenance"]["attribution"]["styles"]
    assert [s["trigger"] for s in styles] == ["stipple", "inkline"] and sum(s["weight_bps"] for s in styles) == 10_000
    if tamper == "weights":  # still summing to 10,000: the stipple artist is paid more
        styles[0]["weight_bps"], styles[1]["weight_bps"] = styles[0]["weight_bps"] + 2000, styles[1]["weight_bps"] - 2000
    elif tamper == "score":
        styles[1]["score"] *= 1.5
    elif tamper == "heat map":
        styles[0]["heatmap_cid"] = styles[1]["heatmap_cid"]
    elif tamper == "dropped":
        del metadata["provenance"]["attribution"]
    fulfill_with(sample, store, victim, seed, metadata)
    report = verify(node, sample, store, shared_renderer, victim.token_id)
    if tamper == "none":
        attribution = next(c for c in report.checks if c.step == "attribution")
        assert report.outcome == "exact" and attribution.passed
        assert "stipple" in attribution.detail and "inkline" in attribution.detail
    elif tamper == "dropped":
        assert report.outcome == "metadata_mismatch" and "provenance.attribution" in report.reason
    else:
        assert report.outcome == "attribution_mismatch" and report.exit_code == Outcome.ATTRIBUTION_MISMATCH == 19
        assert {"weights": "weight_bps", "score": "score", "heat map": "heatmap_cid"}[tamper] in report.reason


def test_outside_the_committed_class_the_attribution_is_checked_within_one_percent(blend_project, shared_renderer):
    node, sample, store, project_id = blend_project
    victim = core.mint(sample.contract, accounts.test_accounts[COLLECTOR], project_id)
    metadata, seed = honest_metadata(node, sample, store, shared_renderer, victim)
    fulfill_with(sample, store, victim, seed, metadata)
    report = verify(node, sample, store, shared_renderer, victim.token_id, threads=1)  # outside the class
    attribution = next(c for c in report.checks if c.step == "attribution")
    assert report.outcome in ("exact", "tolerant") and attribution.passed, report.reason
    assert "within 1 % per style" in attribution.detail
    recomputed = report.comparison["attribution"]["recomputed"]["styles"]
    assert all(abs(a["weight_bps"] - b["weight_bps"]) <= 100
               for a, b in zip(recomputed, metadata["provenance"]["attribution"]["styles"]))
