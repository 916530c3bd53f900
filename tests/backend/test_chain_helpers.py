"""The chain helpers' own behaviour: the deployment record and the anvil launcher's failures."""

import socket

import pytest

from backend.chain import deployments
from backend.dev.anvil import Anvil, AnvilError
from backend.chain import project_of, token_id_of


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEMINT_DATA_DIR", str(tmp_path))
    return tmp_path


def test_deployment_record_round_trip_keeps_other_chains(data_dir):
    deployments.save(deployments.Deployment(31337, "0xabc", 1, "http://127.0.0.1:8545"))
    deployments.save(deployments.Deployment(11155111, "0xdef", 99))
    deployments.save(deployments.Deployment(31337, "0x123", 5))
    assert deployments.load(31337) == deployments.Deployment(31337, "0x123", 5, None)
    assert deployments.load(11155111).address == "0xdef"
    assert not list(data_dir.glob("*.tmp"))


def test_missing_deployment_says_what_to_do(data_dir):
    with pytest.raises(LookupError, match="no StyleMint deployment recorded for chain 5.*deploy first"):
        deployments.load(5)


def test_token_id_convention():
    assert token_id_of(3, 0) == 3_000_000
    assert token_id_of(3, 999_999) == 3_999_999
    assert project_of(3_999_999) == 3 and project_of(4_000_000) == 4


def test_anvil_reports_a_taken_port(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(AnvilError, match="anvil exited|did not answer"):
            Anvil(port=port, log_path=tmp_path / "anvil.log").start(timeout=10)


def test_anvil_binds_loopback_only(tmp_path):
    with Anvil(log_path=tmp_path / "anvil.log") as node:
        assert node.url.startswith("http://127.0.0.1:")
        listening = (tmp_path / "anvil.log").read_text()
        assert f"Listening on 127.0.0.1:{node.port}" in listening
    assert node.process.poll() is not None  # stopped on exit
