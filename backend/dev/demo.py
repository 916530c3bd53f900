"""`stylemint demo`: the whole product on one machine, from an empty folder to a minted token.

It starts a local anvil on 127.0.0.1, deploys StyleMint and its style library, registers the
three shipped styles under three dev accounts (their owners), pins a manifest blending Stipple and
Inkline to the embedded IPFS store and opens that project as a dev artist, serves the web app
(pages, API, IPFS gateway) on 127.0.0.1, runs two independent render oracles (operators A and B,
the shipped stylemint-gen model's compositions) of which both must sign the same commitment, mints one token as a dev collector, waits for its fulfillment and prints who was credited how much
and why (each style's measured weight), where everything is, and commands to paste. Then it keeps
running, printing the oracle's lines for every later mint (HTTP access logs stay quiet), until
Ctrl-C or SIGTERM, which stop it cleanly with exit status 0.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path

import click

from backend.config import PROJECT_ROOT, data_dir
from backend.dev import ape_contract as core
from backend.dev.anvil import Anvil
from backend.dev.sample import STYLE_OWNER_ACCOUNTS, deploy_sample
from backend.oracle.keys import OracleSigner, dev_account
from backend.render import shipped
from backend.render.samples import blend_manifest

# Two independent oracle operators, both of whose signatures settle a token (M = 2 of 2).
OPERATORS = (1, 8)
ROLES = {0: "deployer and platform admin", 1: "oracle operator A: renders, signs, proposes settlements",
         2: "platform payout: 10 % of each sale", 3: "artist of project #1", 4: "collector: mints the demo's token",
         **{i: f"owner of the shipped style {name.capitalize()}" for name, i in STYLE_OWNER_ACCOUNTS.items()},
         8: "oracle operator B: renders on its own, countersigns only an equal commitment"}
# The accounts a person drives from a wallet: the admin (Review page), the artist, the collector.
# The oracle operators' keys are never printed: an oracle's key stays out of every log.
WALLET_ACCOUNTS = (0, 3, 4)


def _quiet_logs(echo) -> None:
    """ape's per-transaction lines and werkzeug's access log out; the oracle's own lines in, as
    `oracle     event=...` under the demo's other lines."""
    from ape.logging import logger as ape_logger

    ape_logger.set_level("WARNING")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    class Echo(logging.Handler):
        def emit(self, record):
            echo(f"oracle     {record.getMessage()}")

    oracle_log = logging.getLogger("stylemint.oracle")
    oracle_log.handlers[:] = [Echo(level=logging.INFO)]
    oracle_log.setLevel(logging.INFO)
    oracle_log.propagate = False


