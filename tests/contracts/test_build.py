"""The build survives what an earlier compile left behind (a second `make test` in one checkout)."""

import subprocess
import sys

from backend.config import PROJECT_ROOT

COMPILE_AND_NAME = (
    "from backend.dev.ape_contract import ape_project; p = ape_project(); "
    "print(p.StyleMint.contract_type.name, p.MaliciousReceiver.contract_type.name, p.BareERC721.contract_type.name)"
)


def test_a_full_dependency_cache_does_not_drop_the_test_contracts():
    # ape scans at most 500 sources; a leftover contracts/.cache of that size once hid contracts/testing/*.
    junk = PROJECT_ROOT / "contracts" / ".cache" / "leftover"
    junk.mkdir(parents=True, exist_ok=True)
    for i in range(600):
        (junk / f"Leftover{i}.sol").write_text(f"// SPDX-License-Identifier: MIT\npragma solidity 0.8.37;\ncontract Leftover{i} {{}}\n")
    done = subprocess.run([sys.executable, "-c", COMPILE_AND_NAME], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == ["StyleMint", "MaliciousReceiver", "BareERC721"]
    assert not junk.exists()
