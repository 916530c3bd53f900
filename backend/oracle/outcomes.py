"""What a step of the oracle can come to, and the one map from an error to an outcome.

Each step takes a job and returns an outcome: `Advance` (to a state, with the fields to store),
`Wait` (look again after a delay), `Retry` (a passing failure: back off) or `Fail` (no retry can
fix it). Errors become outcomes in one place, `outcome_of`: `PermanentError` -> Fail, a chain
still moving or out of reach -> Wait, anything else -> Retry (logged unless it is one of ours).
Kept apart from the loop so that the job steps (backend/oracle/service.py) and the transaction
side (backend/oracle/transactions.py) speak the same words without importing each other.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass, field
from typing import Callable, Union

from backend.chain.errors import ChainNotSettled, ChainUnavailable, ContractRevert
from backend.errors import PermanentError, StyleMintError

log = logging.getLogger("stylemint.oracle")


# Custom errors by which a view says a token or project does not exist.
VANISHED = ("TokenNotMinted", "UnknownProject")


class JobRejected(PermanentError):
    """This job cannot be done (unknown project, no such manifest, fulfilled by someone else)."""


@dataclass(frozen=True)
class Advance:
    state: str
    fields: dict = field(default_factory=dict)
    event: str = ""


@dataclass(frozen=True)
class Wait:
    reason: str
    seconds: float = 0.0  # 0: the configured poll interval


@dataclass(frozen=True)
class Retry:
    reason: str


@dataclass(frozen=True)
class Fail:
    reason: str


Outcome = Union[Advance, Wait, Retry, Fail]


def outcome_of(err: Exception, job) -> Outcome:
    """The one exception map: PermanentError fails the job; a chain still moving or out of reach
    (ChainNotSettled, ChainUnavailable) makes it wait without spending an attempt, since no number
    of reorgs or outages may turn into a failed job; anything else backs off."""
    if isinstance(err, JobRejected):
        return Fail(str(err))
    reason = f"{type(err).__name__}: {err}"
    if isinstance(err, (ChainNotSettled, ChainUnavailable)):
        return Wait(reason)
    if isinstance(err, ContractRevert) and err.name in VANISHED:
        # Every job comes from a Mint log the oracle saw, so a view that says its token or project
        # does not exist answered from a chain that moved (a reorg between two calls): the next
        # check of the mint's receipt drops the job if the mint is really gone.
        return Wait(f"{reason} (the chain moved under this step: checking the mint again)")
    if isinstance(err, PermanentError):
        return Fail(reason)
    if not isinstance(err, StyleMintError):
        log.exception("event=unexpected_error token=%d", job.token_id)
    return Retry(reason)


def guarded(step: Callable[..., Outcome | None], job, *args) -> Outcome | None:
    """Run a step; every failure becomes an outcome, so the loop never dies."""
    try:
        return step(job, *args)
    except Exception as err:  # noqa: BLE001 - every failure becomes an outcome; the loop never dies
        return outcome_of(err, job)


# Fault injection for the crash tests: SIGKILL this process at a named point of the loop.
CRASH_ENV = "STYLEMINT_ORACLE_CRASH_AT"


def failpoint(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
