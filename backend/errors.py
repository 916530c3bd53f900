"""The two kinds of failure every layer speaks: a passing outage, or input no retry can fix.

Each client (chain, IPFS node, pinning service, gateway) translates its library's exceptions
into its own classes at its boundary, as httpx does, and each of those classes is also one of
these two. The oracle decides by these alone whether a job backs off or fails at once, instead of
guessing from built-in types such as ValueError or OSError.
"""


class StyleMintError(Exception):
    """Base of the project's own errors."""


class TransientError(StyleMintError):
    """A service did not answer, or answered wrongly for now: the same call may succeed later."""


class PermanentError(StyleMintError):
    """The input itself is wrong (unknown project, bad manifest, wrong model): no retry fixes it."""
