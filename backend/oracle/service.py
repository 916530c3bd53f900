"""The oracle: scan Mint logs, then move every job through its states, one step at a time.

    state       step         what it does                                        next state
    (Mint log)  scan         record the log (a moved mint starts over)           seen
    any claimed check_mint   before every step: is the mint where we saw it, and  dropped | seen (new seed)
                             its randomness block (mint + D) the one we used?
    seen        render       once block mint + D is confirmed: the seed, with    rendered | wait
                             the manifest in force at the mint
    rendered    pin          heat maps, the PNG, then the ERC-721 metadata,      pinned | seen (file lost)
                             image and metadata read back by CID
    pinned      submit       sign once, store it, then broadcast it: the jobs    submitted | fulfilled | failed
                             of a round in one fulfillBatch, a job re-signing
                             at a nonce it holds alone
    submitted   confirm      receipt? else re-broadcast the same bytes, or       fulfilled | pinned | wait
                             replace a stuck one (same nonce, higher fee)
    fulfilled   watch        until mint and fulfillment are final_depth deep     final | submitted | wait | failed

Each step takes a job and returns an outcome (backend/oracle/outcomes.py: Advance, Wait, Retry,
Fail; errors become outcomes in one place there). One loop, `process_batch`, claims jobs and runs
the step for each job's state, round after round, until every job waits, backs off or ends;
leases are renewed every round. Renders of one manifest go in one call (a batch of one is a
batch). What the render step resolved (manifest, CID, project name and artist, the styles paid)
is handed forward to pin and submit in memory (`JobContext`), resolved again only after a
restart. The transaction side (sign once, store, broadcast, confirm, replace, cancel) is
backend/oracle/transactions.py.
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from backend.chain.client import StyleMintClient
from backend.chain.settlement import Commitment
from backend.chain.errors import ChainNotSettled, ContractRevert
from backend.chain.manifests import ManifestNotInForce, manifest_at_mint
from backend.chain.styles import registered_styles_of, style_problems
from backend.chain.types import MintLog
from backend.errors import PermanentError, StyleMintError, TransientError
from backend.ipfs.cid import InvalidCID, canonical, cid_of, raw_digest
from backend.ipfs.errors import IpfsError
from backend.ipfs.store import ContentStore
from backend.oracle.jobs import ACTIVE, Job, JobStore, mint_fields
from backend.oracle.outcomes import Advance, Fail, JobRejected, Outcome, Wait, failpoint, guarded, outcome_of
from backend.oracle.phases import RENDERING, WAITING
from backend.oracle.quorum import Attestation, AttestationServer, Peers, QuorumRound, attestation_app
from backend.oracle.transactions import FulfillmentSender
from backend.render.metadata import build_metadata
from backend.render.environment import class_differences
from backend.render.manifest import StyleManifest
from backend.render.policy import OperatorPolicy
from backend.render.renderer import Renderer, RenderResult, committed_size
from backend.render.seed import derive_seed
from backend.retry import RetryPolicy

log = logging.getLogger("stylemint.oracle")


class OracleNotAuthorized(PermanentError):
    """The signing key lacks ORACLE_ROLE: every fulfillment would revert."""


class ContentNotReadable(TransientError):
    """What was just pinned cannot be read back from the node by its CID (yet)."""


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
    # A fulfillment still pending after this many blocks is replaced: same nonce, each fee at least
    # 9/8 of the highest signed at that nonce and at least the current estimate.
    stuck_blocks: int = 12
    renders_dir: Path | None = None
    # A project that commits batches of B > 1 (RENDER_SPEC §5a): how long the oldest token waits
    # for companions before a partial batch is rendered, padded with filler rows.
    batch_wait: float = 5.0
    # The token page's "rendering, step n of N" is written at most this often (one SQLite write each).
    progress_interval: float = 0.25
    # On a development chain that mines only when asked (anvil without --block-time), mine the
    # blocks a seed's randomness is waiting for instead of waiting forever. Never on a real chain.
    dev_mine: bool = False
    # What this operator will render (backend/render/policy.py); checked before every render.
    policy: OperatorPolicy = field(default_factory=OperatorPolicy.from_env)
    # Other operators of the same OracleQuorum (their attestation URLs, `--peer`); needed when a
    # settlement takes more than one signature (backend/oracle/quorum.py).
    peers: list[str] = field(default_factory=list)
    # A follower proposes a settlement itself once a token is pinned this long x its rank.
    takeover_seconds: float = 20.0
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


@dataclass(frozen=True)
class JobContext:
    """What a job's render step resolved and its pin and submit steps use again (no second lookup)."""

    manifest: StyleManifest
    manifest_cid: str
    project_name: str
    artist: str
    style_count: int  # registered styles the project pays, in the manifest's order


