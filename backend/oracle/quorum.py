"""Operators that find each other's signatures: one `stylemint oracle` of N, settling with M.

A render is a pure function of the seed and the committed manifest, so every honest operator
derives the same commitment for a token (backend/chain/settlement.py) and agreement is equality,
not a tolerance. Each operator publishes its own commitments over HTTP (JSON, 127.0.0.1 by
default, `--listen`), each with its signature over a settlement of that one token (an
"attestation": anyone can check who committed what, and `stylemint watch` compares them). HTTP and
not IPFS: a signature request needs an answer (sign or say why not) within a pass, and peers are
few and known (`--peer URL`); IPFS would add a pin per token and a gateway round trip for no one.

Settling a batch in one transaction needs M signatures over that very batch, so one operator
proposes and the others countersign: `POST /v1/settlements` with a list of commitments and the
proposer's own signature over them. An operator signs only if every commitment equals its own
(it rendered, pinned and committed each token itself); otherwise it answers 409 with a verdict per
token (agree, not ready, or its own differing commitment) and records the disagreement, naming the
proposer. Two different commitments are never merged: a token settles only with M equal ones.

Who proposes: the operator with the lowest address among those reachable leads; the others take
over a token pinned for `takeover_seconds` x their rank (the second lowest first), so a down or
lying leader delays settlement but cannot stop it, and two honest operators rarely send the same
settlement twice (if they do, the contract skips the second as already fulfilled).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import requests
from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from backend.chain import settlement
from backend.chain.settlement import Commitment, Domain
from backend.oracle.jobs import JobStore

log = logging.getLogger("stylemint.oracle")

# States in which an operator has committed to its render of a token (pinned and signed).
COMMITTED = ("pinned", "submitted", "fulfilled", "final")
MAX_BATCH = 100  # commitments one signature request may carry
MAX_REQUEST_BYTES = 1 << 20
AGREE, NOT_READY, DISAGREE, SENT = "agree", "not_ready", "disagree", "sent"


@dataclass(frozen=True)
class Attestation:
    """One operator's commitment to one token, signed as a settlement of that token alone."""

    commitment: Commitment
    oracle: str
    signature: bytes

    def to_json(self) -> dict:
        return {"commitment": self.commitment.to_json(), "oracle": self.oracle, "signature": "0x" + self.signature.hex()}

    @classmethod
    def from_json(cls, data: dict) -> "Attestation":
        return cls(Commitment.from_json(data["commitment"]), str(data["oracle"]),
                   bytes.fromhex(str(data["signature"]).removeprefix("0x")))

    @classmethod
    def sign(cls, signer, domain: Domain, commitment: Commitment) -> "Attestation":
        return cls(commitment, signer.address, signer.sign_settlement(domain, [commitment]))

    def signed_by_oracle(self, domain: Domain) -> bool:
        """Whether the signature is `oracle`'s over this commitment (not whether it is an oracle)."""
        try:
            return settlement.signer_of(self.signature, domain, [self.commitment]).lower() == self.oracle.lower()
        except Exception:  # noqa: BLE001 - a malformed signature is simply not theirs
            return False


def attestation_of(job) -> Attestation | None:
    attested = job.attested() if job is not None else None
    return Attestation.from_json(attested) if attested else None


def own_commitment(jobs: JobStore, token_id: int) -> Commitment | None:
    """This operator's commitment to a token, once it rendered, pinned and signed it."""
    job = jobs.for_token(token_id)
    if job is None or job.state not in COMMITTED:
        return None
    attestation = attestation_of(job)
    return attestation.commitment if attestation else None


def verdicts(jobs: JobStore, commitments: list[Commitment]) -> list[dict]:
    """Per proposed commitment: agree, not_ready (no commitment of ours yet), disagree (with ours), or
    sent: this operator already sent (or saw mined) a settlement of it, so a second one would only be
    skipped on chain at someone's cost; its own transaction is followed to the end by its confirm
    step (re-broadcast, replaced when stuck), so nothing waits on a countersignature for it."""
    out = []
    for commitment in commitments:
        ours = own_commitment(jobs, commitment.token_id)
        verdict = NOT_READY if ours is None else DISAGREE if ours != commitment else AGREE
        if verdict == AGREE and jobs.for_token(commitment.token_id).state != "pinned":
            verdict = SENT
        out.append({"token_id": commitment.token_id, "verdict": verdict,
                    **({"commitment": ours.to_json()} if verdict == DISAGREE else {})})
    return out


