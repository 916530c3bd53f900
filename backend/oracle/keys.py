"""The oracle's signing key: from an ape account alias or an encrypted keystore, never printed.

A plain private key is accepted only on a local dev chain (chain ids 31337 and 1337), where the
keys are public anyway. Passwords come from the environment; the key and the password never
appear in a log line, an error message or a repr.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from eth_account import Account

from backend.config import DEV_MNEMONIC

DEV_CHAIN_IDS = {31337, 1337}
PASSWORD_ENV = "STYLEMINT_ORACLE_PASSWORD"
PRIVATE_KEY_ENV = "STYLEMINT_ORACLE_KEY"
DEV_ORACLE_INDEX = 1  # the demo deploys with anvil's account 1 as oracle


class KeyLoadError(RuntimeError):
    """The oracle key could not be loaded (the message never contains secret material)."""


class OracleSigner:
    """Signs transactions for one address; holds the key privately."""

    def __init__(self, account, source: str):
        self._account = account
        self.address = account.address
        self.source = source

    def sign_transaction(self, tx: dict):
        return self._account.sign_transaction(tx)

    def sign_settlement(self, domain, commitments) -> bytes:
        """This oracle's EIP-712 signature over the settlement of `commitments` (in this order)."""
        from backend.chain import settlement

        return settlement.sign(self._account.key, domain, commitments)

    def __repr__(self) -> str:
        return f"OracleSigner({self.address}, from {self.source})"

    __str__ = __repr__


def _decrypt(path: Path, password: str | None) -> OracleSigner:
    if password is None:
        raise KeyLoadError(f"keystore {path} needs its password in ${PASSWORD_ENV}")
    try:
        keystore = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise KeyLoadError(f"cannot read keystore {path}: {type(err).__name__}") from None
    try:
        key = Account.decrypt(keystore, password)
    except Exception:  # eth-account raises ValueError for a wrong password; say nothing more
        raise KeyLoadError(f"cannot decrypt keystore {path}: wrong password in ${PASSWORD_ENV}?") from None
    return OracleSigner(Account.from_key(key), f"keystore {path.name}")


def dev_account(index: int):
    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")


def load_signer(chain_id: int, *, alias: str | None = None, keystore: str | Path | None = None,
                private_key: str | None = None) -> OracleSigner:
    password = os.environ.get(PASSWORD_ENV)
    if alias:
        data_folder = Path(os.environ.get("APE_DATA_FOLDER", Path.home() / ".ape"))
        path = data_folder / "accounts" / f"{alias}.json"
        if not path.exists():
            raise KeyLoadError(f"no ape account '{alias}' in {path.parent} (create it with `ape accounts import {alias}`)")
        return _decrypt(path, password)
    if keystore:
        return _decrypt(Path(keystore), password)
    private_key = private_key or os.environ.get(PRIVATE_KEY_ENV)
    if chain_id not in DEV_CHAIN_IDS:
        raise KeyLoadError(
            f"chain {chain_id} is not a local dev chain: use --account <ape alias> or --keystore <file> "
            f"with ${PASSWORD_ENV}; plain private keys are for local chains only"
        )
    if private_key:
        try:
            return OracleSigner(Account.from_key(private_key), f"${PRIVATE_KEY_ENV} (dev chain)")
        except Exception:
            raise KeyLoadError(f"${PRIVATE_KEY_ENV} is not a valid private key") from None
    return OracleSigner(dev_account(DEV_ORACLE_INDEX), f"dev account {DEV_ORACLE_INDEX}")
