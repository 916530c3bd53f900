"""The oracle loop: scan Mint logs, then move each job one idempotent step at a time.

    seen      -> render the seed with the manifest in force at the mint   -> rendered
    rendered  -> pin the PNG, build and pin the metadata                  -> pinned
    pinned    -> read the token on chain; fulfil unless already done      -> submitted
    submitted -> wait for the receipt                                     -> fulfilled

Before every step the mint itself is re-checked: a mint whose transaction left the canonical
chain is dropped; one re-included in another block starts over with its new seed. Transient
errors (RPC, IPFS, nonce) back off exponentially and give up after `max_attempts` with the
reason kept; errors no retry can fix (unknown project, bad manifest, wrong model) fail at once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from web3.exceptions import ContractCustomError, ContractLogicError

from backend.chain.client import ChainUnavailable, StyleMintClient
from backend.ipfs.cid import InvalidCID
from backend.ipfs.errors import IpfsError
from backend.oracle.jobs import ACTIVE, Job, JobStore
from backend.oracle.metadata import build_metadata
from backend.render.manifest import ManifestError, StyleManifest, parse_manifest
from backend.render.renderer import RenderError, Renderer, RenderResult
from backend.render.seed import derive_seed

log = logging.getLogger("stylemint.oracle")


class PermanentError(RuntimeError):
    """No retry can fix this job (the reason is kept in its row)."""


@dataclass
class OracleConfig:
    start_block: int = 0
    confirmations: int = 0
    batch_size: int = 4
    poll_interval: float = 1.0
    lease_seconds: float = 60.0
    max_attempts: int = 8
    backoff: float = 0.5
    max_backoff: float = 60.0
    log_chunk: int = 2000
    reorg_rewind: int = 64
    renders_dir: Path | None = None
    # A restarted oracle with the same id takes its own leases back at once; a second worker on
    # the same state file needs its own id (`--worker-id`), else both would act as one.
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{uuid.uuid4().hex[:6]}")


@dataclass
class StepTimes:
    render: float = 0.0
    pin: float = 0.0
    chain: float = 0.0


class Oracle:
    def __init__(self, chain: StyleMintClient, store, renderer: Renderer, jobs: JobStore, signer,
                 config: OracleConfig | None = None):
        self.chain = chain
        self.store = store
        self.renderer = renderer
        self.jobs = jobs
        self.signer = signer
        self.config = config or OracleConfig()
        self.renders_dir = Path(self.config.renders_dir or Path(jobs.path).parent / "renders")
        self.renders_dir.mkdir(parents=True, exist_ok=True)
        self.chain_id = chain.chain_id()
        self.jobs.bind(self.chain_id, chain.address)
        self._manifests: dict[tuple[int, str], tuple[StyleManifest, str]] = {}
        self.times = StepTimes()

    # -- scanning -----------------------------------------------------------------------------

    def scan(self) -> int:
        """Record Mint logs up to head - confirmations; rewinds when the cursor block was reorged away."""
        started = time.perf_counter()
        head = self.chain.head()
        safe = head - self.config.confirmations
        cursor = int(self.jobs.get_meta("cursor", str(self.config.start_block - 1)))
        cursor_hash = self.jobs.get_meta("cursor_hash")
        if cursor >= 0 and cursor_hash and cursor <= head and self.chain.block_hash(cursor) != cursor_hash:
            rewound = max(self.config.start_block - 1, cursor - self.config.reorg_rewind)
            log.warning("event=reorg cursor=%d rewind_to=%d", cursor, rewound)
            cursor = rewound
        found = 0
        while cursor < safe:
            to = min(safe, cursor + self.config.log_chunk)
            for mint in self.chain.mint_logs(cursor + 1, to):
                outcome = self.jobs.record_mint(mint)
                if outcome != "known":
                    found += 1
                    log.info("event=mint token=%d project=%d tx=%s block=%d status=%s", mint.token_id,
                             mint.project_id, mint.tx_hash, mint.block_number, outcome)
            cursor = to
            with self.jobs.transaction():
                self.jobs.set_meta("cursor", cursor)
                self.jobs.set_meta("cursor_hash", self.chain.block_hash(cursor))
                self.jobs.set_meta("head", head)
        self.times.chain += time.perf_counter() - started
        return found

    # -- processing ---------------------------------------------------------------------------

    def process_batch(self, stop: threading.Event | None = None) -> int:
        """Claim up to batch_size ready jobs and advance each as far as it goes. Returns jobs touched."""
        owner = self.config.worker_id
        claimed = self.jobs.claim(owner, self.config.batch_size, self.config.lease_seconds)
        if not claimed:
            return 0
        try:
            claimed = [job for job in (self._check_mint(job) for job in claimed) if job is not None]
            to_render = [job for job in claimed if job.state == "seen"]
            self._render(to_render)
            for job in claimed:
                if stop is not None and stop.is_set():
                    break
                self._advance(self.jobs.get(job.token_id))
        finally:
            self.jobs.release(owner)
        return len(claimed)

    def _guard(self, job: Job, function, *args):
        """Run one step; turn its failure into backoff or a permanent failure."""
        try:
            return function(job, *args)
        except PermanentError as err:
            self._fail(job, str(err))
        except (ManifestError, RenderError, InvalidCID) as err:
            self._fail(job, f"{type(err).__name__}: {err}")
        except (ChainUnavailable, IpfsError, ContractLogicError, ValueError, OSError) as err:
            self._retry_later(job, f"{type(err).__name__}: {err}")
        except Exception as err:  # noqa: BLE001 - an unexpected error must not kill the loop
            log.exception("event=unexpected_error token=%d", job.token_id)
            self._retry_later(job, f"{type(err).__name__}: {err}")
        return None

    def _fail(self, job: Job, reason: str) -> None:
        log.error("event=failed token=%d reason=%r", job.token_id, reason)
        self.jobs.update(job.token_id, self.config.worker_id, state="failed", last_error=reason[:500])

    def _retry_later(self, job: Job, reason: str) -> None:
        attempts = job.attempts + 1
        if attempts >= self.config.max_attempts:
            self._fail(job, f"gave up after {attempts} attempts: {reason}")
            return
        delay = min(self.config.max_backoff, self.config.backoff * 2 ** (attempts - 1))
        log.warning("event=retry token=%d attempt=%d delay=%.1fs reason=%r", job.token_id, attempts, delay, reason)
        self.jobs.update(job.token_id, self.config.worker_id, attempts=attempts, last_error=reason[:500],
                         next_attempt_at=time.time() + delay)

    def _check_mint(self, job: Job) -> Job | None:
        """Is the mint still where we saw it? Drop it, or follow it to its new block."""
        def check(job: Job):
            started = time.perf_counter()
            receipt = self.chain.receipt(job.tx_hash)
            self.times.chain += time.perf_counter() - started
            mints = [m for m in self.chain.mint_logs_in_receipt(receipt) if m.token_id == job.token_id] if receipt else []
            if not mints or receipt["status"] != 1:
                log.warning("event=dropped token=%d tx=%s reason=mint no longer in the canonical chain",
                            job.token_id, job.tx_hash)
                self.jobs.update(job.token_id, self.config.worker_id, state="dropped",
                                 last_error="mint transaction is no longer in the canonical chain")
                return None
            mint = mints[0]
            if mint.block_hash != job.block_hash:
                log.warning("event=moved token=%d from_block=%s to_block=%s", job.token_id, job.block_hash, mint.block_hash)
                self.jobs.record_mint(mint)
            return self.jobs.get(job.token_id)

        return self._guard(job, check)

    def _advance(self, job: Job) -> None:
        while job is not None and job.state in ACTIVE and job.lease_owner == self.config.worker_id:
            step = {"seen": self._render_one, "rendered": self._pin, "pinned": self._submit,
                    "submitted": self._confirm}[job.state]
            before = job.state
            if self._guard(job, step) is None:
                return
            job = self.jobs.get(job.token_id)
            if job.state == before:
                return  # waiting (e.g. a pending transaction)

    # -- steps --------------------------------------------------------------------------------

    def manifest_for(self, project_id: int, manifest_hash: str) -> tuple[StyleManifest, str, dict]:
        """The manifest in force at the mint (by hash) and its CID, fetched and checked."""
        try:
            info = self.chain.project_info(project_id)
        except (ContractCustomError, ContractLogicError):
            raise PermanentError(f"unknown project {project_id} on contract {self.chain.address}") from None
        key = (project_id, manifest_hash)
        if key not in self._manifests:
            cid = self.chain.manifest_cid(project_id, manifest_hash, info)
            if cid is None:
                raise PermanentError(f"no manifest with hash 0x{manifest_hash} was ever set on project {project_id}")
            started = time.perf_counter()
            data = self.store.get(cid)
            self.times.pin += time.perf_counter() - started
            self._manifests[key] = (parse_manifest(data, expected_sha256=manifest_hash), cid)
        manifest, cid = self._manifests[key]
        return manifest, cid, info

    def _render(self, jobs: list[Job]) -> None:
        """Render `seen` jobs, one batched render call per manifest."""
        groups: dict[tuple[int, str], list[Job]] = defaultdict(list)
        for job in jobs:
            groups[(job.project_id, job.manifest_hash)].append(job)
        for (project_id, manifest_hash), group in groups.items():
            try:
                manifest, _, _ = self.manifest_for(project_id, manifest_hash)
                seeds = [derive_seed(job.tx_hash, job.block_hash) for job in group]
                started = time.perf_counter()
                results = self.renderer.render_batch(manifest, seeds)
                self.times.render += time.perf_counter() - started
            except Exception as err:  # noqa: BLE001 - each job records its own failure below
                for job in group:
                    self._guard(job, _raise, err)
                continue
            for job, result in zip(group, results):
                self._store_render(job, result)

    def _render_one(self, job: Job) -> bool:
        manifest, _, _ = self.manifest_for(job.project_id, job.manifest_hash)
        seed = derive_seed(job.tx_hash, job.block_hash)
        started = time.perf_counter()
        result = self.renderer.render(manifest, seed)
        self.times.render += time.perf_counter() - started
        self._store_render(job, result)
        return True

    def _store_render(self, job: Job, result: RenderResult) -> None:
        """Keep the PNG on disk (atomically) and the render's description in the job row."""
        path = self.renders_dir / f"{job.token_id}-{result.seed[2:18]}.png"
        fd, tmp = tempfile.mkstemp(dir=self.renders_dir, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(result.png)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        info = {k: v for k, v in dataclasses.asdict(result).items() if k not in ("png", "timings")}
        self.jobs.update(job.token_id, self.config.worker_id, state="rendered", seed=result.seed,
                         render_path=str(path), png_sha256=result.png_sha256, render_info=json.dumps(info))
        log.info("event=rendered token=%d seed=%s", job.token_id, result.seed)

    def _pin(self, job: Job) -> bool:
        path = Path(job.render_path or "")
        png = path.read_bytes() if path.is_file() else b""
        if hashlib.sha256(png).hexdigest() != job.png_sha256:
            log.warning("event=render_lost token=%d: rendering again", job.token_id)
            return self._render_one(job)
        manifest, manifest_cid, info = self.manifest_for(job.project_id, job.manifest_hash)
        result = RenderResult(png=png, timings={}, **json.loads(job.render_info))
        started = time.perf_counter()
        image_cid = self.store.add(png)
        metadata = build_metadata(
            token_id=job.token_id, project_id=job.project_id, project_name=info["name"], artist=info["artist"],
            manifest=manifest, manifest_cid=manifest_cid, manifest_sha256="0x" + job.manifest_hash,
            render=result, image_cid=image_cid, chain_id=self.chain_id, contract=self.chain.address,
            mint_tx=job.tx_hash, mint_block_number=job.block_number, mint_block_hash=job.block_hash,
        )
        metadata_cid = self.store.add(metadata)
        self.times.pin += time.perf_counter() - started
        self.jobs.update(job.token_id, self.config.worker_id, state="pinned", image_cid=image_cid,
                         metadata_cid=metadata_cid)
        log.info("event=pinned token=%d image=%s metadata=%s", job.token_id, image_cid, metadata_cid)
        return True

    def _already_fulfilled(self, job: Job) -> bool:
        """Idempotency: if the chain already has this token's fulfilment, record it, never resend."""
        if not self.chain.is_fulfilled(job.token_id):
            return False
        on_chain = "0x" + self.chain.token_seed(job.token_id).hex()
        if on_chain == job.seed:
            log.info("event=already_fulfilled token=%d", job.token_id)
            self.jobs.update(job.token_id, self.config.worker_id, state="fulfilled")
        else:
            raise PermanentError(f"token was fulfilled by another oracle with seed {on_chain}, expected {job.seed}")
        return True

    def _submit(self, job: Job) -> bool:
        started = time.perf_counter()
        try:
            if self._already_fulfilled(job):
                return True
            tx_hash = self.chain.send_fulfill(self.signer, job.token_id, bytes.fromhex(job.seed[2:]), job.metadata_cid)
        finally:
            self.times.chain += time.perf_counter() - started
        self.jobs.update(job.token_id, self.config.worker_id, state="submitted", fulfil_tx=tx_hash)
        log.info("event=submitted token=%d tx=%s", job.token_id, tx_hash)
        return self._confirm(self.jobs.get(job.token_id))

    def _confirm(self, job: Job) -> bool:
        started = time.perf_counter()
        try:
            receipt = self.chain.wait_receipt(job.fulfil_tx, timeout=30)
            if receipt is not None and receipt["status"] == 1:
                self.jobs.update(job.token_id, self.config.worker_id, state="fulfilled", attempts=0, last_error=None)
                log.info("event=fulfilled token=%d tx=%s block=%d", job.token_id, job.fulfil_tx, receipt["blockNumber"])
                return True
            if receipt is None and self.chain.transaction_pending(job.fulfil_tx):
                return True  # still in the mempool; look again on the next pass
            if self._already_fulfilled(job):
                return True
        finally:
            self.times.chain += time.perf_counter() - started
        # Reverted or vanished and the token is still unfulfilled: send again.
        self.jobs.update(job.token_id, self.config.worker_id, state="pinned", fulfil_tx=None)
        raise ChainUnavailable(f"fulfil transaction {job.fulfil_tx} did not land; will resend")

    # -- running ------------------------------------------------------------------------------

    def status(self) -> dict:
        counts = self.jobs.counts()
        head = int(self.jobs.get_meta("head", "0"))
        cursor = int(self.jobs.get_meta("cursor", str(self.config.start_block - 1)))
        return {"counts": counts, "cursor": cursor, "head": head, "lag_blocks": max(0, head - cursor)}

    def progress_line(self) -> str:
        c = self.jobs.counts()
        return (f"queued={c['seen']} rendering={c['rendered'] + c['pinned']} submitted={c['submitted']} "
                f"done={c['fulfilled']} failed={c['failed']} dropped={c['dropped']}")

    def run(self, stop: threading.Event, *, until_idle: bool = False) -> None:
        """Scan and process until `stop` is set (or, with `until_idle`, until nothing is left to do)."""
        last_progress = ""
        while not stop.is_set():
            try:
                self.scan()
            except ChainUnavailable as err:
                log.warning("event=scan_failed reason=%r", str(err))
                stop.wait(self.config.poll_interval)
                continue
            worked = self.process_batch(stop)
            line = self.progress_line()
            if line != last_progress:
                log.info("progress %s", line)
                last_progress = line
            if until_idle and not worked and not any(self.jobs.counts()[s] for s in ACTIVE):
                break
            if not worked:
                stop.wait(self._idle_wait())
        self.jobs.release(self.config.worker_id)

    def _idle_wait(self) -> float:
        """Sleep until the next poll or the next job's backoff ends, whichever is first."""
        next_attempt = self.jobs.next_attempt_at()
        if next_attempt is not None:
            return max(0.05, min(self.config.poll_interval, next_attempt - time.time()))
        return self.config.poll_interval


def _raise(_job, err):
    raise err
