"""Build the app from settings (`stylemint serve`, the demo); binds 127.0.0.1 unless told otherwise."""

from __future__ import annotations

from pathlib import Path

from backend.chain import deployments
from backend.chain.client import StyleMintClient
from backend.chain.indexer import TokenIndex
from backend.config import data_dir
from backend.ipfs.config import store_from_config
from backend.chain.deployments import resolve_target
from backend.oracle.factory import default_state_path
from backend.verify.verifier import Verifier
from backend.web import create_app
from backend.web.catalog import Catalog


# A new block shows within a quarter second; an answer is at most a second old.
SERVED_READ_CACHE = {"head_seconds": 0.25, "max_age": 1.0}


def build_app(*, client: StyleMintClient | None = None, rpc: str | None = None, contract: str | None = None,
              ipfs: str | None = None, oracle_state: Path | None = None, public_rpc: str | None = None,
              public_urls: tuple[str, ...] = (), store=None, explorer: str | None = None, read_cache: bool = True):
    """The app over one chain and store. `public_rpc` is what wallets are told (none by default:
    the server's own RPC URL may carry a key or name a private node); `public_urls` are the
    addresses visitors use besides the loopback names (Host and Origin are checked against them);
    `read_cache` answers the read routes once per block (backend/web/read_cache.py)."""
    if client is None:
        client, _ = resolve_target(rpc, contract)
    store = store if store is not None else store_from_config(ipfs)
    chain_id = client.chain_id()
    try:
        recorded = deployments.load(chain_id, deployments.genesis_hash(client.rpc_url))
        start_block = recorded.block_number if recorded.address.lower() == client.address.lower() else 0
    except LookupError:
        start_block = 0
    # The token index lives beside the other data, one file per chain and contract.
    index = TokenIndex(data_dir() / "index" / f"v2-{chain_id}-{client.address.lower()}.sqlite", client,
                       start_block=start_block)
    view = Catalog(client, store, oracle_state or default_state_path(), index=index)
    return create_app({
        "IPFS_STORE": store,
        "CATALOG": view,
        "VERIFIER": Verifier(client, store),
        "PUBLIC_RPC_URL": public_rpc,
        "EXPLORER_URL": explorer.rstrip("/") if explorer else None,
        "PUBLIC_URLS": list(public_urls),
        "READ_CACHE": SERVED_READ_CACHE if read_cache else None,
    })
