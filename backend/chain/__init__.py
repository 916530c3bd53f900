"""Contract access through ape: the local node, deployment, and the StyleMint calls."""
