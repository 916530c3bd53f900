"""What can go wrong with content, in terms a caller can act on."""


class IpfsError(RuntimeError):
    """Base of every IPFS failure."""


class NotFound(IpfsError):
    """No such content here (or not retrievable within the timeout)."""


class CorruptedBlock(IpfsError):
    """A stored block no longer hashes to its CID; it is reported, never served."""


class CIDMismatch(IpfsError):
    """A node returned or served content under another CID than the one we computed."""


class UploadTooLarge(IpfsError):
    """Content over the configured size limit; nothing was stored."""


class IpfsUnavailable(IpfsError):
    """The node or service did not answer after the bounded retries."""


class PinFailed(IpfsError):
    """A pinning service reported the pin as failed, or did not finish in time."""