def run_demo(node: Anvil, stop: threading.Event, *, once: bool, echo=click.echo) -> None:
    """Deploy, open the sample project, start the gateway and the oracle, mint once, show the result."""
    from ape import accounts, networks
    from werkzeug.serving import make_server

    from backend.chain import deployments, edition_of, project_of
    from backend.chain.client import StyleMintClient
    from backend.ipfs.config import store_from_config
    from backend.oracle.factory import make_oracle
    from backend.oracle.service import OracleConfig
    from backend.web.server import build_app

    # ape's import turns Ctrl-C into exit status 130 at once; here it stops the demo cleanly instead.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    _quiet_logs(echo)
    store = store_from_config()
    with networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
        chain_id = networks.provider.chain_id
        echo("accounts   anvil's dev keys (public: never use them on a real chain)")
        for index, role in ROLES.items():
            echo(f"           #{index} {accounts.test_accounts[index].address}  {role}")
        echo("wallet     to use the pages, import one of these PUBLIC TEST KEYS (anvil's, known to everyone: "
             "never send real money to them) into your wallet:")
        for index in WALLET_ACCOUNTS:
            echo(f"           #{index} {ROLES[index].split(':')[0]}: {accounts.test_accounts[index].private_key}")
        echo(f"chain      {node.url} (chain id {chain_id})")
        sample = deploy_sample(node.url, store, echo=echo, manifest=blend_manifest({"stipple": 0.8, "inkline": 0.5}, base=shipped.GEN_MODEL.id),
                               register_styles=True, oracle_accounts=list(OPERATORS), threshold=len(OPERATORS))
        contract, project_id = sample.contract, sample.project_id
        artist, collector, platform = accounts.test_accounts[3], accounts.test_accounts[4], accounts.test_accounts[2]

        states = [data_dir() / "demo" / ("oracle.sqlite" if n == 0 else f"oracle-{chr(65 + n)}.sqlite")
                  for n in range(len(OPERATORS))]
        state = states[0]
        state.parent.mkdir(parents=True, exist_ok=True)
        for stale in state.parent.glob("oracle*.sqlite*"):  # every demo starts a fresh chain
            stale.unlink()
        client = StyleMintClient(node.url, sample.deployment.address)
        app = build_app(client=client, store=store, oracle_state=state, public_rpc=node.url)  # the dev chain is public here
        server = make_server("127.0.0.1", int(os.environ.get("DEMO_PORT", 0)), app, threaded=True)
        gateway = f"http://127.0.0.1:{server.server_port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        # Recorded with the deployment, so an auditor's `stylemint verify` finds the content there.
        deployments.save(dataclasses.replace(sample.deployment, gateway=gateway))
        echo(f"app        {gateway}/  (gallery, project, token, artist pages; API under /api; gateway /ipfs/<cid>)")

        # anvil mines a block per transaction here, so nothing else would mine the D blocks a seed
        # waits for: the oracle asks the dev chain for them (`dev_mine`; never on a real chain).
        # Each operator has its own key, state and renderer, and publishes its attestations on its
        # own port; each is the other's peer. (Here they share one IPFS node: the bytes are equal.)
        ports = [_free_port() for _ in OPERATORS]
        operators, servers, threads = [], [], []
        for n, index in enumerate(OPERATORS):
            config = OracleConfig(start_block=sample.deployment.block_number, poll_interval=0.2, dev_mine=True,
                                  peers=[f"http://127.0.0.1:{p}" for m, p in enumerate(ports) if m != n],
                                  worker_id=f"demo-operator-{chr(65 + n)}")
            operator = make_oracle(client=StyleMintClient(node.url, sample.deployment.address), store=store,
                                   state=states[n], config=config, signer=OracleSigner(dev_account(index), f"#{index}"))
            servers.append(operator.serve_attestations("127.0.0.1", ports[n]))
            threads.append(threading.Thread(target=operator.run, args=(stop,), daemon=True))
            operators.append(operator)
        for thread in threads:
            thread.start()
        for n, (operator, attestations) in enumerate(zip(operators, servers)):
            echo(f"oracle {chr(65 + n)}   {operator.signer.address} (account #{OPERATORS[n]}), attestations "
                 f"{attestations.url}/v1/attestations/<token>")
        echo(f"quorum     {len(OPERATORS)} of {len(OPERATORS)} operators must sign the same commitment "
             f"(OracleQuorum {client.quorum().address}; {shipped.GEN_MODEL.id}, embedded IPFS)")

        try:
            record = core.mint(contract, collector, project_id)
            delay = int(contract.RANDOMNESS_DELAY())
            echo(f"minted     token {record.token_id} (#{edition_of(record.token_id)} of project "
                 f"{project_of(record.token_id)}, as the pages name it) to {record.minter} (account #4)")
            echo(f"mint tx    {record.tx_hash} (block {record.block_number}, {record.gas_used} gas)")
            echo(f"escrow     {_eth(int(contract.escrowOf(record.token_id)[1]))} held until the token is rendered "
                 f"(refundable from block {record.block_number + int(contract.REFUND_DELAY())})")
            echo(f"randomness the seed waits for the RANDAO of block {record.block_number + delay} (mint + {delay})")

            deadline = time.monotonic() + 180
            while not contract.isFulfilled(record.token_id):
                if stop.is_set():
                    return
                if time.monotonic() > deadline or not all(thread.is_alive() for thread in threads):
                    raise click.ClickException(f"token {record.token_id} was not fulfilled; see "
                                               f"`{_oracle_status_command(state)}`")
                time.sleep(0.2)
            _print_split(client, record.token_id, artist.address, platform.address, echo)
            seed = bytes(contract.tokenSeed(record.token_id))
            metadata_cid = contract.tokenMetadataCID(record.token_id)
            metadata = json.loads(store.get(metadata_cid))
            image_cid = metadata["image"].removeprefix("ipfs://")
            image = data_dir() / "demo" / f"{record.token_id}.png"
            image.write_bytes(store.get(image_cid))
            echo(f"seed       0x{seed.hex()} = keccak256(domain ‖ chain ‖ contract ‖ token ‖ mint tx ‖ RANDAO)")
            echo(f"prompt     {metadata['provenance']['prompt']} (model {metadata['provenance']['model_id']})")
            echo(f"tokenURI   {contract.tokenURI(record.token_id)}")
            echo(f"image      {gateway}/ipfs/{image_cid}  (copy: {image})")
            echo(f"metadata   {gateway}/ipfs/{metadata_cid}")
            echo(f"token page {gateway}/token?id={record.token_id}")
            _print_agreement(operators, record.token_id, echo)
            _print_verification(client, store, record.token_id, echo)
            if once:
                return
            stylemint = shlex.quote(str(Path(sys.executable).parent / "stylemint"))
            echo("")
            echo("Running on 127.0.0.1 until Ctrl-C. Paste these:")
            echo(f"  open the app      {gateway}/project?id={project_id}  (wallet: RPC {node.url}, chain id "
                 f"{chain_id}; import dev key #4 to mint)")
            echo(f"  mint another      make -C {shlex.quote(str(PROJECT_ROOT))} mint RPC={node.url} "
                 f"CONTRACT={contract.address} PROJECT={project_id}")
            echo(f"  verify a token    {stylemint} verify {record.token_id} --rpc {node.url} --contract {contract.address}")
            echo(f"  oracle status     {_oracle_status_command(state)}")
            echo(f"  watch operators   {stylemint} watch --rpc {node.url} --contract {contract.address} "
                 + " ".join(f"--operator {attestations.url}" for attestations in servers))
            echo("ready")
            while not stop.is_set() and node.process.poll() is None:
                stop.wait(0.5)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            for attestations in servers:
                attestations.close()
            server.shutdown()


