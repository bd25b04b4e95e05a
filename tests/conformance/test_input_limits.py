"""Hostile or broken input gets a 4xx in Seam's envelope, never a 500 or a connection held open:
oversized bodies and headers, deep JSON, zone-less date-times, huge filter arrays, bodies that
never finish. Raw httpx and sockets, because the SDK cannot send any of these."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conformance.helpers import SANDBOX_KEY, wait_until
from tests.server import LockhubServer, start_server

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_ARRAY_ITEMS = 1000
BODY_TIMEOUT_SECONDS = 1.0
AUTH = {"Authorization": f"Bearer {SANDBOX_KEY}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockhubServer]:
    """A server of this module's own, with a short body deadline so the test need not wait 10 s."""
    srv = start_server(tmp_path_factory.mktemp("input_limits"),
                       env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0",
                            "LOCKHUB_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_SECONDS)})
    yield srv
    srv.stop()


@pytest.fixture
def http(server: LockhubServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def _error(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["error"]["type"] == error_type
    assert body["error"]["message"]
    assert body["error"]["request_id"] == response.headers["seam-request-id"]
    return body["error"]


def _exchange(server: LockhubServer, request: bytes, *, close_after_send: bool = False,
              timeout: float = 10.0) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(request)
        if close_after_send:
            return b""
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def _log(server: LockhubServer) -> str:
    assert server.log_path is not None
    return Path(server.log_path).read_text(errors="replace")


# --------------------------------------------------------------------------------- body size


def test_body_over_the_limit_is_413(http: httpx.Client) -> None:
    body = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = http.post("/devices/list", content=body,
                         headers={**AUTH, "Content-Type": "application/json"})
    error = _error(response, 413, "payload_too_large")
    assert str(MAX_BODY_BYTES) in error["message"]


def test_streamed_body_over_the_limit_is_413(http: httpx.Client) -> None:
    """No Content-Length (chunked): the limit holds on the bytes that arrive."""
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(11):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    response = http.post("/health", content=chunks(), headers={"Content-Type": "application/json"})
    _error(response, 413, "payload_too_large")


def test_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    server: LockhubServer,
) -> None:
    reply = _exchange(server, (
        b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n{" % (MAX_BODY_BYTES + 1)))
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert b'"payload_too_large"' in reply


def test_body_under_the_limit_is_served(http: httpx.Client) -> None:
    body = b'{"ignored": "' + b"x" * (MAX_BODY_BYTES // 2) + b'"}'
    response = http.post("/health", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200


# ------------------------------------------------------------------------------- deep JSON


@pytest.mark.parametrize("path, headers", [("/health", {}), ("/devices/list", AUTH)])
def test_deeply_nested_json_is_invalid_input(http: httpx.Client, path: str,
                                             headers: dict[str, str]) -> None:
    deep = b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = http.post(path, content=deep,
                         headers={**headers, "Content-Type": "application/json"})
    error = _error(response, 400, "invalid_input")
    assert error["validation_errors"]["_errors"] == ["Request body is nested too deeply"]


# ------------------------------------------------------------------------------ date-times


@pytest.mark.parametrize("value", ["2030-01-01T00:00:00", "2030-01-01T00:00:00.123"])
def test_zone_less_created_before_is_invalid_input(http: httpx.Client, value: str) -> None:
    for response in (http.post("/devices/list", json={"created_before": value}, headers=AUTH),
                     http.get("/devices/list", params={"created_before": value}, headers=AUTH)):
        error = _error(response, 400, "invalid_input")
        assert error["validation_errors"]["created_before"]["_errors"]


def test_created_before_with_a_zone_filters(http: httpx.Client) -> None:
    response = http.post("/devices/list", json={"created_before": "2000-01-01T00:00:00Z"},
                         headers=AUTH)
    assert response.status_code == 200
    assert response.json()["devices"] == []


# ------------------------------------------------------------------------------ NUL in text


@pytest.mark.parametrize(("path", "body", "where"), [
    ("/devices/update", {"device_id": "d", "name": "front\u0000door"}, "name"),
    ("/connect_webviews/list", {"custom_metadata_has": {"unit\u0000": "1"}},
     "custom_metadata_has"),
    ("/devices/list", {"custom_metadata_has": {"unit": "1\u0000"}}, "custom_metadata_has"),
])
def test_text_holding_nul_is_invalid_input(http: httpx.Client, path: str, body: dict[str, Any],
                                           where: str) -> None:
    """No database stores NUL in text (PostgreSQL refuses it), so it is refused at the door."""
    error = _error(http.post(path, json=body, headers=AUTH), 400, "invalid_input")
    assert where in error["validation_errors"]
    query = http.get(path.replace("update", "list"), params={"search": "a\u0000"},
                     headers=AUTH)
    assert _error(query, 400, "invalid_input")["validation_errors"]["search"]


@pytest.mark.parametrize("path", ["/devices/list", "/connect_webviews/list",
                                  "/connected_accounts/list"])
@pytest.mark.parametrize("key", ['unit"7', "unit.7", "k" * 41])
def test_filter_on_a_metadata_key_no_object_can_carry_matches_nothing(
        http: httpx.Client, path: str, key: str) -> None:
    response = http.post(path, json={"custom_metadata_has": {key: "1"}}, headers=AUTH)
    assert response.status_code == 200, response.text
    listed = [v for k, v in response.json().items() if isinstance(v, list)]
    assert listed == [[]]


def test_metadata_key_with_a_double_quote_is_refused_on_write(http: httpx.Client) -> None:
    device_id = http.get("/devices/list", headers=AUTH).json()["devices"][0]["device_id"]
    response = http.post("/devices/update", headers=AUTH,
                         json={"device_id": device_id, "custom_metadata": {'unit"7': "1"}})
    error = _error(response, 400, "invalid_input")
    assert error["validation_errors"]["custom_metadata"]
    devices = http.get("/devices/get", params={"device_id": device_id}, headers=AUTH)
    assert 'unit"7' not in devices.json()["device"]["custom_metadata"]


# ----------------------------------------------------------------------------- filter arrays


def _ids(count: int) -> list[str]:
    return [f"00000000-0000-4000-8000-{i:012d}" for i in range(count)]


@pytest.mark.parametrize("count", [MAX_ARRAY_ITEMS + 1, 250_000])
def test_filter_array_over_the_maximum_is_invalid_input(http: httpx.Client, count: int) -> None:
    response = http.post("/devices/list", json={"device_ids": _ids(count)}, headers=AUTH)
    error = _error(response, 400, "invalid_input")
    assert error["validation_errors"]["device_ids"]["_errors"] == [
        f"Array must contain at most {MAX_ARRAY_ITEMS} element(s)"]


def test_filter_array_at_the_maximum_is_served(http: httpx.Client) -> None:
    response = http.post("/devices/list", json={"device_ids": _ids(MAX_ARRAY_ITEMS)},
                         headers=AUTH)
    assert response.status_code == 200
    assert response.json()["devices"] == []


def test_query_string_array_over_the_maximum_is_invalid_input(http: httpx.Client) -> None:
    response = http.get("/events/list", headers=AUTH,
                        params=[("since", "2000-01-01T00:00:00Z")]
                        + [("event_ids", i) for i in _ids(MAX_ARRAY_ITEMS + 1)])
    error = _error(response, 400, "invalid_input")
    assert "event_ids" in error["validation_errors"]


# ---------------------------------------------------------------------------------- headers


def test_header_line_over_8_kib_is_431(http: httpx.Client) -> None:
    response = http.get("/health", headers={"X-Padding": "a" * 9000})
    _error(response, 431, "request_header_fields_too_large")


def test_headers_over_16_kib_in_total_is_431(http: httpx.Client) -> None:
    headers = {f"X-Padding-{i}": "a" * 6000 for i in range(3)}
    response = http.get("/health", headers=headers)
    _error(response, 431, "request_header_fields_too_large")


def test_ordinary_large_headers_are_served(http: httpx.Client) -> None:
    response = http.get("/health", headers={"X-Padding": "a" * 4000})
    assert response.status_code == 200


# ---------------------------------------------------------------------------- slow bodies


def test_body_that_stops_arriving_gets_408_and_the_connection_closed(
    server: LockhubServer,
) -> None:
    reply = _exchange(server, (
        b"POST /devices/list HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + SANDBOX_KEY.encode() + b"\r\n"
        b"Content-Length: 100\r\n\r\n{\"limit\": "))
    # _exchange returns only once the server closed the connection.
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in reply.lower()
    assert b'"request_timeout"' in reply


def test_client_gone_mid_body_is_logged_as_a_disconnect(server: LockhubServer) -> None:
    _exchange(server, (
        b"POST /devices/list HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Authorization: Bearer " + SANDBOX_KEY.encode() + b"\r\n"
        b"Content-Length: 100\r\n\r\n{\"limit\": "), close_after_send=True)
    wait_until(lambda: "client disconnected before sending the whole body" in _log(server),
               message="the disconnect log line")
    assert "Traceback" not in _log(server)
    assert httpx.get(f"{server.url}/health").status_code == 200
