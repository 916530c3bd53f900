"""StyleMint over plain web3.py, for long-running services (the oracle, the verifier, the web app).

ape is built for scripts and tests; a daemon that must ride out RPC outages wants a thin client
it controls. Every call goes through one retry policy (`backend.retry`) on connection errors and
timeouts, and web3's exceptions are translated here, once, into `backend.chain.errors`: callers
never import web3's exception classes. The ABI comes from the compiled artifact (`chain.abi`).
"""

from __future__ import annotations

from typing import Callable, TypeVar

import requests
from eth_abi import decode as abi_decode
from eth_account.typed_transactions import TypedTransaction
from eth_utils import function_signature_to_4byte_selector
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound, ContractLogicError, TransactionNotFound, Web3RPCError
from web3.logs import DISCARD

from backend.chain.abi import contract_abi, stylemint_abi
from backend.chain.errors import ChainUnavailable, ContractRevert, RpcRejected
from backend.chain.settlement import REQUEST_FIELDS, Commitment, Domain
from backend.chain.types import MintLog, to_hex
from backend.retry import RetryPolicy, with_retries

T = TypeVar("T")
TRANSIENT = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError, TimeoutError)
GAS_MARGIN = 1.25
# A transaction replacing another at its nonce bids at least 9/8 of each of its fees: geth and anvil
# refuse less than 1.1 x, and an exact fraction keeps the rule free of float rounding.
REPLACEMENT_BUMP = (9, 8)
PROJECT_INFO_FIELDS = ("artist", "invocations", "maxEditions", "paused", "adminPaused", "locked", "approved", "minter",
                       "styleCount", "royaltyBps", "stylesShareBps", "priceOpen", "toppedUp", "manifestHash", "name",
                       "manifestCID")
STYLE_INFO_FIELDS = ("owner", "retired", "terms", "adapterHash", "name", "trigger", "adapterCID")


def outbid_fee(fee: int) -> int:
    """The least a replacement may bid against `fee` (REPLACEMENT_BUMP, rounded up)."""
    numerator, denominator = REPLACEMENT_BUMP
    return -(-fee * numerator // denominator)


def _bytes32(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text.removeprefix("0x"))


def connect(rpc_url: str, timeout: float) -> Web3:
    """A web3 connection whose every request times out after `timeout` s and is tried once: web3's
    own retries inside ours once held a hung RPC for minutes with nothing logged."""
    return Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None))


def rpc_call(rpc_url: str, function: Callable[[Web3], T], what: str, *, policy: RetryPolicy = RetryPolicy(),
             timeout: float = 10.0) -> T:
    """One call on a bare connection (before a contract address is known), with the same retries."""
    w3 = connect(rpc_url, timeout)
    return _translated(lambda: function(w3), what, policy)


def _translated(function: Callable[[], T], what: str, policy: RetryPolicy) -> T:
    try:
        return with_retries(function, policy, retry_on=TRANSIENT, what=f"rpc {what}")
    except TRANSIENT as err:
        raise ChainUnavailable(f"RPC unavailable for {what} after {policy.attempts} attempts: "
                               f"{type(err).__name__}") from None
    except ContractLogicError as err:
        name = _error_name(err)
        raise ContractRevert(f"{what} reverted: {name or err.message or err}", name) from None
    except Web3RPCError as err:
        raise RpcRejected(f"the node refused {what}: {err}") from None


def _error_name(err: ContractLogicError) -> str:
    """The custom error's name (from the ABI) when the revert data carries a known selector."""
    data = err.data if isinstance(err.data, str) else ""
    for entry in stylemint_abi() + contract_abi("StyleRegistry") + contract_abi("OracleQuorum"):
        if entry.get("type") == "error":
            signature = f"{entry['name']}({','.join(i['type'] for i in entry.get('inputs', []))})"
            if data.startswith(to_hex(function_signature_to_4byte_selector(signature))):
                return entry["name"]
    return ""


