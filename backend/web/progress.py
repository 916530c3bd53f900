"""Where the oracle is with a token not fulfilled yet, as the token page follows it live.

Read from the oracle's own state file (opened once per request, as Flask's tutorial opens its
database) and named by the one table of phases in backend/oracle/phases.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import g

from backend.oracle.jobs import JobStore
from backend.oracle.phases import ACTIVITIES, FAILED, PHASE_OF_STATE, QUEUED, RENDERING, SUBMITTED, WAITING


def open_jobs(state_path: Path | None) -> JobStore | None:
    """The oracle's state file for this request (Flask's `g`), closed by `close_jobs` when the
    request ends; None where no oracle has run."""
    if not state_path or not state_path.exists():
        return None
    if "oracle_jobs" not in g:
        g.oracle_jobs = JobStore(state_path)
    return g.oracle_jobs


def close_jobs(_error=None) -> None:
    jobs = g.pop("oracle_jobs", None)
    if jobs is not None:
        jobs.close()


def progress_of(jobs: JobStore | None, token_id: int) -> dict:
    """`phase` is queued | waiting (for its randomness; `reason`) | rendering (`step` of `steps`) |
    pinning | submitting | submitted (`fulfill_tx`) | failed (`reason`); `retrying` carries the
    last error of a step the oracle will try again; `disagree` lists each operator's commitment
    when they differ (this oracle's first)."""
    job = jobs.for_token(token_id) if jobs else None
    if job is None:
        return {"phase": QUEUED}
    activity = json.loads(job.activity) if job.activity else {}
    phase = PHASE_OF_STATE.get(job.state, QUEUED)
    if job.state == "seen" and activity.get("phase") in ACTIVITIES:
        phase = activity["phase"]
    progress = {"phase": phase}
    if phase == RENDERING:
        progress |= {"step": activity.get("step", 0), "steps": activity.get("steps", 0)}
    elif phase == WAITING:
        progress["reason"] = activity.get("reason")
    elif phase == FAILED:
        progress["reason"] = job.last_error
    elif phase == SUBMITTED:
        progress["fulfill_tx"] = job.fulfill_tx
    if phase != FAILED and job.attempts:
        progress["retrying"] = job.last_error
    if job.disagreement:  # other operators committed otherwise (backend/oracle/quorum.py): each one named
        ours = job.attested()
        progress["disagree"] = ([{"oracle": ours["oracle"], **ours["commitment"]}] if ours else []) + [
            {"oracle": oracle, **commitment} for oracle, commitment in json.loads(job.disagreement).items()]
    return progress


def pending_state(progress: dict) -> tuple[str, str | None]:
    """(failed | rendering | pending, the failure's reason) of a token not fulfilled yet, from the
    one `progress` read that the page also shows (two reads could straddle a failure)."""
    if progress["phase"] == FAILED:
        return "failed", progress["reason"]
    return ("pending" if progress["phase"] in (QUEUED, WAITING) else "rendering"), None
