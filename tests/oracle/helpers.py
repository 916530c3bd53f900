"""Test helpers for the oracle: reading fulfillments from the chain, a TCP proxy that can go down."""

import json
import socket
import threading

from web3 import Web3

from backend.chain.abi import stylemint_abi


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
