"""Turn a request (query string and/or JSON body) into a validated parameter Struct.

Query strings are parsed schema-first, like Seam's url-search-params-parser: the parameter's
type decides whether `device_ids=a` is a string or a one-element array. `_strict=true` (what the
SDKs send) selects strict coercion; without it the generous forms (`a[]=`, `a=1,2`, `yes`) work
too. Body parameters win over query parameters of the same name.

Every decoded parameter set is then held to two rules no Struct has to repeat: an array holds at
most MAX_ARRAY_ITEMS items (a filter of 250,000 ids is a mistake, not a query), a date-time
carries a time zone (a zone-less one has no single meaning), and no text holds NUL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from msgspec import UNSET
from msgspec import inspect as mi

from lockhub.errors import InvalidInput, LockhubError

MAX_ARRAY_ITEMS = 1000
# [0-9], not \d: `\d` and float() also take other scripts' digits (`١٠`).
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_TRUE = {"true", "True", "TRUE", "yes", "1"}
_FALSE = {"false", "False", "FALSE", "no", "0"}


@dataclass(frozen=True)
class FieldKind:
    kind: str  # array | bool | number | integer | object | scalar
    nullable: bool


def _kind_of(t: mi.Type) -> FieldKind:
    members = t.types if isinstance(t, mi.UnionType) else (t,)
    nullable = any(isinstance(m, mi.NoneType) for m in members)
    real = [m for m in members if not isinstance(m, mi.NoneType)]
    kinds = set()
    for m in real:
        if isinstance(m, mi.Metadata):
            m = m.type
        if isinstance(m, (mi.ListType, mi.SetType, mi.VarTupleType, mi.TupleType)):
            kinds.add("array")
        elif isinstance(m, mi.BoolType):
            kinds.add("bool")
        elif isinstance(m, mi.IntType):
            kinds.add("integer")
        elif isinstance(m, mi.FloatType):
            kinds.add("number")
        elif isinstance(m, (mi.DictType, mi.StructType, mi.TypedDictType)):
            kinds.add("object")
        else:
            kinds.add("scalar")
    kind = kinds.pop() if len(kinds) == 1 else "scalar"
    return FieldKind(kind, nullable)


@cache
def field_kinds(struct: type[msgspec.Struct]) -> dict[str, FieldKind]:
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    return {f.encode_name: _kind_of(f.type) for f in info.fields}


def _bad_query(message: str) -> LockhubError:
    return LockhubError(message, error_type="invalid_query_params")


def _scalar(value: str, kind: FieldKind, strict: bool) -> Any:
    if not strict:
        value_stripped = value.strip()
    else:
        value_stripped = value
    if kind.kind == "bool":
        if value == "true" or (not strict and value_stripped in _TRUE):
            return True
        if value == "false" or (not strict and value_stripped in _FALSE):
            return False
        return value
    if kind.kind in ("number", "integer"):
        if _NUMBER.match(value_stripped):
            number = float(value_stripped)
            return int(number) if kind.kind == "integer" and number.is_integer() else number
        return value
    if value == "" and kind.nullable:
        return None
    return value


def coerce_query(query: str, struct: type[msgspec.Struct]) -> dict[str, Any]:
    pairs = parse_qsl(query, keep_blank_values=True)
    strict = any(k == "_strict" and v == "true" for k, v in pairs)
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        if key == "_strict":
            continue
        grouped.setdefault(key, []).append(value)
    kinds = field_kinds(struct)
    data: dict[str, Any] = {}
    for key, values in grouped.items():
        if "." in key:
            head, _, sub = key.partition(".")
            kind = kinds.get(head)
            if kind is None or kind.kind != "object":
                continue
            if len(values) > 1:
                raise _bad_query(f"Repeated query parameter {key!r}")
            value = values[0]
            obj = data.setdefault(head, {})
            if isinstance(obj, dict):
                obj[sub] = True if value == "true" else False if value == "false" else value
            continue
        name = key
        if not strict and key.endswith("[]"):
            name = key[:-2]
        kind = kinds.get(name)
        if kind is None:
            continue
        if kind.kind == "array":
            if len(values) == 1 and values[0] == "":
                data[name] = []
            elif "" in values:
                raise _bad_query(f"Query parameter {name!r} mixes empty and non-empty values")
            elif not strict and len(values) == 1 and "," in values[0]:
                data[name] = values[0].split(",")
            else:
                data.setdefault(name, [])
                data[name].extend(values)
            continue
        if len(values) > 1:
            raise _bad_query(f"Query parameter {name!r} may only be given once")
        data[name] = _scalar(values[0], kind, strict)
    return data


_TYPE_WORDS = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "object": "object",
    "array": "array",
    "null": "null",
}
_EXPECTED = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `([^`]+)`$")
_PATH_TOKEN = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]")


def _word(name: str) -> str:
    return " | ".join(_TYPE_WORDS.get(part.strip(), part.strip()) for part in name.split("|"))


def validation_error(exc: msgspec.ValidationError) -> InvalidInput:
    """Map msgspec's message (`... - at `$.a.b``) to a zod-shaped InvalidInput."""
    text = str(exc)
    message, _, where = text.partition(" - at `$")
    where = where.rstrip("`")
    path = [m.group(1) or m.group(2) for m in _PATH_TOKEN.finditer(where)]
    missing = _MISSING.match(message)
    if missing:
        return InvalidInput.from_issues([([*path, missing.group(1)], "Required")])
    expected = _EXPECTED.match(message)
    if expected:
        message = f"Expected {_word(expected.group(1))}, received {_word(expected.group(2))}"
    if not path:
        return InvalidInput.from_issues([([], message)])
    return InvalidInput.from_issues([(path, message)])


