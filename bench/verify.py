"""Seconds to verify one token with the reference model; prints `key: value` lines.

    .venv/bin/python bench/verify.py [--tokens 5]

Sets up anvil, the sample project, a few minted tokens and the oracle, then verifies each token
and reports the split between chain checks, IPFS fetches and the render (median over tokens; the
first verification also loads the model and is reported on its own). Then the command line:
`stylemint verify` of the last token in a fresh process against a bare `import torch, diffusers`.
Last, a project committing batches of 3 (RENDER_SPEC §5a), verified from a fresh process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.config import ensure_toolchain_env  # noqa: E402

ensure_toolchain_env()


def cli_figures(rpc: str, token_id: int, render_seconds: float, data_dir: str) -> dict:
    """What an auditor waits for at the command line: `stylemint verify` of one token in a fresh
    process, beside a bare `import torch, diffusers` (fresh too) and the in-process render and
    attribution of the same token; goal: the command costs at most 1.5 x (render + import)."""
    import subprocess

    env = {**os.environ, "STYLEMINT_DATA_DIR": data_dir}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, diffusers"], check=True, env=env)
    imports = time.perf_counter() - started
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "stylemint"), "verify", str(token_id), "--rpc", rpc],
                          capture_output=True, text=True, env=env)
    command = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"stylemint verify exited {done.returncode}: {done.stdout[-800:]}{done.stderr[-800:]}")
    return {"verify_cli_seconds": round(command, 2), "import_seconds": round(imports, 2),
            "render_seconds": round(render_seconds, 2),
            "verify_cli_over_render_plus_import": round(command / (render_seconds + imports), 2)}


def committed_b3_figures(rpc: str, store, data_dir: str) -> dict:
    """A project committing batches of B = 3 (RENDER_SPEC §5a; batch 3 is not row-independent on
    this CPU): five tokens fulfilled in committed batches by the oracle, then `stylemint verify
    --project` in a fresh process, which re-renders each batch once; true when every token is exact."""
    import json
    import subprocess

    from ape import accounts

    from backend.chain.client import StyleMintClient
    from backend.dev import ape_contract as core
    from backend.dev.sample import deploy_sample
    from backend.oracle.factory import make_oracle
    from backend.oracle.service import OracleConfig
    from backend.render import environment
    from backend.render.renderer import Renderer
    from backend.render.samples import sample_manifest

    manifest = sample_manifest(name="Batched", environment=environment.this_machine_class(batch_size=3))
    sample = deploy_sample(rpc, store, price_wei=10**9, manifest=manifest)
    mints = [core.mint(sample.contract, accounts.test_accounts[4 + i], sample.project_id) for i in range(5)]
    make_oracle(client=StyleMintClient(rpc, sample.deployment.address), store=store, renderer=Renderer(device="cpu"),
                state=Path(data_dir) / "batched.sqlite",
                config=OracleConfig(start_block=sample.deployment.block_number, poll_interval=0.05, batch_wait=0.5,
                                    dev_mine=True),  # every seed ready at once: batches of 3, then 2
                ).run(threading.Event(), until_idle=True)
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "stylemint"), "verify", "--project", str(sample.project_id),
                           "--rpc", rpc, "--contract", sample.deployment.address, "--json"],
                          capture_output=True, text=True, env={**os.environ, "STYLEMINT_DATA_DIR": data_dir})
    seconds = time.perf_counter() - started
    reports = json.loads(done.stdout)["reports"] if done.stdout.strip().startswith("{") else []
    exact = done.returncode == 0 and len(reports) == len(mints) and all(r["outcome"] == "exact" for r in reports)
    return {"committed_b3_cpu_exact": str(exact).lower(), "committed_b3_tokens": len(mints),
            "committed_b3_batches": len({tuple(r["batch"]["tokens"]) for r in reports if r.get("batch")}),
            "committed_b3_verify_project_cli_seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description="stylemint verify benchmark")
    parser.add_argument("--tokens", type=int, default=5)
    args = parser.parse_args()

    from ape import accounts, networks

    from backend.dev import ape_contract as core
    from backend.dev.anvil import Anvil
    from backend.chain.client import StyleMintClient
    from backend.dev.sample import deploy_sample
    from backend.ipfs.embedded import EmbeddedStore
    from backend.oracle.factory import make_oracle
    from backend.oracle.service import OracleConfig
    from backend.render.renderer import Renderer
    from backend.verify.verifier import Verifier

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STYLEMINT_DATA_DIR"] = tmp
        with Anvil() as node, networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
            store = EmbeddedStore(Path(tmp) / "ipfs")
            sample = deploy_sample(node.url, store, price_wei=10**9)
            mints = [core.mint(sample.contract, accounts.test_accounts[4 + i % 5], sample.project_id)
                     for i in range(args.tokens + 1)]
            client = StyleMintClient(node.url, sample.deployment.address)
            make_oracle(client=client, store=store, renderer=Renderer(device="cpu"), state=Path(tmp) / "state.sqlite",
                        config=OracleConfig(start_block=sample.deployment.block_number, poll_interval=0.05),
                        ).run(threading.Event(), until_idle=True)

            verifier = Verifier(StyleMintClient(node.url, sample.deployment.address), store, device="cpu")
            started = time.perf_counter()
            first = verifier.verify(mints[0].token_id)
            first_total = time.perf_counter() - started
            totals, parts = [], {"chain_s": [], "ipfs_s": [], "render_s": []}
            outcomes = [first.outcome]
            for mint in mints[1:]:
                started = time.perf_counter()
                report = verifier.verify(mint.token_id)
                totals.append(time.perf_counter() - started)
                outcomes.append(report.outcome)
                for key in parts:
                    parts[key].append(report.timings[key])
            cli = cli_figures(node.url, mints[-1].token_id, parts["render_s"][-1], tmp)
            committed = committed_b3_figures(node.url, store, tmp)

    figures = {
        "tokens_verified": len(outcomes),
        "outcomes": ",".join(sorted(set(outcomes))),
        "first_verify_seconds_incl_model_load": round(first_total, 3),
        "verify_seconds_median": round(statistics.median(totals), 3),
        "chain_checks_seconds_median": round(statistics.median(parts["chain_s"]), 3),
        "ipfs_fetch_seconds_median": round(statistics.median(parts["ipfs_s"]), 4),
        "render_seconds_median": round(statistics.median(parts["render_s"]), 3),
        **cli,
        **committed,
        "node": "anvil on 127.0.0.1, embedded store, reference model 64x64 8 steps, CPU",
    }
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
