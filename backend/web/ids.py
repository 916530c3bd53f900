"""Ids in URLs: ASCII digits only, within uint256 (`str.isdigit` also accepts "²" and "٣")."""

from __future__ import annotations

import re

from flask import abort

DIGITS = re.compile(r"[0-9]{1,78}")
MAX_ID = 2**256 - 1


def parse_id(text: str, what: str) -> int:
    if not DIGITS.fullmatch(text) or int(text) > MAX_ID:
        abort(400, description=f"{what} must be an integer 0 .. 2^256-1 in ASCII digits, got {text[:80]!r}")
    return int(text)
