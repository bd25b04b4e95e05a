"""Seam's success and error envelopes, encoded with msgspec."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response

from lockhub.errors import InvalidInput, LockhubError

_encoder = msgspec.json.Encoder()
JSON = "application/json"


def json_response(body: dict[str, Any], status: int, request_id: str,
                  headers: dict[str, str] | None = None) -> Response[bytes]:
    all_headers = {"seam-request-id": request_id}
    if headers:
        all_headers.update(headers)
    return Response(content=_encoder.encode(body), status_code=status, media_type=JSON,
                    headers=all_headers)


def success(body: dict[str, Any], request_id: str) -> Response[bytes]:
    body["ok"] = True
    return json_response(body, 200, request_id)


def error_body(exc: LockhubError, request_id: str) -> dict[str, Any]:
    error: dict[str, Any] = {"type": exc.error_type, "message": exc.message}
    if isinstance(exc, InvalidInput):
        error["validation_errors"] = exc.validation_errors
    if exc.data is not None:
        error["data"] = exc.data
    error["request_id"] = request_id
    return {"error": error, "ok": False}


def failure(exc: LockhubError, request_id: str) -> Response[bytes]:
    return json_response(error_body(exc, request_id), exc.status_code, request_id, exc.headers)
