"""Durable oracle state in SQLite (WAL): the log cursor and one job row per token.

A job moves seen -> rendered -> pinned -> submitted -> fulfilled; `failed` (with the reason)
and `dropped` (its mint left the canonical chain) are the other ends. Workers claim jobs with a
lease (owner + expiry) inside an IMMEDIATE transaction, so several workers sharing this file
never take the same job, and a crashed worker's lease simply runs out.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ACTIVE = ("seen", "rendered", "pinned", "submitted")
STATES = ACTIVE + ("fulfilled", "failed", "dropped")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    token_id        INTEGER PRIMARY KEY,
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
    fulfill_tx       TEXT,
    seen_at         REAL NOT NULL,
    updated_at      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (state, next_attempt_at);
"""


@dataclass
class Job:
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
    seen_at: float
    updated_at: float


def mint_fields(mint) -> dict:
    """A job's columns for a mint at its (new) place in the chain: everything derived from the old
    place (seed, render, CIDs, fulfillment) is cleared, so the job starts over from `seen`."""
    return {"project_id": mint.project_id, "minter": mint.minter, "manifest_hash": mint.manifest_hash.hex(),
            "tx_hash": mint.tx_hash, "block_number": mint.block_number, "block_hash": mint.block_hash,
            "seed": None, "render_path": None, "png_sha256": None, "render_info": None, "image_cid": None,
            "metadata_cid": None, "fulfill_tx": None, "attempts": 0, "last_error": None, "next_attempt_at": 0}


class JobStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        self._migrate()

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

    # -- jobs ---------------------------------------------------------------------------------

    def _migrate(self) -> None:
        """State files written before the column took the contract's spelling keep their rows."""
        columns = {row["name"] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "fulfil_tx" in columns:
            self._db.execute("ALTER TABLE jobs RENAME COLUMN fulfil_tx TO fulfill_tx")

    def record_mint(self, mint) -> str:
        """Insert a job for a Mint log, or follow a mint that moved to another block. Returns what happened."""
        now = time.time()
        with self.transaction() as db:
            row = db.execute("SELECT * FROM jobs WHERE token_id = ?", (mint.token_id,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO jobs (token_id, project_id, minter, manifest_hash, tx_hash, block_number, block_hash,"
                    " state, seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'seen', ?, ?)",
                    (mint.token_id, mint.project_id, mint.minter, mint.manifest_hash.hex(), mint.tx_hash,
                     mint.block_number, mint.block_hash, now, now),
                )
                return "new"
            if (row["tx_hash"], row["block_hash"]) == (mint.tx_hash, mint.block_hash) or row["state"] == "fulfilled":
                return "known"
            fields = mint_fields(mint) | {"state": "seen", "updated_at": now}
            db.execute(f"UPDATE jobs SET {', '.join(f'{k} = ?' for k in fields)} WHERE token_id = ?",
                       (*fields.values(), mint.token_id))
            return "moved"

    def claim(self, owner: str, limit: int, lease_seconds: float) -> list[Job]:
        now = time.time()
        with self.transaction() as db:
            ids = [r["token_id"] for r in db.execute(
                f"SELECT token_id FROM jobs WHERE state IN ({','.join('?' * len(ACTIVE))})"
                " AND next_attempt_at <= ? AND (lease_expires IS NULL OR lease_expires < ? OR lease_owner = ?)"
                " ORDER BY block_number, token_id LIMIT ?",
                (*ACTIVE, now, now, owner, limit),
            )]
            if ids:
                db.execute(
                    f"UPDATE jobs SET lease_owner = ?, lease_expires = ? WHERE token_id IN ({','.join('?' * len(ids))})",
                    (owner, now + lease_seconds, *ids),
                )
        return [self.get(i) for i in ids]

    def release(self, owner: str, token_ids: list[int] | None = None) -> None:
        if token_ids is None:
            self._db.execute("UPDATE jobs SET lease_owner = NULL, lease_expires = NULL WHERE lease_owner = ?", (owner,))
        else:
            for token_id in token_ids:
                self._db.execute("UPDATE jobs SET lease_owner = NULL, lease_expires = NULL"
                                 " WHERE lease_owner = ? AND token_id = ?", (owner, token_id))

    def get(self, token_id: int) -> Job | None:
        row = self._db.execute("SELECT * FROM jobs WHERE token_id = ?", (token_id,)).fetchone()
        return Job(**dict(row)) if row else None

    def update(self, token_id: int, owner: str | None, **fields) -> bool:
        """Change a job; with `owner`, only while that worker still holds the lease."""
        fields["updated_at"] = time.time()
        assignments = ", ".join(f"{k} = ?" for k in fields)
        query = f"UPDATE jobs SET {assignments} WHERE token_id = ?"
        values = [*fields.values(), token_id]
        if owner is not None:
            query += " AND lease_owner = ?"
            values.append(owner)
        return self._db.execute(query, values).rowcount == 1

    def next_attempt_at(self) -> float | None:
        """When the earliest active job may be tried again (None when nothing is active)."""
        row = self._db.execute(
            f"SELECT MIN(next_attempt_at) AS t FROM jobs WHERE state IN ({','.join('?' * len(ACTIVE))})", ACTIVE
        ).fetchone()
        return row["t"]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for row in self._db.execute("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state"):
            counts[row["state"]] = row["n"]
        return counts

    def jobs(self, state: str | None = None) -> list[Job]:
        query, args = "SELECT * FROM jobs", ()
        if state:
            query, args = query + " WHERE state = ?", (state,)
        return [Job(**dict(r)) for r in self._db.execute(query + " ORDER BY token_id", args)]

    def retry_failed(self, token_id: int | None = None) -> int:
        """Put failed jobs back in line (the explicit `stylemint oracle retry`)."""
        query = ("UPDATE jobs SET state = 'seen', attempts = 0, last_error = NULL, next_attempt_at = 0,"
                 " lease_owner = NULL, lease_expires = NULL, updated_at = ? WHERE state = 'failed'")
        args: tuple = (time.time(),)
        if token_id is not None:
            query, args = query + " AND token_id = ?", (*args, token_id)
        return self._db.execute(query, args).rowcount
