"""The sha256 that a style manifest pins for its model: one hash over a whole model directory.

`save_pretrained` stamps library versions into every config (`_diffusers_version`,
`transformers_version`) and some loaders add `_name_or_path`; those do not change a render, so
they are dropped before hashing, while everything that does (weights, architecture configs,
tokenizer files, scheduler config) is covered. The exact procedure is in docs/RENDER_SPEC.md.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

# Config keys that record who wrote the file, not what the model computes.
VOLATILE_CONFIG_KEYS = {"_diffusers_version", "transformers_version", "_name_or_path", "_commit_hash"}
IGNORED_FILES = {"README.md", ".gitattributes"}


def _canonical_config(raw: bytes) -> bytes:
    document = json.loads(raw)
    if isinstance(document, dict):
        document = {k: v for k, v in document.items() if k not in VOLATILE_CONFIG_KEYS}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def model_files(directory: Path) -> list[Path]:
    """The files that make up the model, in the canonical (sorted POSIX relative path) order."""
    directory = Path(directory)
    files = [
        p for p in directory.rglob("*")
        if p.is_file() and p.name not in IGNORED_FILES and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    ]
    return sorted(files, key=lambda p: p.relative_to(directory).as_posix())


def model_sha256(directory: Path) -> str:
    """sha256 over `relpath NUL sha256(content) LF` for every model file, in canonical order."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"model directory not found: {directory}")
    outer = hashlib.sha256()
    files = model_files(directory)
    if not files:
        raise FileNotFoundError(f"model directory is empty: {directory}")
    for path in files:
        data = path.read_bytes()
        if path.suffix == ".json":
            data = _canonical_config(data)
        outer.update(path.relative_to(directory).as_posix().encode())
        outer.update(b"\0")
        outer.update(hashlib.sha256(data).hexdigest().encode())
        outer.update(b"\n")
    return outer.hexdigest()