def attestation_app(state_path, domain: Domain, signer, is_oracle: Callable[[str], bool]) -> Flask:
    """The operator's HTTP face: its identity, its attestations by token, and countersigning.

    Each request opens the state file itself (SQLite connections are per thread); the signing
    key stays inside `signer`. A proposal must carry an active oracle's own signature over it, so
    nobody else can make this operator record a disagreement."""
    app = Flask("stylemint-oracle")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES

    def store() -> JobStore:
        return JobStore(state_path)

    @app.get("/v1/oracle")
    def identity():
        return jsonify(oracle=signer.address, chain_id=domain.chain_id, quorum=domain.quorum,
                       collection=domain.collection)

    @app.get("/v1/attestations/<int:token_id>")
    def attestations(token_id: int):
        jobs = store()
        try:
            job = jobs.for_token(token_id)
            found = attestation_of(job) if job is not None and job.state in COMMITTED else None
            return jsonify(oracle=signer.address, token_id=token_id, state=job.state if job else None,
                           attestation=found.to_json() if found else None,
                           disagreement=json.loads(job.disagreement) if job is not None and job.disagreement else None)
        finally:
            jobs.close()

    @app.post("/v1/settlements")
    def countersign():
        body = request.get_json(silent=True)
        try:
            commitments = [Commitment.from_json(c) for c in body["commitments"]]
            proposer, proposal = str(body["oracle"]), bytes.fromhex(str(body["signature"]).removeprefix("0x"))
        except (TypeError, KeyError, ValueError, AttributeError) as err:
            return jsonify(error=f"malformed settlement request: {type(err).__name__}: {err}"), 400
        if not 0 < len(commitments) <= MAX_BATCH:
            return jsonify(error=f"a settlement request carries 1 to {MAX_BATCH} commitments"), 400
        try:
            signed_by = settlement.signer_of(proposal, domain, commitments)
        except Exception:  # noqa: BLE001
            signed_by = ""
        if signed_by.lower() != proposer.lower() or not is_oracle(proposer):
            return jsonify(error="the proposal is not signed by the active oracle it names"), 403
        jobs = store()
        try:
            answer = verdicts(jobs, commitments)
            if all(v["verdict"] == AGREE for v in answer):
                return jsonify(oracle=signer.address, signature="0x" + signer.sign_settlement(domain, commitments).hex())
            for commitment, verdict in zip(commitments, answer):
                if verdict["verdict"] == DISAGREE:
                    jobs.record_disagreement(commitment.token_id, proposer, commitment.to_json())
                    log.warning("event=oracles_disagree token=%d oracle=%s", commitment.token_id, proposer)
            return jsonify(oracle=signer.address, verdicts=answer), 409
        finally:
            jobs.close()

    return app


class _QuietHandler(WSGIRequestHandler):
    """No access-log line per request: peers ask every pass; the oracle logs what it decides."""

    def log_request(self, *args, **kwargs) -> None:
        pass


