"""Verify one token from public data only: the chain, content by CID, and the render algorithm.

Each check closes one hole (docs/VERIFY.md says which):
1. token    the token exists and is fulfilled; its project, on-chain seed and metadata CID
2. seed     the Mint log for this token is in a canonical block and the seed is derived from
            its transaction and the RANDAO of block mint + D (docs/RENDER_SPEC.md §1), not
            something the oracle chose; a seed from the retired rule or another block is named
3. manifest the manifest in force at the mint (the last one set before the Mint log, from the
            event history) hashes to the Mint log's value; whether the project was locked first
4. metadata the metadata and image fetched by CID (re-hashed); every claim the verifier can derive
            (chain facts, names, traits, prompt, hashes of the bytes, the committed environment)
            is checked and a false one is named; whatever an oracle wrote is type-checked first
5. settlement the token's ERC-7007 proof commits to its seed, blocks, prompt and metadata, signed
            by at least M distinct oracles active at that block (named in the report)
6. model    the model's weights hash equals the manifest's
7. render   re-render in the committed environment and compare: exact (same PNG bytes), tolerant
            (only when this machine is outside the committed environment class; small edits
            cannot be excluded then, and it has its own exit code) or mismatch
8. attribution the style weights re-computed with the render equal the recorded ones (within
            1 % per style outside the committed class)

Every input an oracle or an artist controls ends in a verdict, never in a traceback.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import asdict, dataclass, field
from enum import IntEnum

import numpy as np
from eth_utils import keccak

from backend.chain import project_of
from backend.chain.client import StyleMintClient
from backend.chain.errors import ChainUnavailable, ContractRevert
from backend.chain.manifests import ManifestNotInForce, manifest_at_mint
from backend.chain.settlement import Proof
from backend.chain.split import split_sale
from backend.chain.styles import adapters_loaded, registered_style, style_problems
from backend.chain.types import MintLog, to_hex
from backend.ipfs.cid import InvalidCID, canonical, cid_of, raw_digest
from backend.ipfs.errors import IpfsError, IpfsUnavailable, NotFound
from backend.ipfs.store import ContentStore
from backend.render.compare import compare_pixels, within_tolerance
from backend.render.environment import class_differences
from backend.render.manifest import ManifestError, StyleManifest
from backend.render.png_header import PngRefused, check_png
from backend.render.renderer import ModelHashMismatch, RenderError, Renderer, RenderResult, committed_size
from backend.render.seed import derive_seed, derive_seed_v1
from backend.verify import claims

log = logging.getLogger(__name__)

MAX_TOKEN_ID = 2**256 - 1
# What a provenance claim may make the verifier do when the manifest commits to no environment.
MAX_THREADS = 64
MAX_BATCH = 8
# Outside the committed environment the attention sums move in their last digits; a style's
# weight may then differ by this many basis points (1 %) and still be the same attribution.
ATTRIBUTION_TOLERANCE_BPS = 100


class Outcome(IntEnum):
    """Exit codes of `stylemint verify`: 0 only for exact; 3 for tolerant (not proven exact)."""

    EXACT = 0
    TOLERANT = 3
    IMAGE_MISMATCH = 10
    SEED_MISMATCH = 11
    MANIFEST_MISMATCH = 12
    METADATA_MISMATCH = 13
    MODEL_MISMATCH = 14
    NOT_FULFILLED = 15
    UNKNOWN_TOKEN = 16
    UNREACHABLE = 17
    ERROR = 18  # a bug in the verifier: reported, never a traceback
    ATTRIBUTION_MISMATCH = 19
    UNAVAILABLE = 20  # content this verifier's source does not have: not checked, never a mismatch
    SETTLEMENT_MISMATCH = 21  # the token's ERC-7007 proof does not commit to it, or too few oracles signed

    @property
    def exit_code(self) -> int:
        return int(self)


class Refuted(Exception):
    def __init__(self, outcome: Outcome, reason: str):
        super().__init__(reason)
        self.outcome = outcome
        self.reason = reason


@dataclass
class Check:
    step: str
    passed: bool
    detail: str
    evidence: dict = field(default_factory=dict)
    warning: bool = False


@dataclass
class Report:
    token_id: int
    outcome: str = ""
    exit_code: int = 0
    reason: str = ""
    checks: list[Check] = field(default_factory=list)
    comparison: dict = field(default_factory=dict)
    # False unless the pinned image is proven to be exactly the render (byte- or pixel-identical):
    # a tolerant verdict cannot exclude small edits within the tolerance.
    small_edits_excluded: bool = False
    timings: dict[str, float] = field(default_factory=lambda: {"chain_s": 0.0, "ipfs_s": 0.0, "render_s": 0.0})
    # A committed batch's token (RENDER_SPEC §5a): its batch, and each companion the one batch
    # render confirmed byte for byte (`confirmed`) or could not (`unconfirmed`: token -> why).
    batch: dict | None = None

    def to_json(self) -> dict:
        return asdict(self)


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


class Verifier:
    def __init__(self, chain: StyleMintClient, content: ContentStore, *, device: str | None = None,
                 threads: int | None = None, batch_size: int | None = None, models_dir=None,
                 cross_check: bool = False):
        self.cross_check = cross_check  # also measure the styles the other way (`verify --cross-check`)
        self.chain = chain
        self.content = content
        self.device = device
        self.threads = threads
        self.batch_size = batch_size
        self.models_dir = models_dir
        self._renderers: dict[tuple, Renderer] = {}
        self._batches: dict[tuple, list[RenderResult]] = {}  # the last committed batch re-rendered

    # -- helpers ------------------------------------------------------------------------------

    def _timed(self, bucket: str, report: Report, function, *args):
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            report.timings[bucket] += time.perf_counter() - started

    def _fetch(self, report: Report, cid: str, what: str, *, same_cid: bool = True) -> bytes:
        """Content by CID from whatever source, re-hashed here: no store or gateway is trusted.

        `same_cid=False` for content authenticated otherwise (the manifest, by the sha256 in the
        Mint log): any CID form of the same bytes is accepted then."""
        outcome = {"manifest": Outcome.MANIFEST_MISMATCH, "image": Outcome.IMAGE_MISMATCH}.get(what, Outcome.METADATA_MISMATCH)
        try:
            name = canonical(cid)
        except InvalidCID:
            report.checks.append(Check(what if what != "image" else "metadata", False, f"the {what} CID {cid!r} is not a CID"))
            raise Refuted(outcome, f"the {what} CID {cid!r} is not a CID") from None
        try:
            data = self._timed("ipfs_s", report, self.content.get, name)
        except IpfsUnavailable as err:
            raise Refuted(Outcome.UNREACHABLE, f"{what} {cid}: {err}") from None
        except NotFound as err:  # absent from this source is no evidence about the token
            reason = (f"the {what} {name} could not be fetched from {self.content!r} ({err}): the token was not "
                      "checked; pass --ipfs with a node or gateway that has it")
            report.checks.append(Check(what if what != "image" else "metadata", False, reason))
            raise Refuted(Outcome.UNAVAILABLE, reason) from None
        except IpfsError as err:
            raise Refuted(outcome, f"{what} {cid} cannot be fetched intact: {err}") from None
        if same_cid and cid_of(data) != name:
            report.checks.append(Check(what if what != "image" else "metadata", False,
                                       f"the {what} served for {cid} hashes to {cid_of(data)}"))
            raise Refuted(outcome, f"the {what} served for {cid} is not that content (it hashes to {cid_of(data)})")
        return data

    def renderer_for(self, environment: dict) -> Renderer:
        """A renderer set up in the committed environment's thread count and batch shape (bounded
        by the manifest schema), unless this auditor overrides them."""
        threads = self.threads or environment["threads"]
        batch_size = self.batch_size or environment["batch_size"]
        key = (self.device, threads, batch_size)
        if key not in self._renderers:
            self._renderers[key] = Renderer(
                device=self.device, threads=threads, batch_size=batch_size, models_dir=self.models_dir,
                fetch_adapter=self.content.get)
        return self._renderers[key]

    # -- the verification ----------------------------------------------------------------------

    def verify(self, token_id: int) -> Report:
        report = Report(token_id=token_id)
        try:
            if isinstance(token_id, bool) or not isinstance(token_id, int) or not 0 <= token_id <= MAX_TOKEN_ID:
                raise Refuted(Outcome.UNKNOWN_TOKEN, f"token ids are integers 0 .. 2^256-1, got {token_id!r}")
            outcome, reason = self._verify(token_id, report)
        except Refuted as refuted:
            outcome, reason = refuted.outcome, refuted.reason
        except claims.FalseClaim as err:
            report.checks.append(Check("metadata", False, str(err)))
            outcome, reason = Outcome.METADATA_MISMATCH, str(err)
        except ChainUnavailable as err:
            outcome, reason = Outcome.UNREACHABLE, f"the RPC at {self.chain.rpc_url} did not answer: {err}"
        except Exception as err:  # noqa: BLE001 - an auditor gets a verdict, never a traceback
            log.exception("verifying token %s", token_id)
            outcome, reason = Outcome.ERROR, f"the verifier could not finish: {type(err).__name__}: {err}"
        report.outcome = outcome.name.lower()
        report.exit_code = outcome.exit_code
        report.reason = reason
        return report

    def _verify(self, token_id: int, report: Report) -> tuple[Outcome, str]:
        """The checks in order; each records what it saw and raises Refuted when it fails."""
        token = _Token(token_id)
        self._check_token(token, report)
        self._check_seed(token, report)
        self._check_manifest(token, report)
        self._check_metadata(token, report)
        self._check_settlement(token, report)
        result = self._check_model(token, report)
        outcome, reason = self._check_render(token, result, report)
        if token.batch is not None and outcome == Outcome.EXACT:
            self._check_companions(token, report)
        if outcome in (Outcome.EXACT, Outcome.TOLERANT):
            if token.manifest.styles:
                self._check_attribution(token, result, report)
            if adapters_loaded(token.manifest):
                self._check_payment(token, result, report)
            if self.cross_check and token.manifest.styles:
                self._cross_check(token, result, report)
        return outcome, reason

    def _cross_check(self, token: "_Token", result: RenderResult, report: Report) -> None:
        """The styles measured the other way beside the recorded measure: for attention, one more
        render per style without it (counterfactual), and the reverse. Reported, never a verdict:
        the two measure different things (where a style acted vs how far the pixels moved), so an
        auditor reads how far they agree (a warning when they rank the styles differently)."""
        other = "counterfactual" if token.manifest.attribution == "attention" else "attention"
        manifest = token.manifest.model_copy(update={"attribution": other})
        renderer = self.renderer_for(token.environment)
        measured = self._timed("render_s", report, renderer.render, manifest, token.seed).attribution
        recorded = [s["weight_bps"] for s in result.attribution["styles"]]
        crossed = [s["weight_bps"] for s in measured["styles"]]
        order = lambda weights: sorted(range(len(weights)), key=lambda i: (-weights[i], i))  # noqa: E731
        agree = order(recorded) == order(crossed)
        shares = ", ".join(f"{s['trigger']} {a / 100:.2f} % ({token.manifest.attribution}) vs {b / 100:.2f} % ({other})"
                           for s, a, b in zip(result.attribution["styles"], recorded, crossed))
        report.comparison["cross_check"] = {token.manifest.attribution: result.attribution, other: measured}
        report.checks.append(Check("cross_check", True, f"{shares}: the two measures "
                                   f"{'rank the styles alike' if agree else 'rank the styles differently'}",
                                   report.comparison["cross_check"], warning=not agree))

    def _chain(self, report: Report, function, *args):
        return self._timed("chain_s", report, function, *args)

    def _check_token(self, token: "_Token", report: Report) -> None:
        """1. The token exists and is fulfilled: its project, on-chain seed and metadata CID."""
        try:
            token.project_id = self._chain(report, self.chain.view, "tokenProject", token.token_id)
        except ContractRevert:
            report.checks.append(Check("token", False, f"token {token.token_id} was never minted on {self.chain.address}"))
            raise Refuted(Outcome.UNKNOWN_TOKEN, f"token {token.token_id} does not exist") from None
        token.seed = bytes(self._chain(report, self.chain.token_seed, token.token_id))
        token.metadata_cid = self._chain(report, self.chain.view, "tokenMetadataCID", token.token_id)
        if token.seed == bytes(32):
            report.checks.append(Check("token", False, "minted but not fulfilled: no seed or metadata on chain",
                                       {"project_id": token.project_id}))
            raise Refuted(Outcome.NOT_FULFILLED, f"token {token.token_id} is not fulfilled yet")
        report.checks.append(Check("token", True, f"project {token.project_id}, fulfilled",
                                   {"project_id": token.project_id, "seed": "0x" + token.seed.hex(),
                                    "metadata_cid": token.metadata_cid}))

    def _check_seed(self, token: "_Token", report: Report) -> None:
        """2. The seed comes from this token's mint, in a canonical block."""
        logs = self._chain(report, self.chain.mint_logs_for_token, token.token_id)
        if len(logs) != 1:
            report.checks.append(Check("seed", False, f"{len(logs)} Mint logs for this token"))
            raise Refuted(Outcome.SEED_MISMATCH,
                          f"expected exactly one Mint log for token {token.token_id}, found {len(logs)}")
        mint = token.mint = logs[0]
        receipt = self._chain(report, self.chain.receipt, mint.tx_hash)
        in_receipt = receipt is not None and any(m.token_id == token.token_id
                                                 for m in self.chain.mint_logs_in_receipt(receipt))
        canonical_hash = self._chain(report, self.chain.block_hash, mint.block_number)
        if not in_receipt or canonical_hash != mint.block_hash or to_hex(receipt["blockHash"]) != mint.block_hash:
            report.checks.append(Check("seed", False, "the mint's receipt or block is not canonical",
                                       {"tx": mint.tx_hash, "block": mint.block_number}))
            raise Refuted(Outcome.SEED_MISMATCH, "the Mint log's transaction or block is not in the canonical chain")
        chain_id, delay = self._chain(report, self.chain.chain_id), self._chain(report, self.chain.randomness_delay)
        number = mint.block_number + delay
        block = self._chain(report, self.chain.block_randomness, number)
        if block is None:
            report.checks.append(Check("seed", False, f"randomness block {number} does not exist yet"))
            raise Refuted(Outcome.SEED_MISMATCH, f"fulfilled before its randomness block {number} exists")
        token.randomness_block = (number, *block)

        def seed_from(randao: str) -> bytes:
            return derive_seed(chain_id, self.chain.address, token.token_id, mint.tx_hash, randao)

        expected_seed = seed_from(block[1])
        evidence = {"mint_tx": mint.tx_hash, "mint_block": mint.block_number, "mint_block_hash": mint.block_hash,
                    "randomness_block": number, "randomness_block_hash": block[0], "randomness": block[1],
                    "expected_seed": "0x" + expected_seed.hex(), "on_chain_seed": "0x" + token.seed.hex()}
        if token.seed != expected_seed:
            why = self._name_the_lie(report, token.seed, mint, number, seed_from)
            evidence["lie"] = why
            report.checks.append(Check("seed", False, f"on-chain seed is {why}", evidence))
            raise Refuted(Outcome.SEED_MISMATCH, f"on-chain seed is {why}; expected the seed of the mint transaction "
                                                 f"and the RANDAO of block {number}")
        report.checks.append(Check("seed", True, f"seed = the mint transaction with the RANDAO of block {number} "
                                   f"(mint + {delay}), mint in a canonical block", evidence))

    def _name_the_lie(self, report: Report, seed: bytes, mint: MintLog, number: int, seed_from) -> str:
        """What a wrong seed is, when it is something recognisable: the retired rule (which a block
        builder could choose), the RANDAO of a nearby block, or the bare transaction hash."""
        if seed == derive_seed_v1(mint.tx_hash, mint.block_hash):
            return "derived by the retired rule keccak256(mintTxHash ‖ mintBlockHash), which the mint block's builder could choose"
        if seed.hex() == mint.tx_hash[2:]:
            return "the bare mint transaction hash"
        for other in range(max(0, mint.block_number - 2), number + 3):
            if other == number:
                continue
            block = self._chain(report, self.chain.block_randomness, other)
            if block is not None and seed == seed_from(block[1]):
                return f"derived from the RANDAO of the wrong block ({other}, not {number})"
        return "not derived from the mint"

    def _check_manifest(self, token: "_Token", report: Report) -> None:
        """3. The manifest in force at the mint (event history up to the Mint log) hashes to the
        Mint log's value; was the project locked before the mint?"""
        manifest_hash = token.mint.manifest_hash.hex()

        def fetch(cid: str) -> bytes:
            token.manifest_cid = cid
            return self._fetch(report, cid, "manifest", same_cid=False)

        try:  # the oracle's own rule (backend/chain/manifests.py); its chain lookup is not timed apart
            token.manifest, cid = manifest_at_mint(self.chain, token.mint, fetch)
        except ManifestNotInForce:
            report.checks.append(Check("manifest", False, "the Mint log's manifest hash was not in force at the mint",
                                       {"on_chain_hash": "0x" + manifest_hash}))
            raise Refuted(Outcome.MANIFEST_MISMATCH, f"no manifest with hash 0x{manifest_hash} was in force at the mint") from None
        except ManifestError as err:
            report.checks.append(Check("manifest", False, str(err),
                                       {"manifest_cid": token.manifest_cid, "on_chain_hash": "0x" + manifest_hash}))
            raise Refuted(Outcome.MANIFEST_MISMATCH, f"manifest {token.manifest_cid}: {err}") from None
        locked_block = self._chain(report, self.chain.lock_block, token.project_id)
        locked_before = locked_block is not None and locked_block <= token.mint.block_number
        committed = token.manifest.environment
        report.checks.append(Check("manifest", True, f"manifest {cid} hashes to the on-chain 0x{manifest_hash[:12]}...",
                                   {"manifest_cid": cid, "manifest_sha256": "0x" + manifest_hash,
                                    "locked_block": locked_block,
                                    "committed_environment": committed.model_dump() if committed else None}))
        if not locked_before:
            report.checks.append(Check("manifest", True, "project was not locked before this mint: its artist could "
                                       "still change the style at the time", {"locked_block": locked_block},
                                       warning=True))
        if committed is None:
            report.checks.append(Check("manifest", True, "the manifest commits to no render environment: only a "
                                       "byte-exact re-render counts", warning=True))

    def _check_metadata(self, token: "_Token", report: Report) -> None:
        """4. Metadata and image fetched by CID (re-hashed); every claim checked against what the
        chain, the manifest, the seed and the image bytes say."""
        metadata_bytes = self._fetch(report, token.metadata_cid, "metadata")
        metadata, token.provenance, token.image_cid = claims.parse(metadata_bytes)
        mint = token.mint
        expected = {
            "token_id": str(token.token_id), "seed": "0x" + token.seed.hex(), "mint_tx": mint.tx_hash,
            "mint_block_hash": mint.block_hash, "mint_block_number": mint.block_number,
            "randomness_block_number": token.randomness_block[0], "randomness_block_hash": token.randomness_block[1],
            "randomness": token.randomness_block[2], "chain_id": self.chain.chain_id(), "contract": self.chain.address, "manifest_cid": token.manifest_cid,
            "manifest_sha256": "0x" + mint.manifest_hash.hex(), "model_sha256": token.manifest.model.sha256,
            "image_cid": token.image_cid,
        }
        disagreements = {k: {"metadata": token.provenance.get(k), "chain": v} for k, v in expected.items()
                         if str(token.provenance.get(k)).lower() != str(v).lower()}
        if disagreements:
            report.checks.append(Check("metadata", False, "provenance disagrees with the chain", disagreements))
            raise Refuted(Outcome.METADATA_MISMATCH,
                          f"metadata provenance disagrees with the chain on {', '.join(sorted(disagreements))}")
        token.environment = claims.environment(token.provenance, token.manifest.environment, MAX_THREADS, MAX_BATCH)
        token.image = self._fetch(report, token.image_cid, "image")
        try:  # bounded work: the header is read before a byte is decoded
            check_png(token.image, token.manifest.width, token.manifest.height)
        except PngRefused as err:
            report.checks.append(Check("metadata", False, f"the image {token.image_cid} is refused undecoded: {err}"))
            raise Refuted(Outcome.IMAGE_MISMATCH, f"the image {token.image_cid} is refused undecoded: {err}") from None
        try:
            token.pixels = _pixels(token.image)
        except Exception:  # noqa: BLE001 - Pillow raises many types for bytes that are not an image
            report.checks.append(Check("metadata", False, f"the image {token.image_cid} is not a PNG image"))
            raise Refuted(Outcome.IMAGE_MISMATCH, f"the image {token.image_cid} is not a PNG image") from None
        info = self._chain(report, self.chain.project_info, token.project_id)
        derived = claims.derive(
            token_id=token.token_id, project_id=token.project_id, project_name=info["name"], artist=info["artist"],
            manifest=token.manifest, manifest_cid=token.manifest_cid, seed=token.seed, image=token.image,
            pixels=token.pixels, image_cid=token.image_cid, chain_id=self.chain.chain_id(), contract=self.chain.address,
            mint=mint, randomness_block=token.randomness_block, claimed=metadata,
            batch=self._check_batch(token, report) if committed_size(token.manifest) > 1 else None)
        lies = claims.differences(derived, metadata)
        if lies:
            report.checks.append(Check("metadata", False, "metadata claims that are false",
                                       {path: {"metadata": got, "derived": want} for path, (got, want) in lies.items()}))
            raise Refuted(Outcome.METADATA_MISMATCH, f"metadata claims are false: {', '.join(lies)}")
        report.checks.append(Check("metadata", True, f"metadata {token.metadata_cid} and image {token.image_cid} "
                                   "fetched intact; every derivable claim is true",
                                   {"image_cid": token.image_cid, "png_sha256": token.provenance.get("png_sha256")}))

    def _check_settlement(self, token: "_Token", report: Report) -> None:
        """5. Who settled it: the token's ERC-7007 AigcData proof commits to this token's seed, mint
        and randomness blocks, rendered prompt and metadata digest, and carries the signatures of at
        least M distinct oracles active just before the settlement's block; they are named."""
        log_entry = self._chain(report, self.chain.aigc_data, token.token_id)

        def refuted(why: str, evidence: dict | None = None):
            report.checks.append(Check("settlement", False, why, evidence or {}))
            return Refuted(Outcome.SETTLEMENT_MISMATCH, why)

        if log_entry is None:
            raise refuted("fulfilled without an AigcData proof: no oracle quorum is on record for this token")
        try:
            proof = Proof.decode(log_entry["proof"])
        except Exception:  # noqa: BLE001 - bytes the contract emitted, but never a traceback
            raise refuted("the AigcData proof is not a StyleMint proof") from None
        prompt = str(token.provenance.get("prompt", "")).encode()
        expected = {"token_id": (proof.token_id, token.token_id), "seed": (proof.seed, token.seed),
                    "mint_block_hash": ("0x" + proof.mint_block_hash.hex(), token.mint.block_hash),
                    "randomness_block_hash": ("0x" + proof.randomness_block_hash.hex(), token.randomness_block[1]),
                    "metadata_digest": (log_entry["aigc_data"], raw_digest(token.metadata_cid)),
                    "prompt": (log_entry["prompt_hash"], keccak(prompt))}
        wrong = sorted(name for name, (got, want) in expected.items() if got != want)
        if wrong:
            raise refuted(f"the settlement's commitment differs from the token on {', '.join(wrong)}")
        before = log_entry["block"] - 1  # the oracle set and M the settlement was checked against
        digest = self._chain(report, self.chain.settlement_digest, list(proof.fulfilments), log_entry["block"])
        signers = proof.signers(digest)
        threshold = self._chain(report, self.chain.oracle_threshold, before)
        active = [s for s in dict.fromkeys(signers) if self._chain(report, self.chain.is_oracle, s, before)]
        evidence = {"block": log_entry["block"], "signers": signers, "threshold": threshold,
                    "weights_bps": list(proof.weights_bps), "batch": len(proof.fulfilments)}
        if len(active) < threshold or len(active) != len(signers):
            raise refuted(f"{len(active)} distinct active oracle(s) signed, {threshold} required: "
                          f"{', '.join(signers) or 'nobody'}", evidence)
        if not self._chain(report, self.chain.verify_aigc, prompt, log_entry["aigc_data"], log_entry["proof"], before):
            raise refuted("ERC-7007 verify rejects the proof at the settlement's block", evidence)
        report.checks.append(Check("settlement", True, f"settled in block {log_entry['block']} by {len(signers)} of "
                                   f"{threshold} required oracles: {', '.join(signers)}", evidence))

    def _check_batch(self, token: "_Token", report: Report) -> dict:
        """4b. A committed batch's token (RENDER_SPEC §5a): its provenance names the batch it was
        rendered in: the committed size, its tokens in token-id order (this project's, this token
        at its row) and each row's seed, which must be that token's seed as the chain derives it.
        Any other batch is a false claim (metadata_mismatch)."""
        claim, size = token.provenance.get("batch"), committed_size(token.manifest)

        def false(why: str) -> claims.FalseClaim:
            return claims.FalseClaim(f"provenance.batch: {why}")

        if not isinstance(claim, dict) or set(claim) != {"size", "row", "tokens", "seeds"}:
            raise false(f"the project commits batches of {size}: the batch (size, row, tokens, seeds) must be recorded")
        tokens, seeds, row = claim["tokens"], claim["seeds"], claim["row"]
        if claim["size"] != size:
            raise false(f"a batch of {claim['size']!r} claimed, the project commits {size}")
        if not (isinstance(tokens, list) and isinstance(seeds, list) and 1 <= len(tokens) <= size
                and len(seeds) == len(tokens) and all(isinstance(t, str) and t.isascii() and t.isdigit() for t in tokens)):
            raise false(f"1 to {size} tokens (decimal strings) and one seed for each")
        ids = [int(t) for t in tokens]
        if ids != sorted(set(ids)) or any(project_of(t) != token.project_id for t in ids):
            raise false("its tokens are not this project's, in token-id order")
        if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row < len(ids) or ids[row] != token.token_id:
            raise false(f"row {row!r} is not token {token.token_id}'s")
        for index, (other, seed) in enumerate(zip(ids, seeds)):
            expected = token.seed if other == token.token_id else self._derived_seed(other, report)
            if expected is None or str(seed).lower() != "0x" + expected.hex():
                raise false(f"row {index} is not the seed of token {other}")
        token.batch = {"size": size, "row": row, "tokens": tokens, "seeds": [str(s).lower() for s in seeds]}
        report.batch = {**token.batch, "confirmed": [], "unconfirmed": {}}
        return token.batch

    def _derived_seed(self, token_id: int, report: Report) -> bytes | None:
        """Another token's seed as the chain derives it (its one Mint log and randomness block)."""
        logs = self._chain(report, self.chain.mint_logs_for_token, token_id)
        if len(logs) != 1:
            return None
        number = logs[0].block_number + self._chain(report, self.chain.randomness_delay)
        block = self._chain(report, self.chain.block_randomness, number)
        if block is None:
            return None
        return derive_seed(self._chain(report, self.chain.chain_id), self.chain.address, token_id, logs[0].tx_hash, block[1])

    def _batch_render(self, renderer: Renderer, token: "_Token", report: Report) -> list[RenderResult]:
        """The committed batch rendered once per verifier: its other tokens then need no render."""
        key = (token.manifest.sha256_hex(), tuple(token.batch["seeds"]), renderer.threads)
        if key not in self._batches:
            seeds = [bytes.fromhex(seed[2:]) for seed in token.batch["seeds"]]
            self._batches.clear()  # one batch kept: a project is verified batch after batch
            self._batches[key] = self._timed("render_s", report, renderer.render_committed, token.manifest, seeds)
        return self._batches[key]

    def _check_companions(self, token: "_Token", report: Report) -> None:
        """8. The batch's other tokens against the same re-render: each one's pinned image is its
        row's bytes and its provenance names this same batch. A companion that names another
        batch is a token in two batches: a false claim."""
        batch = token.batch
        for row, other in enumerate(int(t) for t in batch["tokens"]):
            if other == token.token_id:
                report.batch["confirmed"].append(str(other))
                continue
            try:
                cid = self._chain(report, self.chain.view, "tokenMetadataCID", other)
                if not cid:
                    report.batch["unconfirmed"][str(other)] = "not fulfilled yet"
                    continue
                _, provenance, image_cid = claims.parse(self._fetch(report, cid, "metadata"))
            except (Refuted, claims.FalseClaim, ContractRevert) as err:
                report.batch["unconfirmed"][str(other)] = f"its metadata cannot be read: {getattr(err, 'reason', err)}"
                continue
            if provenance.get("batch") != {**batch, "row": row}:
                raise claims.FalseClaim(f"provenance.batch: token {other} records another batch for itself: "
                                        f"a token in two batches")
            try:
                image = self._fetch(report, image_cid, "image")
            except Refuted as err:
                report.batch["unconfirmed"][str(other)] = f"its image cannot be read: {err.reason}"
                continue
            if image == token.batch_results[row].png:
                report.batch["confirmed"].append(str(other))
            else:
                report.batch["unconfirmed"][str(other)] = "its pinned image is not its row of the re-rendered batch"
        unconfirmed = report.batch["unconfirmed"]
        report.checks.append(Check(
            "batch", not unconfirmed, f"committed batch of {batch['size']} (tokens {', '.join(batch['tokens'])}; this "
            f"token at row {batch['row']}), re-rendered once: confirmed {', '.join(report.batch['confirmed'])}"
            + (f"; not confirmed: {', '.join(f'{t} ({why})' for t, why in unconfirmed.items())}" if unconfirmed else ""),
            report.batch, warning=bool(unconfirmed)))

    def _check_model(self, token: "_Token", report: Report) -> RenderResult:
        """6. The model's weights hash as the manifest pins (checked by the renderer as it loads), then render."""
        renderer = self.renderer_for(token.environment)
        try:
            if token.batch is not None:
                token.batch_results = self._batch_render(renderer, token, report)
                result = token.batch_results[token.batch["row"]]
            else:
                result = self._timed("render_s", report, renderer.render, token.manifest, token.seed)
        except ModelHashMismatch as err:
            report.checks.append(Check("model", False, str(err)))
            raise Refuted(Outcome.MODEL_MISMATCH, str(err)) from None
        except RenderError as err:
            report.checks.append(Check("model", False, str(err)))
            raise Refuted(Outcome.MODEL_MISMATCH, f"cannot render: {err}") from None
        report.checks.append(Check("model", True,
                                   f"model weights hash {token.manifest.model.sha256[:16]}... as the manifest pins"))
        return result

    def _check_render(self, token: "_Token", result: RenderResult, report: Report) -> tuple[Outcome, str]:
        """7. The re-render against the pinned image: exact; tolerant only where this machine is
        outside the committed environment class; else a mismatch."""
        committed = token.manifest.environment
        here = class_differences(committed.model_dump(), result.fingerprint) if committed else None
        report.comparison = {"rendered_png_sha256": result.png_sha256, "rendered_cid": cid_of(result.png),
                             "pinned_cid": token.image_cid, "environment_differences": here or {}}
        if result.png == token.image:
            report.small_edits_excluded = True
            report.checks.append(Check("render", True, "re-render is byte-identical to the pinned image (same CID)",
                                       report.comparison))
            return Outcome.EXACT, "exact: the pinned image is the render of this token's seed"
        pixels = compare_pixels(token.pixels, result.pixels())
        report.comparison.update(pixels)
        if committed is None or not here:
            why = ("the manifest commits to no render environment, so only a byte-exact re-render counts"
                   if committed is None else "re-rendered in the committed environment, where renders are byte-exact")
            if pixels.get("same_shape") and pixels["max_abs_diff"] == 0:
                why += "; the pixels are identical, the PNG encoding is not the canonical one"
            report.checks.append(Check("render", False, f"re-render differs from the pinned image ({why})",
                                       report.comparison))
            return Outcome.IMAGE_MISMATCH, f"mismatch: the pinned image is not this seed's render ({why})"
        if not within_tolerance(pixels):
            report.checks.append(Check("render", False, "re-render differs beyond the tolerance", report.comparison))
            return Outcome.IMAGE_MISMATCH, "mismatch: the pinned image is not this seed's render (beyond the tolerance)"
        outside = ", ".join(f"{k} {v['other']} here, {v['committed']} committed" for k, v in here.items())
        if pixels["max_abs_diff"] == 0:
            report.small_edits_excluded = True
            detail = f"pixel-identical, PNG encoding differs; this machine is outside the committed environment ({outside})"
        else:
            detail = (f"max diff {pixels['max_abs_diff']} levels on {pixels['differing_share']:.4%} of pixels, "
                      f"PSNR {pixels['psnr_db']} dB; this machine is outside the committed environment ({outside}), "
                      "so small edits within the tolerance cannot be excluded: re-run in the committed "
                      "environment for an exact verdict")
        report.checks.append(Check("render", True, f"within tolerance: {detail}", report.comparison))
        return Outcome.TOLERANT, f"tolerant: {detail}"


    def _check_attribution(self, token: "_Token", result: RenderResult, report: Report) -> None:
        """8. The recorded style weights are what the render gives: identical (scores and heat-map
        CIDs too) in the committed environment; each weight within 1 % outside it."""
        recorded = token.provenance.get("attribution")
        recomputed = result.attribution
        report.comparison["attribution"] = {"recorded": recorded, "recomputed": recomputed}
        in_class = not report.comparison.get("environment_differences")
        lies = claims.differences(recomputed, recorded) if in_class else _attribution_outside_class(recorded, recomputed)
        if lies:
            detail = ", ".join(f"{path}: {got!r:.60} recorded, {want!r:.60} recomputed" for path, (got, want) in lies.items())
            report.checks.append(Check("attribution", False, f"the recorded attribution is not the render's: {detail}",
                                       report.comparison["attribution"]))
            raise Refuted(Outcome.ATTRIBUTION_MISMATCH, f"attribution mismatch: {detail}")
        shares = ", ".join(f"{s['trigger']} {s['weight_bps'] / 100:.2f} %" for s in recomputed["styles"])
        report.checks.append(Check("attribution", True, f"{recomputed['method']} attribution "
                                   f"{'re-computed identically' if in_class else 'within 1 % per style'}: {shares}",
                                   report.comparison["attribution"]))


    def _check_payment(self, token: "_Token", result: RenderResult, report: Report) -> None:
        """9. The sale paid the styles by this render's weights: the StylesPaid log's weights are
        the recomputed ones (identical in the committed environment, within 1 % outside it), and
        the styles it paid are the adapters the manifest loads (CID, sha256, trigger), and it loads
        no other registered style's adapter (backend/chain/styles.py, the oracle's rule too)."""
        paid = self._chain(report, self.chain.styles_paid, token.token_id)
        registered = [self._chain(report, registered_style, self.chain, style_id)
                      for style_id in (paid["style_ids"] if paid else [])]
        problems = self._chain(report, style_problems, self.chain, token.manifest, registered)
        if paid is None or not token.manifest.styles:  # no blend, or no registered styles paid
            if problems:
                report.checks.append(Check("payment", False, "; ".join(problems), {"styles_paid": paid}))
                raise Refuted(Outcome.ATTRIBUTION_MISMATCH, "the registered styles were not paid as used: "
                              + "; ".join(problems))
            report.checks.append(Check("payment", True, "the project pays no registered styles: the artist "
                                       "received the whole 90 %", {"styles_paid": None}))
            return
        recomputed = [style["weight_bps"] for style in result.attribution["styles"]]
        detail = {"styles_paid": paid, "recomputed_weights_bps": recomputed,
                  "registered": [style.to_json() for style in registered]}
        in_class = not report.comparison.get("environment_differences")
        if len(paid["weights_bps"]) != len(recomputed):
            problems.append(f"{len(paid['weights_bps'])} weights paid, {len(recomputed)} styles rendered")
        elif any(p != r if in_class else abs(p - r) > ATTRIBUTION_TOLERANCE_BPS
                 for p, r in zip(paid["weights_bps"], recomputed)):
            problems.append(f"the sale paid weights {paid['weights_bps']} (bps), the render gives {recomputed}")
        # The split the token was sold under: the project's styles and share are fixed from its first
        # mint (RENDER_SPEC section 14), the price is in its Mint log.
        style_ids, share_bps = self._chain(report, self.chain.project_styles, token.project_id)
        # The sale's price: what its Mint escrowed, plus the project's top-up when an auction with
        # settlement escrowed its base price and settled above it (StyleMint.priceTopUp).
        price_wei = token.mint.price_wei + int(self._chain(report, self.chain.view, "priceTopUp", token.project_id))
        if list(style_ids) != paid["style_ids"]:
            problems.append(f"style_ids: the sale paid styles {paid['style_ids']}, the token was sold with {list(style_ids)}")
        elif sum(paid["weights_bps"]) == 10_000:
            owed = split_sale(price_wei, share_bps, paid["weights_bps"]).styles_wei
            if owed != paid["amounts"]:
                problems.append(f"amounts: the sale paid {paid['amounts']} wei, its mint-time split of "
                                f"{price_wei} wei at {share_bps} bps gives {owed}")
        detail["sold_with"] = {"style_ids": list(style_ids), "styles_share_bps": share_bps, "price_wei": price_wei}
        if problems:
            report.checks.append(Check("payment", False, "; ".join(problems), detail))
            raise Refuted(Outcome.ATTRIBUTION_MISMATCH, "the styles were not paid by this render: " + "; ".join(problems))
        shares = ", ".join(f"{style.name} (id {style.style_id}) {amount} wei at {weight / 100:.2f} %"
                           for style, weight, amount in zip(registered, paid["weights_bps"], paid["amounts"]))
        report.checks.append(Check("payment", True, f"the sale paid each registered style by this render's weight: "
                                   f"{shares}", detail))


