"""A real IPFS node on this machine: js-ipfs from npm, for tests and benchmarks.

No Kubo binary is installable here; npm's js-ipfs 0.66 speaks the same RPC API for add, cat,
pin and dag/import. It ignores `--offline`, so its config is rewritten before start: every
address on 127.0.0.1, no bootstrap peers, no delegates, no MDNS or WebRTC discovery, no DHT, no
NAT port mapping, no pubsub, and preload off. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from backend.dev.anvil import free_port
from backend.config import PROJECT_ROOT

JSIPFS = PROJECT_ROOT / "node_modules" / ".bin" / "jsipfs"


class LocalNodeError(RuntimeError):
    """js-ipfs is missing or did not come up."""


@dataclass
class JsIpfsNode:
    repo: Path
    api_port: int = field(default_factory=free_port)
    gateway_port: int = field(default_factory=free_port)
    swarm_port: int = field(default_factory=free_port)
    rpc_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def _env(self) -> dict:
        return {**os.environ, "IPFS_PATH": str(self.repo)}

    def _configure(self) -> None:
        path = self.repo / "config"
        config = json.loads(path.read_text())
        config["Addresses"] = {
            "Swarm": [f"/ip4/127.0.0.1/tcp/{self.swarm_port}"],
            "Announce": [],
            "NoAnnounce": [],
            "API": f"/ip4/127.0.0.1/tcp/{self.api_port}",
            "Gateway": f"/ip4/127.0.0.1/tcp/{self.gateway_port}",
            "RPC": f"/ip4/127.0.0.1/tcp/{self.rpc_port}",
            "Delegates": [],
        }
        config["Bootstrap"] = []
        config["Discovery"] = {"MDNS": {"Enabled": False, "Interval": 10}, "webRTCStar": {"Enabled": False}}
        config["Routing"] = {"Type": "none"}
        config.setdefault("Swarm", {})["DisableNatPortMap"] = True
        config.setdefault("Pubsub", {})["Enabled"] = False
        path.write_text(json.dumps(config, indent=2))

    def start(self, timeout: float = 60.0) -> "JsIpfsNode":
        if not JSIPFS.exists():
            raise LocalNodeError(f"{JSIPFS} not found: run `make setup` (npm installs ipfs@0.66.1)")
        if not (self.repo / "config").exists():
            self.repo.mkdir(parents=True, exist_ok=True)
            subprocess.run([str(JSIPFS), "init", "--empty-repo"], env=self._env(), check=True,
                           capture_output=True, timeout=120)
        self._configure()
        log = open(self.repo / "daemon.log", "ab")
        self.process = subprocess.Popen(
            [str(JSIPFS), "daemon", "--offline", "--enable-preload=false"],
            env=self._env(), stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalNodeError(f"js-ipfs exited with {self.process.returncode}; see {self.repo / 'daemon.log'}")
            try:
                if httpx.post(f"{self.api_url}/api/v0/id", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise LocalNodeError(f"js-ipfs did not answer on {self.api_url} within {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> "JsIpfsNode":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
