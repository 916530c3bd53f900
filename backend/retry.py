"""One retry policy for every client: bounded attempts, exponential backoff with a ceiling.

The chain client, the Kubo client and the pinning client all call out over a network that may
drop a request; they share this helper so that "how often and how long" is one setting, and the
oracle's per-job backoff uses the same delay rule.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

T = TypeVar("T")
log = logging.getLogger("stylemint.retry")


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` calls in all; the n-th retry waits min(max_backoff, backoff * 2**(n-1)) seconds."""

    attempts: int = 7
    backoff: float = 0.25
    max_backoff: float = 8.0

    def delay(self, retry: int) -> float:
        return min(self.max_backoff, self.backoff * 2 ** (retry - 1))


def with_retries(call: Callable[[], T], policy: RetryPolicy, *, retry_on: tuple[type[BaseException], ...],
                 what: str, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `call`; on one of `retry_on`, wait and call again. The last failure propagates unchanged,
    so the caller translates it into its own error at its boundary."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except retry_on as err:
            if attempt >= policy.attempts:
                raise
            delay = policy.delay(attempt)
            log.warning("%s failed (%s), retry %d/%d in %.2fs", what, _describe(err), attempt,
                        policy.attempts - 1, delay)
            sleep(delay)
    raise AssertionError("unreachable")


def _describe(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text[:200]}" if text else type(err).__name__


class TryAgain(Exception):
    """Raised inside one attempt when the answer is worth another try (a 5xx, a 429, a dropped
    connection); the client turns the last one into its own 'unavailable' error."""
