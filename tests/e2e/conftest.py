"""End-to-end fixtures: a real anvil node on 127.0.0.1 and an isolated data directory."""

import os
import sys
from pathlib import Path

import pytest

from backend.dev.anvil import Anvil


@pytest.fixture
def anvil_node(tmp_path):
    with Anvil(log_path=tmp_path / "anvil.log") as node:
        yield node


@pytest.fixture
def cli_env(tmp_path):
    """Environment for subprocesses: the venv's tools first, data in a temporary folder."""
    env = dict(os.environ)
    env["STYLEMINT_DATA_DIR"] = str(tmp_path / "data")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env
