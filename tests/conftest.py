"""Shared test setup: the project's own compiler and ape data folder, even under a bare `pytest`."""

from backend.config import ensure_toolchain_env

ensure_toolchain_env()
