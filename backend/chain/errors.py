"""What can go wrong talking to the chain, in terms a caller can act on.

web3.py raises requests' connection errors, its own `ContractLogicError` family and more; the
client turns them into these at its boundary, so no caller imports web3's exceptions.
"""

from backend.errors import PermanentError, TransientError


class ChainError(RuntimeError):
    """Base of every chain failure."""


class ChainUnavailable(ChainError, TransientError):
    """The RPC endpoint did not answer after the bounded retries."""


class ContractRevert(ChainError, PermanentError):
    """A call reverted (unknown project or token, a custom error): asking again gives the same answer.
    `name` is the custom error's name from the ABI (decoded by the client), or "" when unknown."""

    def __init__(self, message: str, name: str = ""):
        super().__init__(message)
        self.name = name


class RpcRejected(ChainError, TransientError):
    """The node answered with an error (a nonce already used, fees too low): worth another try."""


class ChainNotSettled(ChainError, TransientError):
    """The answer depends on a chain that is still moving: a block, log or receipt that a reorg or a
    lagging node has not (or no longer) got. Never a reason to give a job up: look again later."""
