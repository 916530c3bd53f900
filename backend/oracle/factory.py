"""The one way to assemble an Oracle (CLI, demo, tests, benchmarks): every part from settings
unless the caller hands it in.
"""

from __future__ import annotations

from pathlib import Path

from backend.chain.client import StyleMintClient
from backend.chain.deployments import resolve_target
from backend.config import data_dir
from backend.ipfs.config import store_from_config
from backend.oracle.jobs import JobStore
from backend.oracle.keys import load_signer
from backend.oracle.service import Oracle, OracleConfig
from backend.render.renderer import Renderer

def default_state_path() -> Path:
    return data_dir() / "oracle" / "state.sqlite"


def make_oracle(
    *,
    client: StyleMintClient | None = None,
    rpc: str | None = None,
    contract: str | None = None,
    state: Path | None = None,
    store=None,
    renderer: Renderer | None = None,
    signer=None,
    account: str | None = None,
    keystore: str | None = None,
    config: OracleConfig | None = None,
    workers: int = 0,
    ray_address: str | None = None,
    gpus_per_worker: float | None = None,
) -> Oracle:
    """An Oracle; `client` (or `rpc` + `contract`), store, renderer and signer default from settings.

    With `workers` (or `ray_address`), renders go to a Ray actor pool (backend/oracle/ray_pool.py):
    a local Ray started here, or the cluster at `ray_address`; `gpus_per_worker` = 1/k puts k
    renders in flight on each GPU. Without either, the oracle renders in its own process."""
    start_block = 0
    if client is None:
        client, start_block = resolve_target(rpc, contract)
    config = config or OracleConfig()
    if config.start_block == 0:
        config.start_block = start_block
    store = store if store is not None else store_from_config()
    if renderer is None and (workers or ray_address):
        from backend.oracle.ray_pool import RayRenderPool, size_cpu_workers

        local = Renderer()
        placement = {"gpus_per_worker": gpus_per_worker}
        if not gpus_per_worker and not ray_address and not local.device.startswith("cuda"):
            # A local CPU pool: each actor holds the committed thread count's cores, so Ray never
            # runs more renders at once than the cores can (TooManyWorkers says why otherwise).
            size_cpu_workers(workers, local.threads)
            placement = {"cpus_per_worker": local.threads}
        renderer = RayRenderPool(workers or 1, local=local, fetch_adapter=store.get, address=ray_address, **placement)
    renderer = renderer or Renderer(fetch_adapter=store.get)
    signer = signer or load_signer(client.chain_id(), alias=account, keystore=keystore)
    jobs = JobStore(state or default_state_path())
    return Oracle(client, store, renderer, jobs, signer, config)
