"""StyleMint over plain web3.py, for long-running services (the oracle, the verifier, the web app).

ape is built for scripts and tests; a daemon that must ride out RPC outages wants a thin client
it controls: every call goes through `call_with_retry` (bounded exponential backoff on
connection errors and timeouts), and reads take explicit block numbers where it matters. The
ABI comes from the ape build of contracts/, so there is one source of truth.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, TypeVar

import requests
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, TransactionNotFound
from web3.logs import DISCARD

log = logging.getLogger(__name__)
T = TypeVar("T")


class ChainUnavailable(RuntimeError):
    """The RPC endpoint did not answer after the bounded retries."""


@lru_cache(maxsize=1)
def stylemint_abi() -> list[dict]:
    from backend.chain.contract import ape_project

    contract_type = ape_project().StyleMint.contract_type
    return [entry.model_dump(mode="json", by_alias=True) for entry in contract_type.abi]


TRANSIENT = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError, TimeoutError)


def call_with_retry(function: Callable[[], T], what: str, *, retries: int = 6, backoff: float = 0.25,
                    max_backoff: float = 8.0) -> T:
    """Run an RPC call; connection errors and timeouts are retried with exponential backoff."""
    for attempt in range(retries + 1):
        try:
            return function()
        except TRANSIENT as err:
            if attempt == retries:
                raise ChainUnavailable(f"RPC unavailable for {what} after {retries + 1} attempts: {type(err).__name__}") from None
            delay = min(max_backoff, backoff * 2**attempt)
            log.warning("rpc %s failed (%s), retry %d/%d in %.2fs", what, type(err).__name__, attempt + 1, retries, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class MintLog:
    token_id: int
    project_id: int
    minter: str
    manifest_hash: bytes
    tx_hash: str
    block_number: int
    block_hash: str
    log_index: int


def to_hex(value) -> str:
    """0x-prefixed hex of bytes, HexBytes or a hex string."""
    if isinstance(value, str):
        return value if value.startswith("0x") else "0x" + value
    return Web3.to_hex(value)


class StyleMintClient:
    def __init__(self, rpc_url: str, address: str, *, timeout: float = 10.0, retries: int = 6, backoff: float = 0.25):
        self.rpc_url = rpc_url
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}))
        self.address = Web3.to_checksum_address(address)
        self.contract = self.w3.eth.contract(address=self.address, abi=stylemint_abi())
        self.retries = retries
        self.backoff = backoff

    def _retry(self, function: Callable[[], T], what: str) -> T:
        return call_with_retry(function, what, retries=self.retries, backoff=self.backoff)

    # -- chain --------------------------------------------------------------------------------

    def chain_id(self) -> int:
        return self._retry(lambda: self.w3.eth.chain_id, "eth_chainId")

    def head(self) -> int:
        return self._retry(lambda: self.w3.eth.block_number, "eth_blockNumber")

    def block_hash(self, number: int) -> str | None:
        block = self._retry(lambda: self.w3.eth.get_block(number), f"eth_getBlockByNumber({number})")
        return to_hex(block["hash"]) if block else None

    def receipt(self, tx_hash: str):
        """The receipt, or None when the transaction is not (or no longer) in the canonical chain."""
        def fetch():
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                return None

        return self._retry(fetch, f"eth_getTransactionReceipt({tx_hash[:10]})")

    def transaction_pending(self, tx_hash: str) -> bool:
        def fetch():
            try:
                tx = self.w3.eth.get_transaction(tx_hash)
            except TransactionNotFound:
                return False
            return tx.get("blockNumber") is None

        return self._retry(fetch, "eth_getTransactionByHash")

    def mint_logs(self, from_block: int, to_block: int) -> list[MintLog]:
        logs = self._retry(
            lambda: self.contract.events.Mint.get_logs(from_block=from_block, to_block=to_block),
            f"eth_getLogs({from_block}..{to_block})",
        )
        return [self._mint_log(entry) for entry in logs]

    def mint_logs_for_token(self, token_id: int) -> list[MintLog]:
        logs = self._retry(
            lambda: self.contract.events.Mint.get_logs(from_block=0, argument_filters={"tokenId": token_id}),
            f"eth_getLogs(Mint {token_id})",
        )
        return [self._mint_log(entry) for entry in logs]

    def lock_block(self, project_id: int) -> int | None:
        """Block of the project's ProjectLocked event, or None if it is not locked."""
        logs = self._retry(
            lambda: self.contract.events.ProjectLocked.get_logs(from_block=0, argument_filters={"projectId": project_id}),
            "eth_getLogs(ProjectLocked)",
        )
        return int(logs[0]["blockNumber"]) if logs else None

    def mint_logs_in_receipt(self, receipt) -> list[MintLog]:
        return [self._mint_log(entry) for entry in self.contract.events.Mint().process_receipt(receipt, errors=DISCARD)]

    @staticmethod
    def _mint_log(entry) -> MintLog:
        return MintLog(
            token_id=int(entry["args"]["tokenId"]),
            project_id=int(entry["args"]["projectId"]),
            minter=entry["args"]["minter"],
            manifest_hash=bytes(entry["args"]["manifestHash"]),
            tx_hash=to_hex(entry["transactionHash"]),
            block_number=int(entry["blockNumber"]),
            block_hash=to_hex(entry["blockHash"]),
            log_index=int(entry["logIndex"]),
        )

    def manifest_events(self, project_id: int) -> list[tuple[str, bytes]]:
        """(CID, hash) of every manifest the project ever had: creation, then each change."""
        created = self._retry(
            lambda: self.contract.events.ProjectCreated.get_logs(from_block=0, argument_filters={"projectId": project_id}),
            "eth_getLogs(ProjectCreated)",
        )
        changed = self._retry(
            lambda: self.contract.events.ProjectManifestSet.get_logs(from_block=0, argument_filters={"projectId": project_id}),
            "eth_getLogs(ProjectManifestSet)",
        )
        return [(e["args"]["manifestCID"], bytes(e["args"]["manifestHash"])) for e in list(created) + list(changed)]

    def manifest_cid(self, project_id: int, manifest_hash: str, info: dict | None = None) -> str | None:
        """CID of the project's manifest with this sha256 (hex): the current one, else the last set with it."""
        info = info or self.project_info(project_id)
        if bytes(info["manifestHash"]).hex() == manifest_hash:
            return info["manifestCID"]
        matches = [cid for cid, digest in self.manifest_events(project_id) if digest.hex() == manifest_hash]
        return matches[-1] if matches else None

    # -- views --------------------------------------------------------------------------------

    def view(self, name: str, *args):
        return self._retry(lambda: getattr(self.contract.functions, name)(*args).call(), name)

    def project_info(self, project_id: int) -> dict:
        fields = ("artist", "invocations", "maxEditions", "paused", "adminPaused", "locked", "price", "royaltyBps",
                  "manifestHash", "name", "manifestCID")
        return dict(zip(fields, self.view("projectInfo", project_id)))

    def is_fulfilled(self, token_id: int) -> bool:
        return bool(self.view("isFulfilled", token_id))

    def token_seed(self, token_id: int) -> bytes:
        return bytes(self.view("tokenSeed", token_id))

    # -- transactions ------------------------------------------------------------------------

    def send_fulfill(self, signer, token_id: int, seed: bytes, metadata_cid: str) -> str:
        """Sign and broadcast `fulfill`; returns the transaction hash (no waiting)."""
        def send():
            nonce = self.w3.eth.get_transaction_count(signer.address, "pending")
            tx = self.contract.functions.fulfill(token_id, seed, metadata_cid).build_transaction(
                {"from": signer.address, "nonce": nonce, "chainId": self.w3.eth.chain_id}
            )
            return to_hex(self.w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction))

        return self._retry(send, f"fulfill({token_id})")

    def wait_receipt(self, tx_hash: str, timeout: float = 120.0, poll: float = 0.2):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            receipt = self.receipt(tx_hash)
            if receipt is not None:
                return receipt
            time.sleep(poll)
        return None


__all__ = ["ChainUnavailable", "ContractCustomError", "ContractLogicError", "MintLog", "StyleMintClient", "stylemint_abi"]
