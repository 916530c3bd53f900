"""The build survives what an earlier compile left behind (a second `make test` in one checkout).

It runs on a copy of the project's sources and build, so a test run never writes into the real
contracts/.cache."""

import shutil
import subprocess
import sys

from backend.config import PROJECT_ROOT

COMPILE_AND_NAME = (
    "import sys; from pathlib import Path; from backend.dev.ape_contract import ape_project; "
    "p = ape_project(Path(sys.argv[1])); "
    "print(p.StyleMint.contract_type.name, p.MaliciousReceiver.contract_type.name, p.BareERC721.contract_type.name)"
)


def test_a_full_dependency_cache_does_not_drop_the_test_contracts(tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "contracts", copy / "contracts", ignore=shutil.ignore_patterns(".cache"))
    shutil.copytree(PROJECT_ROOT / ".build", copy / ".build")
    for name in ("ape-config.yaml", "package.json"):
        shutil.copy(PROJECT_ROOT / name, copy / name)
    (copy / "node_modules").symlink_to(PROJECT_ROOT / "node_modules")
    # ape scans at most 500 sources; a leftover contracts/.cache of that size once hid contracts/testing/*.
    junk = copy / "contracts" / ".cache" / "leftover"
    junk.mkdir(parents=True)
    for i in range(600):
        (junk / f"Leftover{i}.sol").write_text(f"// SPDX-License-Identifier: MIT\npragma solidity 0.8.37;\ncontract Leftover{i} {{}}\n")
    real_cache = sorted((PROJECT_ROOT / "contracts" / ".cache").rglob("*"))
    done = subprocess.run([sys.executable, "-c", COMPILE_AND_NAME, str(copy)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == ["StyleMint", "MaliciousReceiver", "BareERC721"]
    assert not junk.exists()
    assert sorted((PROJECT_ROOT / "contracts" / ".cache").rglob("*")) == real_cache  # the checkout is untouched
