"""The watch: every fulfillment verified as it lands; a lying oracle's token is reported."""

import dataclasses
import json

from ape import accounts

from backend.dev import ape_contract as core
from backend.ipfs.cid import cid_of
from backend.render.manifest import canonical_json
from backend.verify.watch import FulfillmentWatch, WatchState
from tests.support.chain import canonical_seed
from tests.verify.conftest import verifier_for
from tests.support.cli import stylemint
from tests.support.verify import claims_about, lying_fulfill, models


def lie_about_a_new_token(sample, store, honest_token):
    """The rival oracle fulfills a new token with a seed of its choosing and a consistent forgery."""
    victim = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    seed = b"\x42" * 32
    metadata = json.loads(store.get(sample.contract.tokenMetadataCID(honest_token)))
    metadata["provenance"].update(claims_about(sample, victim, seed))
    lying_fulfill(sample, store, victim, seed, metadata)
    return victim.token_id


def test_the_watch_checks_each_fulfillment_once_and_reports_the_lie(fulfilled, shared_renderer):
    node, sample, store, mints, _ = fulfilled
    seen = []
    watcher = FulfillmentWatch(verifier_for(node, sample, store, models(shared_renderer)).chain,
                              verifier_for(node, sample, store, models(shared_renderer)),
                              on_report=lambda report, alert: seen.append(report))
    state = WatchState(next_block=sample.deployment.block_number)
    first = watcher.poll(state)
    assert sorted(r.token_id for r in first) == sorted(m.token_id for m in mints)
    assert all(r.outcome == "exact" for r in first) and state.failed == 0

    liar_token = lie_about_a_new_token(sample, store, mints[0].token_id)
    second = watcher.poll(state)  # only what landed since: the lie
    assert [(r.token_id, r.outcome) for r in second] == [(liar_token, "seed_mismatch")]
    assert state.checked == 4 and state.failed == 1 and len(seen) == 4
    assert watcher.poll(state) == []  # nothing new, nothing checked twice


def test_watch_command_once_exits_1_and_names_the_token(fulfilled, env):
    node, sample, store, mints, _ = fulfilled
    liar_token = lie_about_a_new_token(sample, store, mints[0].token_id)
    result = stylemint(env, "watch", "--rpc", node.url, "--once", "--json")
    assert result.returncode == 1, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    outcomes = {line["token_id"]: line["outcome"] for line in lines}
    assert outcomes == {**{m.token_id: "exact" for m in mints}, liar_token: "seed_mismatch"}
    assert "4 fulfillment(s) checked, 1 failed" in result.stderr


def unpinned_fulfill(node_url: str, sample, honest_token_metadata: dict) -> int:
    """A lying oracle fulfils a new token with a metadata CID it never pinned: the escrow is
    released, and nobody can ever see what the token is."""
    victim = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    admin, liar = accounts.test_accounts[0], accounts.test_accounts[8]
    core.grant_oracle(sample.contract, liar, admin)
    never_pinned = cid_of(canonical_json({**honest_token_metadata, "name": "never pinned"}))
    core.randomness_block(sample.contract, victim.token_id)  # mined: the seed is the true one
    seed = canonical_seed(node_url, sample.deployment.address, victim.token_id, victim.tx_hash)
    core.fulfill(sample.contract, victim.token_id, seed, never_pinned, liar)
    return victim.token_id


def test_content_that_stays_unavailable_past_the_grace_period_is_an_alert(fulfilled, shared_renderer):
    node, sample, store, mints, _ = fulfilled
    now = [1000.0]
    verdicts = []
    verifier = verifier_for(node, sample, store, models(shared_renderer))
    watcher = FulfillmentWatch(verifier.chain, verifier, grace=600, clock=lambda: now[0],
                               on_report=lambda report, alert: verdicts.append((report.token_id, report.outcome, alert)))
    state = WatchState(next_block=sample.deployment.block_number)
    watcher.poll(state)
    token = unpinned_fulfill(node.url, sample, json.loads(store.get(sample.contract.tokenMetadataCID(mints[0].token_id))))
    watcher.poll(state)
    assert verdicts[-1] == (token, "unavailable", False) and state.failed == 0  # not yet: a gateway may catch up
    now[0] += 599
    assert watcher.poll(state) == [] and state.failed == 0
    now[0] += 2
    [report] = watcher.poll(state)
    assert verdicts[-1] == (token, "unavailable", True) and state.failed == 1
    assert "still unavailable 601 s after" in report.reason
    assert watcher.poll(state) == [] and state.unavailable == {}  # reported once


def test_watch_with_only_the_deployment_record_reads_its_gateway_and_alerts(fulfilled, env, tmp_path):
    """A watcher on another machine: no local store, no --ipfs; the deployment record names the
    operator's gateway (a real `create_app` on 127.0.0.1)."""
    import threading

    from werkzeug.serving import make_server

    from backend.chain.deployments import Deployment
    from backend.web import create_app

    node, sample, store, mints, _ = fulfilled
    liar_token = lie_about_a_new_token(sample, store, mints[0].token_id)
    unpinned = unpinned_fulfill(node.url, sample, json.loads(store.get(sample.contract.tokenMetadataCID(mints[0].token_id))))
    server = make_server("127.0.0.1", 0, create_app({"IPFS_STORE": store}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    elsewhere = tmp_path / "watcher"
    (elsewhere / "data").mkdir(parents=True)
    record = Deployment(chain_id=31337, address=sample.deployment.address, block_number=sample.deployment.block_number,
                        gateway=f"http://127.0.0.1:{server.server_port}")
    (elsewhere / "data" / "deployments.json").write_text(json.dumps({"31337": dataclasses.asdict(record)}))
    try:
        result = stylemint(elsewhere, "watch", "--rpc", node.url, "--once", "--json", "--grace", "0")
    finally:
        server.shutdown()
    assert result.returncode == 1, result.stderr[-2000:]
    verdicts = {line["token_id"]: (line["outcome"], line["alert"]) for line in map(json.loads, result.stdout.splitlines())}
    assert verdicts == {**{m.token_id: ("exact", False) for m in mints}, liar_token: ("seed_mismatch", True),
                        unpinned: ("unavailable", True)}
    assert "5 fulfillment(s) checked, 2 failed" in result.stderr
