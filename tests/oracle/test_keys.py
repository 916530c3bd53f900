"""The oracle key: keystores and ape aliases with a password from the environment, never printed."""

import json
import logging

import pytest
from eth_account import Account

from backend.oracle.keys import DEV_ORACLE_INDEX, KeyLoadError, dev_account, load_signer

KEY = "0x" + "4c" * 32
PASSWORD = "correct horse battery staple"


@pytest.fixture
def keystore(tmp_path):
    path = tmp_path / "oracle.json"
    path.write_text(json.dumps(Account.encrypt(KEY, PASSWORD, iterations=2)))
    return path


def test_keystore_with_password_from_the_environment(keystore, monkeypatch):
    monkeypatch.setenv("STYLEMINT_ORACLE_PASSWORD", PASSWORD)
    signer = load_signer(1, keystore=keystore)
    assert signer.address == Account.from_key(KEY).address
    assert KEY[2:] not in repr(signer) and KEY[2:] not in str(signer)


def test_ape_alias_reads_the_ape_keystore(keystore, tmp_path, monkeypatch):
    (tmp_path / "ape" / "accounts").mkdir(parents=True)
    (tmp_path / "ape" / "accounts" / "oracle.json").write_text(keystore.read_text())
    monkeypatch.setenv("APE_DATA_FOLDER", str(tmp_path / "ape"))
    monkeypatch.setenv("STYLEMINT_ORACLE_PASSWORD", PASSWORD)
    assert load_signer(11155111, alias="oracle").address == Account.from_key(KEY).address
    with pytest.raises(KeyLoadError, match="no ape account 'missing'"):
        load_signer(1, alias="missing")


def test_wrong_or_missing_password_says_so_without_secrets(keystore, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("STYLEMINT_ORACLE_PASSWORD", "wrong")
    with pytest.raises(KeyLoadError) as wrong:
        load_signer(1, keystore=keystore)
    assert "wrong password" in str(wrong.value)
    monkeypatch.delenv("STYLEMINT_ORACLE_PASSWORD")
    with pytest.raises(KeyLoadError, match="needs its password"):
        load_signer(1, keystore=keystore)
    for text in (str(wrong.value), caplog.text):
        assert KEY[2:] not in text and PASSWORD not in text
    assert wrong.value.__cause__ is None and wrong.value.__suppress_context__


def test_plain_keys_only_on_dev_chains(monkeypatch):
    monkeypatch.setenv("STYLEMINT_ORACLE_KEY", KEY)
    assert load_signer(31337).address == Account.from_key(KEY).address
    with pytest.raises(KeyLoadError, match="not a local dev chain") as refused:
        load_signer(1)
    assert KEY[2:] not in str(refused.value)
    monkeypatch.setenv("STYLEMINT_ORACLE_KEY", "0x1234")
    with pytest.raises(KeyLoadError, match="not a valid private key") as invalid:
        load_signer(1337)
    assert "1234" not in str(invalid.value)


def test_dev_default_is_the_demo_oracle(monkeypatch):
    monkeypatch.delenv("STYLEMINT_ORACLE_KEY", raising=False)
    assert load_signer(31337).address == dev_account(DEV_ORACLE_INDEX).address
    assert load_signer(31337).address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil account 1