# The order a job moves forward in; an Advance to an earlier state (a reorg, a lost render, a
# reverted or vanished transaction) is logged as a warning.
PROGRESS = ("seen", "rendered", "pinned", "submitted", "fulfilled", "final", "failed")

# A job that left its signed transaction (withdrawn: signed again without it, or cancelled) holds
# no nonce any more; its next fulfillment takes a fresh one.
RELEASED_NONCE = {"fulfill_tx": None, "fulfill_raw": None, "fulfill_nonce": None, "fulfill_from": None,
                  "fulfill_replaced": None, "fulfill_sent_block": None}

# Which bucket of StepTimes each state's step is charged to.
BUCKET = {"seen": "render", "rendered": "pin", "pinned": "chain", "submitted": "chain", "fulfilled": "chain"}


class Oracle:
    def __init__(self, chain: StyleMintClient, store: ContentStore, renderer: Renderer, jobs: JobStore, signer,
                 config: OracleConfig | None = None):
        self.chain = chain
        self.store = store
        self.renderer = renderer
        self.jobs = jobs
        self.config = config or OracleConfig()
        self.renders_dir = Path(self.config.renders_dir or Path(jobs.path).parent / "renders")
        self.renders_dir.mkdir(parents=True, exist_ok=True)
        self.sender = FulfillmentSender(chain, jobs, signer, self.config, self.weights_for, self._still_true)
        self.chain_id = chain.chain_id()
        quorum = chain.quorum().address
        if not chain.is_oracle(signer.address):
            raise OracleNotAuthorized(
                f"signer {signer.address} is not an active oracle of the OracleQuorum at {quorum} (the one "
                f"{chain.address} settles by): its signatures would not count. The admin grants it with "
                f"grantRole(ORACLE_ROLE(), {signer.address}) on the quorum; it counts after the admin delay.")
        self.domain = chain.settlement_domain()
        self.threshold = chain.oracle_threshold()
        if self.threshold > 1 + len(self.config.peers):
            raise OracleNotAuthorized(
                f"the OracleQuorum at {quorum} needs {self.threshold} oracles' signatures per settlement; this "
                f"oracle has {len(self.config.peers)} peer(s) (--peer URL of each other operator): it would never "
                f"settle a token")
        if self.threshold > 1:
            self.sender.quorum = QuorumRound(Peers(self.config.peers), self.domain, signer, self.threshold,
                                             self._is_oracle, jobs, self.config.takeover_seconds)
        self.jobs.bind(self.chain_id, chain.address)
        self.randomness_delay = chain.randomness_delay()
        self._manifest_cache: dict[str, bytes] = {}  # by CID
        self._renderable: set[str] = set()  # manifest hashes that passed the policy and environment checks
        self._contexts: dict[int, JobContext] = {}  # by job id: resolved at render, handed forward
        self._ready_since: dict[int, float] = {}  # by job id: when it could first join a committed batch
        self._committed_projects: set[int] = set()  # projects seen to commit batches of B > 1
        self._mints: dict[int, MintLog] = {}  # by job id: the Mint log of the receipt last checked
        self.times = StepTimes()
        self._steps: dict[str, Callable[[Job], Outcome]] = {
            "rendered": self._pin, "submitted": self.sender.confirm, "fulfilled": self._watch}

    def _is_oracle(self, account: str) -> bool:
        return self.chain.is_oracle(account)

    def serve_attestations(self, host: str = "127.0.0.1", port: int = 0) -> AttestationServer:
        """Publish this operator's attestations and countersign peers' proposals over HTTP (its own
        chain client: the server answers on other threads)."""
        client = StyleMintClient(self.chain.rpc_url, self.chain.address)
        app = attestation_app(self.jobs.path, self.domain, self.signer, client.is_oracle)
        return AttestationServer(app, host, port)

    @property
    def signer(self):
        """The key fulfillments are signed with (held by the transaction side)."""
        return self.sender.signer

    @signer.setter
    def signer(self, signer) -> None:
        self.sender.signer = signer

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
                # The logs belong to the branch whose block `to` has this hash, read on both sides
                # of the log query: a reorg in between (or a node that lost the block) is looked at
                # again next scan, never recorded as a cursor without a hash.
                to_hash = self.chain.block_hash(to)
                mints = self.chain.mint_logs(cursor + 1, to)
                if to_hash is None or self.chain.block_hash(to) != to_hash:
                    raise ChainNotSettled(f"block {to} changed or vanished while its logs were read")
                for mint in mints:
                    outcome = self.jobs.record_mint(mint)
                    if outcome != "known":
                        found += 1
                        log.info("event=mint token=%d project=%d tx=%s block=%d status=%s", mint.token_id,
                                 mint.project_id, mint.tx_hash, mint.block_number, outcome)
                cursor = to
                with self.jobs.transaction():
                    self.jobs.set_meta("cursor", cursor)
                    self.jobs.set_meta("cursor_hash", to_hash)
                    self.jobs.set_meta("head", head)
        return found

    # -- the loop -----------------------------------------------------------------------------

    def process_batch(self, stop: threading.Event | None = None) -> int:
        """Claim up to batch_size ready jobs and advance each as far as it goes. Returns jobs claimed."""
        owner, lease = self.config.worker_id, self.config.lease_seconds
        claimed = self.jobs.claim(owner, self.config.batch_size, lease)
        batched = {job.project_id for job in claimed} & self._committed_projects
        if batched:  # a committed batch's members are rendered together, however many a claim takes
            known = {job.id for job in claimed}
            claimed += [job for job in self.jobs.claim_waiting(owner, batched, lease) if job.id not in known]
        try:
            jobs = claimed
            while jobs and not (stop is not None and stop.is_set()):
                held = self.jobs.renew(owner, [job.id for job in jobs], lease)
                jobs = [job for job in jobs if job.id in held]
                with self._timed("chain"):
                    outcomes = {job.id: outcome for job in jobs
                                if (outcome := guarded(self._check_mint, job)) is not None}
                ready = [job for job in jobs if job.id not in outcomes]
                with self._timed("render"):
                    outcomes |= self._render([job for job in ready if job.state == "seen"])
                with self._timed("chain"):
                    outcomes |= self.sender.submit_all([job for job in ready if job.state == "pinned"])
                for job in ready:
                    if job.state not in ("seen", "pinned"):
                        with self._timed(BUCKET[job.state]):
                            outcomes[job.id] = guarded(self._steps[job.state], job)
                jobs = self._apply_all(jobs, outcomes)
        finally:
            self.jobs.release(self.config.worker_id)
        return len(claimed)

    def _apply_all(self, jobs: list[Job], outcomes: dict[int, Outcome]) -> list[Job]:
        going_on = (self._apply(job, outcomes[job.id]) for job in jobs)
        return [job for job in going_on if job is not None]

    def _apply(self, job: Job, outcome: Outcome) -> Job | None:
        """Store an outcome; returns the job again when it can take its next step in this pass."""
        owner = self.config.worker_id
        if isinstance(outcome, Advance):
            stored = self.jobs.update(job.id, owner, state=outcome.state, **{"activity": None, **outcome.fields})
            if outcome.state == "seen" or outcome.state not in ACTIVE:  # moved, lost or done: resolve anew
                self._contexts.pop(job.id, None)
                self._mints.pop(job.id, None)
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
            self._contexts.pop(job.id, None)
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
        """Is the mint still where we saw it? None: yes, go on. Else drop it or follow it; either way
        it first leaves any transaction signed for its old place (`FulfillmentSender.withdraw`)."""
        outcome = self._where_mint_is(job)
        if isinstance(outcome, Advance):
            self.sender.withdraw(job)
            outcome = dataclasses.replace(outcome, fields=outcome.fields | RELEASED_NONCE)
        return outcome

    def _where_mint_is(self, job: Job) -> Advance | None:
        receipt = self.chain.receipt(job.tx_hash)
        mints = [m for m in self.chain.mint_logs_in_receipt(receipt) if m.token_id == job.token_id] if receipt else []
        if not mints or receipt["status"] != 1:
            return Advance("dropped", {"last_error": "mint transaction is no longer in the canonical chain"},
                           f"tx={job.tx_hash} reason=mint no longer in the canonical chain")
        mint = mints[0]
        self._mints[job.id] = mint
        if mint.block_hash != job.block_hash:
            return Advance("seen", mint_fields(mint, dataclasses.asdict(job)),
                           f"moved from_block={job.block_hash} to_block={mint.block_hash}")
        as_recorded = (job.project_id, job.manifest_hash, job.minter.lower())
        if as_recorded != (mint.project_id, mint.manifest_hash.hex(), mint.minter.lower()):
            return Advance("seen", mint_fields(mint, dataclasses.asdict(job)),
                           "the job's row disagrees with its mint's receipt: taken from the receipt")
        if job.randomness_block_hash is not None:
            number = job.block_number + self.randomness_delay
            now = self.chain.block_hash(number)
            if now is None:
                raise ChainNotSettled(f"randomness block {number} is not on this node now")
            if now != job.randomness_block_hash:
                return Advance("seen", mint_fields(mint, dataclasses.asdict(job)),
                               f"randomness block {number} reorganised from={job.randomness_block_hash} to={now}")
        return None

    def _still_true(self, job: Job) -> bool:
        """Whether the job's mint and randomness block are where its seed was derived from."""
        return self._where_mint_is(job) is None

    def manifest_for(self, job: Job) -> JobContext:
        """What the job renders and pins with: the manifest in force at its mint and its CID there
        (backend/chain/manifests.py, the verifier's rule too), the project's name and artist and
        its registered styles; refused when this oracle cannot render in the environment the
        project commits to, or when the manifest does not load the project's registered styles."""
        mint = self._mint_of(job)
        try:
            info = self.chain.project_info(job.project_id)
        except ContractRevert:  # its Mint log is in a receipt, so the project exists: a node behind
            raise ChainNotSettled(f"the node does not know project {job.project_id} yet, though token "
                                  f"{job.token_id}'s mint is in a receipt") from None

        def fetch(cid: str) -> bytes:
            try:
                return self._manifest_bytes(cid)
            except InvalidCID:
                raise JobRejected(f"the manifest CID set on project {job.project_id}, {cid!r}, is not a CID") from None

        try:
            manifest, cid = manifest_at_mint(self.chain, mint, fetch)
        except ManifestNotInForce as err:
            # The contract stamps every Mint log with the manifest it had, so on one consistent chain
            # this never happens: the node's logs are behind its receipts, or a reorg is under way.
            raise ChainNotSettled(f"{err}, as this node answers now") from None
        if job.manifest_hash not in self._renderable:
            problems = self.config.policy.problems(manifest)
            if problems:
                raise JobRejected("the operator policy refuses this manifest: " + "; ".join(problems))
            if manifest.environment is not None:
                differences = class_differences(manifest.environment.model_dump(), self.renderer.fingerprint(manifest))
                if differences:
                    raise JobRejected("this oracle cannot render in the environment the project commits to: "
                                      + ", ".join(f"{k} {v['other']!r} here, {v['committed']!r} committed"
                                                  for k, v in differences.items()))
            self._renderable.add(job.manifest_hash)
        registered, _ = registered_styles_of(self.chain, job.project_id)
        mismatches = style_problems(self.chain, manifest, registered)
        if mismatches:
            raise JobRejected("the manifest does not load the project's registered styles: " + "; ".join(mismatches))
        return JobContext(manifest, cid, info["name"], info["artist"], len(registered))

    def _mint_of(self, job: Job) -> MintLog:
        """The job's Mint log as the receipt it was last checked against has it (log index included,
        which orders it against a manifest change in the same block): never a second lookup by token
        id, which a reorg in progress can miss. After a restart the receipt is read again."""
        if job.id not in self._mints and self._where_mint_is(job) is not None:
            self._mints.pop(job.id, None)
            raise ChainNotSettled(f"token {job.token_id}'s mint {job.tx_hash} is not where it was checked")
        return self._mints[job.id]

    def _manifest_bytes(self, cid: str) -> bytes:
        """A manifest's bytes by CID, kept: content-addressed, so the same CID is the same bytes."""
        name = canonical(cid)
        if name not in self._manifest_cache:
            self._manifest_cache[name] = self.store.get(name)
        return self._manifest_cache[name]

    def context_of(self, job: Job) -> JobContext:
        """The context the render step resolved for this job, handed forward to pin and submit;
        resolved again only after a restart (or when the render happened in another worker)."""
        if job.id not in self._contexts:
            self._contexts[job.id] = self.manifest_for(job)
        return self._contexts[job.id]

    def weights_for(self, job: Job) -> list[int]:
        """The weights `fulfill` pays the project's styles by: this render's attribution, in the
        project's (= the manifest's) style order; empty for a project without registered styles."""
        styles = self.context_of(job).style_count
        if not styles:
            return []
        attribution = json.loads(job.render_info or "{}").get("attribution") or {}
        weights = [style.get("weight_bps") for style in attribution.get("styles", [])]
        if len(weights) != styles or sum(weights) != 10_000:
            raise JobRejected(f"the render attributes {len(weights)} style(s), the project pays {styles}")
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
            randomness = guarded(self._randomness, job)
            if isinstance(randomness, tuple):
                groups[(job.project_id, job.manifest_hash)].append((job, randomness))
            else:
                outcomes[job.id] = randomness
        for group in groups.values():
            try:
                context = self.manifest_for(group[0][0])
            except Exception as err:  # noqa: BLE001 - the same outcome for every job of the group
                outcomes.update({job.id: outcome_of(err, job) for job, _ in group})
                continue
            self._contexts.update((job.id, context) for job, _ in group)
            size = committed_size(context.manifest)
            if size > 1:
                self._committed_projects.add(group[0][0].project_id)
            again, batches = ([], [group]) if size == 1 else self._committed_batches(group, size, outcomes)
            for batch in batches:
                self._render_together(batch, context, size, outcomes)
            for entry in again:
                self._render_again(entry, context, outcomes)
        return outcomes

    def _render_again(self, entry: tuple[Job, tuple[str, str]], context: JobContext, outcomes: dict[int, Outcome]) -> None:
        """A job whose render files were lost, rendered again in the committed batch it recorded."""
        job, randomness = entry
        record = json.loads(job.render_info)["batch"]
        seeds = [bytes.fromhex(seed[2:]) for seed in record["seeds"]]
        own = derive_seed(self.chain_id, self.chain.address, job.token_id, job.tx_hash, randomness[1])
        try:
            if seeds[record["row"]] != own or record["tokens"][record["row"]] != str(job.token_id):
                raise JobRejected(f"token {job.token_id}'s recorded batch does not hold its seed at its row")
            result = self.renderer.render_committed(context.manifest, seeds)[record["row"]]
        except Exception as err:  # noqa: BLE001
            outcomes[job.id] = outcome_of(err, job)
            return
        result.batch["tokens"] = record["tokens"]
        outcomes[job.id] = guarded(self._store_render, job, result, randomness)

    def _render_together(self, batch: list[tuple[Job, tuple[str, str]]], context: JobContext, size: int,
                         outcomes: dict[int, Outcome]) -> None:
        """Render `batch` in one call: row-independent renders (any grouping), or one committed
        batch whose rows are its tokens in token-id order (RENDER_SPEC §5a), recorded with them."""
        seeds = [derive_seed(self.chain_id, self.chain.address, job.token_id, job.tx_hash, randao)
                 for job, (_, randao) in batch]
        progress = self._render_progress([job.id for job, _ in batch])
        try:
            if size == 1:
                results = self.renderer.render_batch(context.manifest, seeds, progress=progress)
            else:
                results = self.renderer.render_committed(context.manifest, seeds, progress=progress)
                for result in results:
                    result.batch["tokens"] = [str(job.token_id) for job, _ in batch]
        except Exception as err:  # noqa: BLE001 - the same outcome for every job of the batch
            outcomes.update({job.id: outcome_of(err, job) for job, _ in batch})
            return
        failpoint("after_render")
        for (job, randomness), result in zip(batch, results):
            outcomes[job.id] = guarded(self._store_render, job, result, randomness)

    def _committed_batches(self, group: list[tuple[Job, tuple[str, str]]], size: int, outcomes: dict[int, Outcome]):
        """(jobs to render again, new batches): the group's tokens in token-id order, cut into
        batches of `size`. A last, partial batch is rendered once its oldest token has waited
        `batch_wait` seconds for companions (padded with filler rows); until then its jobs wait. A
        job rendered before in a recorded batch (its files were lost) is rendered again in that
        same batch, never in a new one: its companions may already be settled with that batch in
        their provenance."""
        again, fresh = [], []
        for entry in sorted(group, key=lambda entry: entry[0].token_id):
            recorded = (json.loads(entry[0].render_info or "{}").get("batch") or {}).get("tokens")
            (again if recorded else fresh).append(entry)
        batches = [fresh[i:i + size] for i in range(0, len(fresh), size)]
        now = time.monotonic()
        for job, _ in fresh:
            self._ready_since.setdefault(job.id, now)
        if batches and len(batches[-1]) < size:
            waited = now - self._ready_since[batches[-1][0][0].id]
            if waited < self.config.batch_wait:
                left = self.config.batch_wait - waited
                for job, _ in batches.pop():
                    outcomes[job.id] = Wait(f"waiting {left:.1f} s more for tokens to fill a committed batch of {size}",
                                            min(left, self.config.poll_interval))
        for job, _ in (entry for batch in batches for entry in batch):
            self._ready_since.pop(job.id, None)
        return again, batches

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
        """Keep the PNG and the heat maps on disk (atomically) and the render's description in the
        job row; nothing is pinned before the pin step."""
        path = self.renders_dir / f"{job.token_id}-{result.seed[2:18]}.png"
        for target, data in [(path, result.png), *((self.renders_dir / cid, png) for cid, png in result.heatmaps.items())]:
            self._write_atomically(target, data)
        info = {k: v for k, v in dataclasses.asdict(result).items() if k not in ("png", "timings", "heatmaps")}
        return Advance("rendered", {"seed": result.seed, "render_path": str(path), "png_sha256": result.png_sha256,
                                    "render_info": json.dumps(info), "randomness_block_hash": randomness[0],
                                    "randomness": randomness[1]}, f"seed={result.seed}")

    def _write_atomically(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.renders_dir, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def _pin(self, job: Job) -> Outcome:
        """rendered -> pinned: heat maps, image, then metadata. Content-addressed, so pinning again
        after a crash gives the same CIDs; a render whose files were lost is done again."""
        path = Path(job.render_path or "")
        png = path.read_bytes() if path.is_file() else b""
        info = json.loads(job.render_info)
        heatmap_cids = [style["heatmap_cid"] for style in (info.get("attribution") or {}).get("styles", [])
                        if style.get("heatmap_cid")]
        heatmaps = {cid: (self.renders_dir / cid).read_bytes() if (self.renders_dir / cid).is_file() else b""
                    for cid in heatmap_cids}
        if hashlib.sha256(png).hexdigest() != job.png_sha256 or any(cid_of(data) != canonical(cid)
                                                                    for cid, data in heatmaps.items()):
            return Advance("seen", {}, "render file lost: rendering again")
        context = self.context_of(job)
        for heatmap in heatmaps.values():
            self.store.add(heatmap)
        image_cid = self.store.add(png)
        metadata = build_metadata(
            token_id=job.token_id, project_id=job.project_id, project_name=context.project_name,
            artist=context.artist, manifest=context.manifest, manifest_cid=context.manifest_cid,
            manifest_sha256="0x" + job.manifest_hash, render=RenderResult(png=png, timings={}, **info),
            image_cid=image_cid, chain_id=self.chain_id, contract=self.chain.address,
            mint_tx=job.tx_hash, mint_block_number=job.block_number, mint_block_hash=job.block_hash,
            randomness_block_number=job.block_number + self.randomness_delay,
            randomness_block_hash=job.randomness_block_hash, randomness=job.randomness,
        )
        metadata_cid = self.store.add(metadata)
        for cid, data in ((image_cid, png), (metadata_cid, metadata)):
            self._read_back(cid, data)
        # Commit to the render: what every honest operator derives alike, signed (quorum.py).
        commitment = Commitment.of(job.token_id, job.seed, raw_digest(metadata_cid), info["prompt"],
                                   self.weights_for(job), job.block_hash, job.randomness_block_hash)
        attestation = Attestation.sign(self.signer, self.domain, commitment)
        return Advance("pinned", {"image_cid": image_cid, "metadata_cid": metadata_cid,
                                  "attestation": json.dumps(attestation.to_json())},
                       f"image={image_cid} metadata={metadata_cid}")

    def _read_back(self, cid: str, data: bytes) -> None:
        """Fulfil only what anyone can fetch: the bytes read back by CID from the node they were
        pinned to (a node that answered an add but kept nothing would let a fulfillment release
        the escrow for content nobody can see). A miss is transient: the pin step runs again."""
        try:
            served = self.store.get(cid)
        except IpfsError as err:
            raise ContentNotReadable(f"{cid} was pinned but cannot be read back: {err}") from None
        if served != data:
            raise ContentNotReadable(f"{cid} was pinned but the node serves other bytes for it")

    def _watch(self, job: Job) -> Outcome:
        """fulfilled -> final once mint and fulfillment are final_depth deep; a fulfillment that a
        reorg took away is broadcast again (its mint is unchanged: checked before this step)."""
        if job.fulfill_tx is None:  # fulfilled by another oracle with our seed: watch the token itself
            done = self.sender.fulfilled_on_chain(job)
            if done is None:
                return Advance("pinned", {}, "the fulfillment we recorded left the canonical chain: sending ours")
            if not isinstance(done, Advance):
                return done
            return self._final_or_wait(job.block_number + self.randomness_delay)
        receipt = self.chain.receipt(job.fulfill_tx)
        if receipt is None or receipt["status"] != 1:
            if job.fulfill_raw is None:
                return Advance("pinned", {"fulfill_tx": None}, "fulfillment left the canonical chain: sending again")
            return Advance("submitted", {"fulfill_sent_block": self.chain.head()},
                           "fulfillment left the canonical chain: re-broadcasting it")
        done = self.sender.fulfilled_on_chain(job)
        if done is None:  # mined again after a reorg with this entry skipped, or taken back mid-reorg
            return Advance("pinned", {"fulfill_tx": None, "fulfill_raw": None},
                           "the fulfillment was mined without fulfilling this token: signing again")
        if not isinstance(done, Advance):
            return done
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
        """Scan and process until `stop` is set (or, with `until_idle`, until nothing is left to do).
        Nothing the chain or a store answers ends the loop: a failed pass is logged and tried again
        after a growing pause (bad configuration is refused before this, when the oracle is built)."""
        last_progress, failures = "", 0
        while not stop.is_set():
            try:
                self.scan()
                worked = self.process_batch(stop)
            except Exception as err:  # noqa: BLE001 - the loop outlives every answer; see the docstring
                failures += 1
                delay = self.config.retry.delay(failures)
                log.warning("event=pass_failed attempt=%d delay=%.1fs reason=%r", failures, delay,
                            f"{type(err).__name__}: {err}", exc_info=not isinstance(err, StyleMintError))
                stop.wait(delay)
                continue
            failures = 0
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
