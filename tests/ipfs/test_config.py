"""One setting picks the content store."""

import pytest

from backend.ipfs.config import IpfsConfigError, store_from_config
from backend.ipfs.embedded import EmbeddedStore
from backend.ipfs.errors import IpfsError
from backend.ipfs.kubo import KuboBackend
from backend.ipfs.pinning import PinningServiceBackend


def test_embedded_is_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv("STYLEMINT_IPFS", raising=False)
    monkeypatch.setenv("STYLEMINT_DATA_DIR", str(tmp_path))
    store = store_from_config()
    assert isinstance(store, EmbeddedStore) and store.root == tmp_path / "ipfs"


def test_kubo_and_psa(tmp_path, monkeypatch):
    kubo = store_from_config("kubo+http://127.0.0.1:5001", root=tmp_path)
    assert isinstance(kubo, KuboBackend) and kubo.url == "http://127.0.0.1:5001"
    monkeypatch.setenv("STYLEMINT_PSA_TOKEN", "t")
    monkeypatch.setenv("STYLEMINT_PSA_ORIGINS", "/ip4/127.0.0.1/tcp/4001,/ip4/127.0.0.1/tcp/4002")
    psa = store_from_config("psa+https://psa.example/v1", root=tmp_path)
    assert isinstance(psa, PinningServiceBackend)
    assert psa.client.endpoint == "https://psa.example/v1" and len(psa.origins) == 2


def test_psa_without_token(tmp_path, monkeypatch):
    monkeypatch.delenv("STYLEMINT_PSA_TOKEN", raising=False)
    with pytest.raises(IpfsError, match="STYLEMINT_PSA_TOKEN"):
        store_from_config("psa+https://psa.example", root=tmp_path)


@pytest.mark.parametrize("setting", ["kubo", "kubo+127.0.0.1:5001", "s3+https://x", "ipfs://"])
def test_bad_settings(setting, tmp_path):
    with pytest.raises(IpfsConfigError):
        store_from_config(setting, root=tmp_path)
