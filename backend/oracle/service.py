"""The oracle: scan Mint logs, then move every job through its states, one step at a time.

    state       step         what it does                                        next state
    (Mint log)  scan         record the log (a moved mint starts over)           seen
    any claimed check_mint   before every step: is the mint where we saw it, and  dropped | seen (new seed)
                             its randomness block (mint + D) the one we used?
    seen        render       once block mint + D is confirmed: the seed, with    rendered | wait
                             the manifest in force at the mint
    rendered    pin          the PNG, then the ERC-721 metadata                  pinned | seen (PNG lost)
    pinned      submit       sign once, store it, then broadcast it: the jobs    submitted | fulfilled | failed
                             of a round in one fulfillBatch, a job re-signing
                             at a nonce it holds alone
    submitted   confirm      receipt? else re-broadcast the same bytes, or       fulfilled | pinned | wait
                             replace a stuck one (same nonce, higher fee)
    fulfilled   watch        until mint and fulfillment are final_depth deep     final | submitted | wait | failed

Each step takes a job and returns an outcome: `Advance` (to a state, with the fields to store),
`Wait` (look again after a delay), `Retry` (a passing failure: back off) or `Fail` (no retry can
fix it). One loop, `process_batch`, claims jobs and runs the step for each job's state, round
after round, until every job waits, backs off or ends; leases are renewed every round. Renders
of one manifest go in one call (a batch of one is a batch). Errors become outcomes in one place,
`_outcome_of`: `TransientError` -> Retry, `PermanentError` -> Fail, anything else -> Retry, logged.
The one exception to "steps return outcomes": a signed fulfillment is stored together with its
nonce in one SQLite transaction before it is broadcast (`JobStore.store_signed`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import signal
import socket
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Union

from backend.chain.client import StyleMintClient
from backend.chain.errors import ChainUnavailable, ContractRevert, RpcRejected
from backend.chain.styles import manifest_mismatches, project_styles
from backend.errors import PermanentError, StyleMintError
from backend.ipfs.cid import InvalidCID, canonical, raw_digest
from backend.ipfs.store import ContentStore
from backend.oracle.jobs import ACTIVE, Job, JobStore, mint_fields
from backend.oracle.phases import RENDERING, WAITING
from backend.render.metadata import build_metadata
from backend.render.environment import class_differences
from backend.render.manifest import StyleManifest, parse_manifest
from backend.render.policy import OperatorPolicy
from backend.render.renderer import Renderer, RenderResult
from backend.render.seed import derive_seed
from backend.retry import RetryPolicy

log = logging.getLogger("stylemint.oracle")


class JobRejected(PermanentError):
    """This job cannot be done (unknown project, no such manifest, fulfilled by someone else)."""


class OracleNotAuthorized(PermanentError):
    """The signing key lacks ORACLE_ROLE: every fulfillment would revert."""


# Fault injection for the crash tests: SIGKILL this process at a named point of the loop.
CRASH_ENV = "STYLEMINT_ORACLE_CRASH_AT"


def _failpoint(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class Advance:
    state: str
    fields: dict = field(default_factory=dict)
    event: str = ""


@dataclass(frozen=True)
class Wait:
    reason: str
    seconds: float = 0.0  # 0: the configured poll interval


@dataclass(frozen=True)
class Retry:
    reason: str


@dataclass(frozen=True)
class Fail:
    reason: str


Outcome = Union[Advance, Wait, Retry, Fail]


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
    # A fulfilled token is watched until its mint and its fulfillment are this many blocks deep
    # (64 = two epochs, Ethereum's finality); checked every watch_interval seconds.
    final_depth: int = 64
    watch_interval: float = 12.0
    # A fulfillment still pending after this many blocks is replaced (same nonce, fees x fee_bump).
    stuck_blocks: int = 12
    fee_bump: float = 1.25
    renders_dir: Path | None = None
    # The token page's "rendering, step n of N" is written at most this often (one SQLite write each).
    progress_interval: float = 0.25
    # On a development chain that mines only when asked (anvil without --block-time), mine the
    # blocks a seed's randomness is waiting for instead of waiting forever. Never on a real chain.
    dev_mine: bool = False
    # What this operator will render (backend/render/policy.py); checked before every render.
    policy: OperatorPolicy = field(default_factory=OperatorPolicy.from_env)
    # Unique per process, so two workers on one host never share leases; a supervisor that
    # restarts a worker with a fixed `--worker-id` gets its leases back at once.
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}")

    @property
    def retry(self) -> RetryPolicy:
        """Per-job backoff: the same rule as the clients' retries, over whole passes."""
        return RetryPolicy(attempts=self.max_attempts, backoff=self.backoff, max_backoff=self.max_backoff)