_NOT_JSON = "Request body is not valid JSON"
_TOO_DEEP = "Request body is nested too deeply"


def decode_json_body(body: bytes) -> dict[str, Any]:
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise InvalidInput.from_issues([([], _NOT_JSON)]) from None
    except RecursionError:
        raise InvalidInput.from_issues([([], _TOO_DEEP)]) from None
    if not isinstance(data, dict):
        raise InvalidInput.from_issues([([], "Request body must be a JSON object")])
    return data


def build_params(
    struct: type[msgspec.Struct], query: str, body: bytes
) -> msgspec.Struct:
    """Query parameters first, then body parameters over them; validated into `struct`."""
    try:
        if not query and body:
            params = msgspec.json.decode(body, type=struct)
        else:
            data = coerce_query(query, struct) if query else {}
            if body:
                data.update(decode_json_body(body))
            params = msgspec.convert(data, struct)
    except msgspec.ValidationError as exc:
        raise validation_error(exc) from None
    except msgspec.DecodeError:
        raise InvalidInput.from_issues([([], _NOT_JSON)]) from None
    except RecursionError:
        # msgspec's decoder stops at the interpreter's recursion limit (about 1,000 levels).
        raise InvalidInput.from_issues([([], _TOO_DEEP)]) from None
    issues: list[tuple[list[str], str]] = []
    _check_values(params, [], issues)
    if issues:
        raise InvalidInput.from_issues(issues)
    return params


# No stored text can hold it (PostgreSQL refuses it outright), so no request may carry it.
_NUL = "Text cannot contain the NUL character (\\u0000)"


def _check_values(value: Any, path: list[str], issues: list[tuple[list[str], str]]) -> None:
    """Collect the arrays over MAX_ARRAY_ITEMS, the zone-less date-times and the text holding
    NUL in `value`."""
    if isinstance(value, msgspec.Struct):
        for name, wire_name in zip(value.__struct_fields__, value.__struct_encode_fields__,
                                   strict=True):
            _check_values(getattr(value, name), [*path, wire_name], issues)
    elif isinstance(value, (list, tuple, set, frozenset)):
        if len(value) > MAX_ARRAY_ITEMS:
            issues.append((path, f"Array must contain at most {MAX_ARRAY_ITEMS} element(s)"))
            return
        for index, item in enumerate(value):
            _check_values(item, [*path, str(index)], issues)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                issues.append(([*path, key], _NUL))
            _check_values(item, [*path, str(key)], issues)
    elif isinstance(value, str):
        if "\x00" in value:
            issues.append((path, _NUL))
    elif isinstance(value, datetime) and value.tzinfo is None:
        issues.append((path, "Timestamp needs a time zone (e.g. Z)"))


def given(value: Any, default: Any = None) -> Any:
    """A parameter's value, or `default` when the caller left it out."""
    return default if value is UNSET else value
