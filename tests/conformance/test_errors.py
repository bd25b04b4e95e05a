"""Errors as the official SDK surfaces them, and the wire details behind them (checked by hand
with httpx only where the SDK hides them: headers, verbs, bodies, query-string parsing)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from seam import (
    Seam,
    SeamHttpApiError,
    SeamHttpInvalidInputError,
    SeamHttpUnauthorizedError,
    SeamWithoutWorkspace,
)

from tests.conformance.helpers import PAT, SANDBOX_WORKSPACE, raw, seed_ids
from tests.server import LockhubServer

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def ids(server: LockhubServer) -> dict[str, str]:
    return seed_ids(server)


@pytest.fixture
def http(server: LockhubServer) -> Iterator[httpx.Client]:
    with raw(server) as client:
        yield client


def _parameters(exc: SeamHttpInvalidInputError) -> dict[str, list[str]]:
    return {e.parameter_name: e.error_messages for e in exc.validation_errors}


# ------------------------------------------------------------------------ invalid input (SDK)


def test_wrong_type_in_a_body_names_the_parameter(seam: Seam, ids: dict[str, str]) -> None:
    with pytest.raises(SeamHttpInvalidInputError) as exc:
        seam.devices.update(device_id=ids["august_device_1"], name=123)  # type: ignore[arg-type]
    assert exc.value.status_code == 400
    assert exc.value.code == "invalid_input"
    parameters = _parameters(exc.value)
    assert list(parameters) == ["name"]
    assert parameters["name"], "a message saying what was wrong"
    assert seam.devices.get(device_id=ids["august_device_1"]).display_name == "Front Door"


def test_wrong_type_inside_an_object_names_the_top_level_parameter(
    seam: Seam, ids: dict[str, str]
) -> None:
    with pytest.raises(SeamHttpInvalidInputError) as exc:
        seam.devices.update(device_id=ids["august_device_1"],
                            custom_metadata={"room": 5})  # type: ignore[dict-item]
    assert "custom_metadata" in _parameters(exc.value)


def test_non_numeric_limit_is_invalid_input(seam: Seam) -> None:
    with pytest.raises(SeamHttpInvalidInputError) as exc:
        seam.devices.list(limit="abc")  # type: ignore[arg-type]
    assert list(_parameters(exc.value)) == ["limit"]


def test_a_query_number_in_non_ascii_digits_is_invalid_input(http: httpx.Client) -> None:
    # float("١٠") is 10.0 in Python; only 0-9 make a number on the wire.
    response = http.get("/devices/list", params={"limit": "١٠"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_input"


def test_unknown_enum_value_is_invalid_input(seam: Seam) -> None:
    with pytest.raises(SeamHttpInvalidInputError) as exc:
        seam.devices.list(device_type="toaster")  # type: ignore[arg-type]
    assert list(_parameters(exc.value)) == ["device_type"]


def test_missing_required_parameter_is_reported_as_required(seam: Seam) -> None:
    # The SDK leaves out parameters passed as None, so the server sees no id at all.
    with pytest.raises(SeamHttpInvalidInputError) as exc:
        seam.action_attempts.get(action_attempt_id=None)  # type: ignore[arg-type]
    assert _parameters(exc.value) == {"action_attempt_id": ["Required"]}


def test_devices_get_without_id_or_name_is_invalid_input(http: httpx.Client) -> None:
    # The SDK refuses this before sending it; the server must refuse it too.
    response = http.get("/devices/get")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_input"
    assert "device_id" in error["message"]
    assert "_errors" in error["validation_errors"]


def test_missing_required_device_id_is_a_required_field_error(http: httpx.Client) -> None:
    response = http.post("/locks/unlock_door", json={})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_input"
    assert error["validation_errors"]["device_id"]["_errors"] == ["Required"]


# --------------------------------------------------------------------------- not found (SDK)


def test_unknown_device_is_device_not_found(seam: Seam) -> None:
    with pytest.raises(SeamHttpApiError) as exc:
        seam.devices.get(device_id=UNKNOWN_ID)
    assert exc.value.status_code == 404
    assert exc.value.code == "device_not_found"
    assert exc.value.request_id


def test_unlocking_an_unknown_device_is_device_not_found(seam: Seam) -> None:
    with pytest.raises(SeamHttpApiError) as exc:
        seam.locks.unlock_door(device_id=UNKNOWN_ID)
    assert exc.value.status_code == 404
    assert exc.value.code == "device_not_found"


def test_unknown_action_attempt_is_action_attempt_not_found(seam: Seam) -> None:
    with pytest.raises(SeamHttpApiError) as exc:
        seam.action_attempts.get(action_attempt_id=UNKNOWN_ID)
    assert exc.value.status_code == 404
    assert exc.value.code == "action_attempt_not_found"
    assert exc.value.data == {"action_attempt_id": UNKNOWN_ID}


# ------------------------------------------------------------------------------ unauthorized


def test_unknown_api_key_is_unauthorized(server: LockhubServer) -> None:
    intruder = Seam(api_key="seam_nokey_nosecret", endpoint=server.url)
    with pytest.raises(SeamHttpUnauthorizedError) as exc:
        intruder.devices.list()
    assert exc.value.status_code == 401


def test_missing_authorization_header_is_unauthorized(server: LockhubServer) -> None:
    with raw(server, token=None) as anonymous:
        response = anonymous.get("/devices/list")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["type"] == "unauthorized"


def test_pat_without_workspace_header_cannot_list_devices(server: LockhubServer) -> None:
    user = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=server.url)
    with pytest.raises(SeamHttpUnauthorizedError):
        user.client.get("/devices/list")
    assert user.workspaces.list(), "the same token is fine where no workspace is needed"


# ------------------------------------------------------------------------- wire: envelopes


def test_every_response_carries_a_request_id_matching_the_error(
    http: httpx.Client, server: LockhubServer
) -> None:
    ok = http.get("/devices/list")
    assert ok.status_code == 200
    assert ok.json()["ok"] is True
    assert ok.headers["seam-request-id"]
    failures = [
        http.get("/devices/get", params={"device_id": UNKNOWN_ID}),  # 404
        http.get("/devices/list", params={"limit": "abc"}),  # 400
        http.delete("/devices/list"),  # 405
        http.get("/no/such/route"),  # 404 route
        httpx.get(f"{server.url}/devices/list"),  # 401
    ]
    seen = {ok.headers["seam-request-id"]}
    for response in failures:
        body = response.json()
        assert body["ok"] is False
        assert response.headers["seam-request-id"] == body["error"]["request_id"], response.url
        seen.add(response.headers["seam-request-id"])
    assert len(seen) == len(failures) + 1, "each request has its own id"
    # Suites written against Seam's fake check this prefix (its ids are request1, request2...).
    assert all(request_id.startswith("request") for request_id in seen), seen


def test_wrong_verb_is_method_not_allowed(http: httpx.Client) -> None:
    response = http.delete("/devices/list")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["type"] == "method_not_allowed"
    assert "GET" in error["message"] and "POST" in error["message"]


def test_unknown_path_is_a_json_404(http: httpx.Client) -> None:
    response = http.post("/devices/does_not_exist", json={})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["ok"] is False
    assert isinstance(body["error"]["type"], str) and isinstance(body["error"]["message"], str)


def test_unparsable_json_body_is_invalid_input(http: httpx.Client) -> None:
    response = http.post("/devices/get", content=b'{"device_id": ',
                         headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_input"


def test_post_with_a_non_json_content_type_is_rejected(
    http: httpx.Client, ids: dict[str, str]
) -> None:
    response = http.post("/devices/get", content=f"device_id={ids['august_device_1']}",
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_content_type"


def test_empty_post_body_counts_as_no_parameters(http: httpx.Client) -> None:
    response = http.post("/workspaces/get")
    assert response.status_code == 200
    assert response.json()["workspace"]["workspace_id"] == SANDBOX_WORKSPACE


# -------------------------------------------------------------------- wire: query strings


def test_strict_query_repeats_a_key_for_an_array(http: httpx.Client, ids: dict[str, str]) -> None:
    a, b = ids["august_device_1"], ids["schlage_device_1"]
    response = http.get(f"/devices/list?device_ids={a}&device_ids={b}&_strict=true")
    assert response.status_code == 200
    assert {d["device_id"] for d in response.json()["devices"]} == {a, b}


def test_strict_query_does_not_split_commas(http: httpx.Client, ids: dict[str, str]) -> None:
    a, b = ids["august_device_1"], ids["schlage_device_1"]
    response = http.get(f"/devices/list?device_ids={a},{b}&_strict=true")
    assert response.status_code == 200
    assert response.json()["devices"] == []


def test_generous_query_splits_commas_and_accepts_brackets(
    http: httpx.Client, ids: dict[str, str]
) -> None:
    a, b = ids["august_device_1"], ids["schlage_device_1"]
    split = http.get(f"/devices/list?device_ids={a},{b}")
    assert {d["device_id"] for d in split.json()["devices"]} == {a, b}
    brackets = http.get(f"/devices/list?device_ids[]={a}&device_ids[]={b}")
    assert {d["device_id"] for d in brackets.json()["devices"]} == {a, b}


def test_repeated_scalar_query_key_is_invalid_query_params(
    http: httpx.Client, ids: dict[str, str]
) -> None:
    a, b = ids["august_device_1"], ids["schlage_device_1"]
    response = http.get(f"/devices/get?device_id={a}&device_id={b}&_strict=true")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_query_params"


def test_mixed_empty_and_filled_array_values_are_invalid_query_params(
    http: httpx.Client, ids: dict[str, str]
) -> None:
    response = http.get(f"/devices/list?device_ids=&device_ids={ids['august_device_1']}"
                        "&_strict=true")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_query_params"


def test_unknown_query_parameters_are_ignored(http: httpx.Client, ids: dict[str, str]) -> None:
    response = http.get("/devices/get", params={"device_id": ids["august_device_1"],
                                                "not_a_parameter": "x", "_strict": "true"})
    assert response.status_code == 200
    assert response.json()["device"]["device_id"] == ids["august_device_1"]


def test_get_with_a_json_body_reads_the_body(http: httpx.Client, ids: dict[str, str]) -> None:
    response = http.request("GET", "/devices/get", json={"device_id": ids["august_device_2"]})
    assert response.status_code == 200
    assert response.json()["device"]["device_id"] == ids["august_device_2"]


def test_post_merges_query_parameters_under_the_body(
    http: httpx.Client, ids: dict[str, str]
) -> None:
    a, b = ids["august_device_1"], ids["august_device_2"]
    from_query = http.post(f"/devices/get?device_id={a}", json={})
    assert from_query.status_code == 200
    assert from_query.json()["device"]["device_id"] == a
    body_wins = http.post(f"/devices/get?device_id={a}", json={"device_id": b})
    assert body_wins.json()["device"]["device_id"] == b


def test_a_seam_route_lockhub_does_not_serve_says_so_by_name(seam: Seam) -> None:
    with pytest.raises(SeamHttpApiError) as failed:
        seam.acs.systems.list()
    assert failed.value.status_code == 501
    assert failed.value.code == "route_not_supported"
    assert "/acs/systems/list" in str(failed.value)


def test_a_path_seam_does_not_have_is_not_found(http: httpx.Client) -> None:
    response = http.post("/acs/no_such_route", json={})
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"
