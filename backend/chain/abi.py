"""The StyleMint ABI, read from the compiled artifact that `make setup` writes (`.build/`).

Services (oracle, web app, verifier) need the ABI but not a compiler: loading ape for it cost
about two seconds per process and pulled the whole deployment toolchain into every daemon. The
artifact also holds the source it was compiled from; an ABI older than contracts/ is refused.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from backend.config import PROJECT_ROOT

ARTIFACT = PROJECT_ROOT / ".build" / "__local__.json"


class AbiUnavailable(RuntimeError):
    """No usable compiled contract: the message says how to build one."""


@lru_cache(maxsize=None)
def contract_abi(name: str = "StyleMint", artifact: Path = ARTIFACT) -> list[dict]:
    if not artifact.exists():
        raise AbiUnavailable(f"no compiled contracts at {artifact}: run `make setup` (it compiles contracts/)")
    try:
        manifest = json.loads(artifact.read_text())
        contract_type = manifest["contractTypes"][name]
        abi = contract_type["abi"]
    except (ValueError, KeyError, TypeError) as err:
        raise AbiUnavailable(f"{artifact} holds no ABI for {name} ({type(err).__name__}): run `make setup`") from None
    source_id = contract_type.get("sourceId")
    compiled = (manifest.get("sources") or {}).get(source_id, {}).get("content")
    source = PROJECT_ROOT / source_id if source_id else None
    if compiled is not None and source is not None and source.exists() and source.read_text() != compiled:
        raise AbiUnavailable(f"{source_id} changed since it was compiled: run `make setup` to rebuild the ABI")
    return abi


def stylemint_abi() -> list[dict]:
    return contract_abi("StyleMint")
