"""Verify every fulfillment as it lands, so that a lying oracle is caught within minutes.

The contract cannot check a seed (docs/RENDER_SPEC.md §1): a quorum of oracle keys that agree on
a lie (M colluding or compromised operators) can attach any seed and image. `stylemint verify`
catches that at the next audit; this watch runs the same verifier on each `TokenFulfilled` log
once it has `confirmations` blocks on top, and reports every token whose check fails. With the
operators' URLs it also compares what each operator committed (backend/verify/operators.py):
operators that disagree on a waiting token, and one that signed what the quorum did not settle.

Content that cannot be fetched is no evidence of a lie at first (a gateway catching up), but an
oracle can also fulfil with a metadata CID that it never pinned, releasing the escrow for nothing
anyone can see: a token whose content stays unavailable past `grace` seconds is an alert too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from backend.chain.client import StyleMintClient
from backend.verify.operators import OperatorWatch
from backend.verify.verifier import Outcome, Report, Verifier

# Verdicts that are no evidence of a lie: tolerant (the watcher runs outside the committed
# environment) and, within the grace period, unavailable.
NOT_A_LIE = (Outcome.EXACT, Outcome.TOLERANT)


@dataclass
class WatchState:
    next_block: int
    checked: int = 0
    failed: int = 0
    # token id -> when (by the watch's clock) its content was first found unavailable
    unavailable: dict[int, float] = field(default_factory=dict)
    pending: set[int] = field(default_factory=set)  # minted, not seen fulfilled (watched with operators)


class FulfillmentWatch:
    """`on_report(report, alert)`: every verdict, `alert` when it counts as a failure."""

    def __init__(self, chain: StyleMintClient, verifier: Verifier, *, confirmations: int = 0, grace: float = 600.0,
                 clock: Callable[[], float] = time.monotonic,
                 on_report: Callable[[Report, bool], None] = lambda report, alert: None,
                 operators: OperatorWatch | None = None):
        self.operators = operators
        self.chain = chain
        self.verifier = verifier
        self.confirmations = confirmations
        self.grace = grace
        self.clock = clock
        self.on_report = on_report

    def poll(self, state: WatchState) -> list[Report]:
        """Look again at tokens whose content was unavailable, then verify the fulfillments from
        `state.next_block` to head - confirmations; advance the state."""
        reports = [report for token_id, since in list(state.unavailable.items())
                   if (report := self._recheck(state, token_id, since)) is not None]
        to_block = self.chain.head() - self.confirmations
        if to_block < state.next_block:
            return reports
        if self.operators is not None:
            state.pending |= {mint.token_id for mint in self.chain.mint_logs(state.next_block, to_block)}
        for token_id in self.chain.fulfilled_tokens(state.next_block, to_block):
            if self.operators is not None:
                state.pending.discard(token_id)
                state.failed += self.operators.check_settled(token_id)
            report = self.verifier.verify(token_id)
            state.checked += 1
            if report.exit_code == Outcome.UNAVAILABLE and self.grace > 0:
                state.unavailable[token_id] = self.clock()
                self.on_report(report, False)
            else:
                self._settle(state, report)
            reports.append(report)
        if self.operators is not None:
            for token_id in sorted(state.pending):
                state.failed += self.operators.check_pending(token_id)
        state.next_block = to_block + 1
        return reports

    def _recheck(self, state: WatchState, token_id: int, since: float) -> Report | None:
        report = self.verifier.verify(token_id)
        waited = self.clock() - since
        if report.exit_code == Outcome.UNAVAILABLE and waited < self.grace:
            return None  # still within the grace period: nothing new to say
        del state.unavailable[token_id]
        if report.exit_code == Outcome.UNAVAILABLE:
            report.reason = (f"its content is still unavailable {waited:.0f} s after its fulfillment was checked "
                             f"(grace {self.grace:.0f} s): the escrow was released for content nobody can see; "
                             + report.reason)
        self._settle(state, report)
        return report

    def _settle(self, state: WatchState, report: Report) -> None:
        alert = report.exit_code not in NOT_A_LIE
        state.failed += alert
        self.on_report(report, alert)
