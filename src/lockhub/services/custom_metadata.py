"""Custom metadata: the key/value pairs users attach to devices, accounts and webviews.

One set of rules for writing them (Seam's limits: 50 keys, keys up to 40 characters, string
values up to 500 characters or booleans; null or "" removes a key) and one meaning for the
`custom_metadata_has` filter, whichever object carries them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, false

from lockhub.errors import InvalidInput

MAX_KEYS = 50
MAX_KEY_LENGTH = 40


def _key_problem(key: str) -> str | None:
    # '.' is Seam's rule; '"' because no JSON path of SQLite's can name such a key.
    if "." in key:
        return "Keys cannot contain '.'"
    if '"' in key:
        return "Keys cannot contain '\"'"
    if len(key) > MAX_KEY_LENGTH:
        return f"Keys can be at most {MAX_KEY_LENGTH} characters"
    return None


def merge_custom_metadata(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Apply a custom_metadata patch: null or "" removes a key."""
    merged = dict(current)
    for key, value in changes.items():
        problem = _key_problem(key)
        if problem is not None:
            raise InvalidInput.for_field(["custom_metadata", key], problem)
        if value is None or value == "":
            merged.pop(key, None)
        elif isinstance(value, (str, bool)):
            merged[key] = value
        else:
            raise InvalidInput.for_field(["custom_metadata", key],
                                         "Expected string | boolean")
    if len(merged) > MAX_KEYS:
        raise InvalidInput.for_field(["custom_metadata"],
                                     f"At most {MAX_KEYS} keys are allowed")
    return merged


def metadata_has_conditions(column: Column[Any], has: dict[str, Any] | None) -> list[Any]:
    """SQL conditions for `custom_metadata_has`: every key holds its value; null or "" asks
    for the key to be absent (as writing them removes it). A key no object can carry matches
    nothing."""
    conditions: list[Any] = []
    for key, value in (has or {}).items():
        if _key_problem(key) is not None:
            return [false()]
        field = column[key]
        if value is None or value == "":
            conditions.append(field.as_string().is_(None))
        elif isinstance(value, bool):
            conditions.append(field.as_boolean() == value)
        else:
            conditions.append(field.as_string() == value)
    return conditions