@dataclass
class StepTimes:
    """Seconds spent per kind of work, for bench/oracle.py; measured by the loop, not the steps."""

    render: float = 0.0
    pin: float = 0.0
    chain: float = 0.0


# The order a job moves forward in; an Advance to an earlier state (a reorg, a lost render, a
# reverted or vanished transaction) is logged as a warning.
PROGRESS = ("seen", "rendered", "pinned", "submitted", "fulfilled", "final", "failed")

# Which bucket of StepTimes each state's step is charged to.
BUCKET = {"seen": "render", "rendered": "pin", "pinned": "chain", "submitted": "chain", "fulfilled": "chain"}


class Oracle:
    def __init__(self, chain: StyleMintClient, store: ContentStore, renderer: Renderer, jobs: JobStore, signer,
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
        if not chain.has_role("ORACLE_ROLE", signer.address):
            raise OracleNotAuthorized(
                f"signer {signer.address} lacks ORACLE_ROLE on {chain.address}: every fulfillment would revert. "
                f"The admin grants it with grantRole(ORACLE_ROLE(), {signer.address}).")
        self.jobs.bind(self.chain_id, chain.address)
        self.randomness_delay = chain.randomness_delay()
        self._manifests: dict[str, StyleManifest] = {}  # by sha256: same hash, same bytes
        self.times = StepTimes()
        self._steps: dict[str, Callable[[Job], Outcome]] = {
            "rendered": self._pin, "submitted": self._confirm, "fulfilled": self._watch}

    # -- scanning -----------------------------------------------------------------------------

    def scan(self) -> int:
        """Record Mint logs up to head - confirmations; rewinds when the cursor block was reorged away."""
        with self._timed("chain"):
            head = self.chain.head()
            safe = head - self.config.confirmations
            cursor = int(self.jobs.get_meta("cursor", str(self.config.start_block - 1)))
            cursor_hash = self.jobs.get_meta("cursor_hash")
            # A cursor above the head (the chain got shorter) or on a replaced block: rewind.
            if cursor >= 0 and cursor_hash and (cursor > head or self.chain.block_hash(cursor) != cursor_hash):
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
        return found

    # -- the loop -----------------------------------------------------------------------------

    def process_batch(self, stop: threading.Event | None = None) -> int:
        """Claim up to batch_size ready jobs and advance each as far as it goes. Returns jobs claimed."""
        owner, lease = self.config.worker_id, self.config.lease_seconds
        claimed = self.jobs.claim(owner, self.config.batch_size, lease)
        try:
            jobs = claimed
            while jobs and not (stop is not None and stop.is_set()):
                held = self.jobs.renew(owner, [job.id for job in jobs], lease)
                jobs = [job for job in jobs if job.id in held]
                with self._timed("chain"):
                    outcomes = {job.id: outcome for job in jobs
                                if (outcome := self._guarded(self._check_mint, job)) is not None}
                ready = [job for job in jobs if job.id not in outcomes]
                with self._timed("render"):
                    outcomes |= self._render([job for job in ready if job.state == "seen"])
                with self._timed("chain"):
                    outcomes |= self._submit_all([job for job in ready if job.state == "pinned"])
                for job in ready:
                    if job.state not in ("seen", "pinned"):
                        with self._timed(BUCKET[job.state]):
                            outcomes[job.id] = self._guarded(self._steps[job.state], job)
                jobs = self._apply_all(jobs, outcomes)
        finally:
            self.jobs.release(self.config.worker_id)
        return len(claimed)

    def _guarded(self, step: Callable[..., Outcome | None], job: Job, *args) -> Outcome | None:
        try:
            return step(job, *args)
        except Exception as err:  # noqa: BLE001 - every failure becomes an outcome; the loop never dies
            return self._outcome_of(err, job)

    @staticmethod
    def _outcome_of(err: Exception, job: Job) -> Outcome:
        """The one exception map: PermanentError fails the job, anything else backs off."""
        if isinstance(err, JobRejected):
            return Fail(str(err))
        reason = f"{type(err).__name__}: {err}"
        if isinstance(err, PermanentError):
            return Fail(reason)
        if not isinstance(err, StyleMintError):
            log.exception("event=unexpected_error token=%d", job.token_id)
        return Retry(reason)

    def _apply_all(self, jobs: list[Job], outcomes: dict[int, Outcome]) -> list[Job]:
        going_on = (self._apply(job, outcomes[job.id]) for job in jobs)
        return [job for job in going_on if job is not None]

    def _apply(self, job: Job, outcome: Outcome) -> Job | None:
        """Store an outcome; returns the job again when it can take its next step in this pass."""
        owner = self.config.worker_id
        if isinstance(outcome, Advance):
            stored = self.jobs.update(job.id, owner, state=outcome.state, **{"activity": None, **outcome.fields})
            if stored:
                setback = outcome.state == "dropped" or PROGRESS.index(outcome.state) < PROGRESS.index(job.state)
                log.log(logging.WARNING if setback else logging.INFO, "event=%s token=%d%s", outcome.state, job.token_id,
                        f" {outcome.event}" if outcome.event else "")
                return self.jobs.by_id(job.id) if outcome.state in ACTIVE else None
        elif isinstance(outcome, Wait):
            stored = self.jobs.update(job.id, owner, next_attempt_at=time.time() + (
                outcome.seconds or self.config.poll_interval),
                activity=json.dumps({"phase": WAITING, "reason": outcome.reason}))
        elif isinstance(outcome, Fail):
            log.error("event=failed token=%d reason=%r", job.token_id, outcome.reason)
            stored = self.jobs.update(job.id, owner, state="failed", last_error=outcome.reason[:500], activity=None)
        else:
            attempts = job.attempts + 1
            if attempts >= self.config.max_attempts:
                return self._apply(job, Fail(f"gave up after {attempts} attempts: {outcome.reason}"))
            delay = self.config.retry.delay(attempts)
            log.warning("event=retry token=%d attempt=%d delay=%.1fs reason=%r", job.token_id, attempts, delay,
                        outcome.reason)
            stored = self.jobs.update(job.id, owner, attempts=attempts, last_error=outcome.reason[:500],
                                      next_attempt_at=time.time() + delay, activity=None)
        if not stored:
            log.warning("event=lease_lost token=%d: another worker holds this job now", job.token_id)
        return None

    @contextmanager
    def _timed(self, bucket: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            setattr(self.times, bucket, getattr(self.times, bucket) + time.perf_counter() - started)

    # -- steps --------------------------------------------------------------------------------

    def _check_mint(self, job: Job) -> Outcome | None:
        """Is the mint still where we saw it? None: yes, go on. Else drop it or follow it."""
        receipt = self.chain.receipt(job.tx_hash)
        mints = [m for m in self.chain.mint_logs_in_receipt(receipt) if m.token_id == job.token_id] if receipt else []
        if not mints or receipt["status"] != 1:
            self._cancel_unused_nonce(job)
            return Advance("dropped", {"last_error": "mint transaction is no longer in the canonical chain"},
                           f"tx={job.tx_hash} reason=mint no longer in the canonical chain")
        mint = mints[0]
        if mint.block_hash != job.block_hash:
            return Advance("seen", mint_fields(mint, dataclasses.asdict(job)),
                           f"moved from_block={job.block_hash} to_block={mint.block_hash}")
        if job.randomness_block_hash is not None:
            number = job.block_number + self.randomness_delay
            now = self.chain.block_hash(number)
            if now != job.randomness_block_hash:
                return Advance("seen", mint_fields(mint, dataclasses.asdict(job)),
                               f"randomness block {number} reorganised from={job.randomness_block_hash} to={now}")
        return None

    def _cancel_unused_nonce(self, job: Job) -> None:
        """A dropped job's fulfillment must not land, and its nonce must not stay a gap: replace it
        with a 0-value transfer to ourselves at that nonce (skipped when the nonce is used)."""
        if job.fulfill_nonce is None or (job.fulfill_from or "") != self.signer.address.lower():
            return
        if self.chain.transaction_count(self.signer.address) > job.fulfill_nonce:
            return
        replacements = 1 + len(json.loads(job.fulfill_replaced or "[]"))
        tx_hash, raw = self.chain.sign_cancel(self.signer, job.fulfill_nonce, self.config.fee_bump ** replacements)
        self.chain.broadcast(raw)
        log.warning("event=cancel token=%d nonce=%d tx=%s: the mint is gone, its fulfillment must not land",
                    job.token_id, job.fulfill_nonce, tx_hash)

    def manifest_for(self, job: Job) -> tuple[StyleManifest, str, dict]:
        """The manifest in force at the job's mint and its CID there (as the verifier resolves it),
        fetched and checked against the Mint log's hash; refused when this oracle cannot render
        in the environment it commits to."""
        try:
            info = self.chain.project_info(job.project_id)
        except ContractRevert:
            raise JobRejected(f"unknown project {job.project_id} on contract {self.chain.address}") from None
        mint = self.chain.mint_log(job.token_id)
        in_force = self.chain.manifest_in_force(mint) if mint else None
        if in_force is None or in_force[1].hex() != job.manifest_hash:
            raise JobRejected(f"no manifest with hash 0x{job.manifest_hash} was in force on project "
                              f"{job.project_id} at the mint of token {job.token_id}")
        cid = in_force[0]
        if job.manifest_hash not in self._manifests:
            try:
                data = self.store.get(canonical(cid))
            except InvalidCID:
                raise JobRejected(f"the manifest CID set on project {job.project_id}, {cid!r}, is not a CID") from None
            manifest = parse_manifest(data, expected_sha256=job.manifest_hash)
            problems = self.config.policy.problems(manifest)
            if problems:
                raise JobRejected("the operator policy refuses this manifest: " + "; ".join(problems))
            if manifest.environment is not None:
                differences = class_differences(manifest.environment.model_dump(), self.renderer.fingerprint(manifest))
                if differences:
                    raise JobRejected("this oracle cannot render in the environment the project commits to: "
                                      + ", ".join(f"{k} {v['other']!r} here, {v['committed']!r} committed"
                                                  for k, v in differences.items()))
            self._manifests[job.manifest_hash] = manifest
        manifest = self._manifests[job.manifest_hash]
        registered, _ = project_styles(self.chain, job.project_id)
        mismatches = manifest_mismatches(manifest.styles or [], registered)
        if mismatches:
            raise JobRejected("the manifest does not load the project's registered styles: " + "; ".join(mismatches))
        return manifest, cid, info

    def weights_for(self, job: Job) -> list[int]:
        """The weights `fulfill` pays the project's styles by: this render's attribution, in the
        project's (= the manifest's) style order; empty for a project without registered styles."""
        style_ids, _ = self.chain.project_styles(job.project_id)
        if not style_ids:
            return []
        attribution = json.loads(job.render_info or "{}").get("attribution") or {}
        weights = [style.get("weight_bps") for style in attribution.get("styles", [])]
        if len(weights) != len(style_ids) or sum(weights) != 10_000:
            raise JobRejected(f"the render attributes {len(weights)} style(s), the project pays {len(style_ids)}")
        return weights

    def _randomness(self, job: Job) -> tuple[str, str] | Outcome:
        """(hash, prevrandao) of the job's randomness block once it has `confirmations` blocks on
        top (at least one, so that the fulfillment's gas estimate runs after it), else Wait."""
        number = job.block_number + self.randomness_delay
        needed = number + max(1, self.config.confirmations) - self.chain.head()
        if needed > 0 and self.config.dev_mine:
            self.chain.mine_dev_blocks(needed)
            needed = number + max(1, self.config.confirmations) - self.chain.head()
        block = self.chain.block_randomness(number) if needed <= 0 else None
        if block is None:
            return Wait(f"randomness block {number} needs {max(needed, 1)} more block(s)")
        return block

    def _render(self, jobs: list[Job]) -> dict[int, Outcome]:
        """seen -> rendered, one render call per manifest, for jobs whose randomness is fixed."""
        outcomes: dict[int, Outcome] = {}
        groups: dict[tuple[int, str], list[tuple[Job, tuple[str, str]]]] = defaultdict(list)
        for job in jobs:
            randomness = self._guarded(self._randomness, job)
            if isinstance(randomness, tuple):
                groups[(job.project_id, job.manifest_hash)].append((job, randomness))
            else:
                outcomes[job.id] = randomness
        for group in groups.values():
            seeds = [derive_seed(self.chain_id, self.chain.address, job.token_id, job.tx_hash, randao)
                     for job, (_, randao) in group]
            ids = [job.id for job, _ in group]
            try:
                manifest, _, _ = self.manifest_for(group[0][0])
                results = self.renderer.render_batch(manifest, seeds, progress=self._render_progress(ids))
            except Exception as err:  # noqa: BLE001 - the same outcome for every job of the group
                outcomes.update({job.id: self._outcome_of(err, job) for job, _ in group})
                continue
            _failpoint("after_render")
            for (job, randomness), result in zip(group, results):
                outcomes[job.id] = self._guarded(self._store_render, job, result, randomness)
        return outcomes

    def _render_progress(self, job_ids: list[int]) -> Callable[[int, int], None]:
        """Record 'rendering, step n of N' for the token page: the first and last step always, the
        ones between at most every `progress_interval` seconds (each record is one SQLite write)."""
        last, interval = [0.0], self.config.progress_interval

        def progress(step: int, steps: int) -> None:
            now = time.monotonic()
            if step in (1, steps) or now - last[0] >= interval:
                last[0] = now
                self.jobs.set_activity(job_ids, {"phase": RENDERING, "step": step, "steps": steps})
        return progress

    def _store_render(self, job: Job, result: RenderResult, randomness: tuple[str, str]) -> Outcome:
        """Keep the PNG on disk (atomically) and the render's description in the job row."""
        path = self.renders_dir / f"{job.token_id}-{result.seed[2:18]}.png"
        fd, tmp = tempfile.mkstemp(dir=self.renders_dir, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(result.png)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        for heatmap in result.heatmaps.values():  # content-addressed: pinning again is a no-op
            self.store.add(heatmap)
        info = {k: v for k, v in dataclasses.asdict(result).items() if k not in ("png", "timings", "heatmaps")}
        return Advance("rendered", {"seed": result.seed, "render_path": str(path), "png_sha256": result.png_sha256,
                                    "render_info": json.dumps(info), "randomness_block_hash": randomness[0],
                                    "randomness": randomness[1]}, f"seed={result.seed}")

    def _pin(self, job: Job) -> Outcome:
        """rendered -> pinned: content-addressed, so pinning again after a crash gives the same CIDs."""
        path = Path(job.render_path or "")
        png = path.read_bytes() if path.is_file() else b""
        if hashlib.sha256(png).hexdigest() != job.png_sha256:
            return Advance("seen", {}, "render file lost: rendering again")
        manifest, manifest_cid, info = self.manifest_for(job)
        result = RenderResult(png=png, timings={}, **json.loads(job.render_info))
        image_cid = self.store.add(png)
        metadata = build_metadata(
            token_id=job.token_id, project_id=job.project_id, project_name=info["name"], artist=info["artist"],
            manifest=manifest, manifest_cid=manifest_cid, manifest_sha256="0x" + job.manifest_hash,
            render=result, image_cid=image_cid, chain_id=self.chain_id, contract=self.chain.address,
            mint_tx=job.tx_hash, mint_block_number=job.block_number, mint_block_hash=job.block_hash,
            randomness_block_number=job.block_number + self.randomness_delay,
            randomness_block_hash=job.randomness_block_hash, randomness=job.randomness,
        )
        metadata_cid = self.store.add(metadata)
        return Advance("pinned", {"image_cid": image_cid, "metadata_cid": metadata_cid},
                       f"image={image_cid} metadata={metadata_cid}")

    def _fulfilled_on_chain(self, job: Job) -> Outcome | None:
        """Idempotency: the chain's own record of this token's fulfillment, if it has one."""
        if not self.chain.is_fulfilled(job.token_id):
            return None
        on_chain = "0x" + self.chain.token_seed(job.token_id).hex()
        if on_chain != job.seed:
            return Fail(f"token was fulfilled by another oracle with seed {on_chain}, expected {job.seed}")
        return Advance("fulfilled", {"attempts": 0, "last_error": None}, "already fulfilled on chain")

    def _sign_and_store(self, job: Job) -> Outcome:
        """Sign `fulfill` once and store it with its nonce, then broadcast those very bytes."""
        try:
            tx = self.chain.prepare_fulfill(self.signer.address, job.token_id, bytes.fromhex(job.seed[2:]),
                                            raw_digest(job.metadata_cid), job.randomness_block_hash,
                                            self.weights_for(job))
        except ContractRevert as err:
            done = self._fulfilled_on_chain(job)
            if done is not None:
                return done
            if err.name in ("StaleMint", "RandomnessNotReady"):  # a reorg a moment ago: the next check follows it
                return Retry(str(err))
            return Fail(f"fulfill would revert: {err}")
        chain_count = self.chain.transaction_count(self.signer.address)
        head = self.chain.head()
        signed = self.jobs.store_signed(
            job.id, self.config.worker_id, self.signer.address, chain_count,
            lambda nonce, replacements: self.chain.sign(self.signer, tx, nonce, self.config.fee_bump ** replacements),
            head)
        if signed is None:
            return Wait("lease lost before signing")
        tx_hash, raw = signed
        _failpoint("after_sign")
        self.chain.broadcast(raw)  # a lost reply is harmless: confirm re-broadcasts the same bytes
        _failpoint("after_broadcast")
        return Advance("submitted", {}, f"tx={tx_hash}")

    def _submit_all(self, jobs: list[Job]) -> dict[int, Outcome]:
        """pinned -> submitted, unless the chain already has the fulfillment (then never resend).
        Jobs that hold no unused nonce go out together in one `fulfillBatch`; a job re-signing at a
        nonce it holds (its mint moved, its transaction is stuck) goes alone, replacing its own."""
        outcomes: dict[int, Outcome] = {}
        fresh: list[Job] = []
        chain_count = self.chain.transaction_count(self.signer.address) if jobs else 0
        for job in jobs:
            done = self._guarded(self._fulfilled_on_chain, job)
            if done is not None:
                outcomes[job.id] = done
            elif job.fulfill_nonce is not None and job.fulfill_nonce >= chain_count and \
                    (job.fulfill_from or "") == self.signer.address.lower():
                outcomes[job.id] = self._guarded(self._sign_and_store, job)
            else:
                fresh.append(job)
        weights = {job.id: self._guarded(self.weights_for, job) for job in fresh}
        outcomes |= {job.id: weights[job.id] for job in fresh if not isinstance(weights[job.id], list)}
        fresh = [job for job in fresh if isinstance(weights[job.id], list)]
        if len(fresh) == 1:
            outcomes[fresh[0].id] = self._guarded(self._sign_and_store, fresh[0])
        elif fresh:
            try:
                outcomes |= self._sign_and_store_batch(fresh)
            except Exception as err:  # noqa: BLE001 - the same outcome for every job of the batch
                outcomes |= {job.id: self._outcome_of(err, job) for job in fresh}
        return outcomes

    def _sign_and_store_batch(self, jobs: list[Job]) -> dict[int, Outcome]:
        """One `fulfillBatch` for `jobs`, signed once and stored in every job's row, then broadcast.
        If any entry would revert now (a reorg a moment ago), each job is sent alone instead, so one
        stale token does not hold back the others."""
        requests = [(job.token_id, bytes.fromhex(job.seed[2:]), raw_digest(job.metadata_cid), job.randomness_block_hash,
                     self.weights_for(job)) for job in jobs]
        try:
            tx = self.chain.prepare_fulfill_batch(self.signer.address, requests)
        except ContractRevert:
            return {job.id: self._guarded(self._sign_and_store, job) for job in jobs}
        chain_count = self.chain.transaction_count(self.signer.address)
        signed = self.jobs.store_signed_batch(
            [job.id for job in jobs], self.config.worker_id, self.signer.address, chain_count,
            lambda nonce, replacements: self.chain.sign(self.signer, tx, nonce, self.config.fee_bump ** replacements),
            self.chain.head())
        if signed is None:
            return {job.id: Wait("lease lost before signing") for job in jobs}
        tx_hash, raw = signed
        _failpoint("after_sign")
        self.chain.broadcast(raw)  # a lost reply is harmless: confirm re-broadcasts the same bytes
        _failpoint("after_broadcast")
        return {job.id: Advance("submitted", {}, f"tx={tx_hash} batch={len(jobs)}") for job in jobs}

    def _receipt_of_any(self, job: Job):
        """The receipt of whichever transaction signed for this job's nonce made it (or None)."""
        for tx_hash in [job.fulfill_tx, *json.loads(job.fulfill_replaced or "[]")]:
            receipt = self.chain.receipt(tx_hash) if tx_hash else None
            if receipt is not None:
                return tx_hash, receipt
        return None, None

    def _confirm(self, job: Job) -> Outcome:
        """submitted -> fulfilled. Not mined: re-broadcast the same bytes, or replace them when stuck."""
        _failpoint("in_confirm")
        tx_hash, receipt = self._receipt_of_any(job)
        if receipt is not None and receipt["status"] == 1:
            if tx_hash != job.fulfill_tx:  # an earlier signature for this nonce was mined
                return self._fulfilled_on_chain(job) or Advance("pinned", {"fulfill_tx": None, "fulfill_raw": None},
                                                                f"tx={tx_hash} fulfilled another mint position")
            return Advance("fulfilled", {"attempts": 0, "last_error": None},
                           f"tx={tx_hash} block={receipt['blockNumber']}")
        if receipt is not None:  # reverted: its nonce is spent; sign a new one unless it is done
            return self._fulfilled_on_chain(job) or Advance("pinned", {"fulfill_tx": None, "fulfill_raw": None},
                                                            f"tx={tx_hash} reverted: signing again")
        if job.fulfill_raw is None:  # a state file from before signatures were stored
            return (Wait("fulfill transaction still in the mempool") if self.chain.transaction_pending(job.fulfill_tx)
                    else Advance("pinned", {"fulfill_tx": None}, f"tx={job.fulfill_tx} vanished: sending again"))
        if self.chain.transaction_count(self.signer.address) > job.fulfill_nonce:
            # The nonce went to a transaction of ours that is not in this job's list.
            return self._fulfilled_on_chain(job) or Advance(
                "pinned", {"fulfill_tx": None, "fulfill_raw": None, "fulfill_nonce": None, "fulfill_replaced": None},
                f"nonce {job.fulfill_nonce} was used by another transaction: signing again")
        if not self.chain.transaction_pending(job.fulfill_tx):
            try:
                self.chain.broadcast(job.fulfill_raw)
            except RpcRejected as err:  # e.g. its fees no longer cover the base fee: sign anew, same nonce
                log.warning("event=stuck token=%d tx=%s nonce=%d: %s; replacing", job.token_id, job.fulfill_tx,
                            job.fulfill_nonce, err)
                return self._replace(job)
            return Wait(f"tx={job.fulfill_tx} not in the node's pool: re-broadcast the same bytes")
        if self.chain.head() - (job.fulfill_sent_block or 0) >= self.config.stuck_blocks:
            log.warning("event=stuck token=%d tx=%s nonce=%d: replacing with higher fees", job.token_id,
                        job.fulfill_tx, job.fulfill_nonce)
            return self._replace(job)
        return Wait("fulfill transaction still in the mempool")

    def _replace(self, job: Job) -> Outcome:
        """Re-sign a stuck fulfillment at its nonce. For a batch, only its first job does (two
        replacements at one nonce with the same fee would refuse each other); the others find their
        nonce used by a transaction not in their list and sign again."""
        if not self.jobs.leads(job):
            return Wait(f"tx={job.fulfill_tx} is a batch: its first job replaces it")
        return self._sign_and_store(job)

    def _watch(self, job: Job) -> Outcome:
        """fulfilled -> final once mint and fulfillment are final_depth deep; a fulfillment that a
        reorg took away is broadcast again (its mint is unchanged: checked before this step)."""
        if job.fulfill_tx is None:  # fulfilled by another oracle with our seed: watch the token itself
            if not self.chain.is_fulfilled(job.token_id):
                return Advance("pinned", {}, "the fulfillment we recorded left the canonical chain: sending ours")
            return self._final_or_wait(job.block_number + self.randomness_delay)
        receipt = self.chain.receipt(job.fulfill_tx)
        if receipt is None or receipt["status"] != 1:
            if job.fulfill_raw is None:
                return Advance("pinned", {"fulfill_tx": None}, "fulfillment left the canonical chain: sending again")
            return Advance("submitted", {"fulfill_sent_block": self.chain.head()},
                           "fulfillment left the canonical chain: re-broadcasting it")
        on_chain = "0x" + self.chain.token_seed(job.token_id).hex()
        if on_chain != job.seed:
            return Fail(f"token is fulfilled on chain with seed {on_chain}, but its canonical mint gives {job.seed}: "
                        "a fulfillment from a block that a reorg replaced")
        return self._final_or_wait(max(job.block_number + self.randomness_delay, int(receipt["blockNumber"])))

    def _final_or_wait(self, newest_block: int) -> Outcome:
        """final once `newest_block` (the latest block the token depends on) is final_depth deep."""
        depth = self.chain.head() - newest_block
        if depth >= self.config.final_depth:
            return Advance("final", {}, f"depth={depth}")
        return Wait(f"{depth} of {self.config.final_depth} blocks deep", self.config.watch_interval)

    # -- running ------------------------------------------------------------------------------

    def status(self) -> dict:
        return self.jobs.status(start_block=self.config.start_block)

    def progress_line(self) -> str:
        c = self.jobs.counts()
        return (f"queued={c['seen']} rendering={c['rendered'] + c['pinned']} submitted={c['submitted']} "
                f"done={c['fulfilled'] + c['final']} final={c['final']} failed={c['failed']} dropped={c['dropped']}")

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
