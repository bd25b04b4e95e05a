"""The route table does not drift from Seam's OpenAPI spec: every Seam route lockhub serves has the
spec's path, verbs, response key, parameter names, required parameters and pagination.

Routes of lockhub's own (test hooks, health, the served /openapi.json, /_lockhub/*) are not
Seam's and are left out, as are Seam's internal routes that Seam Components call
(/internal/*: telemetry and the device database), which Seam's public spec does not have. The spec is the copy vendored in spec/ (`tests/spec.py`), else the team's
copy in ../shared (relative to the repository root); without either the module is skipped.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from msgspec import inspect as mi

from lockhub.api import app  # noqa: F401  (importing registers every route)
from lockhub.api.routing import ROUTES, Route
from tests.spec import SPEC_PATH as VENDORED_SPEC

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_SPEC = REPO_ROOT.parent / "shared" / "seam-openapi.json"
SPEC_PATH = VENDORED_SPEC if VENDORED_SPEC.exists() else SHARED_SPEC
LOCKHUB_ONLY = ("/_fake", "/health", "/openapi.json", "/_lockhub", "/internal")
HTTP_VERBS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
QUERY_VERBS = ("GET", "DELETE")

if not SPEC_PATH.exists():
    pytest.skip(f"Seam's OpenAPI spec is neither at {VENDORED_SPEC} nor at {SHARED_SPEC}",
                allow_module_level=True)

SEAM_ROUTES = [r for r in ROUTES if not r.path.startswith(LOCKHUB_ONLY)]


@cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """Follow `$ref`s to the spec's components."""
    while "$ref" in schema:
        node: Any = spec()
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def properties(schema: dict[str, Any]) -> set[str]:
    """Property names an object schema accepts, through allOf/oneOf/anyOf."""
    schema = resolve(schema)
    names = set(schema.get("properties", {}))
    for combinator in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(combinator, []):
            names |= properties(branch)
    return names


def required(schema: dict[str, Any]) -> set[str]:
    """Property names the schema always requires (in every oneOf/anyOf branch)."""
    schema = resolve(schema)
    names = set(schema.get("required", []))
    for branch in schema.get("allOf", []):
        names |= required(branch)
    for combinator in ("oneOf", "anyOf"):
        branches = [required(b) for b in schema.get(combinator, [])]
        if branches:
            names |= set.intersection(*branches)
    return names


def operation(route: Route, method: str) -> dict[str, Any]:
    return spec()["paths"][route.path][method.lower()]


def spec_parameters(route: Route, method: str) -> tuple[set[str], set[str]]:
    """(accepted, required) parameter names of one operation: query for GET/DELETE, else body."""
    op = operation(route, method)
    if method in QUERY_VERBS and "parameters" not in op and "POST" in route.methods:
        # The spec leaves some GET aliases undeclared (e.g. /connected_accounts/get, whose POST
        # body is a oneOf); the SDK then sends the POST body's parameters in the query.
        return spec_parameters(route, "POST")
    if method in QUERY_VERBS:
        query = [resolve(p) for p in op.get("parameters", []) if resolve(p).get("in") == "query"]
        return {p["name"] for p in query}, {p["name"] for p in query if p.get("required")}
    body = op.get("requestBody")
    if body is None:
        return set(), set()
    schema = resolve(body)["content"]["application/json"]["schema"]
    return properties(schema), required(schema)


def struct_fields(route: Route) -> list[mi.Field]:
    if route.params is None:
        return []
    info = mi.type_info(route.params)
    assert isinstance(info, mi.StructType)
    return list(info.fields)


ROUTE_PARAMS = [pytest.param(r, id=r.path) for r in SEAM_ROUTES]
ROUTE_METHOD_PARAMS = [pytest.param(r, m, id=f"{m} {r.path}") for r in SEAM_ROUTES
                       for m in r.methods]


@pytest.mark.parametrize("route", ROUTE_PARAMS)
def test_route_is_a_seam_route(route: Route) -> None:
    assert route.path in spec()["paths"], (
        f"{route.path} is not in Seam's spec; if it is lockhub's own, start it with /_lockhub")


@pytest.mark.parametrize("route", ROUTE_PARAMS)
def test_route_accepts_the_specs_verbs(route: Route) -> None:
    item = spec()["paths"][route.path]
    assert set(route.methods) == {m.upper() for m in item if m in HTTP_VERBS}


@pytest.mark.parametrize("route", ROUTE_PARAMS)
def test_response_key_is_the_specs(route: Route) -> None:
    spec_key = operation(route, "POST").get("x-response-key")
    # The spec leaves the key out (or null) for routes that answer only {"ok": true}.
    assert route.response_key == spec_key


@pytest.mark.parametrize("route", ROUTE_PARAMS)
def test_pagination_is_declared_as_in_the_spec(route: Route) -> None:
    for method in route.methods:
        content = operation(route, method)["responses"]["200"].get("content")
        schema = content["application/json"]["schema"] if content else {}  # no body: {ok}
        assert route.paginated == ("pagination" in properties(schema)), method


@pytest.mark.parametrize(("route", "method"), ROUTE_METHOD_PARAMS)
def test_every_parameter_is_one_the_spec_knows(route: Route, method: str) -> None:
    accepted, _ = spec_parameters(route, method)
    unknown = {f.encode_name for f in struct_fields(route)} - accepted
    assert not unknown, f"{method} {route.path}: parameters not in the spec: {sorted(unknown)}"


@pytest.mark.parametrize(("route", "method"), ROUTE_METHOD_PARAMS)
def test_parameters_the_spec_requires_are_required(route: Route, method: str) -> None:
    _, spec_required = spec_parameters(route, method)
    ours = {f.encode_name for f in struct_fields(route) if f.required}
    missing = spec_required - ours
    assert not missing, (f"{method} {route.path}: the spec requires {sorted(missing)}, "
                         f"the route's {route.params.__name__ if route.params else 'no'} params "
                         f"Struct does not")



def test_the_paths_answered_as_not_supported_are_the_specs() -> None:
    # The server knows Seam's paths from its own copy (it does not load the spec at run time).
    assert app.SEAM_PATHS == set(spec()["paths"])


def security_schemes(route: Route) -> set[str]:
    return {name for option in operation(route, route.methods[0]).get("security", [])
            for name in option}


@pytest.mark.parametrize("route", ROUTE_PARAMS)
def test_client_session_tokens_reach_exactly_the_specs_routes(route: Route) -> None:
    """A route a client session may call in Seam accepts one here, and no other route does
    (the `_with_customer` variants are customer portals, which lockhub does not serve)."""
    assert route.client_session == ("client_session" in security_schemes(route))


@pytest.mark.parametrize("route", ROUTE_PARAMS)
def test_publishable_keys_reach_exactly_the_specs_routes(route: Route) -> None:
    assert route.publishable_key == ("publishable_key" in security_schemes(route))
