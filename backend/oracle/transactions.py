"""The oracle's transaction side: sign each fulfillment once, store it, broadcast it, confirm it,
replace it when stuck, and sign it again without an entry whose mint moved or is gone.

The invariant is "one nonce, at most one fulfillment, and never a signature lost": a transaction
is signed once and stored with its nonce in one SQLite transaction before it is broadcast
(`JobStore.store_signed`), so a crash or a lost reply re-broadcasts the same bytes instead of
signing a second transaction; a stuck one is replaced at the same nonce with higher fees, and
every hash signed for that nonce is watched. A replacement outbids the highest fees signed at its
nonce by 9/8 (nodes refuse less). Nothing is broadcast again unless each of its entries is still
true: a job whose mint moved leaves its transaction (`withdraw`), which is signed again at that
nonce for the rest, or cancelled when none is left. One signing path serves one token and
several alike: every fulfillment is a `fulfillBatch` (of one, or of a round of jobs; the same
bytes stored in each job's row), which skips an entry the chain made impossible instead of
reverting, so a signed transaction that a node mines after a reorg never reverts.
"""

from __future__ import annotations

import json
import logging
from typing import Callable

from backend.chain import settlement
from backend.chain.client import StyleMintClient
from backend.chain.settlement import Commitment
from backend.chain.errors import ContractRevert, RpcRejected
from backend.ipfs.cid import raw_digest
from backend.oracle.jobs import Job, JobStore
from backend.oracle.outcomes import Advance, Fail, Outcome, Wait, failpoint, guarded, outcome_of

log = logging.getLogger("stylemint.oracle")


