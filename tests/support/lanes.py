"""How much a test lane runs: `make test` everything, `make test-fast` the edit loop."""

import os


def examples(count: int) -> int:
    """`count` examples in `make test`; a fifth (at least 5) in the edit loop, `make test-fast`
    (STYLEMINT_TEST_LANE=fast), where a property is a smoke check and the full suite the proof."""
    return max(5, count // 5) if os.environ.get("STYLEMINT_TEST_LANE") == "fast" else count
