"""Verifier fixtures: a chain with honestly fulfilled tokens (anvil, embedded store, oracle)."""

import threading

import pytest
from ape import accounts

from backend.dev import ape_contract as core
from backend.chain.client import StyleMintClient
from backend.verify.verifier import Verifier
from tests.oracle.conftest import chain, env, make_oracle, shared_renderer  # noqa: F401  (fixtures)


@pytest.fixture
def fulfilled(chain, shared_renderer, env):  # noqa: F811
    """Three honestly fulfilled tokens and a verifier pointed at the chain and the store."""
    node, sample, store = chain
    mints = [core.mint(sample.contract, accounts.test_accounts[4 + i], sample.project_id) for i in range(3)]
    oracle = make_oracle(node, sample, store, shared_renderer, env / "state.sqlite")
    oracle.run(threading.Event(), until_idle=True)
    return node, sample, store, mints, oracle


def verifier_for(node, sample, store, models_dir, **options):
    return Verifier(StyleMintClient(node.url, sample.deployment.address, retries=1, backoff=0.01), store,
                    models_dir=models_dir, **options)
