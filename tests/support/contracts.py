"""What the contract property tests share: Hypothesis settings for module-scoped contracts."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.support.lanes import examples


def chain_settings(max_examples: int) -> settings:
    """Fixtures are module-scoped contracts; each example isolates its own chain changes (with
    `isolated`, not ape's `chain.isolate()`, which swallows every exception raised inside it)."""
    return settings(
        max_examples=examples(max_examples),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


@st.composite
def whole_weights(draw, min_size=1):
    """1..4 weights in basis points summing to exactly 10,000."""
    count = draw(st.integers(min_size, 4))
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=count - 1, max_size=count - 1)))
    return [b - a for a, b in zip([0, *cuts], [*cuts, 10_000])]
