"""The words for where a token is between its mint and its fulfillment: one table, read by the
oracle (what it records while it works), the web view (a job's state as the token page names it)
and, through the API, the token page itself. A new step is added here and nowhere else.
"""

from __future__ import annotations

from typing import NamedTuple


class Phase(NamedTuple):
    name: str
    label: str  # the token page's step
    doing: str | None  # what the page says while the token is at this step


# In the order a token passes them.
PHASES = (
    Phase("queued", "Minted", "the oracle has not started on it yet"),
    Phase("waiting", "Seed randomness", "waiting for the block whose randomness completes the seed"),
    Phase("rendering", "Render", None),
    Phase("pinning", "Pin to IPFS", "pinning the image and its metadata"),
    Phase("submitting", "Submit to the chain", "signing the fulfillment"),
    Phase("submitted", "Confirm on chain", "waiting for the fulfillment to be mined"),
    Phase("fulfilled", "Fulfilled", None),
)
QUEUED, WAITING, RENDERING, PINNING, SUBMITTING, SUBMITTED, FULFILLED = (phase.name for phase in PHASES)
FAILED = "failed"  # not a step: the token stopped after its mint, with a reason

# A job's state (backend/oracle/jobs.py) as the token page names it. A job the chain has seen
# fulfilled but the token index has not yet is still "submitted"; a dropped mint waits to be seen
# again. While a job is `seen` the oracle records WAITING or RENDERING as its activity.
PHASE_OF_STATE = {"seen": QUEUED, "rendered": PINNING, "pinned": SUBMITTING, "submitted": SUBMITTED,
                  "fulfilled": SUBMITTED, "final": SUBMITTED, "failed": FAILED, "dropped": QUEUED}
ACTIVITIES = (WAITING, RENDERING)


def phases_json() -> list[dict]:
    """The steps for the token page: name, label and what is happening, in order."""
    return [phase._asdict() for phase in PHASES]
