"""Contract access over plain web3 for the services: the client, ABI, events and errors, recorded
deployments, the styles a project blends, the manifest in force at a mint, the split's Python
mirror, and the token id convention. (Deploying and driving the contract through ape is
backend/dev/, for scripts and tests only.)"""

# Art Blocks' convention, as the contract computes it: tokenId = projectId * 1_000_000 + invocation.
TOKEN_ID_MULTIPLIER = 1_000_000


def token_id_of(project_id: int, invocation: int) -> int:
    return project_id * TOKEN_ID_MULTIPLIER + invocation


def project_of(token_id: int) -> int:
    return token_id // TOKEN_ID_MULTIPLIER


def edition_of(token_id: int) -> int:
    """1-based edition number (invocation + 1) as collectors count."""
    return token_id % TOKEN_ID_MULTIPLIER + 1
