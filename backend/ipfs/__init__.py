"""IPFS: Kubo-identical CIDs, the embedded block store, Kubo RPC and Pinning Service backends."""
