"""Seam's success and error envelopes, encoded with msgspec."""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec
from litestar import Response

from lockhub.errors import InvalidInput, LockhubError

_encoder = msgspec.json.Encoder()
JSON = "application/json"


class Answer(NamedTuple):
    """A response before any framework sees it: status, encoded body, extra headers."""

    status: int
    body: bytes
    headers: dict[str, str]


def answer(body: dict[str, Any], status: int, request_id: str,
           headers: dict[str, str] | None = None) -> Answer:
    all_headers = {"seam-request-id": request_id}
    if headers:
        all_headers.update(headers)
    return Answer(status, _encoder.encode(body), all_headers)


def success(body: dict[str, Any], request_id: str) -> Answer:
    body["ok"] = True
    return answer(body, 200, request_id)


def error_body(exc: LockhubError, request_id: str) -> dict[str, Any]:
    error: dict[str, Any] = {"type": exc.error_type, "message": exc.message}
    if isinstance(exc, InvalidInput):
        error["validation_errors"] = exc.validation_errors
    if exc.data is not None:
        error["data"] = exc.data
    error["request_id"] = request_id
    return {"error": error, "ok": False}


def failure(exc: LockhubError, request_id: str) -> Answer:
    return answer(error_body(exc, request_id), exc.status_code, request_id, exc.headers)


def to_response(result: Answer) -> Response[bytes]:
    """The Litestar response for pages and framework errors."""
    return Response(content=result.body, status_code=result.status, media_type=JSON,
                    headers=result.headers)
