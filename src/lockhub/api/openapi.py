"""`/openapi.json` built from the route table and the same msgspec Structs that validate."""

from __future__ import annotations

from typing import Any

import msgspec

from lockhub import __version__
from lockhub.api.routing import Route
from lockhub.domain.objects import Pagination

REF = "#/components/schemas/{name}"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "ok"],
    "properties": {
        "ok": {"type": "boolean", "enum": [False]},
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {
                "type": {"type": "string"},
                "message": {"type": "string"},
                "data": {"type": "object"},
                "validation_errors": {"type": "object"},
                "request_id": {"type": "string"},
            },
        },
    },
}


def _response_schema(route: Route, schemas: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"ok": {"type": "boolean"}}
    required = ["ok"]
    if route.response_key:
        properties[route.response_key] = schemas[route.response_type]
        required.append(route.response_key)
    elif route.response_type is not None:
        inner = schemas[route.response_type]
        if "$ref" not in inner:
            return {**inner, "properties": {**inner.get("properties", {}), **properties}}
        properties["_"] = {}
        properties.pop("_")
        return {"allOf": [inner, {"type": "object", "properties": properties}]}
    if route.paginated:
        properties["pagination"] = schemas[route.pagination or Pagination]
        required.append("pagination")
    return {"type": "object", "properties": properties, "required": required}


def openapi_document(routes: list[Route], server_url: str) -> dict[str, Any]:
    types: list[Any] = [Pagination]
    for r in routes:
        if r.params is not None:
            types.append(r.params)
        if r.response_type is not None:
            types.append(r.response_type)
        if r.pagination is not None:
            types.append(r.pagination)
    unique = list(dict.fromkeys(types))
    generated, components = msgspec.json.schema_components(unique, ref_template=REF)
    schemas = dict(zip(unique, generated, strict=True))
    components["Error"] = ERROR_SCHEMA
    paths: dict[str, Any] = {}
    for r in routes:
        item: dict[str, Any] = {}
        for method in r.methods:
            operation: dict[str, Any] = {
                "operationId": f"{method.lower()}_{r.path.strip('/').replace('/', '_')}",
                "summary": r.summary,
                "tags": list(r.tags),
                "responses": {
                    "200": {"description": "OK", "content": {
                        "application/json": {"schema": _response_schema(r, schemas)}}},
                    "default": {"description": "Error", "content": {
                        "application/json": {"schema": {"$ref": REF.format(name="Error")}}}},
                },
            }
            if r.auth != "none":
                operation["security"] = [{"api_key": []}]
            if r.params is not None:
                params_schema = components[schemas[r.params]["$ref"].rsplit("/", 1)[1]]
                if method in ("GET", "DELETE"):
                    operation["parameters"] = _query_parameters(params_schema)
                else:
                    operation["requestBody"] = {
                        # Without a body a route with required parameters answers invalid_input.
                        "required": bool(params_schema.get("required")),
                        "content": {"application/json": {"schema": schemas[r.params]}},
                    }
            item[method.lower()] = operation
        paths[r.path] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "lockhub", "version": __version__,
                 "description": "Seam Connect compatible smart-lock API served by lockhub."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"api_key": {"type": "http", "scheme": "bearer"}},
        },
    }


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": name in required,
                                     "schema": prop}
        if prop.get("type") == "array":
            parameter.update(style="form", explode=True)
        elif prop.get("type") == "object" or "additionalProperties" in prop:
            parameter.update(style="deepObject", explode=True)
        parameters.append(parameter)
    return parameters
