"""The job store alone: old state files keep their rows, nonces are held per key and given back."""

import sqlite3

from backend.chain.types import MintLog
from backend.oracle.jobs import JobStore

V1_SCHEMA = """
CREATE TABLE jobs (token_id INTEGER PRIMARY KEY, project_id INTEGER NOT NULL, minter TEXT NOT NULL,
  manifest_hash TEXT NOT NULL, tx_hash TEXT NOT NULL, block_number INTEGER NOT NULL, block_hash TEXT NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, next_attempt_at REAL NOT NULL DEFAULT 0,
  lease_owner TEXT, lease_expires REAL, seed TEXT, render_path TEXT, png_sha256 TEXT, render_info TEXT,
  image_cid TEXT, metadata_cid TEXT, fulfil_tx TEXT, seen_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE INDEX jobs_ready ON jobs (state, next_attempt_at);
INSERT INTO jobs VALUES (1000000, 1, '0xminter', 'ab', '0xtx', 5, '0xblock', 'submitted', 0, NULL, 0, NULL, NULL,
  '0xseed', NULL, NULL, NULL, 'bafyimage', 'bafymeta', '0xfulfil', 1, 2);
"""


def mint(token_id, tx, block=7):
    return MintLog(token_id=token_id, project_id=1, minter="0xm", manifest_hash=b"\xab", tx_hash=tx,
                   block_number=block, block_hash=f"0xb{block}", log_index=0)


def test_a_state_file_from_before_mint_keys_keeps_its_rows(tmp_path):
    path = tmp_path / "state.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA)
    jobs = JobStore(path)
    job = jobs.for_token(1000000)
    assert (job.state, job.fulfill_tx, job.metadata_cid, job.fulfill_raw) == ("submitted", "0xfulfil", "bafymeta", None)
    assert jobs.record_mint(mint(1000001, "0xother")) == "new"
    assert jobs.counts()["submitted"] == 1 and jobs.counts()["seen"] == 1


def test_a_later_mint_of_the_same_token_id_is_a_job_of_its_own(tmp_path):
    jobs = JobStore(tmp_path / "state.sqlite")
    assert jobs.record_mint(mint(7, "0xalice")) == "new"
    assert jobs.record_mint(mint(7, "0xalice")) == "known"
    assert jobs.record_mint(mint(7, "0xalice", block=8)) == "moved"
    assert jobs.record_mint(mint(7, "0xbob", block=9)) == "new"
    assert sorted(j.tx_hash for j in jobs.jobs()) == ["0xalice", "0xbob"]


def test_nonces_are_held_per_key_and_a_dropped_job_gives_its_back(tmp_path):
    jobs = JobStore(tmp_path / "state.sqlite")
    for token in (1, 2, 3):
        jobs.record_mint(mint(token, f"0x{token}"))
    claimed = {j.token_id: j.id for j in jobs.claim("w", 10, 60)}
    signed = {}
    for token in (1, 2, 3):
        signed[token] = jobs.store_signed([claimed[token]], "w", "0xKEY", 0,
                                          lambda nonce, outbid: (f"0xhash{nonce}", f"0xraw{nonce}"), 100,
                                          lambda raw: (100, 10))
    assert {t: jobs.for_token(t).fulfill_nonce for t in (1, 2, 3)} == {1: 0, 2: 1, 3: 2}
    jobs.update(claimed[2], None, state="dropped")  # its mint left the chain: nonce 1 is free again
    assert jobs.free_nonce("0xkey", 0) == 1
    assert jobs.free_nonce("0xother", 0) == 0  # another key's nonces are its own
    # Signing again for a job that holds an unused nonce replaces its transaction at that nonce,
    # told the fees it must outbid there; the higher bid is what the next replacement must beat.
    again = jobs.store_signed([claimed[3]], "w", "0xKEY", 0, lambda nonce, outbid: (f"0xnew{nonce}-{outbid}", "0xr"),
                              101, lambda raw: (120, 9))
    assert again == ("0xnew2-(100, 10)", "0xr") and jobs.for_token(3).fulfill_replaced == '["0xhash2"]'
    assert jobs.outbid_at("0xkey", 2) == (120, 10) and jobs.outbid_at("0xkey", 1) == (100, 10)
    assert jobs.store_signed([claimed[1]], "intruder", "0xKEY", 0, lambda n, r: ("0x", "0x"), 102) is None  # no lease


def test_every_job_state_has_a_phase_and_every_phase_a_label():
    from backend.oracle.jobs import STATES
    from backend.oracle.phases import ACTIVITIES, FAILED, PHASE_OF_STATE, PHASES

    assert set(PHASE_OF_STATE) == set(STATES)  # a new state must say how the token page names it
    names = [phase.name for phase in PHASES]
    assert set(PHASE_OF_STATE.values()) - {FAILED} <= set(names) and set(ACTIVITIES) <= set(names)
    assert len(set(names)) == len(names) and all(phase.label for phase in PHASES)


def test_the_waiting_members_of_a_committed_batch_are_claimed_together_due_or_not(tmp_path):
    """Each waiting job has its own next attempt: claimed only when due, a waiting pair and a new
    companion would fall into different passes and never fill their batch (seen in a test run)."""
    import time

    jobs = JobStore(tmp_path / "state.sqlite")
    for token, tx in ((1000000, "0xa"), (1000001, "0xb"), (1000002, "0xc")):
        jobs.record_mint(mint(token, tx))
    first, second, _ = (jobs.for_token(t) for t in (1000000, 1000001, 1000002))
    for job in (first, second):
        jobs.update(job.id, None, next_attempt_at=time.time() + 60)  # waiting for companions
    assert [j.token_id for j in jobs.claim("w", 10, 30)] == [1000002]  # only the due one
    jobs.release("w")
    assert [j.token_id for j in jobs.claim_waiting("w", {1}, 30)] == [1000000, 1000001, 1000002]
    assert jobs.claim_waiting("other", {1}, 30) == []  # held by "w"
    assert jobs.claim_waiting("w", {2}, 30) == []  # another project's jobs are not taken