def minters_from_logs(w3: Web3, core: str) -> dict[str, str]:
    """The minter contracts the core's admin approved and has not withdrawn, by `minterType()`
    (the last approved of each type): the core keeps no list, its MinterApproved logs are one."""
    contract = w3.eth.contract(address=Web3.to_checksum_address(core), abi=stylemint_abi())
    approved: dict[str, bool] = {}
    for entry in contract.events.MinterApproved.get_logs(from_block=0):
        approved[entry["args"]["minter"]] = bool(entry["args"]["approved"])
    minters = {}
    for address, ok in approved.items():
        if ok:
            kind = w3.eth.contract(address=address, abi=contract_abi("MinterSetPrice")).functions.minterType().call()
            minters[kind] = address
    return minters


def _decode_log(abi: dict, entry: dict) -> dict:
    """One raw log (JSON-RPC form) of the event `abi`: indexed arguments from the topics, the rest
    from the data, by eth_abi."""
    indexed = [i for i in abi["inputs"] if i["indexed"]]
    plain = [i for i in abi["inputs"] if not i["indexed"]]
    values = {}
    for spec, topic in zip(indexed, entry["topics"][1:]):
        values[spec["name"]] = abi_decode([spec["type"]], bytes.fromhex(topic[2:]))[0]
    for spec, value in zip(plain, abi_decode([i["type"] for i in plain], bytes.fromhex(entry["data"][2:]))):
        values[spec["name"]] = value
    args = {name: to_hex(v) if isinstance(v, (bytes, bytearray)) else
            Web3.to_checksum_address(v) if isinstance(v, str) and v.startswith("0x") and len(v) == 42 else v
            for name, v in values.items()}
    return {"event": abi["name"], "args": args, "block": int(entry["blockNumber"], 16),
            "block_hash": entry["blockHash"], "log_index": int(entry["logIndex"], 16), "tx": entry["transactionHash"]}


