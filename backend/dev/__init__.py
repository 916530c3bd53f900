"""Tooling for development, tests, benchmarks and the ape scripts: never imported by a service.

ape (deploy, open projects, mint), the local anvil and js-ipfs nodes, the sample deployment and
the demo live here, apart from the runtime packages (chain, render, ipfs, oracle, verify, web),
which run on web3 and the compiled ABI alone. `tests/backend/test_layers.py` keeps it that way.
"""
