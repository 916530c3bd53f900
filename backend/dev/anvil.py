"""A local anvil node bound to 127.0.0.1, for the demo and the end-to-end tests.

We start anvil ourselves (rather than letting ape-foundry do it on its fixed port 8545) so that
several nodes can run side by side on free ports and a test can stop or kill one on purpose.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from backend.config import DEV_MNEMONIC, PROJECT_ROOT
LOCAL_HOST = "127.0.0.1"


class AnvilError(RuntimeError):
    """anvil is missing, or did not start answering in time."""


def anvil_binary() -> str:
    """The anvil executable: on PATH (the venv link `make setup` makes) or in node_modules."""
    found = shutil.which("anvil")
    if found:
        return found
    candidates = sorted((PROJECT_ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil"))
    if candidates:
        return str(candidates[0])
    raise AnvilError("anvil not found: run `make setup` (it installs @foundry-rs/anvil from npm)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOCAL_HOST, 0))
        return sock.getsockname()[1]


def rpc_call(url: str, method: str, params: list | None = None, timeout: float = 2.0):
    """One JSON-RPC call with the standard library (used before ape is connected)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply = json.load(response)
    if "error" in reply:
        raise AnvilError(f"{method}: {reply['error']}")
    return reply["result"]


@dataclass
class Anvil:
    """A running anvil process; use as a context manager or call `stop()`."""

    port: int = field(default_factory=free_port)
    chain_id: int = 31337
    accounts: int = 10
    block_time: float | None = None
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.port}"

    def start(self, timeout: float = 15.0) -> "Anvil":
        command = [
            anvil_binary(),
            "--host", LOCAL_HOST,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--mnemonic", DEV_MNEMONIC,
            "--accounts", str(self.accounts),
            "--hardfork", "prague",
        ]
        if self.block_time:
            command += ["--block-time", str(self.block_time)]
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AnvilError(f"anvil exited with code {self.process.returncode} (port {self.port} taken?)")
            try:
                if int(rpc_call(self.url, "eth_chainId"), 16) == self.chain_id:
                    return self
            except (OSError, urllib.error.URLError, AnvilError):
                time.sleep(0.05)
        self.stop()
        raise AnvilError(f"anvil did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "Anvil":
        return self.start() if self.process is None else self

    def __exit__(self, *exc) -> None:
        self.stop()
