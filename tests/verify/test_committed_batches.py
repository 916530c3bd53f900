"""Committed batches (RENDER_SPEC §5a, issue 33): a project whose environment class commits B = 3
is rendered in batches of exactly 3 rows, its tokens in token-id order and filler rows after them.
Batch 3 is not row-independent on this CPU, so a row's bytes depend on its batch: the whole path
(oracle, provenance, a verifier in a fresh process, the lies) runs here without a GPU."""

import json
import threading

import pytest
from ape import accounts

from backend.chain.client import StyleMintClient
from backend.dev import ape_contract as core
from backend.render import environment
from backend.render.manifest import parse_manifest
from backend.render.metadata import build_metadata
from backend.render.renderer import Renderer
from backend.render.samples import sample_manifest
from backend.verify.verifier import Outcome
from tests.oracle.conftest import make_oracle, running_sample, shared_renderer  # noqa: F401  (fixture)
from tests.support.chain import canonical_seed
from tests.support.cli import stylemint
from tests.verify.conftest import fulfill_with, verifier_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def batched(tmp_path_factory, shared_renderer):  # noqa: F811
    """A B = 3 project with four tokens fulfilled by an oracle: one full batch and one of a single
    token padded with two fillers after the batch wait. Yields (node, sample, store, mints, calls, directory)."""
    directory = tmp_path_factory.mktemp("batched")
    manifest = sample_manifest(name="Batched Glass", environment=environment.this_machine_class(batch_size=3))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLEMINT_DATA_DIR", str(directory / "data"))
        with running_sample(directory, manifest) as (node, sample, store):
            mints = [core.mint(sample.contract, accounts.test_accounts[4 + i], sample.project_id) for i in range(4)]
            renderer = Renderer(device="cpu", threads=2, models_dir=shared_renderer.models_dir)
            calls = []
            original = renderer.render_committed
            renderer.render_committed = lambda m, seeds, **kw: calls.append(len(seeds)) or original(m, seeds, **kw)
            oracle = make_oracle(node, sample, store, renderer, directory / "state.sqlite", batch_wait=1.0)
            oracle.run(threading.Event(), until_idle=True)
            yield node, sample, store, mints, calls, directory


def provenance(sample, store, token_id: int) -> dict:
    return json.loads(store.get(sample.contract.tokenMetadataCID(token_id)))["provenance"]


