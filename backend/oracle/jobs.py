"""Durable oracle state in SQLite (WAL): the log cursor, one job row per mint, the signer's nonces.

A job is keyed by the mint itself (its transaction and token id), not by the token id alone: a
reorg can drop Alice's mint and let Bob's later mint take the same token id, and Bob's mint is
then a job of its own. A job moves seen -> rendered -> pinned -> submitted -> fulfilled -> final;
`failed` (with the reason) and `dropped` (its mint left the canonical chain) are the other ends.
`fulfilled` jobs are still watched until their mint and fulfillment are `final_depth` deep.

Workers claim jobs with a lease (owner + expiry) inside an IMMEDIATE transaction, so several
workers sharing this file never take the same job, and a crashed worker's lease simply runs out.
Every fulfillment is signed once and stored (raw bytes, hash, nonce) before it is broadcast, so a
crash or a lost reply re-broadcasts the same transaction instead of signing a second one.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ACTIVE = ("seen", "rendered", "pinned", "submitted")
WATCHED = ("fulfilled",)  # on chain, not yet final: re-checked against reorgs
CLAIMABLE = ACTIVE + WATCHED
STATES = ACTIVE + ("fulfilled", "final", "failed", "dropped")

JOBS_TABLE = """
CREATE TABLE IF NOT EXISTS jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id        INTEGER NOT NULL,
    project_id      INTEGER NOT NULL,
    minter          TEXT NOT NULL,
    manifest_hash   TEXT NOT NULL,
    tx_hash         TEXT NOT NULL,
    block_number    INTEGER NOT NULL,
    block_hash      TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    lease_owner     TEXT,
    lease_expires   REAL,
    seed            TEXT,
    render_path     TEXT,
    png_sha256      TEXT,
    render_info     TEXT,
    image_cid       TEXT,
    metadata_cid    TEXT,
    fulfill_tx      TEXT,
    fulfill_raw     TEXT,
    fulfill_from    TEXT,
    fulfill_nonce   INTEGER,
    fulfill_sent_block INTEGER,
    fulfill_replaced TEXT,
    randomness_block_hash TEXT,
    randomness      TEXT,
    activity        TEXT,
    attestation     TEXT,
    disagreement    TEXT,
    seen_at         REAL NOT NULL,
    updated_at      REAL NOT NULL,
    UNIQUE (tx_hash, token_id)
)"""
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
{JOBS_TABLE};
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS jobs_token ON jobs (token_id);
CREATE TABLE IF NOT EXISTS signed_fees (
    address TEXT NOT NULL, nonce INTEGER NOT NULL, max_fee TEXT NOT NULL, priority_fee TEXT NOT NULL,
    PRIMARY KEY (address, nonce));
"""

COLUMNS_V1 = ("token_id", "project_id", "minter", "manifest_hash", "tx_hash", "block_number", "block_hash", "state",
              "attempts", "last_error", "next_attempt_at", "lease_owner", "lease_expires", "seed", "render_path",
              "png_sha256", "render_info", "image_cid", "metadata_cid", "seen_at", "updated_at")


@dataclass
class Job:
    id: int
    token_id: int
    project_id: int
    minter: str
    manifest_hash: str
    tx_hash: str
    block_number: int
    block_hash: str
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: float
    lease_owner: str | None
    lease_expires: float | None
    seed: str | None
    render_path: str | None
    png_sha256: str | None
    render_info: str | None
    image_cid: str | None
    metadata_cid: str | None
    fulfill_tx: str | None
    fulfill_raw: str | None
    fulfill_from: str | None
    fulfill_nonce: int | None
    fulfill_sent_block: int | None
    fulfill_replaced: str | None
    randomness_block_hash: str | None  # hash of block block_number + D, as the seed was derived from it
    randomness: str | None  # that block's prevrandao (mixHash)
    activity: str | None  # JSON: what the oracle is doing with this job right now, for the token page
    attestation: str | None  # JSON: this operator's signed commitment, once pinned (backend/oracle/quorum.py)
    disagreement: str | None  # JSON: {oracle: commitment} of other operators that committed otherwise
    seen_at: float
    updated_at: float

    def attested(self) -> dict | None:
        """This operator's attestation as pinned (`oracle`, `commitment`, `signature`), or None before."""
        return json.loads(self.attestation) if self.attestation else None