class AttestationServer:
    """`attestation_app` served on a thread (werkzeug's threaded server) for the oracle's lifetime."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0):
        self._server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="attestations", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@dataclass
class Countersigned:
    """What the peers answered to one proposal: valid signatures by oracle, and per-token verdicts."""

    signatures: dict[str, bytes]
    own: bytes
    disagree: dict[int, dict[str, dict]]  # token id -> {oracle: its commitment}
    agree: dict[int, set[str]]  # token id -> oracles that agree with it
    sent: dict[int, str] = field(default_factory=dict)  # token id -> an oracle that already sent it


class Peers:
    """The other operators, by URL: who they are, what they committed, and their countersignatures."""

    def __init__(self, urls: list[str], timeout: float = 3.0):
        self.urls = [url.rstrip("/") for url in urls]
        self.timeout = timeout
        self._session = requests.Session()

    def _get(self, url: str):
        try:
            response = self._session.get(url, timeout=self.timeout)
            return response.json() if response.ok else None
        except (requests.RequestException, ValueError):
            return None

    def reachable(self) -> dict[str, str]:
        """URL -> oracle address of every peer that answers now."""
        found = {}
        for url in self.urls:
            answer = self._get(f"{url}/v1/oracle")
            if isinstance(answer, dict) and isinstance(answer.get("oracle"), str):
                found[url] = answer["oracle"]
        return found

    def attestation(self, url: str, token_id: int) -> dict | None:
        """One operator's answer about one token: its state, attestation (if any) and disagreement."""
        answer = self._get(f"{url}/v1/attestations/{token_id}")
        return answer if isinstance(answer, dict) else None

    def countersign(self, urls: list[str], domain: Domain, commitments: list[Commitment], proposer: str,
                    proposal: bytes, is_oracle: Callable[[str], bool]) -> Countersigned:
        body = {"commitments": [c.to_json() for c in commitments], "oracle": proposer,
                "signature": "0x" + proposal.hex()}
        result = Countersigned({}, proposal, {}, {c.token_id: set() for c in commitments})
        for url in urls:
            try:
                response = self._session.post(f"{url}/v1/settlements", json=body, timeout=self.timeout)
                answer = response.json()
            except (requests.RequestException, ValueError):
                continue
            oracle = answer.get("oracle") if isinstance(answer, dict) else None
            if not isinstance(oracle, str):
                continue
            if response.status_code == 200:
                try:
                    signature = bytes.fromhex(str(answer["signature"]).removeprefix("0x"))
                    signer = settlement.signer_of(signature, domain, commitments)
                except Exception:  # noqa: BLE001 - an unusable answer counts as none
                    continue
                if signer.lower() == oracle.lower() and is_oracle(signer):
                    result.signatures[signer] = signature
                    for commitment in commitments:
                        result.agree[commitment.token_id].add(signer)
            elif response.status_code == 409:
                for verdict in answer.get("verdicts") or []:
                    token = verdict.get("token_id")
                    if token not in result.agree:
                        continue
                    if verdict.get("verdict") == AGREE:
                        result.agree[token].add(oracle)
                    elif verdict.get("verdict") == SENT:
                        result.sent[token] = oracle
                    elif verdict.get("verdict") == DISAGREE and isinstance(verdict.get("commitment"), dict):
                        result.disagree.setdefault(token, {})[oracle] = verdict["commitment"]
        return result


