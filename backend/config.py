"""Where stylemint keeps its files, and the settings that may come from the environment.

Everything a run writes (deployments, later the oracle's state and the block store) lives under
one data directory so that a demo or a test can be thrown away by deleting a single folder.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# ape's default test mnemonic: the local anvil funds the accounts that ape's test accounts and the
# dev oracle key (a plain key is allowed on local chains only) sign with.
DEV_MNEMONIC = "test test test test test test test test test test test junk"


def data_dir() -> Path:
    """The data directory: `$STYLEMINT_DATA_DIR`, else `.stylemint/` in the project root."""
    path = Path(os.environ.get("STYLEMINT_DATA_DIR", PROJECT_ROOT / ".stylemint"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure_toolchain_env() -> None:
    """Point ape and py-solc-x at the project's own data folder and npm compiler.

    `make` exports these; this covers a console script or pytest started by hand. ape reads
    APE_DATA_FOLDER when it is imported, so call this before importing ape.
    """
    os.environ.setdefault("APE_DATA_FOLDER", str(PROJECT_ROOT / ".ape"))
    os.environ.setdefault("SOLCX_BINARY_PATH", str(PROJECT_ROOT / ".solcx"))
    bin_dirs = [str(PROJECT_ROOT / ".venv" / "bin"), str(PROJECT_ROOT / "node_modules" / ".bin")]
    path = os.environ.get("PATH", "").split(os.pathsep)
    missing = [d for d in bin_dirs if d not in path]
    if missing:
        os.environ["PATH"] = os.pathsep.join(missing + path)
