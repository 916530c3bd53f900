"""Shared test setup: the project's own compiler and ape data folder, even under a bare `pytest`,
and no stale dependency cache in contracts/ (it would push contracts/testing/* out of ape's scan)."""

from backend.config import ensure_toolchain_env

ensure_toolchain_env()

from backend.dev.ape_contract import clear_dependency_cache  # noqa: E402  (after the environment is set)

clear_dependency_cache()
