"""Read models for the API: projects, tokens and styles as the pages show them, from chain + IPFS +
oracle state. Money (backend/web/earnings.py) and the oracle's live progress (backend/web/progress.py)
live in modules of their own."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from backend.chain import edition_of, project_of, token_id_of
from backend.chain.client import StyleMintClient
from backend.chain.errors import ContractRevert
from backend.chain.indexer import TokenIndex
from backend.chain.styles import registered_style, registered_styles_of
from backend.ipfs.cid import InvalidCID, canonical
from backend.ipfs.errors import IpfsError
from backend.ipfs.store import ContentStore
from backend.oracle.phases import FULFILLED, phases_json
from backend.render.trigger_adapter import kind_of
from backend.web.progress import open_jobs, pending_state, progress_of


class NotFoundError(LookupError):
    """No such project or token."""


class Catalog:
    """Projects, tokens and styles as the pages show them, read from the chain (through the token
    index), IPFS and the oracle's state. `index` (a TokenIndex) serves owners, galleries and traits; without one, an in-memory index
    is built from `start_block` on first use (fine for a dev chain; `stylemint serve` keeps a file)."""

    def __init__(self, chain: StyleMintClient, store: ContentStore, oracle_state: Path | None = None, *,
                 index: TokenIndex | None = None, start_block: int = 0):
        self.chain = chain
        self.store = store
        self.oracle_state = Path(oracle_state) if oracle_state else None
        self._manifests: dict[str, dict | None] = {}
        self._allowlists: dict[str, dict | None] = {}
        self._styles_at: tuple[int, list[dict]] | None = None  # (block, the style library at it)
        self._trees: dict = {}  # list CID -> Allowlist (its tree, built once)
        self._metadata: dict[str, dict | None] = {}
        self._adapter_kinds: dict[str, str | None] = {}
        self._mint_times: dict[tuple[str, int], int | None] = {}
        self._projects: dict[int, tuple[float, dict]] = {}
        self._index = index
        self._start_block = start_block
        self._sync_lock = threading.Lock()

    def index(self) -> TokenIndex:
        """The token index, caught up with the chain (two RPC calls when nothing is new)."""
        with self._sync_lock:
            if self._index is None:
                self._index = TokenIndex(Path(":memory:"), self.chain, start_block=self._start_block,
                                         metadata=self._metadata_document)
            elif self._index.metadata is None:
                self._index.metadata = self._metadata_document
            self._index.sync()
        return self._index

    def _metadata_document(self, cid: str) -> dict | None:
        return self._json_by_cid(self._metadata, cid)

    def _json_by_cid(self, cache: dict, cid: str) -> dict | None:
        if cid not in cache:
            try:
                document = json.loads(self.store.get(cid))
            except (IpfsError, ValueError, RecursionError):
                return None  # not cached: it may become available
            cache[cid] = document if isinstance(document, dict) else None  # an oracle may pin anything
        return cache[cid]

    # -- projects ---------------------------------------------------------------------------

    def project_ids(self) -> list[int]:
        return list(range(1, int(self.chain.view("nextProjectId"))))

    def project(self, project_id: int, *, previews: int = 4) -> dict:
        try:
            info = self.chain.project_info(project_id)
        except ContractRevert:
            raise NotFoundError(f"project {project_id} does not exist") from None
        minted = int(info["invocations"])
        minter, price = self.chain.project_price(project_id, info)
        preview_images = []
        for invocation in range(minted):
            if len(preview_images) >= previews:
                break
            token = self.token_summary(token_id_of(project_id, invocation))
            if token["image"]:
                preview_images.append({"token_id": token["token_id"], "image": token["image"]})
        return {
            "id": project_id,
            "name": info["name"],
            "artist": info["artist"],
            # The project's minter sells it; no price until the artist chose one and set its sale.
            "minter": minter,
            "price_wei": None if price is None else str(price),
            **(self.chain.sale_info(project_id, minter) if price is not None
               else {"minter_type": None, "max_per_address": 0, "allowlist": None, "auction": None}),
            "max_editions": int(info["maxEditions"]),
            "minted": minted,
            "remaining": int(info["maxEditions"]) - minted,
            "paused": bool(info["paused"]),
            # Minting needs the platform admin's approval of exactly this manifest.
            "approved": bytes(self.chain.view("approvedManifestHash", project_id)) == bytes(info["manifestHash"]),
            "admin_paused": bool(info["adminPaused"]),
            "locked": bool(info["locked"]),
            "royalty_bps": int(info["royaltyBps"]),
            "manifest_cid": info["manifestCID"],
            "manifest_sha256": "0x" + bytes(info["manifestHash"]).hex(),
            # What the admin approves beside the manifest (keccak of the style ids and the share).
            "styles_config_hash": "0x" + bytes(self.chain.view("stylesConfigHash", project_id)).hex(),
            "manifest": self._json_by_cid(self._manifests, info["manifestCID"]),
            "previews": preview_images,
            **self._styles_of(project_id, bool(info["locked"])),
        }

    def allowlist_status(self, project_id: int, address: str) -> dict:
        """Whether `address` may buy from the project's allowlist, its proof, and its mints left:
        the list is read from IPFS by the CID its artist set on chain, and the tree rebuilt from it
        by OpenZeppelin's library (so a proof served here is the one the minter checks)."""
        from backend.chain.allowlist import InvalidAllowlist, build

        info = self.chain.project_info(project_id)
        minter, price = self.chain.project_price(project_id, info)
        sale = self.chain.sale_info(project_id, minter) if price is not None else {"allowlist": None}
        if sale["allowlist"] is None:  # a public sale (only the fixed-price minter keeps allowlists)
            return {"allowlist": False, "listed": None, "proof": None,
                    "mints_left": self.chain.mints_left(project_id, minter, address)
                    if sale.get("minter_type") == "MinterSetPrice" else None}
        cid = sale["allowlist"]["list_cid"]
        document = self._json_by_cid(self._allowlists, cid) if cid else None
        try:
            tree = self._trees.get(cid) or build((document or {}).get("addresses"))
        except InvalidAllowlist:
            raise NotFoundError(f"the allowlist of project {project_id} (ipfs://{cid}) is not readable") from None
        if tree.root.lower() != sale["allowlist"]["root"].lower():
            raise NotFoundError(f"the list pinned at ipfs://{cid} does not build the root set on chain")
        self._trees[cid] = tree
        proof = tree.proof_for(address)
        return {"allowlist": True, "list_cid": cid, "root": tree.root, "listed": proof is not None, "proof": proof,
                "mints_left": self.chain.mints_left(project_id, minter, address) if proof is not None else 0}

    def _styles_of(self, project_id: int, locked: bool) -> dict:
        """The registered styles a project blends, whether each still admits it (a locked project
        holds a licence: always), and their share."""
        registered, share_bps = registered_styles_of(self.chain, project_id)
        styles = [{**style.to_json(), "usable": locked or self.chain.may_use(style.style_id, project_id)}
                  for style in registered]
        return {"styles": styles, "styles_share_bps": share_bps}

    # -- the style library --------------------------------------------------------------------

    def styles(self) -> list[dict]:
        """Every registered style with the projects that blend it, their mints, what it earned (the
        chain's StylesPaid logs, one eth_getLogs) and a few of its renders: computed once per
        block (a log scan per request made this the slowest route of a drop day)."""
        head = self.chain.head()
        cached = self._styles_at
        if cached is not None and cached[0] == head:
            return cached[1]
        paid = self.chain.all_styles_paid()
        blends = {pid: self.chain.project_styles(pid)[0] for pid in self.project_ids()}
        styles = [self._style_entry(style_id, paid, blends) for style_id in range(1, self.chain.style_count() + 1)]
        if all(style["adapter_kind"] for style in styles):  # an adapter not readable yet: ask again next time
            self._styles_at = (head, styles)
        return styles

    def style(self, style_id: int) -> dict:
        if not 1 <= style_id <= self.chain.style_count():
            raise NotFoundError(f"style {style_id} does not exist")
        paid = self.chain.all_styles_paid()
        blends = {pid: self.chain.project_styles(pid)[0] for pid in self.project_ids()}
        return self._style_entry(style_id, paid, blends)

    def _adapter_kind(self, cid: str) -> str | None:
        """How a manifest loads this adapter file (backend/render/trigger_adapter.py `kind_of`);
        None while it cannot be read. Read once per CID: the bytes behind a CID never change."""
        if cid not in self._adapter_kinds:
            try:
                kind = kind_of(self.store.get(cid))
            except (IpfsError, InvalidCID):
                return None
            self._adapter_kinds[cid] = kind
        return self._adapter_kinds[cid]

    def _style_entry(self, style_id: int, paid: dict[int, dict], blends: dict[int, list[int]]) -> dict:
        entry = registered_style(self.chain, style_id).to_json()
        entry["adapter_kind"] = self._adapter_kind(entry["adapter_cid"])
        projects = [pid for pid, ids in blends.items() if style_id in ids]
        entry["projects"] = []
        samples = []
        for pid in projects:
            info = self.chain.project_info(pid)
            entry["projects"].append({"id": pid, "name": info["name"], "minted": int(info["invocations"])})
            if len(samples) < 3:
                samples += self.project(pid, previews=3 - len(samples))["previews"]
        entry["mints"] = sum(p["minted"] for p in entry["projects"])
        entry["earned_wei"] = str(sum(amount for payment in paid.values()
                                      for sid, amount in zip(payment["style_ids"], payment["amounts"]) if sid == style_id))
        entry["samples"] = samples
        return entry

    # -- tokens -----------------------------------------------------------------------------

    def progress(self, token_id: int) -> dict:
        """Where the oracle is with a token not fulfilled yet (backend/web/progress.py)."""
        return progress_of(open_jobs(self.oracle_state), token_id)

    def token_summary(self, token_id: int, entry: dict | None = None) -> dict:
        """Owner, state, image and metadata; from the index entry when there is one (no RPC)."""
        if entry is None:
            entry = self.index().token(token_id)
        if entry is not None and entry["owner"] is None:
            raise NotFoundError(f"token {token_id} does not exist (it was refunded and burned)")
        if entry is not None:
            owner, fulfilled = self.chain.w3.to_checksum_address(entry["owner"]), entry["fulfilled_block"] is not None
        else:  # not indexed (yet): ask the chain
            try:
                owner = self.chain.view("ownerOf", token_id)
            except ContractRevert:
                raise NotFoundError(f"token {token_id} does not exist") from None
            fulfilled = self.chain.is_fulfilled(token_id)
        image = metadata = None
        if fulfilled:
            cid = entry["metadata_cid"] if entry else self.chain.view("tokenMetadataCID", token_id)
            metadata = self._json_by_cid(self._metadata, cid)
            if metadata and isinstance(metadata.get("image"), str) and metadata["image"].startswith("ipfs://"):
                try:
                    image = "/ipfs/" + canonical(metadata["image"].removeprefix("ipfs://"))
                except InvalidCID:
                    image = None
        progress = None if fulfilled else self.progress(token_id)
        state, error = (FULFILLED, None) if fulfilled else pending_state(progress)
        return {"token_id": token_id, "project_id": project_of(token_id),
                "edition": edition_of(token_id), "owner": owner, "state": state, "error": error,
                "progress": progress, "image": image, "metadata": metadata,
                "traits": (entry or {}).get("traits", {})}

    def token(self, token_id: int) -> dict:
        entry = self.index().token(token_id)
        summary = self.token_summary(token_id, entry)
        if entry is not None and entry["fulfilled_block"] is not None:  # what the contract answers, from the index
            summary["token_uri"], summary["seed"] = "ipfs://" + entry["metadata_cid"], entry["seed"]
        else:
            summary["token_uri"] = self.chain.view("tokenURI", token_id)
            summary["seed"] = "0x" + self.chain.token_seed(token_id).hex()
        if entry is not None:
            purchase = {"tx": entry["mint_tx"], "block": entry["mint_block"], "escrowed_wei": entry["price_wei"],
                        "payer": entry["payer"], "sale": entry["sale"]}
        else:
            mints = self.chain.mint_logs_for_token(token_id)
            purchase = {"tx": mints[0].tx_hash, "block": mints[0].block_number, "escrowed_wei": mints[0].price_wei,
                        "payer": mints[0].payer, "sale": None} if mints else None
        summary["mint_tx"] = purchase and purchase["tx"]
        summary["mint"] = self._mint_facts(summary["project_id"], purchase)
        summary["project"] = self._project_facts(summary["project_id"])
        summary["metadata_url"] = ("/ipfs/" + summary["token_uri"].removeprefix("ipfs://")
                                   if summary["state"] == "fulfilled" and summary["token_uri"].startswith("ipfs://") else None)
        mint_block, amount = (0, 0) if summary["state"] == "fulfilled" else self.chain.escrow_of(token_id)
        summary["escrow"] = None if not mint_block else {
            "amount_wei": str(amount), "mint_block": mint_block, "head": self.chain.head(),
            "refundable_from_block": mint_block + int(self.chain.view("REFUND_DELAY"))}
        provenance = (summary["metadata"] or {}).get("provenance")
        summary["provenance"] = provenance if isinstance(provenance, dict) else None
        summary["styles_paid"] = self.chain.styles_paid(token_id) if summary["state"] == FULFILLED else None
        summary["sale"] = self._sale_split(token_id, entry, summary["styles_paid"]) if summary["state"] == FULFILLED else None
        summary["phases"] = phases_json()  # the steps the page lists, named in one place
        if summary["styles_paid"]:
            summary["styles_paid"]["amounts"] = [str(a) for a in summary["styles_paid"]["amounts"]]
        return summary

    def _sale_split(self, token_id: int, entry: dict | None, styles_paid: dict | None) -> dict | None:
        """The whole split of the token's sale as the chain settled it: the price, the platform's
        and the artist's parts (SaleSettled, from the index when it has the token) and the styles'
        (StylesPaid), which add up to the price."""
        sale = (entry or {}).get("sale") or self.chain.sale_settled(token_id)
        if sale is None:
            return None
        styles = sum((styles_paid or {"amounts": []})["amounts"])
        return {"price_wei": str(sale["price_wei"]), "platform_wei": str(sale["platform_wei"]),
                "artist_wei": str(sale["artist_wei"]), "styles_wei": str(styles)}

    def _project_facts(self, project_id: int, ttl: float = 10.0) -> dict:
        """Name, artist and edition cap for token pages, read at most every `ttl` seconds per
        project: `projectInfo` is the dearest call of a token request (13 ms here), name and artist
        never change, and a lowered cap shows within `ttl`."""
        cached = self._projects.get(project_id)
        if cached is None or time.monotonic() - cached[0] > ttl:
            info = self.chain.project_info(project_id)
            cached = self._projects[project_id] = (time.monotonic(), {
                "name": info["name"], "artist": info["artist"], "max_editions": int(info["maxEditions"])})
        return cached[1]

    def _mint_facts(self, project_id: int, purchase: dict | None) -> dict | None:
        """When, for how much and by whom a token was bought: the mint block's time (read once per
        mint and block: a reorg that moves the mint reads it again), the account that paid, and
        the sale's price: as settled at fulfilment, or before it what the mint escrowed plus the
        project's settled top-up (a Dutch auction escrows its base price until it settles)."""
        if purchase is None:
            return None
        tx_hash, block = purchase["tx"], purchase["block"]
        if (tx_hash, block) not in self._mint_times:
            self._mint_times[(tx_hash, block)] = self.chain.block_timestamp(block)
        price = (purchase["sale"]["price_wei"] if purchase["sale"]
                 else purchase["escrowed_wei"] + int(self.chain.view("priceTopUp", project_id)))
        return {"tx": tx_hash, "block": block, "timestamp": self._mint_times[(tx_hash, block)],
                "price_wei": str(price), "payer": self.chain.w3.to_checksum_address(purchase["payer"])}

    def tokens_of(self, owner: str, *, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
        """(a page of the tokens `owner` holds, how many it holds), from the index."""
        index = self.index()
        ids = index.tokens_of(owner, limit=limit, offset=offset)
        return [self.token_summary(t, index.token(t)) for t in ids], index.count_of(owner)

    def project_tokens(self, project_id: int, *, page: int, per_page: int, traits: dict[str, str]) -> dict:
        """One page of a project's editions (filtered by traits) and the traits to filter by."""
        self.project_info_or_404(project_id)
        index = self.index()
        entries, total = index.project_tokens(project_id, traits=traits, limit=per_page, offset=(page - 1) * per_page)
        return {"project_id": project_id, "page": page, "per_page": per_page, "total": total,
                "pages": max(1, -(-total // per_page)), "filter": traits,
                "tokens": [self._edition(e) for e in entries],
                "traits": index.trait_values(project_id)}

    def _edition(self, entry: dict) -> dict:
        """A gallery entry from the index alone (no metadata document read per token)."""
        state = ("fulfilled" if entry["fulfilled_block"] is not None
                 else pending_state(self.progress(entry["token_id"]))[0])
        return {"token_id": entry["token_id"], "project_id": entry["project_id"], "edition": entry["edition"],
                "owner": self.chain.w3.to_checksum_address(entry["owner"]), "state": state, "name": entry["name"],
                "image": entry["image"], "traits": entry["traits"]}

    def project_info_or_404(self, project_id: int) -> dict:
        try:
            return self.chain.project_info(project_id)
        except ContractRevert:
            raise NotFoundError(f"project {project_id} does not exist") from None

