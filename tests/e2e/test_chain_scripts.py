"""The ape scripts and `stylemint demo` against a real anvil node, as a user runs them."""

import hashlib
import json
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backend.dev.anvil import rpc_call
from backend.config import PROJECT_ROOT
from backend.render import shipped

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
MANIFEST_HASH = "0x" + "ab" * 32

ADMIN = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # TEST::0
ARTIST = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # TEST::3


def ape_run(script, env, *args):
    return subprocess.run(
        [str(BIN / "ape"), "run", script, "--network", "ethereum:local:foundry", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180,
    )


def eth_call(url, to, selector, *words):
    data = selector + "".join(f"{w:064x}" for w in words)
    return rpc_call(url, "eth_call", [{"to": to, "data": data}, "latest"])


def test_deploy_create_mint_scripts(anvil_node, cli_env):
    cli_env["APE_FOUNDRY_HOST"] = anvil_node.url  # ape-foundry connects to our node instead of :8545

    deployed = ape_run("deploy", cli_env, "--account", "TEST::0")
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    recorded = json.loads((Path(cli_env["STYLEMINT_DATA_DIR"]) / "deployments.json").read_text())
    address = recorded["31337"]["address"]
    assert address in deployed.stdout

    created = ape_run(
        "create_project", cli_env, "--account", "TEST::3", "--name", "Script Style",
        "--manifest-cid", "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq",
        "--manifest-hash", MANIFEST_HASH, "--price-wei", "1000", "--max-editions", "1", "--unpause",
    )
    assert created.returncode == 0, created.stderr + created.stdout
    assert "project 1 created" in created.stdout
    refused = ape_run("mint", cli_env, "--account", "TEST::4", "--project", "1")  # not approved yet
    assert refused.returncode != 0 and "ProjectNotApproved" in refused.stdout + refused.stderr
    # The admin approves what it reviewed: the hashes `--show` printed; any other is refused, unsent.
    shown = ape_run("approve_project", cli_env, "--account", "TEST::0", "--project", "1", "--show")
    assert shown.returncode == 0, shown.stderr + shown.stdout
    reviewed = re.search(r"--manifest-hash (0x[0-9a-f]{64}) --styles-hash (0x[0-9a-f]{64})", shown.stdout).groups()
    assert reviewed[0] == MANIFEST_HASH
    nonce = int(rpc_call(anvil_node.url, "eth_getTransactionCount", [ADMIN, "latest"]), 16)
    stale = ape_run("approve_project", cli_env, "--account", "TEST::0", "--project", "1",
                    "--manifest-hash", reviewed[0], "--styles-hash", "0x" + "cd" * 32)
    assert stale.returncode != 0 and "styles hash is " + reviewed[1] in stale.stdout + stale.stderr
    assert int(rpc_call(anvil_node.url, "eth_getTransactionCount", [ADMIN, "latest"]), 16) == nonce  # nothing sent
    approved = ape_run("approve_project", cli_env, "--account", "TEST::0", "--project", "1",
                       "--manifest-hash", reviewed[0], "--styles-hash", reviewed[1])
    assert approved.returncode == 0 and "project 1 approved" in approved.stdout, approved.stderr + approved.stdout

    minted = ape_run("mint", cli_env, "--account", "TEST::4", "--project", "1")
    assert minted.returncode == 0, minted.stderr + minted.stdout
    tx_hash = re.search(r"mint tx (0x[0-9a-f]{64})", minted.stdout).group(1)
    receipt = rpc_call(anvil_node.url, "eth_getTransactionReceipt", [tx_hash])
    assert int(receipt["status"], 16) == 1
    owner = eth_call(anvil_node.url, address, "0x6352211e", 1_000_000)  # ownerOf(uint256)
    assert owner[-40:].lower() == "15d34aaf54267db7d7c367839aaf71a00a2c6a65"  # TEST::4

    # Over the cap: a clear error, a failing exit code, nothing minted.
    sold_out = ape_run("mint", cli_env, "--account", "TEST::4", "--project", "1")
    assert sold_out.returncode != 0
    assert "SoldOut" in sold_out.stdout + sold_out.stderr
    assert int(eth_call(anvil_node.url, address, "0x70a08231", 0x15D34AAF54267DB7D7C367839AAF71A00A2C6A65), 16) == 1

    # A second project sold by Dutch auction: a bad setting is refused before anything is sent.
    created = ape_run(
        "create_project", cli_env, "--account", "TEST::3", "--name", "Falling", "--manifest-cid",
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq", "--manifest-hash", MANIFEST_HASH,
        "--price-wei", "1000", "--max-editions", "3")
    assert "project 2 created" in created.stdout, created.stderr + created.stdout
    artist_nonce = int(rpc_call(anvil_node.url, "eth_getTransactionCount", [ARTIST, "latest"]), 16)
    upside_down = ape_run("set_auction", cli_env, "--account", "TEST::3", "--project", "2",
                          "--start-price-wei", "1000", "--base-price-wei", "4000")
    assert upside_down.returncode == 2 and "below the base price" in upside_down.stderr
    assert int(rpc_call(anvil_node.url, "eth_getTransactionCount", [ARTIST, "latest"]), 16) == artist_nonce
    auctioned = ape_run("set_auction", cli_env, "--account", "TEST::3", "--project", "2",
                        "--start-price-wei", "8000", "--base-price-wei", "1000", "--half-life", "120")
    assert auctioned.returncode == 0, auctioned.stderr + auctioned.stdout
    minter = re.search(r"Dutch auction at (0x[0-9a-fA-F]{40})", auctioned.stdout).group(1)
    info = eth_call(anvil_node.url, minter, "0x957a867c", 2)  # auctionInfo(uint256)
    words = [int(info[2 + 64 * i: 2 + 64 * (i + 1)], 16) for i in range(6)]
    assert words[:2] == [8000, 1000] and words[3] == 120 and words[4:] == [0, 0]


def test_create_project_rejects_a_bad_hash_before_sending(anvil_node, cli_env):
    cli_env["APE_FOUNDRY_HOST"] = anvil_node.url
    assert ape_run("deploy", cli_env, "--account", "TEST::0").returncode == 0
    result = ape_run(
        "create_project", cli_env, "--account", "TEST::3", "--name", "x", "--manifest-cid", "bafy",
        "--manifest-hash", "0x1234", "--price-wei", "1", "--max-editions", "1",
    )
    assert result.returncode == 2
    assert "--manifest-hash" in result.stderr and "expected 32" in result.stderr
    nonce = rpc_call(anvil_node.url, "eth_getTransactionCount", ["0x90F79bf6EB2c4f870365E785982E1f101E93b906", "latest"])
    assert int(nonce, 16) == 0  # the artist sent nothing


class Lines:
    """A process's output lines, read by a thread, waited for with a timeout."""

    def __init__(self, stream):
        self.lines, self._queue = [], queue.Queue()
        threading.Thread(target=lambda: [self._queue.put(line) for line in stream] + [self._queue.put(None)],
                         daemon=True).start()

    def until(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        for line in self.lines:
            if match := re.search(pattern, line):
                return match
        while True:
            line = self._queue.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "the demo exited:\n" + "".join(self.lines)
            self.lines.append(line)
            if match := re.search(pattern, line):
                return match

    @property
    def text(self) -> str:
        return "".join(self.lines)


def test_demo_mints_renders_verifies_prints_commands_that_work_and_stops_on_ctrl_c(cli_env, tmp_path):
    demo = subprocess.Popen([str(BIN / "stylemint"), "demo"], cwd=PROJECT_ROOT, env=cli_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = Lines(demo.stdout)
    try:
        output.until(r"^ready$", timeout=300)
        out = output.text
        assert ("minted     token 1000000 (#1 of project 1, as the pages name it) to "
                "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 (account #4)") in out
        # A short summary: roles tied to account numbers, ETH amounts, no ape or access-log lines.
        assert "#4 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65  collector" in out and "#1 0x70997970" in out
        # The keys a person imports into a wallet, labelled public; never an oracle operator's.
        assert "PUBLIC TEST KEYS" in out
        assert "#4 collector: 0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a" in out
        assert "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" not in out  # oracle #1's key
        assert "escrow     0.010000 ETH (10000000000000000 wei) held" in out
        assert "Confirmed" not in out and "SUCCESS" not in out and "HTTP/1.1" not in out
        assert re.search(r"oracle     event=fulfilled token=1000000", out)  # the oracle's own lines
        tx_hash = re.search(r"mint tx    (0x[0-9a-f]{64})", out).group(1)
        # The split: platform 10 %, each registered style its measured weight of 30 % of the artist's
        # 90 %, the artist the rest; the weights are the token's attribution.
        wei = lambda pattern: [int(w) for w in re.findall(pattern + r".*?\((\d+) wei\)", out)]  # noqa: E731
        (platform,), styles, (artist,), (total,) = (wei(r"split      platform"), wei(r"style #\d+ \w+ \(#[567]\)"),
                                                    wei(r"           artist"), wei(r"total"))
        weights = [int(whole + cents) for whole, cents in re.findall(r"measured weight (\d+)\.(\d\d) %", out)]
        pool = (10**16 - 10**15) * 3_000 // 10_000
        assert platform == 10**15 and styles == [pool * w // 10_000 for w in weights] and len(weights) == 2
        assert artist + platform + sum(styles) == total == 10**16
        seed = re.search(r"seed       (0x[0-9a-f]{64})", out).group(1)
        assert seed != tx_hash  # salted with the block hash, never the bare transaction hash
        metadata_cid = re.search(r"tokenURI   ipfs://(\w+)", out).group(1)
        gateway, image_cid = re.search(r"image      (http://127\.0\.0\.1:\d+)/ipfs/(\w+)", out).groups()
        assert f"app        {gateway}/" in out and f"token page {gateway}/token?id=1000000" in out
        # Everything the demo printed is in the embedded store and hashes to its CID.
        from backend.ipfs.embedded import EmbeddedStore

        store = EmbeddedStore(Path(cli_env["STYLEMINT_DATA_DIR"]) / "ipfs")
        metadata = json.loads(store.get(metadata_cid))
        assert metadata["image"] == f"ipfs://{image_cid}"
        assert metadata["provenance"]["seed"] == seed and metadata["provenance"]["mint_tx"] == tx_hash
        image = store.get(image_cid)
        assert image.startswith(b"\x89PNG") and hashlib.sha256(image).hexdigest() == metadata["provenance"]["png_sha256"]
        # The demo's project is stylemint-gen's compositions blending its Stipple and Inkline styles,
        # with the traits a collector buys on, and says so.
        assert metadata["provenance"]["model_id"] == "stylemint-gen"
        assert {"density", "motif", "palette"} <= {a["trait_type"] for a in metadata["attributes"]}
        assert metadata["provenance"]["prompt"].endswith(", stipple style, inkline style")
        assert [s["weight_bps"] for s in metadata["provenance"]["attribution"]["styles"]] == weights
        assert metadata["provenance"]["attribution"]["method"] == "attention"  # trigger-scoped styles: paid by attention
        assert re.findall(r"style      #\d \w+ \('([\w ]+)'\) registered by 0x", out) == [
            s.trigger for s in shipped.GEN_STYLES.values()]  # stipple style, inkline style, in haze style
        assert f"prompt     {metadata['provenance']['prompt']} (model stylemint-gen)" in out
        # And an auditor's verifier, run by the demo, confirms the image and the paid weights.
        assert "verified   EXACT (exit 0)" in out
        # Two operators (accounts #1 and #8), both of whose byte-equal commitments settled it.
        assert "quorum     2 of 2 operators must sign the same commitment" in out
        commitments = re.findall(r"commitment oracle [AB]: (.+)$", out, re.M)
        assert len(commitments) == 2 and commitments[0] == commitments[1] and seed[:18] in commitments[0]
        assert "agreement  the operators committed byte-equal renders" in out
        assert re.search(r"settlement: settled in block \d+ by 2 of 2 required oracles: 0x70997970\w+, 0x23618e81\w+",
                         out) or re.search(r"settlement: settled in block \d+ by 2 of 2 required oracles: "
                                           r"0x23618e81\w+, 0x70997970\w+", out)
        assert re.search(r"payment: the sale paid each registered style by this render's weight: "
                         rf"Stipple \(id 1\) {styles[0]} wei at {weights[0] / 100:.2f} %", out)

        # The commands it prints work as pasted: a second mint, rendered by the running oracle,
        # whose lines appear in the demo's output ...
        command = lambda name: re.search(rf"^  {name} +(.+)$", out, re.M).group(1)  # noqa: E731
        minted = subprocess.run(command("mint another"), shell=True, env=cli_env, capture_output=True, text=True,
                                timeout=180)
        assert minted.returncode == 0, minted.stdout + minted.stderr
        output.until(r"oracle     event=fulfilled token=1000001", timeout=120)
        # ... the oracle's status ...
        status = subprocess.run(command("oracle status"), shell=True, env=cli_env, capture_output=True, text=True,
                                timeout=60)
        assert status.returncode == 0 and "contract 0x" in status.stdout and "failed=0" in status.stdout, status.stderr
        # ... the watch over both operators' attestations (nothing to alert: they agree) ...
        watched = subprocess.run(command("watch operators") + " --once", shell=True, env=cli_env, capture_output=True,
                                 text=True, timeout=300)
        assert watched.returncode == 0 and "ALERT" not in watched.stdout, watched.stdout + watched.stderr
        assert "2 fulfillment(s) checked, 0 failed" in watched.stderr
        # ... and an auditor's verify, from a machine that has only the deployment record: the
        # content comes through the gateway the demo recorded with it.
        auditor = {**cli_env, "STYLEMINT_DATA_DIR": str(tmp_path / "auditor")}
        (tmp_path / "auditor").mkdir()
        shutil.copy(Path(cli_env["STYLEMINT_DATA_DIR"]) / "deployments.json", tmp_path / "auditor")
        assert json.loads((tmp_path / "auditor" / "deployments.json").read_text())["31337"]["gateway"] == gateway
        verified = subprocess.run(command("verify a token").replace("1000000", "1000001"), shell=True, env=auditor,
                                  capture_output=True, text=True, timeout=300)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "EXACT" in verified.stdout
    finally:
        demo.send_signal(signal.SIGINT)  # Ctrl-C
        code = demo.wait(timeout=60)
    output.until(r"^stopped: chain, oracle and app are down$", timeout=10)
    assert code == 0, output.text[-2000:]
    assert "Traceback" not in output.text
    assert "HTTP/1.1" not in output.text  # the auditor's reads through the app's gateway made no access-log lines
