"""What each oracle operator committed to, compared: `stylemint watch --operator URL`.

The contract settles a token only with M equal commitments, so a lying operator cannot settle
alone; but it can stall a token (fewer than M agree) or sign beside the honest ones until it is
outvoted. Operators publish every commitment they sign (backend/oracle/quorum.py); reading them
from outside names who differs, before a token settles (the operators disagree: the token waits)
and after (an operator whose signed commitment is not what the chain settled).
"""

from __future__ import annotations

from typing import Callable

from backend.chain.client import StyleMintClient
from backend.chain.settlement import Proof
from backend.oracle.quorum import Attestation, Peers


def _describe(commitment) -> str:
    return (f"seed 0x{commitment.seed.hex()[:16]}..., metadata 0x{commitment.metadata_digest.hex()[:16]}..., "
            f"weights {list(commitment.weights_bps)}")


class OperatorWatch:
    """`alert(token_id, message)` for every operator commitment that disagrees (each said once)."""

    def __init__(self, chain: StyleMintClient, urls: list[str], alert: Callable[[int, str], None]):
        self.chain, self.alert = chain, alert
        self.peers = Peers(urls)
        self.domain = chain.settlement_domain()
        self._said: set[tuple] = set()

    def attestations(self, token_id: int) -> list[Attestation]:
        """The valid attestations the operators publish for a token: each signed by the oracle it
        names, which must be an oracle now (anything else is no evidence of anything)."""
        found = []
        for url in self.peers.urls:
            answer = self.peers.attestation(url, token_id) or {}
            try:
                attestation = Attestation.from_json(answer["attestation"])
            except (KeyError, TypeError, ValueError):
                continue
            if attestation.commitment.token_id == token_id and attestation.signed_by_oracle(self.domain) \
                    and self.chain.is_oracle(attestation.oracle):
                found.append(attestation)
        return found

    def _say(self, token_id: int, key: tuple, message: str) -> bool:
        if key in self._said:
            return False
        self._said.add(key)
        self.alert(token_id, message)
        return True

    def check_pending(self, token_id: int) -> int:
        """Alerts when two operators committed differently to a token not settled yet."""
        attestations = self.attestations(token_id)
        distinct = {a.commitment for a in attestations}
        if len(distinct) < 2:
            return 0
        message = "oracles disagree, the token waits: " + "; ".join(
            f"{a.oracle} committed {_describe(a.commitment)}" for a in attestations)
        return int(self._say(token_id, ("pending", token_id, frozenset(distinct)), message))

    def check_settled(self, token_id: int) -> int:
        """Alerts for each operator whose signed commitment is not the one the chain settled."""
        settled = self.chain.aigc_data(token_id)
        if settled is None:
            return 0
        proof = Proof.decode(settled["proof"])
        alerts = 0
        for attestation in self.attestations(token_id):
            ours = attestation.commitment
            if (ours.seed, ours.metadata_digest, ours.weights_bps, ours.mint_block_hash, ours.randomness_block_hash) \
                    == (proof.seed, settled["aigc_data"], proof.weights_bps, proof.mint_block_hash,
                        proof.randomness_block_hash):
                continue
            alerts += self._say(token_id, ("settled", token_id, attestation.oracle),
                                f"oracle {attestation.oracle} signed a commitment the quorum did not settle: "
                                f"{_describe(ours)}; settled: seed 0x{proof.seed.hex()[:16]}..., metadata "
                                f"0x{settled['aigc_data'].hex()[:16]}..., weights {list(proof.weights_bps)}")
        return alerts