def test_tokens_are_rendered_in_committed_batches_and_verify_exact_from_a_fresh_process(batched, shared_renderer):  # noqa: F811
    node, sample, store, mints, calls, directory = batched
    ids = [str(m.token_id) for m in mints]
    assert calls == [3, 1]  # two batch renders: three tokens, then one (padded to 3 rows)
    for row, token in enumerate(mints[:3]):
        batch = provenance(sample, store, token.token_id)["batch"]
        assert batch["tokens"] == ids[:3] and batch["row"] == row and batch["size"] == 3
        assert batch["seeds"][row] == provenance(sample, store, token.token_id)["seed"]
    assert provenance(sample, store, mints[3].token_id)["batch"] == {
        "size": 3, "row": 0, "tokens": ids[3:], "seeds": [provenance(sample, store, mints[3].token_id)["seed"]]}
    assert provenance(sample, store, mints[0].token_id)["environment"]["batch_size"] == 3
    # An auditor's fresh process: one token's verification re-renders its batch and confirms all three.
    done = stylemint(directory, "verify", ids[1], "--rpc", node.url, "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["outcome"] == "exact", done.stdout[-2000:] + done.stderr[-2000:]
    assert report["batch"]["confirmed"] == ids[:3] and report["batch"]["unconfirmed"] == {}
    text = stylemint(directory, "verify", ids[3], "--rpc", node.url)
    assert text.returncode == 0 and "committed batch of 3 (tokens " + ids[3] + "; this token at row 0)" in text.stdout


def test_a_verifier_renders_each_committed_batch_once(batched, shared_renderer, monkeypatch):  # noqa: F811
    node, sample, store, mints, _, _ = batched
    verifier = verifier_for(node, sample, store, shared_renderer.models_dir)
    renders = []
    original = Renderer.render_committed
    monkeypatch.setattr(Renderer, "render_committed", lambda self, m, s, **kw: renders.append(len(s)) or original(self, m, s, **kw))
    reports = [verifier.verify(m.token_id) for m in mints]
    assert [r.outcome for r in reports] == ["exact"] * 4, [r.reason for r in reports]
    assert renders == [3, 1]  # four tokens, two batch renders


def forge(node, sample, store, renderer, victims, *, order=None, edit=None, only=None):
    """Fulfil `victims` (or `only` those ids) as a liar that renders them as one committed batch in
    `order` (default: token-id order) and then edits each provenance's batch with `edit(batch,
    index)`. Every other claim is consistent with what it rendered. Returns the renders."""
    client = StyleMintClient(node.url, sample.deployment.address)
    for victim in victims:
        core.randomness_block(sample.contract, victim.token_id)
    rows = order or victims
    seeds = [canonical_seed(node.url, client.address, v.token_id, v.tx_hash) for v in rows]
    manifest_cid = client.manifest_in_force(client.mint_log(rows[0].token_id))[0]
    manifest = parse_manifest(store.get(manifest_cid))
    results = renderer.render_committed(manifest, seeds)
    info = client.project_info(sample.project_id)
    for index, (victim, seed, render) in enumerate(zip(rows, seeds, results)):
        render.batch["tokens"] = [str(v.token_id) for v in rows]
        if edit:
            edit(render.batch, index)
        number, block_hash, randao = core.randomness_block(sample.contract, victim.token_id)
        document = build_metadata(
            token_id=victim.token_id, project_id=victim.project_id, project_name=info["name"], artist=info["artist"],
            manifest=manifest, manifest_cid=manifest_cid, manifest_sha256="0x" + manifest.sha256_hex(), render=render,
            image_cid=store.add(render.png), chain_id=client.chain_id(), contract=client.address,
            mint_tx=victim.tx_hash, mint_block_number=victim.block_number, mint_block_hash=victim.block_hash,
            randomness_block_number=number, randomness_block_hash=block_hash, randomness=randao)
        if only is None or victim.token_id in only:
            fulfill_with(sample, store, victim, seed, document)
    return results


def mint_victims(sample, n: int):
    return [core.mint(sample.contract, accounts.test_accounts[4 + i], sample.project_id) for i in range(n)]


LIES = {
    "another order": (dict(order="reversed"), Outcome.METADATA_MISMATCH, "not this project's, in token-id order"),
    "another row": (dict(edit=lambda b, i: b.update(row=(b["row"] + 1) % len(b["tokens"]))), Outcome.METADATA_MISMATCH,
                    "is not token"),
    "another size": (dict(edit=lambda b, i: b.update(size=2)), Outcome.METADATA_MISMATCH, "a batch of 2 claimed, the project commits 3"),
    "a swapped seed": (dict(edit=lambda b, i: b.update(seeds=b["seeds"][::-1])), Outcome.METADATA_MISMATCH,
                       "row 0 is not the seed of token"),
    "no batch": (dict(edit=lambda b, i: b.clear()), Outcome.METADATA_MISMATCH, "must be recorded"),
}


@pytest.mark.parametrize("lie", list(LIES))
def test_a_lying_batch_provenance_is_refuted(batched, shared_renderer, lie):  # noqa: F811
    node, sample, store, _, _, _ = batched
    options, outcome, says = LIES[lie]
    victims = mint_victims(sample, 2)
    if options.get("order") == "reversed":
        options = {**options, "order": victims[::-1]}
    forge(node, sample, store, shared_renderer, victims, **options)
    report = verifier_for(node, sample, store, shared_renderer.models_dir).verify(victims[0].token_id)
    assert report.outcome == outcome.name.lower(), report.reason
    assert says in report.reason, report.reason


def test_a_token_in_two_batches_is_refuted(batched, shared_renderer):  # noqa: F811
    """Each token's own claims consistent with its render, but the two disagree on who was batched
    with whom: the first says it was alone, the second that the first was its companion."""
    node, sample, store, _, _, _ = batched
    first, second = mint_victims(sample, 2)
    forge(node, sample, store, shared_renderer, [first])
    forge(node, sample, store, shared_renderer, [first, second], only={second.token_id})
    verifier = verifier_for(node, sample, store, shared_renderer.models_dir)
    assert verifier.verify(first.token_id).outcome == "exact"  # alone, and consistent
    report = verifier.verify(second.token_id)
    assert report.outcome == "metadata_mismatch" and "a token in two batches" in report.reason, report.reason


def test_a_partial_batch_waits_for_companions_then_for_no_longer_than_the_batch_wait(batched, shared_renderer):  # noqa: F811
    import time

    node, sample, store, _, _, directory = batched
    renderer = Renderer(device="cpu", threads=2, models_dir=shared_renderer.models_dir)
    calls = []
    original = renderer.render_committed
    renderer.render_committed = lambda m, seeds, **kw: calls.append(len(seeds)) or original(m, seeds, **kw)
    start = sample.contract.chain_manager.blocks.head.number + 1
    # Long enough that two tokens wait for a third however slow this machine is; shortened below.
    oracle = make_oracle(node, sample, store, renderer, directory / "wait.sqlite", batch_wait=60.0, start_block=start)
    stop = threading.Event()
    worker = threading.Thread(target=oracle.run, args=(stop,), daemon=True)
    worker.start()
    try:
        first = mint_victims(sample, 2)
        time.sleep(2.0)
        assert calls == []  # two of three: waiting for a companion
        third = core.mint(sample.contract, accounts.test_accounts[7], sample.project_id)
        deadline = time.monotonic() + 50
        while calls != [3] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert calls == [3]  # the companion came: one full batch
        oracle.config.batch_wait = 3.0
        deadline = time.monotonic() + 50
        lone = core.mint(sample.contract, accounts.test_accounts[8], sample.project_id)
        minted = time.monotonic()
        while calls != [3, 1] and time.monotonic() < deadline:
            time.sleep(0.1)
        waited = time.monotonic() - minted
        assert calls == [3, 1] and 3.0 <= waited < 30  # nobody came: rendered alone after the wait
        while not sample.contract.tokenMetadataCID(lone.token_id) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert provenance(sample, store, third.token_id)["batch"]["tokens"] == [str(t.token_id) for t in [*first, third]]
    assert provenance(sample, store, lone.token_id)["batch"]["tokens"] == [str(lone.token_id)]


def test_a_token_whose_render_was_lost_is_rendered_again_in_its_recorded_batch(batched, shared_renderer):  # noqa: F811
    """Its companions are settled with that batch in their provenance: a new batch would make the
    token a member of two. The same batch gives the same bytes as were pinned."""
    import sqlite3

    node, sample, store, mints, _, directory = batched
    copy = directory / "lost.sqlite"
    source, target = sqlite3.connect(directory / "state.sqlite"), sqlite3.connect(copy)
    source.backup(target)
    source.close(), target.close()
    renderer = Renderer(device="cpu", threads=2, models_dir=shared_renderer.models_dir)
    rendered = []
    original = renderer.render_committed
    renderer.render_committed = lambda m, seeds, **kw: rendered.append(list(seeds)) or original(m, seeds, **kw)
    oracle = make_oracle(node, sample, store, renderer, copy, batch_wait=60.0)
    job = oracle.jobs.for_token(mints[1].token_id)  # row 1 of the batch of three
    recorded = json.loads(job.render_info)["batch"]
    outcome = oracle._render([job])[job.id]
    assert rendered == [[bytes.fromhex(seed[2:]) for seed in recorded["seeds"]]]  # the whole recorded batch, at once
    info = json.loads(outcome.fields["render_info"])
    assert info["batch"] == recorded and outcome.fields["png_sha256"] == provenance(sample, store, mints[1].token_id)["png_sha256"]