def _oracle_status_command(state: Path) -> str:
    return f"{shlex.quote(str(Path(sys.executable).parent / 'stylemint'))} oracle --state {shlex.quote(str(state))} status"


def _print_split(client, token_id: int, artist: str, platform: str, echo) -> None:
    """Who the fulfillment credited, how much, and why: the StylesPaid log's measured weights."""
    from backend.chain.styles import registered_style

    paid = client.styles_paid(token_id)
    _, share_bps = client.project_styles(token_id // 1_000_000)
    artist_credit, platform_credit = client.view("creditOf", artist), client.view("creditOf", platform)
    echo(f"split      platform (#2) {platform} {_eth(platform_credit)} (10 %)")
    total = artist_credit + platform_credit
    paid = paid or {"style_ids": [], "weights_bps": [], "amounts": []}
    for style_id, weight, amount in zip(paid["style_ids"], paid["weights_bps"], paid["amounts"]):
        style = registered_style(client, style_id)
        total += amount
        echo(f"           style #{style_id} {style.name} (#{next((i for name, i in STYLE_OWNER_ACCOUNTS.items() if name in style.trigger.split()), '?')}) {style.owner} "
             f"{_eth(amount)}: measured weight {weight / 100:.2f} % of the styles' {share_bps / 100:g} % of the artist's 90 %")
    echo(f"           artist (#3) {artist} {_eth(artist_credit)} (the rest)")
    echo(f"           total {_eth(total)}, the price, credited at fulfillment; each payee withdraws it")


def _print_agreement(operators, token_id: int, echo) -> None:
    """Each operator's own commitment to the token: byte-equal, which is why the quorum settled."""
    commitments = []
    for n, operator in enumerate(operators):
        job = operator.jobs.for_token(token_id)
        commitment = (job.attested() or {}).get("commitment") if job else None
        commitments.append(commitment)
        echo(f"commitment oracle {chr(65 + n)}: " + (f"seed {commitment['seed'][:18]}..., metadata "
                                                     f"{commitment['metadata_digest'][:18]}..., weights "
                                                     f"{commitment['weights_bps']}" if commitment else "none"))
    agree = all(c is not None and c == commitments[0] for c in commitments)
    echo(f"agreement  {'the operators committed byte-equal renders: settled by both signatures' if agree else 'the operators differ'}")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _print_verification(client, store, token_id: int, echo) -> None:
    """What an auditor's `stylemint verify` says of the token: the re-render, and the paid weights."""
    from backend.verify.verifier import Verifier

    report = Verifier(client, store).verify(token_id)
    echo(f"verified   {report.outcome.upper()} (exit {report.exit_code}): {report.reason}")
    for check in report.checks:
        if check.step in ("settlement", "attribution", "payment"):
            echo(f"           {check.step}: {check.detail}")


def _eth(wei: int) -> str:
    return f"{wei / 1e18:.6f} ETH ({wei} wei)"


def main(once: bool | None = None) -> None:
    """Run the demo; unless `once` (or DEMO_ONCE=1), keep everything up until Ctrl-C or SIGTERM,
    either of which stops it cleanly (exit status 0)."""
    if once is None:
        once = os.environ.get("DEMO_ONCE", "") not in ("", "0")
    stop = threading.Event()
    try:
        with Anvil() as node:
            run_demo(node, stop, once=once)
    except KeyboardInterrupt:
        stop.set()
    if stop.is_set() and not once:
        click.echo("stopped: chain, oracle and app are down")
