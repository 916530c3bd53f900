"""`stylemint verify` (one token, --project, --json, exit codes) and `GET /api/verify/<id>`."""

import json
import os
import subprocess
import sys

import pytest
from ape import accounts
from web3 import Web3

from backend.dev import ape_contract as core
from backend.web import create_app
from tests.support.cli import BIN, stylemint
from tests.verify.conftest import verifier_for

pytestmark = pytest.mark.e2e
def test_verify_one_token_text_and_json(fulfilled, env):
    node, sample, store, mints, _ = fulfilled
    text = stylemint(env, "verify", str(mints[0].token_id), "--rpc", node.url)
    assert text.returncode == 0, text.stdout + text.stderr
    for step in ("token", "seed", "manifest", "metadata", "model", "render"):
        assert f"PASS  {step}" in text.stdout
    assert "WARN  manifest" in text.stdout and "EXACT: exact" in text.stdout
    # Read by people: no Python dicts or lists, each value in words.
    assert "{'" not in text.stdout and "['" not in text.stdout and ": None" not in text.stdout
    assert "committed_environment: device=cpu, device_name=none, cpu_capability=" in text.stdout
    assert f"expected_seed: {text.stdout.split('on_chain_seed: ')[1].split()[0]}" in text.stdout
    report = json.loads(stylemint(env, "verify", str(mints[1].token_id), "--rpc", node.url, "--json").stdout)
    assert report["outcome"] == "exact" and report["exit_code"] == 0 and len(report["checks"]) >= 6


def test_verify_exit_codes_for_failures(fulfilled, env):
    node, sample, store, mints, _ = fulfilled
    pending = core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)
    result = stylemint(env, "verify", str(pending.token_id), "--rpc", node.url)
    assert result.returncode == 15 and "NOT_FULFILLED" in result.stdout
    result = stylemint(env, "verify", "99000000", "--rpc", node.url)
    assert result.returncode == 16 and "UNKNOWN_TOKEN" in result.stdout
    result = stylemint(env, "verify", "1000000", "--rpc", "http://127.0.0.1:9", "--contract", sample.deployment.address)
    assert result.returncode == 17 and "the RPC at http://127.0.0.1:9 did not answer" in result.stderr  # names it
    assert one_line(result.stderr) and result.stdout == ""  # no retry chatter, no traceback
    result = stylemint(env, "verify", "--rpc", node.url)
    assert result.returncode == 2 and "give a TOKEN_ID or --project" in result.stderr
    result = stylemint(env, "verify", "-5", "--rpc", node.url)
    assert result.returncode == 2 and "'-5' is not a token id" in result.stderr and "No such option" not in result.stderr
    result = stylemint(env, "verify", "1000000", "--rpc", node.url, "--ipfs", "ftp+x")
    assert result.returncode == 2 and "--ipfs 'ftp+x'" in result.stderr and "STYLEMINT_IPFS" not in result.stderr


def one_line(stderr: str) -> bool:
    """A plain one-line message: no traceback, no library's log lines."""
    return len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr and "urllib3" not in stderr


def test_bad_targets_get_one_plain_line_and_exit_2(fulfilled, env):
    node, sample, store, mints, _ = fulfilled
    token = str(mints[0].token_id)
    malformed = stylemint(env, "verify", token, "--rpc", node.url, "--contract", "0x1234")
    assert malformed.returncode == 2 and "--contract '0x1234' is not an address" in malformed.stderr
    assert one_line(malformed.stderr.replace("Error: ", "")), malformed.stderr
    empty = "0x" + "12" * 20
    nothing = stylemint(env, "verify", token, "--rpc", node.url, "--contract", empty)
    assert nothing.returncode == 2 and f"there is no contract at {Web3.to_checksum_address(empty)}" in nothing.stderr
    assert one_line(nothing.stderr), nothing.stderr
    # The record used says where it came from; a record of another chain with the same id (an
    # earlier local anvil, deployed at the same address) is refused, not read.
    found = stylemint(env, "verify", token, "--rpc", node.url)
    assert found.returncode == 0 and "the deployment recorded in" in found.stderr
    records = env / "data" / "deployments.json"
    kept = records.read_text()
    entries = json.loads(kept)
    entries["31337"]["genesis_hash"] = "0x" + "ab" * 32
    records.write_text(json.dumps(entries))
    try:
        stale = stylemint(env, "verify", token, "--rpc", node.url)
    finally:
        records.write_text(kept)  # the module's chain is shared with the next tests
    assert stale.returncode == 2 and "is of another chain with that id" in stale.stderr and one_line(stale.stderr)


def test_a_verdict_that_needs_no_render_loads_no_render_library(tmp_path):
    """An auditor's `verify` of a token id that cannot exist answers at once: torch and diffusers
    (5 s of imports here) load only when a render is due."""
    probe = ("import atexit, sys\n"
             "atexit.register(lambda: print('LOADED', sorted(m for m in ('torch', 'diffusers') if m in sys.modules)))\n"
             "sys.argv = ['stylemint', 'verify', '--rpc', 'http://127.0.0.1:9', '--contract', '0x' + '11' * 20, str(2**256)]\n"
             "from backend.cli import main\nmain()\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "STYLEMINT_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 16 and "UNKNOWN_TOKEN" in result.stdout, result.stdout + result.stderr
    assert "LOADED []" in result.stdout


def test_content_this_store_lacks_is_unavailable_never_a_mismatch(fulfilled, env, tmp_path):
    """The auditor's default store is their own, empty one: the token is not checked, and says so."""
    node, sample, store, mints, _ = fulfilled
    elsewhere = {**os.environ, "STYLEMINT_DATA_DIR": str(tmp_path / "auditor")}
    result = subprocess.run([str(BIN / "stylemint"), "verify", str(mints[0].token_id), "--rpc", node.url,
                             "--contract", sample.deployment.address], capture_output=True, text=True, timeout=300,
                            env=elsewhere)
    assert result.returncode == 20 and "UNAVAILABLE" in result.stdout, result.stdout + result.stderr
    assert "could not be fetched" in result.stdout and "--ipfs" in result.stdout
    assert "MISMATCH" not in result.stdout


def test_verify_a_whole_project(fulfilled, env):
    node, sample, store, mints, _ = fulfilled
    core.mint(sample.contract, accounts.test_accounts[4], sample.project_id)  # minted, not fulfilled
    result = stylemint(env, "verify", "--project", str(sample.project_id), "--rpc", node.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "project 1: 4 minted, 3 fulfilled, 3 exact" in result.stdout
    assert "verifying project 1" in result.stderr  # the progress bar


def test_api_verify_caches_per_token_and_environment(fulfilled, shared_renderer):
    node, sample, store, mints, _ = fulfilled
    verifier = verifier_for(node, sample, store, shared_renderer.models_dir)
    client = create_app({"IPFS_STORE": store, "VERIFIER": verifier, "TESTING": True}).test_client()
    first = client.get(f"/api/verify/{mints[0].token_id}")
    assert first.status_code == 200 and first.json["outcome"] == "exact" and first.json["cached"] is False
    again = client.get(f"/api/verify/{mints[0].token_id}")
    assert again.json["cached"] is True and again.json["checks"] == first.json["checks"]
    assert client.get("/api/verify/abc").status_code == 400
    unknown = client.get("/api/verify/99000000")
    assert unknown.status_code == 404 and unknown.json["outcome"] == "unknown_token"
    assert create_app({"IPFS_STORE": store, "TESTING": True}).test_client().get("/api/verify/1").status_code == 503