class QuorumRound:
    """The proposing side of one operator: which pinned tokens it settles now, with whose signatures.

    `settle(jobs)` -> (jobs to submit, their signatures by oracle, reasons the others wait)."""

    def __init__(self, peers: Peers, domain: Domain, signer, threshold: int, is_oracle: Callable[[str], bool],
                 jobs: JobStore, takeover_seconds: float):
        self.peers, self.domain, self.signer, self.threshold = peers, domain, signer, threshold
        self.is_oracle, self.jobs, self.takeover_seconds = is_oracle, jobs, takeover_seconds
        self._pinned_since: dict[int, tuple[float, int]] = {}  # job id -> (takeover clock start, rank then)
        self._membership: dict[str, bool] = {}  # address -> isOracle, for one settle pass only

    def rank(self, reachable: dict[str, str]) -> int:
        """0 for the lowest address among this operator and the reachable peers (the leader)."""
        addresses = sorted({self.signer.address.lower(), *(a.lower() for a in reachable.values())},
                           key=lambda a: int(a, 16))
        return addresses.index(self.signer.address.lower())

    def settle(self, jobs: list, commitments: dict[int, Commitment]) -> tuple[list, dict[str, bytes], dict[int, str]]:
        now = time.monotonic()
        # Each address's role is read from the chain once a pass (ranking and every countersignature of
        # both proposals need it), and afresh the next pass: a revoked oracle stops counting there.
        self._membership = {}
        # A peer's address is its own word: only active oracles rank (a stranger claiming a low
        # address cannot make the honest wait); a real one claimed falsely costs one takeover delay.
        reachable = {url: oracle for url, oracle in self.peers.reachable().items() if self._active(oracle)}
        rank = self.rank(reachable)
        for job in jobs:  # the takeover clock runs from when this operator last had fewer ahead of it
            since, ranked = self._pinned_since.get(job.id, (now, rank))
            self._pinned_since[job.id] = (now, rank) if rank > ranked else (since, rank)
        ahead = [url for url, oracle in reachable.items() if int(oracle, 16) < int(self.signer.address, 16)]
        waiting: dict[int, str] = {}
        mine = []
        for job in jobs:
            due = self._pinned_since[job.id][0] + rank * self.takeover_seconds
            sent_by = self._sent_by(ahead, job.token_id) if rank else None
            if sent_by:
                self._pinned_since[job.id] = (now, rank)  # the leader is on it: the clock starts again
                waiting[job.id] = f"{sent_by} sent this settlement; waiting for it to be mined"
            elif now >= due:
                mine.append(job)
            else:
                waiting[job.id] = (f"another oracle leads this settlement; this one takes over in "
                                   f"{due - now:.0f} s if the token is still not settled")
        if not mine:
            return [], {}, waiting
        urls = list(reachable)
        batch = [commitments[job.id] for job in mine]
        answer = self._propose(urls, batch)
        if len(answer.signatures) + 1 >= self.threshold:
            return self._chosen(mine), answer.signatures | {self.signer.address: answer.own}, waiting
        # Not enough countersigned the whole batch: settle now what the M - 1 peers agreeing with the
        # most tokens all agree on, and let the other tokens wait (and say why).
        needed = self.threshold - 1
        counts: dict[str, int] = {}
        for agreeing in answer.agree.values():
            for oracle in agreeing:
                counts[oracle] = counts.get(oracle, 0) + 1
        chosen = set(sorted(counts, key=lambda o: (-counts[o], int(o, 16)))[:needed])
        keep = [job for job in mine if len(chosen) == needed and chosen <= answer.agree[job.token_id]
                and job.token_id not in answer.sent]
        for job in mine:
            if job not in keep:
                waiting[job.id] = self._why(job, answer, len(answer.agree[job.token_id]) + 1)
        if not keep:
            return [], {}, waiting
        batch = [commitments[job.id] for job in keep]
        again = self._propose(urls, batch)
        if len(again.signatures) + 1 >= self.threshold:
            return self._chosen(keep), again.signatures | {self.signer.address: again.own}, waiting
        return [], {}, waiting | {job.id: "the other oracles' answers changed while proposing: trying again"
                                  for job in keep}

    def _active(self, oracle: str) -> bool:
        try:
            return self._is_oracle(oracle)
        except Exception:  # noqa: BLE001 - a malformed address is no oracle
            return False

    def _is_oracle(self, address: str) -> bool:
        """`is_oracle`, asked once per address in a settle pass (a chain call each time otherwise);
        a failed call is not remembered, so it fails again where it is asked."""
        key = address.lower()
        if key not in self._membership:
            self._membership[key] = self.is_oracle(address)
        return self._membership[key]

    def _sent_by(self, urls: list[str], token_id: int) -> str | None:
        """The first operator ahead of this one that says it sent (or saw settled) the token's
        settlement with a commitment equal to ours; its transaction is then not sent twice."""
        for url in urls:
            answer = self.peers.attestation(url, token_id)
            if answer and answer.get("state") in ("submitted", "fulfilled", "final") and answer.get("attestation"):
                try:
                    theirs = Attestation.from_json(answer["attestation"])
                except (KeyError, TypeError, ValueError):
                    continue
                if theirs.signed_by_oracle(self.domain) and theirs.commitment == own_commitment(self.jobs, token_id):
                    return theirs.oracle
        return None

    def _propose(self, urls: list[str], batch: list[Commitment]) -> Countersigned:
        own = self.signer.sign_settlement(self.domain, batch)
        answer = self.peers.countersign(urls, self.domain, batch, self.signer.address, own, self._is_oracle)
        for commitment in batch:
            for oracle, theirs in answer.disagree.get(commitment.token_id, {}).items():
                self.jobs.record_disagreement(commitment.token_id, oracle, theirs)
                log.warning("event=oracles_disagree token=%d oracle=%s", commitment.token_id, oracle)
        return answer

    def _chosen(self, jobs: list) -> list:
        """`jobs` leave the proposer's clock: they are being submitted."""
        for job in jobs:
            self._pinned_since.pop(job.id, None)
        return jobs

    def _why(self, job, answer: Countersigned, agreeing: int) -> str:
        if job.token_id in answer.sent:
            return f"{answer.sent[job.token_id]} already sent this settlement; waiting for it to be mined"
        others = answer.disagree.get(job.token_id)
        if others:
            return ("oracles disagree: " + ", ".join(f"{oracle} committed seed {c.get('seed')} metadata "
                                                     f"{c.get('metadata_digest')} weights {c.get('weights_bps')}"
                                                     for oracle, c in others.items())
                    + f"; {agreeing} of {self.threshold} agree with this oracle's commitment")
        return f"{agreeing} of {self.threshold} oracle signatures: waiting for the other operators' renders"
