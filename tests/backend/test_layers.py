"""The house rules of backend/: imports point one way, and services run without ape.

Types and helpers at the bottom (config, errors, retry, chain.types, ipfs.cid, render.seed), the
clients above them, the oracle, verifier and web app on top; ape only in backend/dev (scripts,
tests, benches, the demo). A violation fails here with the offending import named.
"""

import ast
import subprocess
import sys
from pathlib import Path

from backend.config import PROJECT_ROOT

BACKEND = PROJECT_ROOT / "backend"
RUNTIME = ("chain", "render", "ipfs", "oracle", "verify", "web", "model")


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module an import statement in this file names, at any depth (lazy imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in BACKEND.rglob("*.py")}
    return {name: {i for i in imports_of(path) if i in modules and i != name} for name, path in modules.items()}


def test_backend_has_no_import_cycle():
    edges = graph()
    # Importing backend.x.y also runs backend.x's __init__, but those hold no imports of their own.
    state: dict[str, str] = {}
    cycles = []

    def visit(node, stack):
        state[node] = "open"
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


def test_runtime_packages_never_import_ape_or_dev_tooling():
    offenders = []
    for package in RUNTIME:
        for path in (BACKEND / package).rglob("*.py"):
            for name in imports_of(path):
                if name == "ape" or name.startswith(("ape.", "ape_", "backend.dev")):
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)} imports {name}")
    assert offenders == [], "\n".join(offenders)


def test_services_start_without_loading_ape():
    script = (
        "import sys\n"
        "from backend.web.server import build_app\n"
        "from backend.oracle.factory import make_oracle\n"
        "from backend.verify.verifier import Verifier\n"
        "from backend.chain.client import StyleMintClient\n"
        "import backend.cli\n"
        "client = StyleMintClient('http://127.0.0.1:1', '0x' + '11' * 20)\n"
        "assert any(e.get('name') == 'fulfillBatch' for e in client.contract.abi)\n"
        "print(sorted(m for m in sys.modules if m == 'ape' or m.startswith(('ape.', 'ape_', 'backend.dev'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
