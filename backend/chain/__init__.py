"""Contract access: the local node, deployment (ape), the web3 client, and the token id convention."""

# Art Blocks' convention, as the contract computes it: tokenId = projectId * 1_000_000 + invocation.
TOKEN_ID_MULTIPLIER = 1_000_000


def token_id_of(project_id: int, invocation: int) -> int:
    return project_id * TOKEN_ID_MULTIPLIER + invocation


def project_of(token_id: int) -> int:
    return token_id // TOKEN_ID_MULTIPLIER


def edition_of(token_id: int) -> int:
    """1-based edition number (invocation + 1) as collectors count."""
    return token_id % TOKEN_ID_MULTIPLIER + 1
