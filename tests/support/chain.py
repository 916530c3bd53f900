"""What the oracle, verifier and page tests share: what happened on chain, counted (fulfillments,
transactions, seeds), an oracle run until idle, reorgs on anvil, and fault injection (a TCP proxy
that can go down, a lost reply, a hung RPC, a store that is down or forgets)."""

import json
import socket
import threading
import time

from web3 import Web3

from backend.chain.abi import stylemint_abi
from backend.dev.chaos import AnsweringRpcProxy


def fulfill_events(node_url: str, address: str) -> list[dict]:
    w3 = Web3(Web3.HTTPProvider(node_url))
    contract = w3.eth.contract(address=Web3.to_checksum_address(address), abi=stylemint_abi())
    return [dict(e["args"]) | {"tx": e["transactionHash"].hex()} for e in contract.events.TokenFulfilled.get_logs(from_block=0)]


def metadata_of(store, contract, token_id: int) -> dict:
    return json.loads(store.get(contract.tokenMetadataCID(token_id)))


class FlakyProxy:
    """Forwards 127.0.0.1:<port> to a target port; `down()` closes the listener so connections are refused."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._listener = None
        self._connections: list[socket.socket] = []
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() so the port is free
            except OSError:
                pass
            listener.close()
        for connection in self._connections:  # and cut the keep-alive connections too
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._connections.clear()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self._listener is not listener:
                client.close()
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            self._connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class FlakyStore:
    """Fault injection: the content store is unreachable for the first `failures` calls."""

    def __init__(self, store, failures: int):
        self.store = store
        self.failures = failures
        self.calls = 0

    def _maybe_fail(self):
        from backend.ipfs.errors import IpfsUnavailable

        self.calls += 1
        if self.calls <= self.failures:
            raise IpfsUnavailable("ipfs node at 127.0.0.1 did not answer (injected outage)")

    def add(self, data):
        self._maybe_fail()
        return self.store.add(data)

    def get(self, cid):
        self._maybe_fail()
        return self.store.get(cid)

    def pin(self, cid):
        self._maybe_fail()
        return self.store.pin(cid)

    def has(self, cid):
        return self.store.has(cid)


def transactions_from(node_url: str, sender: str) -> list[dict]:
    """Every transaction `sender` got mined on the canonical chain: nonce, hash, target, status.
    What actually happened, not what the contract makes unique (events)."""
    w3 = Web3(Web3.HTTPProvider(node_url))
    found = []
    for number in range(w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"].lower() == sender.lower():
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                found.append({"nonce": tx["nonce"], "hash": tx["hash"].to_0x_hex(), "to": tx["to"],
                              "status": receipt["status"], "block": number})
    return found


class DroppingRpcProxy(AnsweringRpcProxy):
    """A JSON-RPC proxy on 127.0.0.1 that forwards every request to the node but, for the first
    `drop` calls of `method`, cuts the connection instead of returning the node's reply: the
    request took effect, the caller never hears so (a lost reply)."""

    def __init__(self, target_url: str, method: str = "eth_sendRawTransaction", drop: int = 1):
        self.method, self.drop, self.dropped = method, drop, 0
        super().__init__(target_url, cut_reply=self._cut)

    def _cut(self, body: bytes) -> bool:
        if self.method.encode() in body and self.dropped < self.drop:
            self.dropped += 1
            return True
        return False


class HungServer:
    """Accepts TCP connections on 127.0.0.1 and never answers: a hung RPC. Counts connections."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self):
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.connections:
            connection.close()


def canonical_seed(node_url: str, address: str, token_id: int, tx_hash: str) -> bytes:
    """The seed a token must have on the chain as it is now: its mint transaction where it is
    mined now, and the RANDAO of the block RANDOMNESS_DELAY after it (docs/RENDER_SPEC.md §1)."""
    from backend.chain.client import StyleMintClient
    from backend.render.seed import derive_seed

    client = StyleMintClient(node_url, address)
    receipt = client.receipt(tx_hash)
    _, randao = client.block_randomness(int(receipt["blockNumber"]) + client.randomness_delay())
    return derive_seed(client.chain_id(), client.address, token_id, tx_hash, randao)


def tokens_fulfilled_by(node_url: str, address: str, tx_hash: str) -> list[int]:
    """Token ids whose TokenFulfilled log a (successful) transaction emitted: one for `fulfill`,
    several for `fulfillBatch`."""
    from web3.logs import DISCARD

    w3 = Web3(Web3.HTTPProvider(node_url))
    contract = w3.eth.contract(address=Web3.to_checksum_address(address), abi=stylemint_abi())
    receipt = w3.eth.get_transaction_receipt(tx_hash)
    return [int(e["args"]["tokenId"]) for e in contract.events.TokenFulfilled().process_receipt(receipt, errors=DISCARD)]


class ForgetfulStore:
    """Fault injection: a node that answers the first `forget` adds with the right CID but keeps
    nothing (a pin that silently failed). Counts what it forgot."""

    def __init__(self, store, forget: int):
        self.store, self.forget, self.forgotten = store, forget, 0

    def add(self, data):
        from backend.ipfs.cid import cid_of

        if self.forgotten < self.forget:
            self.forgotten += 1
            return cid_of(data)
        return self.store.add(data)

    def __getattr__(self, name):  # get, has, pin: the real node's
        return getattr(self.store, name)


def run_until_idle(oracle, timeout=300):
    stop = threading.Event()
    timer = threading.Timer(timeout, stop.set)
    timer.start()
    try:
        oracle.run(stop, until_idle=True)
    finally:
        timer.cancel()
    assert not stop.is_set(), "oracle did not finish in time"


def rpc(oracle, method, *params):
    reply = oracle.chain.w3.provider.make_request(method, list(params))
    assert "error" not in reply, reply
    return reply["result"]


def reorg_back_to(oracle, snapshot, *raw_transactions):
    """Take every block since `snapshot` out of the chain, mine a different block, then let the
    node include `raw_transactions` again (as nodes do with transactions of dropped blocks)."""
    rpc(oracle, "evm_revert", snapshot)
    rpc(oracle, "evm_mine", int(time.time()) + 1000)
    hashes = [rpc(oracle, "eth_sendRawTransaction", raw) for raw in raw_transactions]
    return [oracle.chain.w3.eth.wait_for_transaction_receipt(h, timeout=30) for h in hashes]


def raw_of(oracle, tx_hash):
    return rpc(oracle, "eth_getRawTransactionByHash", tx_hash)
