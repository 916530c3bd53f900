"""docs/ARCHITECTURE.md describes the code as it is: every backend module it names exists, and
every backend package and module is named there (a new module is documented where it lands)."""

import re

from backend.config import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "ARCHITECTURE.md"
BACKEND = PROJECT_ROOT / "backend"


def named_paths() -> set[str]:
    return set(re.findall(r"(?<![\w/])(backend/[\w/]+\.py)", DOC.read_text()))


def test_every_module_the_architecture_names_exists():
    missing = sorted(path for path in named_paths() if not (PROJECT_ROOT / path).is_file())
    assert missing == [], f"docs/ARCHITECTURE.md names modules that do not exist: {missing}"


def test_every_package_and_module_is_named():
    text = DOC.read_text()
    packages = sorted(p.parent.relative_to(PROJECT_ROOT).as_posix() + "/" for p in BACKEND.glob("*/__init__.py"))
    assert len(packages) >= 8
    assert [p for p in packages if p not in text] == []
    modules = {p.relative_to(PROJECT_ROOT).as_posix() for p in BACKEND.rglob("*.py")
               if p.name != "__init__.py" or p.parent == BACKEND / "chain" or p.parent == BACKEND / "web"}
    modules -= {"backend/__init__.py"}
    assert sorted(modules - named_paths()) == []


def test_the_readme_links_the_architecture_inside_the_repository():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "docs/ARCHITECTURE.md" in readme and "../shared/" not in readme
