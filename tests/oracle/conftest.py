"""Oracle fixtures: anvil, a deployed StyleMint with the sample project, an embedded store."""

from contextlib import contextmanager

import pytest

from backend.chain.client import StyleMintClient
from backend.dev.anvil import Anvil, rpc_call
from backend.dev.sample import deploy_sample
from backend.ipfs.embedded import EmbeddedStore
from backend.oracle import factory
from backend.oracle.service import OracleConfig
from backend.render.renderer import Renderer


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEMINT_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


@contextmanager
def running_sample(directory, manifest=None):
    """anvil + an ape provider connected to it + the sample project (price 1 gwei, 100 editions;
    `manifest`: another manifest for it), its log and store under `directory`. Instant mining."""
    from ape import networks

    with Anvil(log_path=directory / "anvil.log") as node:
        with networks.ethereum.local.use_provider("foundry", provider_settings={"host": node.url}):
            store = EmbeddedStore(directory / "data" / "ipfs")  # where a subprocess oracle looks by default
            sample = deploy_sample(node.url, store, price_wei=10**9, max_editions=100, manifest=manifest)
            yield node, sample, store


@pytest.fixture
def sample_chain(env):
    """`running_sample` for one test; `use_block_time` switches to a block every N seconds afterwards."""
    with running_sample(env) as chain:
        yield chain


@pytest.fixture(scope="session")
def shared_renderer(tmp_path_factory):
    return Renderer(device="cpu", threads=2, models_dir=tmp_path_factory.mktemp("models"))


def make_oracle(node, sample, store, renderer, state, **config):
    client = StyleMintClient(node.url, sample.deployment.address, retries=config.pop("retries", 6),
                             backoff=config.pop("rpc_backoff", 0.25))
    config.setdefault("start_block", sample.deployment.block_number)
    return make_oracle_for(client, store, renderer, state, **config)


def make_oracle_for(client, store, renderer, state, **config):
    """The factory's oracle with the tests' short poll and backoff. On instant-mining anvil it
    mines the blocks a seed waits for (`dev_mine`); tests with real block times turn that off."""
    config.setdefault("dev_mine", True)
    config.setdefault("poll_interval", 0.1)
    config.setdefault("backoff", 0.05)
    return factory.make_oracle(client=client, store=store, renderer=renderer, state=state, config=OracleConfig(**config))


def use_block_time(node, seconds: float | None) -> None:
    """From now on a block every `seconds` (real block times); None keeps instant mining."""
    if seconds:
        rpc_call(node.url, "evm_setIntervalMining", [seconds])
        rpc_call(node.url, "evm_setAutomine", [False])