class FulfillmentSender:
    """`weights_for(job)` gives the style weights a job's fulfillment pays by, `still_true(job)`
    whether its mint and randomness block are where its seed was derived from (the oracle's rules)."""

    def __init__(self, chain: StyleMintClient, jobs: JobStore, signer, config, weights_for: Callable[[Job], list[int]],
                 still_true: Callable[[Job], bool]):
        self.chain, self.jobs, self.signer, self.config = chain, jobs, signer, config
        self.weights_for = weights_for
        self.still_true = still_true
        self.domain = chain.settlement_domain()
        # With a quorum of more than one (backend/oracle/quorum.py): who proposes and countersigns.
        self.quorum = None

    def fulfilled_on_chain(self, job: Job) -> Outcome | None:
        """Idempotency: the chain's own record of this token's fulfillment, if it has one (one read
        of the seed: two reads can straddle a reorg). Another seed than ours fails the job only
        once its fulfillment is final_depth deep; before that a reorg may still take it back."""
        seed = self.chain.token_seed(job.token_id)
        if seed == bytes(32):
            return None
        on_chain = "0x" + seed.hex()
        if on_chain != job.seed:
            block = self.chain.fulfillment_block(job.token_id)
            depth = self.chain.head() - block if block is not None else 0
            if depth < self.config.final_depth:
                return Wait(f"token is fulfilled with seed {on_chain}, not ours ({job.seed}), {depth} of "
                            f"{self.config.final_depth} blocks deep: a reorg may still take it back",
                            self.config.watch_interval)
            return Fail(f"token was fulfilled by another oracle with seed {on_chain}, expected {job.seed}")
        return Advance("fulfilled", {"attempts": 0, "last_error": None}, "already fulfilled on chain")

    def _holds_unused_nonce(self, job: Job, chain_count: int) -> bool:
        return (job.fulfill_nonce is not None and job.fulfill_nonce >= chain_count
                and (job.fulfill_from or "") == self.signer.address.lower())

    def submit_all(self, jobs: list[Job]) -> dict[int, Outcome]:
        """pinned -> submitted, unless the chain already has the fulfillment (then never resend).
        Jobs that hold no unused nonce go out together in one `fulfillBatch`; a job re-signing at a
        nonce it holds (its mint moved, its transaction is stuck) goes alone, replacing its own."""
        outcomes: dict[int, Outcome] = {}
        weights: dict[int, list[int]] = {}
        open_prices: dict[int, bool] = {}  # per project, read once a pass
        for job in jobs:
            done = guarded(self.fulfilled_on_chain, job)
            if done is None and self._price_open(job.project_id, open_prices):
                # An auction with settlement: the core settles the project's tokens only once its
                # price is final (a transaction now would only be skipped), so the job waits.
                outcomes[job.id] = Wait(f"project {job.project_id}'s auction has not settled: its tokens are "
                                        "settled once its price is final")
                continue
            paid_by = self._weights_or_outcome(job) if done is None else done
            if isinstance(paid_by, list):
                weights[job.id] = paid_by
            else:
                outcomes[job.id] = paid_by
        to_send = [job for job in jobs if job.id in weights]
        commitments = {job.id: self.commitment_of(job, weights[job.id]) for job in to_send}
        chain_count = self.chain.transaction_count(self.signer.address) if to_send else 0
        fresh = [job for job in to_send if not self._holds_unused_nonce(job, chain_count)]
        for job in to_send:
            if job not in fresh:
                outcomes[job.id] = self._sign_alone(job, commitments)
        signatures = None
        if fresh and self.quorum is not None:
            try:
                chosen, signatures, waiting = self.quorum.settle(fresh, commitments)
            except Exception as err:  # noqa: BLE001 - the same outcome for every job of the round
                chosen, waiting = [], {}
                outcomes |= {job.id: outcome_of(err, job) for job in fresh}
            outcomes |= {job_id: Wait(reason) for job_id, reason in waiting.items()}
            fresh = chosen
        if fresh:
            try:
                outcomes |= self._sign_and_store(fresh, commitments, signatures)
            except Exception as err:  # noqa: BLE001 - the same outcome for every job of the transaction
                outcomes |= {job.id: outcome_of(err, job) for job in fresh}
        return outcomes

    def _price_open(self, project_id: int, cache: dict[int, bool]) -> bool:
        if project_id not in cache:
            try:
                cache[project_id] = bool(self.chain.project_info(project_id)["priceOpen"])
            except Exception:  # noqa: BLE001 - unreadable now: the submission itself finds out
                cache[project_id] = False
        return cache[project_id]

    @staticmethod
    def commitment_of(job: Job, weights: list[int]) -> Commitment:
        """The job's commitment: as signed at its pin step, else (a job pinned before commitments
        were signed there) built from its row and `weights`."""
        if job.attestation:
            return Commitment.from_json(job.attested()["commitment"])
        return Commitment.of(job.token_id, job.seed, raw_digest(job.metadata_cid), json.loads(job.render_info)["prompt"],
                             weights, job.block_hash, job.randomness_block_hash)

    def _weights_or_outcome(self, job: Job) -> list[int] | Outcome:
        """The weights this job's fulfillment pays by, computed once per submission, or why not."""
        if job.attestation:
            return list(Commitment.from_json(job.attested()["commitment"]).weights_bps)
        try:
            return self.weights_for(job)
        except Exception as err:  # noqa: BLE001 - a job that cannot be weighed ends as an outcome
            return outcome_of(err, job)

    def _sign_alone(self, job: Job, commitments: dict[int, Commitment]) -> Outcome:
        """A job re-signing at a nonce it holds. Under a quorum it is proposed again first (the
        signatures it holds may be over a batch it left)."""
        if self.quorum is None:
            return guarded(lambda j: self._sign_and_store([j], commitments)[j.id], job)

        def propose(j: Job) -> Outcome:
            chosen, signatures, waiting = self.quorum.settle([j], commitments)
            return self._sign_and_store([j], commitments, signatures)[j.id] if chosen else Wait(waiting[j.id])
        return guarded(propose, job)

    def _sign_and_store(self, jobs: list[Job], commitments: dict[int, Commitment],
                        signatures: dict[str, bytes] | None = None) -> dict[int, Outcome]:
        """Sign one `fulfillBatch` transaction for `jobs` once, store it with its nonce in every
        job's row, then broadcast those very bytes. `signatures`: the quorum's over exactly this
        batch (None: a quorum of one, this oracle signs it). If an entry would revert now (a reorg a
        moment ago), each job is sent alone instead (alone: proposed again under a quorum), so one
        stale token does not hold back the others."""
        try:
            tx = self._prepare([commitments[job.id] for job in jobs], signatures)
        except ContractRevert as err:
            if len(jobs) > 1:
                return {job.id: self._sign_alone(job, commitments) for job in jobs}
            return {jobs[0].id: self._would_revert(jobs[0], err)}
        chain_count = self.chain.transaction_count(self.signer.address)
        signed = self.jobs.store_signed(
            [job.id for job in jobs], self.config.worker_id, self.signer.address, chain_count,
            lambda nonce, outbid: self.chain.sign(self.signer, tx, nonce, outbid), self.chain.head(),
            self.chain.fees_of)
        if signed is None:
            return {job.id: Wait("lease lost before signing") for job in jobs}
        tx_hash, raw = signed
        failpoint("after_sign")
        self.chain.broadcast(raw)  # a lost reply is harmless: confirm re-broadcasts the same bytes
        failpoint("after_broadcast")
        event = f"tx={tx_hash}" + (f" batch={len(jobs)}" if len(jobs) > 1 else "")
        return {job.id: Advance("submitted", {}, event) for job in jobs}

    def _prepare(self, commitments: list[Commitment], signatures: dict[str, bytes] | None = None) -> dict:
        """The unsigned `fulfillBatch` of `commitments` with the oracles' signatures over exactly
        this list, signers ascending (without `signatures`: this oracle's own, a quorum of one)."""
        if signatures is None:
            signatures = {self.signer.address: self.signer.sign_settlement(self.domain, commitments)}
        return self.chain.prepare_fulfill_batch(self.signer.address, commitments,
                                                settlement.in_signer_order(signatures))

    def _signers_of(self, signatures: list[bytes], commitments: list[Commitment]) -> dict[str, bytes]:
        """Signatures already over exactly these commitments, by signer (re-sent unchanged)."""
        return {settlement.signer_of(signature, self.domain, commitments): signature for signature in signatures}

    def _would_revert(self, job: Job, err: ContractRevert) -> Outcome:
        """A batch of one whose estimate reverts: fulfillBatch skips what the chain made impossible
        (a reorg, another oracle), so a revert is a malformed entry, unless the token is done."""
        done = self.fulfilled_on_chain(job)
        if done is not None:
            return done
        return Fail(f"fulfill would revert: {err}")

    def _receipt_of_any(self, job: Job):
        """The receipt of whichever transaction signed for this job's nonce made it (or None)."""
        for tx_hash in [job.fulfill_tx, *json.loads(job.fulfill_replaced or "[]")]:
            receipt = self.chain.receipt(tx_hash) if tx_hash else None
            if receipt is not None:
                return tx_hash, receipt
        return None, None

    def confirm(self, job: Job) -> Outcome:
        """submitted -> fulfilled. Not mined: re-broadcast the same bytes, or replace them when stuck."""
        failpoint("in_confirm")
        tx_hash, receipt = self._receipt_of_any(job)
        if receipt is not None and receipt["status"] == 1:
            # Mined: but a batch skips an entry the chain made impossible (FulfillmentSkipped), so
            # the token itself says whether this job is done.
            done = self.fulfilled_on_chain(job)
            if done is None:
                return Advance("pinned", {"fulfill_tx": None, "fulfill_raw": None},
                               f"tx={tx_hash} was mined without fulfilling this token: signing again")
            if isinstance(done, Advance):
                return Advance("fulfilled", {"attempts": 0, "last_error": None},
                               f"tx={tx_hash} block={receipt['blockNumber']}")
            return done
        if receipt is not None:  # reverted: its nonce is spent; sign a new one unless it is done
            return self.fulfilled_on_chain(job) or Advance("pinned", {"fulfill_tx": None, "fulfill_raw": None},
                                                           f"tx={tx_hash} reverted: signing again")
        if job.fulfill_raw is None:  # a state file from before signatures were stored
            return (Wait("fulfill transaction still in the mempool") if self.chain.transaction_pending(job.fulfill_tx)
                    else Advance("pinned", {"fulfill_tx": None}, f"tx={job.fulfill_tx} vanished: sending again"))
        if self.chain.transaction_count(self.signer.address) > job.fulfill_nonce:
            # The nonce went to a transaction of ours that is not in this job's list.
            return self.fulfilled_on_chain(job) or Advance(
                "pinned", {"fulfill_tx": None, "fulfill_raw": None, "fulfill_nonce": None, "fulfill_replaced": None},
                f"nonce {job.fulfill_nonce} was used by another transaction: signing again")
        if not self.chain.transaction_pending(job.fulfill_tx) or self.chain.head() - (
                job.fulfill_sent_block or 0) >= self.config.stuck_blocks:
            # Broadcast again only what is still true: an entry whose mint or randomness block changed
            # is first taken out by its own job's check (`withdraw`), then this job signs anew.
            changed = [other.token_id for other in self.jobs.holders(job.fulfill_tx)
                       if other.id != job.id and not self.still_true(other)]
            if changed:
                return Wait(f"tx={job.fulfill_tx}: the mint of token(s) {changed} changed; they leave it first", 0.2)
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
        """Sign a stuck fulfillment again at its nonce, every entry of it, outbidding it. For a batch,
        only its first job does (two replacements at one nonce would refuse each other)."""
        if not self.jobs.leads(job):
            return Wait(f"tx={job.fulfill_tx} is a batch: its first job replaces it")
        return Wait(f"tx={job.fulfill_tx} was stuck: replaced by tx={self._resign(job, leaving=None)}")

    def withdraw(self, job: Job) -> None:
        """`job` leaves the transaction signed for it (its mint moved or is gone), whose nonce is not
        used yet: the jobs still on it are signed again at that nonce without it, outbidding it,
        or, when none is left (or what is left would revert), the nonce goes to a cancel, so that
        a fulfillment that would revert never lands and no nonce is left a gap."""
        if job.fulfill_nonce is None or job.fulfill_tx is None or (job.fulfill_from or "") != self.signer.address.lower():
            return
        if self.chain.transaction_count(self.signer.address) > job.fulfill_nonce:
            return
        if any(other.fulfill_tx != job.fulfill_tx for other in self.jobs.holders_of_nonce(job.fulfill_from,
                                                                                          job.fulfill_nonce)):
            return  # already signed again at that nonce without this job
        self._resign(job, leaving=job)

    def _resign(self, job: Job, leaving: Job | None) -> str:
        """Sign `job`'s transaction again at its nonce with the entries of the jobs still on it (all
        but `leaving`), or a cancel; store it in their rows, then broadcast it. Returns its hash."""
        staying = [other for other in self.jobs.holders(job.fulfill_tx)
                   if (leaving is None or other.id != leaving.id) and (other.id == job.id or self.still_true(other))]
        tokens = {other.token_id for other in staying}
        signed, signatures = self.chain.fulfill_entries(job.fulfill_raw or "0x")
        entries = [c for c in signed if c.token_id in tokens]
        if entries != signed and self.quorum is not None:
            entries = []  # the quorum signed the whole batch: cancel; the rest are proposed again
        tx = None
        if entries:
            try:
                tx = self._prepare(entries, self._signers_of(signatures, entries) if entries == signed else None)
            except ContractRevert as err:  # what is left would revert: cancel, they sign again fresh
                log.warning("event=resign_reverts tx=%s: %s", job.fulfill_tx, err)
        if tx is None:
            sign, ids, kind = (lambda nonce, outbid: self.chain.sign_cancel(self.signer, nonce, outbid)), [], "cancel"
        else:
            kept = {entry.token_id for entry in entries}
            ids = [other.id for other in staying if other.token_id in kept]
            sign, kind = (lambda nonce, outbid: self.chain.sign(self.signer, tx, nonce, outbid)), "resign"
        tx_hash, raw = self.jobs.store_resigned(ids, job.fulfill_tx, self.signer.address, job.fulfill_nonce, sign,
                                                self.chain.head(), self.chain.fees_of)
        self.chain.broadcast(raw)
        log.warning("event=%s nonce=%d old_tx=%s tx=%s tokens=%s%s", kind, job.fulfill_nonce, job.fulfill_tx, tx_hash,
                    sorted(tokens & {e.token_id for e in entries}) if tx is not None else [],
                    f" without token={leaving.token_id}" if leaving is not None else "")
        return tx_hash
