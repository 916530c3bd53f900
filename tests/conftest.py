"""Shared test setup: the project's own compiler and ape data folder, even under a bare `pytest`,
and no stale dependency cache in contracts/ (it would push contracts/testing/* out of ape's scan)."""

from backend.config import ensure_toolchain_env

ensure_toolchain_env()

from backend.dev.ape_contract import clear_dependency_cache  # noqa: E402  (after the environment is set)

clear_dependency_cache()


# The lanes (`make test-fast` runs everything not marked e2e, browser, chaos, process or slow). A test is
# placed by what it starts, so a new test lands in the right lane without a marker of its own.
ANVIL_END_TO_END = {"sample_chain", "stipple_chain", "site", "anvil_node", "tiny_chain", "fulfilled"}
BROWSER = {"open_page", "browser"}
CHAOS_MODULES = {"test_chaos.py", "test_crash.py", "test_ray_pool.py"}


def pytest_collection_modifyitems(items):
    import pytest

    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & BROWSER:
            item.add_marker(pytest.mark.browser)
        if fixtures & ANVIL_END_TO_END or item.path.parent.name == "e2e":
            item.add_marker(pytest.mark.e2e)
        if item.path.name in CHAOS_MODULES:
            item.add_marker(pytest.mark.chaos)
