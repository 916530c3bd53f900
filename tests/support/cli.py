"""The `stylemint` command line as a child process, with its own data directory."""

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def stylemint(env_dir, *args):
    return subprocess.run([str(BIN / "stylemint"), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "STYLEMINT_DATA_DIR": str(env_dir / "data")})
