"""What can go wrong with content, in terms a caller can act on.

Every class is also a `backend.errors` TransientError (content may become reachable or intact
again: another node, a restarted service) or PermanentError (the input itself is unusable).
"""

from backend.errors import PermanentError, StyleMintError, TransientError


class IpfsError(StyleMintError, RuntimeError):
    """Base of every IPFS failure."""


class NotFound(IpfsError, TransientError):
    """No such content here (or not retrievable within the timeout)."""


class CorruptedBlock(IpfsError, TransientError):
    """A stored block no longer hashes to its CID; it is reported, never served."""


class CIDMismatch(IpfsError, TransientError):
    """A node returned or served content under another CID than the one we computed."""


class UploadTooLarge(IpfsError, PermanentError):
    """Content over the configured size limit; nothing was stored."""


class IpfsUnavailable(IpfsError, TransientError):
    """The node or service did not answer after the bounded retries."""


class PinFailed(IpfsError, TransientError):
    """A pinning service reported the pin as failed, or did not finish in time."""
