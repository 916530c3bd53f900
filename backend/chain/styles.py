"""The registered styles a project blends, and the one rule that ties its manifest to them.

A blended project names registry styles on chain (in the order of its manifest's `styles`) and is
paid out by the weights the oracle submits in that order. The contract cannot read a manifest, so
the oracle (before rendering), the web API (before an artist sends `setProjectStyles`) and the
verifier (from a token alone) all check here that the manifest loads exactly those adapters: same
count, same order, CID, sha256 and trigger equal to the registry's. Otherwise a style could be paid
for an adapter it never supplied, or an adapter used without its owner being paid. Nor may a
manifest load a registered style's adapter file (by sha256) that the project does not name through
the registry, as a plain LoRA: that would use the style without its owner's consent or pay.
Near-copies (an adapter retrained on the same images) have other hashes and cannot be caught here.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.ipfs.cid import InvalidCID, canonical


@dataclass(frozen=True)
class RegisteredStyle:
    style_id: int
    owner: str
    retired: bool
    approved_only: bool
    name: str
    trigger: str
    adapter_cid: str
    adapter_sha256: str  # 64 hex digits, no prefix

    def to_json(self) -> dict:
        return {"id": self.style_id, "owner": self.owner, "retired": self.retired,
                "terms": "approved_only" if self.approved_only else "open", "name": self.name,
                "trigger": self.trigger, "adapter_cid": self.adapter_cid, "adapter_sha256": "0x" + self.adapter_sha256}


def registered_style(chain, style_id: int) -> RegisteredStyle:
    """A style as the deployment's StyleRegistry holds it (ContractRevert if unknown)."""
    info = chain.style_info(style_id)
    return RegisteredStyle(style_id=style_id, owner=info["owner"], retired=bool(info["retired"]),
                           approved_only=int(info["terms"]) == 1, name=info["name"], trigger=info["trigger"],
                           adapter_cid=info["adapterCID"], adapter_sha256=bytes(info["adapterHash"]).hex())


def registered_styles_of(chain, project_id: int) -> tuple[list[RegisteredStyle], int]:
    """(the project's registered styles in its manifest's order, their share in basis points)."""
    style_ids, share_bps = chain.project_styles(project_id)
    return [registered_style(chain, style_id) for style_id in style_ids], share_bps


def _same_cid(a: str, b: str) -> bool:
    try:
        return canonical(a) == canonical(b)
    except InvalidCID:
        return a == b


def manifest_mismatches(manifest_styles: list, registered: list[RegisteredStyle]) -> list[str]:
    """Why a manifest's `styles` (objects with `cid`, `sha256`, `trigger`) are not exactly the
    registered styles in the same order; empty when they are. A project without registered styles
    places no condition (its artist is paid the whole 90 %)."""
    if not registered:
        return []
    if len(manifest_styles) != len(registered):
        return [f"the project blends {len(registered)} registered style(s) but the manifest loads "
                f"{len(manifest_styles)}"]
    problems = []
    for position, (mine, theirs) in enumerate(zip(manifest_styles, registered), start=1):
        differ = [what for what, same in (
            ("adapter CID", _same_cid(mine.cid, theirs.adapter_cid)),
            ("adapter sha256", mine.sha256.removeprefix("0x").lower() == theirs.adapter_sha256),
            (f"trigger ({mine.trigger!r})", mine.trigger == theirs.trigger)) if not same]
        if differ:
            problems.append(f"style {position} is registry style {theirs.style_id} {theirs.name!r} "
                            f"(trigger {theirs.trigger!r}) but the manifest's {', '.join(differ)} differ")
    return problems


def adapters_loaded(manifest) -> list:
    """Every adapter file a manifest loads: its blended `styles`, or its single `style_weights`."""
    return [manifest.style_weights] if manifest.style_weights else list(manifest.styles or [])


def unnamed_registered_adapters(chain, manifest, registered: list[RegisteredStyle]) -> list[str]:
    """Why a manifest loads a registered style's adapter (by sha256) that the project does not name
    through the registry (one `styleOfAdapter` read per adapter not named); empty when none."""
    named = {style.adapter_sha256 for style in registered}
    problems = []
    for adapter in adapters_loaded(manifest):
        sha256 = adapter.sha256.removeprefix("0x").lower()
        if sha256 not in named and (style_id := chain.style_of_adapter(sha256)):
            problems.append(f"it loads the adapter of registry style {style_id} (sha256 {sha256[:16]}...) "
                            "without the project naming that style through the registry")
    return problems


def style_problems(chain, manifest, registered: list[RegisteredStyle]) -> list[str]:
    """The whole rule: the manifest loads exactly the registered styles, and no other registered
    style's adapter. Used by the oracle, the pin API and the verifier alike."""
    return manifest_mismatches(manifest.styles or [], registered) + unnamed_registered_adapters(
        chain, manifest, registered)