def _attribution_outside_class(recorded: dict, recomputed: dict) -> dict[str, tuple]:
    """Outside the committed class: the same method and triggers, each weight within the tolerance."""
    def outline(attribution) -> list:
        return [(attribution.get("method"), style.get("trigger") if isinstance(style, dict) else style)
                for style in attribution.get("styles", [])] if isinstance(attribution, dict) else [attribution]

    if outline(recorded) != outline(recomputed):
        return {"attribution.styles": (recorded, recomputed)}
    return {f"attribution.styles[{i}].weight_bps": (mine.get("weight_bps"), want["weight_bps"])
            for i, (mine, want) in enumerate(zip(recorded["styles"], recomputed["styles"]))
            if not isinstance(mine.get("weight_bps"), int)
            or abs(mine["weight_bps"] - want["weight_bps"]) > ATTRIBUTION_TOLERANCE_BPS}


@dataclass
class _Token:
    """What the checks learn about one token, in the order they learn it."""

    token_id: int
    project_id: int = 0
    seed: bytes = b""
    metadata_cid: str = ""
    mint: MintLog | None = None
    randomness_block: tuple[int, str, str] = (0, "", "")  # number, hash, prevrandao
    manifest_cid: str = ""
    manifest: StyleManifest | None = None
    provenance: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)  # threads and batch shape to re-render at
    image_cid: str = ""
    image: bytes = b""
    pixels: np.ndarray | None = None
    batch: dict | None = None  # the committed batch, every field checked against the chain
    batch_results: list | None = None  # the batch's re-render, row by row
