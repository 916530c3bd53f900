"""The watch: every fulfillment verified as it lands; a lying oracle's token is reported."""

import json

from ape import accounts

from backend.dev import ape_contract as core
from backend.verify.watch import FulfillmentWatch, WatchState
from tests.verify.conftest import verifier_for
from tests.verify.test_cli_api import stylemint
from tests.verify.test_verifier import claims_about, lying_fulfill, models


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
                              verifier_for(node, sample, store, models(shared_renderer)), on_report=seen.append)
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
