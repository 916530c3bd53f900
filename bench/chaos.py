"""Seeded chaos runs of the command-line oracle (backend/dev/chaos.py); prints `key: value` lines.

    .venv/bin/python bench/chaos.py [--runs 10] [--block-times 2,instant] [--first-seed 1]

Each run: 20 mints from 3 wallets in two waves, SIGKILLs at seeded moments, a reorg after the
first wave is fulfilled, a reorg while the second renders (one mint abandoned), a node that says
"not found" for blocks for a while. A run is held when every canonical mint is fulfilled exactly
once with its canonical seed, no oracle transaction reverted, the oracle never exited by itself
and no job failed. Goal: every run held at 2-second blocks and instant.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.config import ensure_toolchain_env  # noqa: E402

ensure_toolchain_env()

from backend.dev.chaos import run_chaos  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="Runs per block time.")
    parser.add_argument("--block-times", default="2,instant")
    parser.add_argument("--first-seed", type=int, default=1)
    args = parser.parse_args()
    for label in args.block_times.split(","):
        block_time = None if label == "instant" else float(label)
        results = []
        for seed in range(args.first_seed, args.first_seed + args.runs):
            with tempfile.TemporaryDirectory(prefix="stylemint-chaos-") as workdir:
                result = run_chaos(seed, block_time, Path(workdir), echo=lambda line: print(f"# {line}", flush=True))
            results.append(result)
            print(f"# {label} seed {seed}: held={result.held} mints={result.canonical_mints} "
                  f"once={result.fulfilled_once} reverted={result.oracle_reverted_txs} crashes={result.oracle_crashes} "
                  f"kills={result.kills} not_found={result.not_found_answers} failed={result.failed_jobs} "
                  f"unfulfilled={result.unfulfilled} twice={result.fulfilled_twice} wrong_seeds={result.wrong_seeds} "
                  f"txs={result.oracle_transactions} mint_to_final={result.max_mint_to_final_s}s in {result.seconds}s",
                  flush=True)
        print(f"block_time: {label}")
        print(f"chaos_runs: {len(results)}")
        print(f"chaos_runs_held: {sum(r.held for r in results)}")
        print(f"oracle_reverted_txs: {sum(r.oracle_reverted_txs for r in results)}")
        print(f"oracle_crashes: {sum(r.oracle_crashes for r in results)}")
        print(f"max_mint_to_final_s: {max(r.max_mint_to_final_s for r in results)}")


if __name__ == "__main__":
    main()
