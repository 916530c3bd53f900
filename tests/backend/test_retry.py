"""The one retry policy: bounded attempts, exponential backoff with a ceiling, errors passed on."""

import pytest

from backend.retry import RetryPolicy, TryAgain, with_retries


def test_delays_double_up_to_the_ceiling():
    policy = RetryPolicy(attempts=6, backoff=0.5, max_backoff=3.0)
    assert [policy.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_retries_until_success_and_sleeps_between():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise TryAgain("HTTP 503")
        return "ok"

    assert with_retries(flaky, RetryPolicy(attempts=5, backoff=0.1), retry_on=(TryAgain,), what="t",
                        sleep=sleeps.append) == "ok"
    assert len(calls) == 3 and sleeps == [0.1, 0.2]


def test_gives_up_after_the_bound_with_the_last_error():
    calls, sleeps = [], []

    def down():
        calls.append(1)
        raise TryAgain(f"refused #{len(calls)}")

    with pytest.raises(TryAgain, match="refused #4"):
        with_retries(down, RetryPolicy(attempts=4, backoff=0.1), retry_on=(TryAgain,), what="t", sleep=sleeps.append)
    assert len(calls) == 4 and len(sleeps) == 3


def test_other_errors_are_not_retried():
    calls = []

    def broken():
        calls.append(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        with_retries(broken, RetryPolicy(attempts=5), retry_on=(TryAgain,), what="t", sleep=lambda _: None)
    assert calls == [1]
