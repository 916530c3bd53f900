"""The contract's tokens in SQLite, so that collections and galleries never ask the chain per token.

`/api/tokens?owner=` used to call `ownerOf` for every token ever minted (10,000 tokens: 10,000
RPC calls per request). The indexer follows the contract's Mint, Transfer and TokenFulfilled logs
into one table per concern and answers owner, project and trait queries with an index lookup.
Each token row also records its purchase (the Mint log's price escrowed and the account that paid)
and, once settled, its sale (SaleSettled: the final price and the artist's and platform's parts),
so earnings and token pages read money from the index, not from transactions one by one.

- **Resumable**: the next block to read is stored with the rows it produced, in one transaction;
  a restart goes on from there.
- **Reorg-safe**: the hash of every block that produced a row, and of the last block read, is
  stored. Each `sync` first checks the newest stored hash against the chain; if a reorg replaced
  it, it walks back to the newest stored block that is still canonical, deletes every event from
  later blocks, rebuilds the tokens those events touched from the events that remain, and reads
  on from there. Rows are derived from the event log table, never edited in place by hand.
- **Traits** come from each fulfilled token's metadata (fetched by its CID through the content
  store); a token whose metadata is not available yet is retried on the next sync.

Single writer: one process syncs (the web app, under a lock); any number read.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from pathlib import Path
from typing import Callable

from backend.ipfs.cid import cid_of_raw_digest

SCHEMA = """
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, kind TEXT NOT NULL, token_id TEXT NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (block, log_index));
CREATE INDEX IF NOT EXISTS events_token ON events (token_id, block, log_index);
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY, sort_key INTEGER NOT NULL, project_id INTEGER NOT NULL, edition INTEGER NOT NULL,
    owner TEXT, minter TEXT NOT NULL, mint_block INTEGER NOT NULL, mint_tx TEXT NOT NULL,
    fulfilled_block INTEGER, seed TEXT, metadata_cid TEXT, traits_loaded INTEGER NOT NULL DEFAULT 0,
    name TEXT, image TEXT, price_wei TEXT NOT NULL, payer TEXT NOT NULL,
    sale_price_wei TEXT, artist_wei TEXT, platform_wei TEXT);
CREATE INDEX IF NOT EXISTS tokens_owner ON tokens (owner, sort_key);
CREATE INDEX IF NOT EXISTS tokens_project ON tokens (project_id, sort_key);
CREATE INDEX IF NOT EXISTS tokens_traits_pending ON tokens (traits_loaded) WHERE traits_loaded = 0;
CREATE TABLE IF NOT EXISTS traits (
    token_id TEXT NOT NULL, trait_type TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (token_id, trait_type));