def mint_fields(mint, previous: dict | None = None) -> dict:
    """A job's columns for a mint at its (new) place in the chain: everything derived from the old
    place (seed, render, CIDs) is cleared, so the job starts over from `seen`. The signed-
    transaction columns are kept here (a dropped job revived by the scan); the oracle's check
    step, which follows a job under way, first withdraws it from its transaction and then clears
    them (backend/oracle/service.py, RELEASED_NONCE)."""
    fields = {"project_id": mint.project_id, "minter": mint.minter, "manifest_hash": mint.manifest_hash.hex(),
              "tx_hash": mint.tx_hash, "block_number": mint.block_number, "block_hash": mint.block_hash,
              "seed": None, "render_path": None, "png_sha256": None, "render_info": None, "image_cid": None,
              "metadata_cid": None, "randomness_block_hash": None, "randomness": None, "fulfill_tx": None,
              "fulfill_raw": None, "fulfill_sent_block": None, "activity": None, "attestation": None,
              "disagreement": None,
              "attempts": 0, "last_error": None, "next_attempt_at": 0}
    previous = previous or {}
    signed = ([previous["fulfill_tx"]] if previous.get("fulfill_tx") else []) + json.loads(
        previous.get("fulfill_replaced") or "[]")
    fields["fulfill_replaced"] = json.dumps(signed) if signed else None
    return fields


class JobStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._migrate()
        self._db.executescript(SCHEMA)

    def _migrate(self) -> None:
        """State files from before jobs were keyed by mint keep their rows (and their cursor)."""
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "id" in columns:  # columns added since jobs were keyed by mint
            for column in ("randomness_block_hash", "randomness", "activity", "attestation", "disagreement"):
                if column not in columns:
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} TEXT")
        if not columns or "id" in columns:
            return
        old_tx = "fulfil_tx" if "fulfil_tx" in columns else "fulfill_tx"
        with self.transaction() as db:
            db.execute("ALTER TABLE jobs RENAME TO jobs_v1")
            db.execute("DROP INDEX IF EXISTS jobs_ready")
            db.execute(JOBS_TABLE)
            db.execute(f"INSERT INTO jobs ({', '.join(COLUMNS_V1)}, fulfill_tx) "
                       f"SELECT {', '.join(COLUMNS_V1)}, {old_tx} FROM jobs_v1")
            db.execute("DROP TABLE jobs_v1")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self):
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row["value"] if row else default

    def set_meta(self, key: str, value) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                         (key, str(value)))

    def bind(self, chain_id: int, contract: str) -> None:
        """Refuse to mix state of two deployments in one file."""
        with self.transaction():
            bound = self.get_meta("chain"), self.get_meta("contract")
            if bound == (None, None):
                self.set_meta("chain", chain_id)
                self.set_meta("contract", contract.lower())
            elif bound != (str(chain_id), contract.lower()):
                raise RuntimeError(f"state file {self.path} belongs to chain {bound[0]} contract {bound[1]}, "
                                   f"not chain {chain_id} contract {contract}; use another --state")

    def free_nonce(self, address: str, chain_count: int) -> int:
        """The lowest nonce of `address` that the chain has not used and no job in flight holds.
        Only jobs on their way to a fulfillment hold a nonce: a fulfilled one whose transaction a
        reorg took away, a dropped or a failed one gives it back (the oracle cancels a dropped
        job's pending transaction at that nonce), so no gap stalls every later fulfillment.
        Call inside `transaction()`, with storing the transaction signed at that nonce."""
        held = {row[0] for row in self._db.execute(
            f"SELECT fulfill_nonce FROM jobs WHERE fulfill_from = ? AND fulfill_nonce >= ?"
            f" AND state IN ({','.join('?' * len(ACTIVE))})", (address.lower(), chain_count, *ACTIVE))}
        nonce = chain_count
        while nonce in held:
            nonce += 1
        return nonce

    # -- jobs ---------------------------------------------------------------------------------

    def record_mint(self, mint) -> str:
        """Insert a job for a Mint log, or follow a mint that moved to another block: a job under way
        is only put first in line (its check step follows the move), a dropped one starts over.
        Returns what happened."""
        now = time.time()
        with self.transaction() as db:
            row = db.execute("SELECT * FROM jobs WHERE tx_hash = ? AND token_id = ?",
                             (mint.tx_hash, mint.token_id)).fetchone()
            if row is None:
                fields = mint_fields(mint) | {"token_id": mint.token_id, "state": "seen", "seen_at": now,
                                              "updated_at": now}
                db.execute(f"INSERT INTO jobs ({', '.join(fields)}) VALUES ({', '.join('?' * len(fields))})",
                           tuple(fields.values()))
                return "new"
            if row["block_hash"] == mint.block_hash or row["state"] in ("final", "failed"):
                return "known"
            if row["state"] in CLAIMABLE:
                # Its check step follows it (and first takes it out of any transaction signed for its
                # old place): looked at now, not rewritten here.
                db.execute("UPDATE jobs SET next_attempt_at = 0 WHERE id = ?", (row["id"],))
                return "moved"
            fields = mint_fields(mint, dict(row)) | {"state": "seen", "updated_at": now}
            db.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                       (*fields.values(), row["id"]))
            return "moved"

    def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Job]:
        now = time.time()
        with self.transaction() as db:
            ids = [r["id"] for r in db.execute(
                f"SELECT id FROM jobs WHERE state IN ({','.join('?' * len(CLAIMABLE))})"
                " AND next_attempt_at <= ? AND (lease_expires IS NULL OR lease_expires < ? OR lease_owner = ?)"
                " ORDER BY state = 'fulfilled', block_number, token_id LIMIT ?",
                (*CLAIMABLE, now, now, owner, limit),
            )]
            if ids:
                db.execute(
                    f"UPDATE jobs SET lease_owner = ?, lease_expires = ? WHERE id IN ({','.join('?' * len(ids))})",
                    (owner, now + lease_seconds, *ids),
                )
        return [self.by_id(i) for i in ids]

    def claim_waiting(self, owner: str, project_ids: set[int], lease_seconds: float) -> list[Job]:
        """Every unrendered job of these projects that no other worker holds, due or not: the
        members of a committed batch waiting for companions (RENDER_SPEC §5a) must be seen together,
        and their separate waits would otherwise put them in different passes."""
        now = time.time()
        marks = ",".join("?" * len(project_ids))
        with self.transaction() as db:
            ids = [r["id"] for r in db.execute(
                f"SELECT id FROM jobs WHERE state = 'seen' AND project_id IN ({marks})"
                " AND (lease_expires IS NULL OR lease_expires < ? OR lease_owner = ?) ORDER BY token_id",
                (*sorted(project_ids), now, owner))]
            if ids:
                db.execute(f"UPDATE jobs SET lease_owner = ?, lease_expires = ? WHERE id IN ({','.join('?' * len(ids))})",
                           (owner, now + lease_seconds, *ids))
        return [self.by_id(i) for i in ids]

    def renew(self, owner: str, job_ids: list[int], lease_seconds: float) -> set[int]:
        """Extend this worker's leases; returns the ids it still holds (a lost lease is not renewed)."""
        if not job_ids:
            return set()
        marks = ",".join("?" * len(job_ids))
        with self.transaction() as db:
            db.execute(f"UPDATE jobs SET lease_expires = ? WHERE lease_owner = ? AND id IN ({marks})",
                       (time.time() + lease_seconds, owner, *job_ids))
            return {r["id"] for r in db.execute(f"SELECT id FROM jobs WHERE lease_owner = ? AND id IN ({marks})",
                                                (owner, *job_ids))}

    def store_signed(self, job_ids: list[int], owner: str, address: str, chain_count: int,
                     sign, head: int, fees_of=None) -> tuple[str, str] | None:
        """Reserve a nonce, sign with it and store the signed fulfillment in every job's row (one
        job: `fulfill`; several: `fulfillBatch`), in one transaction, before anything is broadcast.
        Jobs that all hold the same unused nonce (a stuck transaction being replaced) sign at that
        nonce again, replacing the earlier transaction; jobs sent together fresh hold none.
        `sign(nonce, outbid)` -> (hash, raw), where `outbid` is the highest fees already signed at
        that nonce (None for a fresh one); `fees_of(raw)` records what this signature bids.
        Returns (hash, raw), or None if a lease was lost."""
        with self.transaction() as db:
            rows = db.execute(f"SELECT * FROM jobs WHERE lease_owner = ? AND id IN ({','.join('?' * len(job_ids))})",
                              (owner, *job_ids)).fetchall()
            if len(rows) != len(job_ids):
                return None
            held = {row["fulfill_nonce"] if (row["fulfill_from"] or "").lower() == address.lower() else None
                    for row in rows}
            nonce, replaced = self.free_nonce(address, chain_count), []
            if len(held) == 1 and (reused := held.pop()) is not None and reused >= chain_count:
                nonce = reused
                for row in rows:
                    replaced += [h for h in [row["fulfill_tx"], *json.loads(row["fulfill_replaced"] or "[]")]
                                 if h and h not in replaced]
            tx_hash, raw = sign(nonce, self.outbid_at(address, nonce))
            if fees_of is not None:
                self._record_fees(address, nonce, fees_of(raw))
            for job_id in job_ids:
                self._write_signed(job_id, tx_hash, raw, address, nonce, head, replaced)
            return tx_hash, raw

    def store_resigned(self, job_ids: list[int], old_tx: str, address: str, nonce: int, sign, head: int,
                       fees_of) -> tuple[str, str] | None:
        """Sign again at `nonce` for the jobs still on `old_tx` (an entry of it left: its mint moved
        or is gone) and store it in their rows, in one transaction, before it is broadcast; the
        rows need no lease (the transaction is theirs together; only their signed fields change).
        `sign(nonce, outbid)` -> (hash, raw). None when none of them is still on `old_tx`."""
        with self.transaction() as db:
            rows = [row for row in db.execute(
                f"SELECT * FROM jobs WHERE fulfill_tx = ? AND id IN ({','.join('?' * len(job_ids))})",
                (old_tx, *job_ids)).fetchall()] if job_ids else []
            outbid = self.outbid_at(address, nonce)
            tx_hash, raw = sign(nonce, outbid)
            self._record_fees(address, nonce, fees_of(raw))
            for row in rows:
                replaced = [old_tx, *json.loads(row["fulfill_replaced"] or "[]")]
                self._write_signed(row["id"], tx_hash, raw, address, nonce, head, replaced)
            return tx_hash, raw

    def outbid_at(self, address: str, nonce: int) -> tuple[int, int] | None:
        """The highest (maxFeePerGas, maxPriorityFeePerGas) signed so far at this nonce, or None."""
        row = self._db.execute("SELECT max_fee, priority_fee FROM signed_fees WHERE address = ? AND nonce = ?",
                               (address.lower(), nonce)).fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def _record_fees(self, address: str, nonce: int, fees: tuple[int, int]) -> None:
        old = self.outbid_at(address, nonce) or (0, 0)
        self._db.execute("INSERT OR REPLACE INTO signed_fees VALUES (?, ?, ?, ?)",
                         (address.lower(), nonce, str(max(old[0], fees[0])), str(max(old[1], fees[1]))))

    def holders(self, tx_hash: str) -> list["Job"]:
        """The jobs whose signed transaction is `tx_hash` (on their way, or fulfilled and watched)."""
        return [Job(**dict(row)) for row in self._db.execute(
            f"SELECT * FROM jobs WHERE fulfill_tx = ? AND state IN ({','.join('?' * len(CLAIMABLE))}) ORDER BY id",
            (tx_hash, *CLAIMABLE))]

    def holders_of_nonce(self, address: str, nonce: int) -> list["Job"]:
        """The jobs on their way to a fulfillment that hold this nonce of `address`."""
        return [Job(**dict(row)) for row in self._db.execute(
            f"SELECT * FROM jobs WHERE fulfill_from = ? AND fulfill_nonce = ? AND state IN"
            f" ({','.join('?' * len(CLAIMABLE))}) ORDER BY id", (address.lower(), nonce, *CLAIMABLE))]

    def _write_signed(self, job_id: int, tx_hash: str, raw: str, address: str, nonce: int, head: int,
                      replaced: list[str]) -> None:
        self._db.execute(
            "UPDATE jobs SET state = 'submitted', fulfill_tx = ?, fulfill_raw = ?, fulfill_from = ?, fulfill_nonce = ?,"
            " fulfill_sent_block = ?, fulfill_replaced = ?, updated_at = ? WHERE id = ?",
            (tx_hash, raw, address.lower(), nonce, head, json.dumps(replaced) if replaced else None, time.time(),
             job_id))

    def leads(self, job) -> bool:
        """Whether `job` is the first (lowest id) of the jobs its signed transaction fulfills."""
        row = self._db.execute("SELECT MIN(id) FROM jobs WHERE fulfill_tx = ? AND state = 'submitted'",
                               (job.fulfill_tx,)).fetchone()
        return row[0] in (None, job.id)

    def set_activity(self, job_ids: list[int], activity: dict | None) -> None:
        """What the oracle is doing with these jobs now (rendering step n of N, waiting and why), for
        the token page; not part of a job's state, so it needs no lease and a reorg simply clears it."""
        if job_ids:
            self._db.execute(f"UPDATE jobs SET activity = ? WHERE id IN ({','.join('?' * len(job_ids))})",
                             (json.dumps(activity) if activity else None, *job_ids))

    def record_disagreement(self, token_id: int, oracle: str, commitment: dict) -> None:
        """Keep another operator's differing commitment to a token on the token's current job (for
        `oracle status` and the token page); it stays after the token settles, naming who differed."""
        with self.transaction() as db:
            row = db.execute("SELECT id, disagreement FROM jobs WHERE token_id = ? ORDER BY state = 'dropped', id DESC"
                             " LIMIT 1", (token_id,)).fetchone()
            if row is not None:
                known = json.loads(row["disagreement"] or "{}")
                known[oracle] = commitment
                db.execute("UPDATE jobs SET disagreement = ? WHERE id = ?", (json.dumps(known), row["id"]))

    def release(self, owner: str) -> None:
        self._db.execute("UPDATE jobs SET lease_owner = NULL, lease_expires = NULL WHERE lease_owner = ?", (owner,))

    def by_id(self, job_id: int) -> Job | None:
        row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return Job(**dict(row)) if row else None

    def for_token(self, token_id: int) -> Job | None:
        """The token's current job: the newest one whose mint was not dropped, else the newest."""
        row = self._db.execute("SELECT * FROM jobs WHERE token_id = ? ORDER BY state = 'dropped', id DESC LIMIT 1",
                               (token_id,)).fetchone()
        return Job(**dict(row)) if row else None

    def update(self, job_id: int, owner: str | None, **fields) -> bool:
        """Change a job; with `owner`, only while that worker still holds the lease."""
        fields["updated_at"] = time.time()
        assignments = ", ".join(f"{k} = ?" for k in fields)
        query = f"UPDATE jobs SET {assignments} WHERE id = ?"
        values = [*fields.values(), job_id]
        if owner is not None:
            query += " AND lease_owner = ?"
            values.append(owner)
        return self._db.execute(query, values).rowcount == 1

    def next_attempt_at(self) -> float | None:
        """When the earliest claimable job may be tried again (None when nothing is left)."""
        row = self._db.execute(
            f"SELECT MIN(next_attempt_at) AS t FROM jobs WHERE state IN ({','.join('?' * len(CLAIMABLE))})", CLAIMABLE
        ).fetchone()
        return row["t"]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for row in self._db.execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state"):
            counts[row["state"]] = row["n"]
        return counts

    def status(self, *, start_block: int = 0) -> dict:
        """The oracle's state at a glance (`stylemint oracle status`): counts per state, the log
        cursor (`start_block - 1` before the first scan), the head when last scanned, the lag in
        blocks, failed jobs with their reasons, jobs waiting and why (a chain still settling, a
        randomness block to come), and the chain and contract this file is bound to."""
        cursor = int(self.get_meta("cursor", str(start_block - 1)))
        head = int(self.get_meta("head", "0"))
        failed = [{"token_id": j.token_id, "attempts": j.attempts, "reason": j.last_error} for j in self.jobs("failed")]
        waiting = [{"token_id": j.token_id, "state": j.state, "reason": activity["reason"]}
                   for j in self.jobs() if j.state in ACTIVE and j.activity
                   and (activity := json.loads(j.activity)).get("reason")]
        disagree = [{"token_id": j.token_id, "state": j.state, "ours": (j.attested() or {}).get("commitment"),
                     "others": json.loads(j.disagreement)}
                    for j in self.jobs() if j.disagreement and j.state != "dropped"]
        return {"counts": self.counts(), "cursor": cursor, "head_seen": head, "lag_blocks": max(0, head - cursor),
                "failed": failed, "waiting": waiting, "disagree": disagree, "contract": self.get_meta("contract"),
                "chain": self.get_meta("chain")}

    def jobs(self, state: str | None = None) -> list[Job]:
        query, args = "SELECT * FROM jobs", ()
        if state:
            query, args = query + " WHERE state = ?", (state,)
        return [Job(**dict(r)) for r in self._db.execute(query + " ORDER BY token_id, id", args)]

    def retry_failed(self, token_id: int | None = None) -> int:
        """Put failed jobs back in line (the explicit `stylemint oracle retry`)."""
        query = ("UPDATE jobs SET state = 'seen', attempts = 0, last_error = NULL, next_attempt_at = 0,"
                 " lease_owner = NULL, lease_expires = NULL, updated_at = ? WHERE state = 'failed'")
        args: tuple = (time.time(),)
        if token_id is not None:
            query, args = query + " AND token_id = ?", (*args, token_id)
        return self._db.execute(query, args).rowcount
