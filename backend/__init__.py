"""stylemint's off-chain side: chain access, rendering, IPFS, the oracle, the verifier, the web app."""

__version__ = "0.1.0"
