"""Verify every fulfillment as it lands, so that a lying oracle is caught within minutes.

The contract cannot check a seed (docs/RENDER_SPEC.md §1): anyone holding ORACLE_ROLE, the admin
included once it grants itself the role, can attach any seed and image. `stylemint verify`
catches that at the next audit; this watch runs the same verifier on each `TokenFulfilled` log
once it has `confirmations` blocks on top, and reports every token whose check fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from backend.chain.client import StyleMintClient
from backend.verify.verifier import Outcome, Report, Verifier


@dataclass
class WatchState:
    next_block: int
    checked: int = 0
    failed: int = 0


class FulfillmentWatch:
    def __init__(self, chain: StyleMintClient, verifier: Verifier, *, confirmations: int = 0,
                 on_report: Callable[[Report], None] = lambda report: None):
        self.chain = chain
        self.verifier = verifier
        self.confirmations = confirmations
        self.on_report = on_report

    def poll(self, state: WatchState) -> list[Report]:
        """Verify the fulfillments from `state.next_block` to head - confirmations; advance the state."""
        to_block = self.chain.head() - self.confirmations
        if to_block < state.next_block:
            return []
        reports = []
        for token_id in self.chain.fulfilled_tokens(state.next_block, to_block):
            report = self.verifier.verify(token_id)
            state.checked += 1
            # Tolerant is not proof, but not a refutation either: the watcher runs outside the
            # committed environment. It is reported, not counted as a failure.
            state.failed += report.exit_code not in (Outcome.EXACT, Outcome.TOLERANT)
            self.on_report(report)
            reports.append(report)
        state.next_block = to_block + 1
        return reports