CREATE INDEX IF NOT EXISTS traits_value ON traits (trait_type, value, token_id);
"""

ZERO = "0x0000000000000000000000000000000000000000"
IMAGE = re.compile(r"^ipfs://(baf[a-z2-7]{50,100})$")  # a CIDv1 base32 image link, as the oracle pins it
EVENTS = ("Mint", "Transfer", "TokenFulfilled", "SaleSettled")
# Bumped when the tables change: an index file of another version is emptied and read again from
# the chain (it holds nothing the chain does not), instead of failing on a missing column.
SCHEMA_VERSION = "2"


class TokenIndex:
    """`sync()` reads new logs (at most `chunk` blocks per eth_getLogs); the query methods read."""

    def __init__(self, path: Path, chain, *, start_block: int = 0, chunk: int = 2_000,
                 metadata: Callable[[str], dict | None] | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.chain = chain
        self.chunk = chunk
        self.metadata = metadata  # metadata CID -> document (None when not available yet)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._upgrade(start_block)
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self._trait_values: dict[int, dict] = {}
        stored = self._meta("contract")
        if stored is not None and stored != chain.address:
            raise ValueError(f"{self.path} indexes contract {stored}, not {chain.address}: use another file")
        if stored is None:
            with self._write():
                self._set_meta("contract", chain.address)
                self._set_meta("next_block", str(start_block))
                self._set_meta("start_block", str(start_block))
                self._set_meta("schema", SCHEMA_VERSION)

    def _upgrade(self, start_block: int) -> None:
        """An index written by another schema version starts over (same contract, same start)."""
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            return
        kept = dict(self._db.execute("SELECT key, value FROM meta WHERE key IN ('contract', 'schema', 'start_block')"))
        if kept.get("schema") == SCHEMA_VERSION:
            return
        with self._write():
            for table in ("tokens", "traits", "events", "blocks", "meta"):
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
        self._db.executescript(SCHEMA)
        with self._write():
            if "contract" in kept:
                self._set_meta("contract", kept["contract"])
            self._set_meta("next_block", kept.get("start_block", str(start_block)))
            self._set_meta("schema", SCHEMA_VERSION)

    # -- writing ---------------------------------------------------------------------------------

    def sync(self, *, until: int | None = None) -> int:
        """Follow the chain up to `until` (default: its head); returns the number of logs applied."""
        with self._lock:
            self._undo_reorg()
            head = self.chain.head() if until is None else until
            applied = 0
            start = int(self._meta("next_block"))
            while start <= head:
                end = min(head, start + self.chunk - 1)
                logs = self.chain.contract_logs(start, end, EVENTS)
                end_hash = self.chain.block_hash(end)
                with self._write():
                    for entry in logs:
                        self._apply(entry)
                    self._db.executemany("INSERT OR REPLACE INTO blocks VALUES (?, ?)",
                                         {(e["block"], e["block_hash"]) for e in logs} | {(end, end_hash)})
                    self._set_meta("next_block", str(end + 1))
                if logs:
                    self._trait_values.clear()
                applied += len(logs)
                start = end + 1
            self._load_traits()
            return applied

    def _undo_reorg(self) -> None:
        """Walk back from the newest stored block to the newest one still canonical; undo the rest."""
        newest = self._db.execute("SELECT number, hash FROM blocks ORDER BY number DESC").fetchall()
        canonical_from = None
        for number, stored in newest:
            if self.chain.block_hash(number) == stored:
                canonical_from = number
                break
        if not newest or canonical_from == newest[0][0]:
            return
        keep = -1 if canonical_from is None else canonical_from
        with self._write():
            touched = [row[0] for row in self._db.execute("SELECT DISTINCT token_id FROM events WHERE block > ?", (keep,))]
            self._db.execute("DELETE FROM events WHERE block > ?", (keep,))
            self._db.execute("DELETE FROM blocks WHERE number > ?", (keep,))
            for token_id in touched:
                self._rebuild(token_id)
            self._set_meta("next_block", str(keep + 1))
        self._trait_values.clear()

    def _rebuild(self, token_id: str) -> None:
        self._db.execute("DELETE FROM tokens WHERE token_id = ?", (token_id,))
        self._db.execute("DELETE FROM traits WHERE token_id = ?", (token_id,))
        rows = self._db.execute("SELECT block, kind, data FROM events WHERE token_id = ? ORDER BY block, log_index",
                                (token_id,)).fetchall()
        for block, kind, data in rows:
            self._project(kind, int(token_id), block, json.loads(data))

    def _apply(self, entry: dict) -> None:
        token_id = int(entry["args"]["tokenId"])
        data = {k: v for k, v in entry["args"].items() if k != "tokenId"} | {"tx": entry["tx"]}
        self._db.execute("INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?, ?)",
                         (entry["block"], entry["log_index"], entry["event"], str(token_id), json.dumps(data)))
        self._project(entry["event"], token_id, entry["block"], data)

    def _project(self, kind: str, token_id: int, block: int, data: dict) -> None:
        """One event's effect on the token row (the only place rows change)."""
        key = str(token_id)
        if kind == "Mint":
            self._db.execute(
                "INSERT OR REPLACE INTO tokens (token_id, sort_key, project_id, edition, owner, minter, mint_block, "
                "mint_tx, price_wei, payer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, min(token_id, 2**62), token_id // 1_000_000, token_id % 1_000_000 + 1, data["minter"].lower(),
                 data["minter"].lower(), block, data["tx"], str(data["price"]), data["payer"].lower()))
        elif kind == "Transfer":
            owner = None if data["to"] == ZERO else data["to"].lower()  # to zero: burned (refunded)
            self._db.execute("UPDATE tokens SET owner = ? WHERE token_id = ?", (owner, key))
        elif kind == "TokenFulfilled":
            cid = cid_of_raw_digest(bytes.fromhex(data["metadataDigest"].removeprefix("0x")))
            self._db.execute("UPDATE tokens SET fulfilled_block = ?, seed = ?, metadata_cid = ?, traits_loaded = 0 "
                             "WHERE token_id = ?", (block, data["seed"], cid, key))
        elif kind == "SaleSettled":
            self._db.execute("UPDATE tokens SET sale_price_wei = ?, artist_wei = ?, platform_wei = ? WHERE token_id = ?",
                             (str(data["price"]), str(data["artistAmount"]), str(data["platformAmount"]), key))

    def _load_traits(self) -> None:
        """Traits of fulfilled tokens from their metadata, written 500 tokens per transaction."""
        if self.metadata is None:
            return
        pending = self._db.execute("SELECT token_id, metadata_cid FROM tokens WHERE traits_loaded = 0 "
                                   "AND metadata_cid IS NOT NULL").fetchall()
        for start in range(0, len(pending), 500):
            traits, loaded = [], []
            for token_id, cid in pending[start:start + 500]:
                document = self.metadata(cid)
                if document is None:
                    continue  # not available yet: the next sync tries again
                document = document if isinstance(document, dict) else {}
                attributes = document.get("attributes") if isinstance(document.get("attributes"), list) else []
                traits += [(token_id, str(a["trait_type"])[:64], str(a["value"])[:128]) for a in attributes
                           if isinstance(a, dict) and "trait_type" in a and "value" in a]
                image = IMAGE.match(document["image"]) if isinstance(document.get("image"), str) else None
                name = document.get("name") if isinstance(document.get("name"), str) else None
                loaded.append((name and name[:200], f"/ipfs/{image.group(1)}" if image else None, token_id))
            with self._write():
                self._db.executemany("INSERT OR REPLACE INTO traits VALUES (?, ?, ?)", traits)
                self._db.executemany("UPDATE tokens SET traits_loaded = 1, name = ?, image = ? WHERE token_id = ?",
                                     loaded)
            self._trait_values.clear()

    # -- reading ---------------------------------------------------------------------------------

    def tokens_of(self, owner: str, *, limit: int = 100, offset: int = 0) -> list[int]:
        rows = self._db.execute("SELECT token_id FROM tokens WHERE owner = ? ORDER BY sort_key LIMIT ? OFFSET ?",
                                (owner.lower(), limit, offset))
        return [int(row[0]) for row in rows]

    def count_of(self, owner: str) -> int:
        return self._db.execute("SELECT COUNT(*) FROM tokens WHERE owner = ?", (owner.lower(),)).fetchone()[0]

    def project_tokens(self, project_id: int, *, traits: dict[str, str] | None = None, limit: int = 24,
                       offset: int = 0) -> tuple[list[dict], int]:
        """(a page of the project's tokens with their traits, how many match), filtered by traits."""
        where, params = ["t.project_id = ?", "t.owner IS NOT NULL"], [project_id]
        for trait_type, value in (traits or {}).items():
            where.append("EXISTS (SELECT 1 FROM traits x WHERE x.token_id = t.token_id AND x.trait_type = ? "
                         "AND x.value = ?)")
            params += [trait_type, value]
        clause = " AND ".join(where)
        total = self._db.execute(f"SELECT COUNT(*) FROM tokens t WHERE {clause}", params).fetchone()[0]
        rows = self._db.execute(f"SELECT t.token_id FROM tokens t WHERE {clause} ORDER BY t.sort_key LIMIT ? OFFSET ?",
                                [*params, limit, offset]).fetchall()
        return [self.token(int(row[0])) for row in rows], total

    def token(self, token_id: int) -> dict | None:
        row = self._db.execute("SELECT token_id, project_id, edition, owner, minter, mint_block, mint_tx, "
                               "fulfilled_block, metadata_cid, seed, name, image, price_wei, payer, sale_price_wei, "
                               "artist_wei, platform_wei FROM tokens WHERE token_id = ?", (str(token_id),)).fetchone()
        if row is None:
            return None
        traits = dict(self._db.execute("SELECT trait_type, value FROM traits WHERE token_id = ? ORDER BY trait_type",
                                       (row[0],)).fetchall())
        return {"token_id": int(row[0]), "project_id": row[1], "edition": row[2], "owner": row[3], "minter": row[4],
                "mint_block": row[5], "mint_tx": row[6], "fulfilled_block": row[7], "metadata_cid": row[8], "seed": row[9], "name": row[10], "image": row[11],
                "traits": traits,
                # The purchase: what the Mint escrowed and who paid it (a minter's buyer, not always the owner).
                "price_wei": int(row[12]), "payer": row[13],
                # The sale as settled at fulfilment (None before): its final price and two of its parts.
                "sale": None if row[14] is None else {
                    "price_wei": int(row[14]), "artist_wei": int(row[15]), "platform_wei": int(row[16])}}

    def trait_values(self, project_id: int) -> dict[str, dict[str, int]]:
        """Each trait's values among the project's live tokens, with counts (the filter's choices);
        kept until the next change (a GROUP BY over 20,000 traits was most of a gallery request)."""
        if project_id in self._trait_values:
            return self._trait_values[project_id]
        rows = self._db.execute("SELECT x.trait_type, x.value, COUNT(*) FROM traits x JOIN tokens t USING (token_id) "
                                "WHERE t.project_id = ? AND t.owner IS NOT NULL GROUP BY x.trait_type, x.value "
                                "ORDER BY x.trait_type, x.value", (project_id,))
        values: dict[str, dict[str, int]] = {}
        for trait_type, value, count in rows:
            values.setdefault(trait_type, {})[value] = count
        self._trait_values[project_id] = values
        return values

    def next_block(self) -> int:
        return int(self._meta("next_block"))

    def close(self) -> None:
        self._db.close()

    # -- helpers ---------------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _write(self):
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on an exception: a sync step lands whole or not at all."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, *_):
        self.db.execute("ROLLBACK" if kind else "COMMIT")
        return False