class StyleMintClient:
    def __init__(self, rpc_url: str, address: str, *, timeout: float = 10.0, retries: int = 6, backoff: float = 0.25):
        self.rpc_url = rpc_url
        self.w3 = connect(rpc_url, timeout)
        self.address = Web3.to_checksum_address(address)
        self.contract = self.w3.eth.contract(address=self.address, abi=stylemint_abi())
        self.retry = RetryPolicy(attempts=retries + 1, backoff=backoff)
        self._registry = None
        self._quorum = None
        self._minter_types: dict[str, str] = {}

    def _call(self, function: Callable[[], T], what: str) -> T:
        return _translated(function, what, self.retry)

    # -- chain --------------------------------------------------------------------------------

    def chain_id(self) -> int:
        return self._call(lambda: self.w3.eth.chain_id, "eth_chainId")

    def head(self) -> int:
        return self._call(lambda: self.w3.eth.block_number, "eth_blockNumber")

    def _block(self, number: int):
        """A canonical block, or None when the node has none at that height (not yet, or no longer:
        a reorg shortened the chain, or a node behind its peers). Nodes say so in two ways: a null
        result (web3's BlockNotFound) or an error whose message says "not found"."""
        def fetch():
            try:
                return self.w3.eth.get_block(number)
            except BlockNotFound:
                return None
            except Web3RPCError as err:
                if "not found" in str(err).lower():
                    return None
                raise

        return self._call(fetch, f"eth_getBlockByNumber({number})")

    def block_timestamp(self, number: int) -> int | None:
        block = self._block(number)
        return int(block["timestamp"]) if block else None

    def block_hash(self, number: int) -> str | None:
        block = self._block(number)
        return to_hex(block["hash"]) if block else None

    def block_randomness(self, number: int) -> tuple[str, str] | None:
        """(hash, prevrandao) of a canonical block, None when it does not exist (yet). The header's
        `mixHash` is the RANDAO value the EVM calls `prevrandao` (EIP-4399)."""
        block = self._block(number)
        return (to_hex(block["hash"]), to_hex(block["mixHash"])) if block else None

    def mine_dev_blocks(self, count: int) -> None:
        """Ask a development node (anvil, hardhat) to mine `count` empty blocks."""
        self._call(lambda: self.w3.provider.make_request("anvil_mine", [hex(count)]), "anvil_mine")

    def receipt(self, tx_hash: str):
        """The receipt, or None when the transaction is not (or no longer) in the canonical chain."""
        def fetch():
            try:
                return self.w3.eth.get_transaction_receipt(tx_hash)
            except TransactionNotFound:
                return None

        return self._call(fetch, f"eth_getTransactionReceipt({tx_hash[:10]})")

    def transaction_pending(self, tx_hash: str) -> bool:
        def fetch():
            try:
                tx = self.w3.eth.get_transaction(tx_hash)
            except TransactionNotFound:
                return False
            return tx.get("blockNumber") is None

        return self._call(fetch, "eth_getTransactionByHash")

    # -- events -------------------------------------------------------------------------------

    def _logs(self, event: str, what: str, **filters) -> list:
        return self._call(lambda: getattr(self.contract.events, event).get_logs(**filters), what)

    def mint_logs(self, from_block: int, to_block: int) -> list[MintLog]:
        logs = self._logs("Mint", f"eth_getLogs({from_block}..{to_block})", from_block=from_block, to_block=to_block)
        return [self._mint_log(entry) for entry in logs]

    def mint_logs_for_token(self, token_id: int) -> list[MintLog]:
        logs = self._logs("Mint", f"eth_getLogs(Mint {token_id})", from_block=0,
                          argument_filters={"tokenId": token_id})
        return [self._mint_log(entry) for entry in logs]

    def mint_logs_in_receipt(self, receipt) -> list[MintLog]:
        return [self._mint_log(entry) for entry in self.contract.events.Mint().process_receipt(receipt, errors=DISCARD)]

    def fulfilled_tokens(self, from_block: int, to_block: int) -> list[int]:
        """Token ids of the TokenFulfilled logs in [from_block, to_block], in chain order."""
        logs = self._logs("TokenFulfilled", f"eth_getLogs(TokenFulfilled {from_block}..{to_block})",
                          from_block=from_block, to_block=to_block)
        return [int(entry["args"]["tokenId"]) for entry in logs]

    def fulfillment_block(self, token_id: int) -> int | None:
        """The block of the token's TokenFulfilled log on the canonical chain, or None."""
        logs = self._logs("TokenFulfilled", f"eth_getLogs(TokenFulfilled {token_id})", from_block=0,
                          argument_filters={"tokenId": token_id})
        return int(logs[-1]["blockNumber"]) if logs else None

    def aigc_data(self, token_id: int) -> dict | None:
        """The token's ERC-7007 AigcData log on the canonical chain (the settlement it was fulfilled
        by): block, keccak of the prompt (indexed), metadata digest and the ABI-encoded proof."""
        logs = self._logs("AigcData", f"eth_getLogs(AigcData {token_id})", from_block=0,
                          argument_filters={"tokenId": token_id})
        if not logs:
            return None
        args = logs[-1]["args"]
        return {"block": int(logs[-1]["blockNumber"]), "prompt_hash": bytes(args["prompt"]),
                "aigc_data": bytes(args["aigcData"]), "proof": bytes(args["proof"])}

    def settlement_digest(self, fulfilments: list[bytes], block: int) -> bytes:
        """The EIP-712 digest the oracles signed for a settlement of these commitments, as the
        contracts compute it (`OracleQuorum.digest(StyleMint.settlementHash(...))`)."""
        struct = self._call(lambda: self.contract.functions.settlementHash(list(fulfilments)).call(
            block_identifier=block), "settlementHash")
        return bytes(self._call(lambda: self.quorum().functions.digest(struct).call(block_identifier=block), "digest"))

    def verify_aigc(self, prompt: bytes, aigc_data: bytes, proof: bytes, block: int | str = "latest") -> bool:
        """ERC-7007 `verify` (M valid signatures of oracles active at `block` over this output)."""
        return bool(self._call(lambda: self.contract.functions.verify(prompt, aigc_data, proof).call(
            block_identifier=block), "verify"))

    def all_styles_paid(self) -> dict[int, dict]:
        """Every StylesPaid log, by token id (what the style library's earnings add up)."""
        logs = self._logs("StylesPaid", "eth_getLogs(StylesPaid)", from_block=0)
        return {int(e["args"]["tokenId"]): {"style_ids": [int(i) for i in e["args"]["styleIds"]],
                                             "weights_bps": [int(w) for w in e["args"]["weightsBps"]],
                                             "amounts": [int(a) for a in e["args"]["amounts"]]} for e in logs}

    def withdrawn_by(self, payee: str) -> int:
        """Wei `payee` has withdrawn so far (its Withdrawn logs)."""
        logs = self._logs("Withdrawn", f"eth_getLogs(Withdrawn {payee})", from_block=0,
                          argument_filters={"payee": self.w3.to_checksum_address(payee)})
        return sum(int(e["args"]["amount"]) for e in logs)

    def contract_logs(self, from_block: int, to_block: int, events: tuple[str, ...]) -> list[dict]:
        """The contract's logs of these events in [from_block, to_block], decoded, in chain order:
        {event, args (bytes as 0x-hex, addresses checksummed), block, block_hash, log_index, tx}.

        One raw eth_getLogs, decoded with eth_abi: web3's own log formatting and decoding took about
        3 ms per log here, which made an indexer's catch-up crawl (measured in bench/web.py)."""
        abis = {e["name"]: e for e in self.contract.abi if e.get("type") == "event" and e["name"] in events}
        topics = {to_hex(Web3.keccak(text=f"{name}({','.join(i['type'] for i in abi['inputs'])})")): abi
                  for name, abi in abis.items()}

        def fetch():
            reply = self.w3.provider.make_request("eth_getLogs", [{
                "address": self.address, "fromBlock": hex(from_block), "toBlock": hex(to_block),
                "topics": [list(topics)]}])
            if "error" in reply:
                raise RpcRejected(f"eth_getLogs({from_block}..{to_block}): {reply['error']}")
            return reply["result"]

        decoded = [_decode_log(topics[entry["topics"][0]], entry)
                   for entry in self._call(fetch, f"eth_getLogs({from_block}..{to_block})")]
        return sorted(decoded, key=lambda e: (e["block"], e["log_index"]))

    def sale_settled(self, token_id: int) -> dict | None:
        """The token's SaleSettled log (the sale's price, the artist's and the platform's parts), or
        None before it is fulfilled."""
        logs = self._logs("SaleSettled", f"eth_getLogs(SaleSettled {token_id})", from_block=0,
                          argument_filters={"tokenId": token_id})
        if not logs:
            return None
        args = logs[-1]["args"]
        return {"price_wei": int(args["price"]), "artist_wei": int(args["artistAmount"]),
                "platform_wei": int(args["platformAmount"])}

    def styles_paid(self, token_id: int) -> dict | None:
        """The token's StylesPaid log (style ids, weights in basis points, amounts), or None (a
        project without styles, or not fulfilled)."""
        logs = self._logs("StylesPaid", f"eth_getLogs(StylesPaid {token_id})", from_block=0,
                          argument_filters={"tokenId": token_id})
        if len(logs) != 1:
            return None
        args = logs[0]["args"]
        return {"style_ids": [int(i) for i in args["styleIds"]], "weights_bps": [int(w) for w in args["weightsBps"]],
                "amounts": [int(a) for a in args["amounts"]]}

    def lock_block(self, project_id: int) -> int | None:
        """Block of the project's ProjectLocked event, or None if it is not locked."""
        logs = self._logs("ProjectLocked", "eth_getLogs(ProjectLocked)", from_block=0,
                          argument_filters={"projectId": project_id})
        return int(logs[0]["blockNumber"]) if logs else None

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
            price_wei=int(entry["args"]["price"]),
            payer=entry["args"]["payer"],
        )

    def manifest_events(self, project_id: int, to_block: int | str = "latest") -> list[tuple[str, bytes, int, int]]:
        """(CID, hash, block, log index) of every manifest the project had up to `to_block`:
        creation, then each change, in chain order."""
        entries = []
        for event in ("ProjectCreated", "ProjectManifestSet"):
            entries += self._logs(event, f"eth_getLogs({event})", from_block=0, to_block=to_block,
                                  argument_filters={"projectId": project_id})
        found = [(e["args"]["manifestCID"], bytes(e["args"]["manifestHash"]), int(e["blockNumber"]), int(e["logIndex"]))
                 for e in entries]
        return sorted(found, key=lambda entry: (entry[2], entry[3]))

    def manifest_in_force(self, mint: MintLog) -> tuple[str, bytes] | None:
        """(CID, hash) of the manifest the project had when this Mint log was emitted: the last
        ProjectCreated/ProjectManifestSet before it in chain order. A later change, even one that sets
        the same hash under another CID string, never affects an earlier token."""
        before = [(cid, digest) for cid, digest, block, index in self.manifest_events(mint.project_id, mint.block_number)
                  if (block, index) < (mint.block_number, mint.log_index)]
        return before[-1] if before else None

    def mint_log(self, token_id: int) -> MintLog | None:
        """The token's Mint log, or None when there is not exactly one."""
        logs = self.mint_logs_for_token(token_id)
        return logs[0] if len(logs) == 1 else None

    # -- views --------------------------------------------------------------------------------

    def view(self, name: str, *args):
        """Call a view function; a revert (unknown project or token) raises ContractRevert."""
        return self._call(lambda: getattr(self.contract.functions, name)(*args).call(), name)

    def project_info(self, project_id: int) -> dict:
        return dict(zip(PROJECT_INFO_FIELDS, self.view("projectInfo", project_id)))

    def minters(self) -> dict[str, str]:
        """Approved minter contracts by type (`MinterSetPrice`, ...): what an artist may choose."""
        return self._call(lambda: minters_from_logs(self.w3, self.address), "eth_getLogs(MinterApproved)")

    def minter(self, address: str):
        """A minter contract (the IStyleMinter functions and MinterSetPrice's own)."""
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=contract_abi("MinterSetPrice"))

    def project_price(self, project_id: int, info: dict | None = None) -> tuple[str, int | None]:
        """(the project's minter, what one edition costs now there), price None while the project
        has no minter or its artist has not configured the sale on it."""
        address = (info or self.project_info(project_id))["minter"]
        if int(address, 16) == 0:
            return address, None
        configured, price = self._call(lambda: self.minter(address).functions.priceInfo(project_id).call(),
                                       f"priceInfo({project_id})")
        return address, int(price) if configured else None

    def minter_type(self, minter: str) -> str:
        """`minterType()` of a minter contract (read once per address: it is `pure`)."""
        if minter not in self._minter_types:
            self._minter_types[minter] = self._call(lambda: self.minter(minter).functions.minterType().call(),
                                                    "minterType")
        return self._minter_types[minter]

    def sale_info(self, project_id: int, minter: str) -> dict:
        """A sale's settings at `minter`: for the fixed-price minter its allowlist (root and the
        pinned list's CID, from the last MerkleRootSet) and the limit per address (0: none); for
        the Dutch auction with settlement its parameters, whether it settled and the last price."""
        kind = self.minter_type(minter)
        if kind == "MinterDAExpSettlement":
            auction = self.w3.eth.contract(address=Web3.to_checksum_address(minter),
                                           abi=contract_abi("MinterDAExpSettlement"))
            start, base, start_time, half_life, settled, last = self._call(
                lambda: auction.functions.auctionInfo(project_id).call(), f"auctionInfo({project_id})")
            latest = self._call(lambda: self.w3.eth.get_block("latest"), "eth_getBlockByNumber(latest)")
            return {"minter_type": kind, "max_per_address": 0, "allowlist": None, "auction": {
                "start_price_wei": str(start), "base_price_wei": str(base), "start_time": int(start_time),
                "half_life": int(half_life), "settled": bool(settled), "last_price_wei": str(last),
                # The chain's clock (the newest block's time): a page draws the price curve on it,
                # not on the visitor's clock, which may be minutes off the chain's.
                "chain_time": int(latest["timestamp"])}}
        contract = self.minter(minter)
        _, limit, allowlist_only = self._call(lambda: contract.functions.saleInfo(project_id).call(),
                                              f"saleInfo({project_id})")
        if not allowlist_only:  # a public sale: its root is zero, no list to name
            return {"minter_type": kind, "max_per_address": int(limit), "auction": None, "allowlist": None}
        root = bytes(self._call(lambda: contract.functions.merkleRoot(project_id).call(), "merkleRoot"))
        logs = self._call(lambda: contract.events.MerkleRootSet.get_logs(
            from_block=0, argument_filters={"projectId": project_id}), "eth_getLogs(MerkleRootSet)")
        list_cid = logs[-1]["args"]["listCID"] if logs else None
        return {"minter_type": kind, "max_per_address": int(limit), "auction": None,
                "allowlist": {"root": to_hex(root), "list_cid": list_cid}}

    def mints_left(self, project_id: int, minter: str, account: str) -> int | None:
        """How many more editions `account` may buy at `minter` (None: no limit)."""
        left = int(self._call(lambda: self.minter(minter).functions.mintsLeft(
            project_id, Web3.to_checksum_address(account)).call(), "mintsLeft"))
        return None if left == 2**256 - 1 else left

    def purchase_call(self, project_id: int, manifest_hash: bytes):
        """(the unsent `purchase` of the project's next edition at its minter, the price to send
        with it): what a collector's wallet signs (`.transact({"from": ..., "value": price})`)."""
        minter, price = self.project_price(project_id)
        if price is None:
            raise ContractRevert(f"project {project_id} is not for sale: no minter or no price set", "PriceNotConfigured")
        return self.minter(minter).functions.purchase(project_id, manifest_hash), price

    def project_styles(self, project_id: int) -> tuple[list[int], int]:
        """(registry style ids in the manifest's order, the styles' share in basis points)."""
        style_ids, share = self.view("projectStyles", project_id)
        return [int(i) for i in style_ids], int(share)

    @property
    def registry(self):
        """The deployment's StyleRegistry (its address is immutable in StyleMint)."""
        if self._registry is None:
            address = self.view("STYLE_REGISTRY")
            self._registry = self.w3.eth.contract(address=address, abi=contract_abi("StyleRegistry"))
        return self._registry

    def style_count(self) -> int:
        return int(self._call(lambda: self.registry.functions.nextStyleId().call(), "nextStyleId")) - 1

    def style_info(self, style_id: int) -> dict:
        """Everything the registry holds about a style; ContractRevert (UnknownStyle) if none."""
        info = self._call(lambda: self.registry.functions.styleInfo(style_id).call(), f"styleInfo({style_id})")
        return dict(zip(STYLE_INFO_FIELDS, info))

    def style_of_adapter(self, sha256_hex: str) -> int:
        """The style an adapter file (sha256, hex) is registered as; 0 if none."""
        digest = bytes.fromhex(sha256_hex.removeprefix("0x"))
        return int(self._call(lambda: self.registry.functions.styleOfAdapter(digest).call(), "styleOfAdapter"))

    def may_use(self, style_id: int, project_id: int) -> bool:
        return bool(self._call(lambda: self.registry.functions.mayUse(style_id, self.address, project_id).call(),
                               "mayUse"))

    def is_fulfilled(self, token_id: int) -> bool:
        return bool(self.view("isFulfilled", token_id))

    def token_seed(self, token_id: int) -> bytes:
        return bytes(self.view("tokenSeed", token_id))

    def randomness_delay(self) -> int:
        """D: a token's seed uses the RANDAO of block mintBlock + D (fixed at deployment)."""
        return int(self.view("RANDOMNESS_DELAY"))

    def escrow_of(self, token_id: int) -> tuple[int, int]:
        """(mint block, wei held) of an unfulfilled token; (0, 0) once fulfilled."""
        mint_block, amount = self.view("escrowOf", token_id)
        return int(mint_block), int(amount)

    def quorum(self):
        """The OracleQuorum whose signatures settle this collection's tokens (fixed at deployment)."""
        if self._quorum is None:
            address = self.view("ORACLES")
            self._quorum = self.w3.eth.contract(address=address, abi=contract_abi("OracleQuorum"))
        return self._quorum

    def is_oracle(self, account: str, block: int | str = "latest") -> bool:
        """Whether `account`'s signature counts towards a settlement (now, or at `block`)."""
        return bool(self._call(lambda: self.quorum().functions.isOracle(account).call(block_identifier=block),
                               "isOracle"))

    def oracle_threshold(self, block: int | str = "latest") -> int:
        """M: the distinct oracle signatures a settlement needs (now, or at `block`)."""
        return int(self._call(lambda: self.quorum().functions.threshold().call(block_identifier=block), "threshold"))

    def settlement_domain(self) -> Domain:
        return Domain(self.chain_id(), self.quorum().address, self.address)

    # -- transactions ------------------------------------------------------------------------
    # Signing and broadcasting are apart so that the caller can store the signed bytes first:
    # a crash or a lost reply then re-broadcasts the same transaction instead of a second one.

    def transaction_count(self, address: str, block: str = "latest") -> int:
        return self._call(lambda: self.w3.eth.get_transaction_count(address, block), "eth_getTransactionCount")

    def prepare_fulfill_batch(self, sender: str, commitments: list[Commitment], signatures: list[bytes]) -> dict:
        """The unsigned `fulfillBatch` of `commitments` with the oracles' `signatures` over their
        settlement (signers ascending), gas and fees filled in, nonce left to the caller. Raises
        ContractRevert when it would revert now (a malformed entry, too few or foreign signatures);
        an entry the chain makes impossible is skipped by the contract, not reverted."""
        call = self.contract.functions.fulfillBatch([c.request() for c in commitments], list(signatures))
        return self._prepare(call, sender, f"fulfillBatch({len(commitments)}) estimate")

    def _prepare(self, call, sender: str, what: str) -> dict:
        def build():
            tx = call.build_transaction({"from": sender, "nonce": 0, "chainId": self.w3.eth.chain_id})
            # Estimates are exact for the state they ran on; seen on anvil right after a reorg, the
            # mined fulfillment needed more and ran out of gas. A margin costs nothing unused.
            tx["gas"] = int(tx["gas"] * GAS_MARGIN)
            return tx

        return self._call(build, what)

    @staticmethod
    def sign(signer, tx: dict, nonce: int, outbid: tuple[int, int] | None = None) -> tuple[str, str]:
        """(transaction hash, raw signed bytes as hex) of `tx` at `nonce`. `outbid`: the highest
        (maxFeePerGas, maxPriorityFeePerGas) already signed at this nonce; a replacement must beat
        both by REPLACEMENT_BUMP (nodes refuse less as "replacement underpriced"), and it never
        bids below the current estimate that `tx` carries."""
        tx = dict(tx, nonce=nonce)
        if outbid is not None:
            for fee, old in zip(("maxFeePerGas", "maxPriorityFeePerGas"), outbid):
                tx[fee] = max(int(tx[fee]), outbid_fee(old))
            tx["maxFeePerGas"] = max(tx["maxFeePerGas"], tx["maxPriorityFeePerGas"])
        signed = signer.sign_transaction(tx)
        return to_hex(signed.hash), to_hex(signed.raw_transaction)

    @staticmethod
    def fees_of(raw: str) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas) of a signed EIP-1559 transaction."""
        fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        return int(fields["maxFeePerGas"]), int(fields["maxPriorityFeePerGas"])

    def fulfill_entries(self, raw: str) -> tuple[list[Commitment], list[bytes]]:
        """The commitments a signed `fulfillBatch` carries, in its order, and the oracles'
        signatures over them; ([], []) for any other transaction."""
        data = TypedTransaction.from_bytes(HexBytes(raw)).as_dict().get("data") or b""
        if len(data) < 4:
            return [], []
        function, args = self.contract.decode_function_input(data)
        if function.fn_name != "fulfillBatch":
            return [], []
        commitments = [Commitment.of(*(r[k] for k in REQUEST_FIELDS) if isinstance(r, dict) else r)
                       for r in args["requests"]]
        return commitments, [bytes(signature) for signature in args["signatures"]]

    def sign_cancel(self, signer, nonce: int, outbid: tuple[int, int] | None) -> tuple[str, str]:
        """A 0-value transfer to oneself at `nonce`, outbidding what was signed there: it replaces a
        transaction that must not land (a fulfillment for a mint that is gone) and uses its nonce,
        leaving no gap."""
        def build():
            block = self.w3.eth.get_block("latest")
            priority = self.w3.eth.max_priority_fee
            return {"to": signer.address, "value": 0, "gas": 21000, "chainId": self.w3.eth.chain_id,
                    "maxPriorityFeePerGas": priority, "maxFeePerGas": 2 * block["baseFeePerGas"] + priority}

        return self.sign(signer, self._call(build, "fee data"), nonce, outbid)

    def broadcast(self, raw: str) -> str:
        """Send signed bytes; 'sent', or 'known' when the node already has them or their nonce is
        used (sending the same bytes again is always safe: one nonce, at most one transaction)."""
        def send():
            try:
                self.w3.eth.send_raw_transaction(raw)
            except Web3RPCError as err:
                message = str(err).lower()
                if any(text in message for text in ("already known", "already imported", "known transaction",
                                                    "nonce too low", "nonce has already been used")):
                    return "known"
                raise
            return "sent"

        return self._call(send, "eth_sendRawTransaction")
