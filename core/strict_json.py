"""Parsing untrusted JSON: finite numbers only, no duplicate keys, bounded nesting.

Python's json module accepts NaN, Infinity and -Infinity (and turns 1e999 into
inf), keeps the last of two equal keys, and recurses without a depth limit.
`parse_json` refuses all three, so a schema downstream only ever sees finite
numbers and one value per key. Errors are one line, raised as the caller's
PatchwiseError subclass.
"""

from __future__ import annotations

import json
import math

from core.errors import PatchwiseError

MAX_DEPTH = 24


class _Refused(ValueError):
    pass


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"number {text[:40]} is not finite")
    return value


def _refuse_constant(name: str):
    raise _Refused(f"{name} is not a number JSON allows here")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"key {key[:60]!r} appears twice in one object")
        result[key] = value
    return result


def _depth_problem(text: str, limit: int) -> bool:
    """True when brackets nest deeper than `limit` (counted outside strings)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse_json(data: bytes, where: str, error: type[PatchwiseError], max_depth: int = MAX_DEPTH):
    """The JSON value in UTF-8 `data`, or `error` with one line saying what is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if _depth_problem(text, max_depth):
        raise error(f"{where}: JSON nests deeper than {max_depth} levels")
    try:
        return json.loads(
            text,
            parse_float=_finite_float,
            parse_constant=_refuse_constant,
            object_pairs_hook=_unique_keys,
        )
    except _Refused as exc:
        raise error(f"{where}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise error(f"{where}: not valid JSON ({str(exc)[:200]})") from None
