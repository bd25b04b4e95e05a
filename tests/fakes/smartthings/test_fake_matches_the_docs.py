"""Replays SmartThings' own documented requests (examples/*.json, each naming its source) against
the fake and checks that each answer has the documented shape: same status, every documented key
present with the documented JSON type, and the same error codes, states and statuses. The
examples come from SmartThings' docs and from captured answers in pysmartthings and the
SmartThings core SDK, never from lockhub, so the fake cannot drift into agreeing with the
client instead of the brand."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.fakes.smartthings.cloud import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, Cloud
from tests.fakes.smartthings.conftest import FRONT_DOOR

EXAMPLES = sorted((Path(__file__).parent / "examples").glob("*.json"))
# Keys whose documented value is a code or enumeration the fake must repeat exactly.
EXACT = {"code", "error", "status", "token_type", "state", "type", "categoryType",
         "component", "scanCodes", "unit"}
RETRY_MESSAGE = re.compile(r"^attempt \d+ limit \d+ - retry in \d+ millis$")


def shape_errors(doc: Any, got: Any, path: str = "$") -> list[str]:
    """Where `got` does not have the shape of the documented `doc` (null in the docs matches
    anything; an attribute's `value` may be any scalar, since it depends on the attribute)."""
    if doc is None:
        return []
    if isinstance(doc, dict):
        if not isinstance(got, dict):
            return [f"{path}: expected an object, got {got!r}"]
        errors = []
        for key, value in doc.items():
            if key not in got:
                errors.append(f"{path}.{key}: missing")
            elif key == "value" and not isinstance(value, (dict, list)):
                if isinstance(got[key], (dict, list)):
                    errors.append(f"{path}.value: expected a scalar")
            else:
                errors += shape_errors(value, got[key], f"{path}.{key}")
                if key in EXACT and isinstance(value, str) and got[key] != value:
                    errors.append(f"{path}.{key}: {got[key]!r} != documented {value!r}")
        return errors
    if isinstance(doc, list):
        if not isinstance(got, list):
            return [f"{path}: expected a list, got {got!r}"]
        if doc and not got:
            return [f"{path}: empty, the docs have items"]
        return shape_errors(doc[0], got[0], f"{path}[0]") if doc else []
    if isinstance(doc, bool):
        return [] if isinstance(got, bool) else [f"{path}: expected a boolean, got {got!r}"]
    if isinstance(doc, (int, float)):
        ok = isinstance(got, (int, float)) and not isinstance(got, bool)
        return [] if ok else [f"{path}: expected a number, got {got!r}"]
    return [] if isinstance(got, str) else [f"{path}: expected a string, got {got!r}"]


def fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in names.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    return value


def fresh_refresh_token(cloud: Cloud) -> str:
    code = cloud.oauth.issue_code(CLIENT_ID, "jane@example.com", REDIRECT_URI, "r:devices:*")
    return cloud.oauth.token((CLIENT_ID, CLIENT_SECRET), {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
    })["refresh_token"]


def replay(cloud: Cloud, example: dict[str, Any]) -> httpx.Response:
    request = example["request"]
    used = fresh_refresh_token(cloud)
    cloud.oauth.token((CLIENT_ID, CLIENT_SECRET),
                      {"grant_type": "refresh_token", "refresh_token": used})
    names = {
        "deviceId": FRONT_DOOR,
        "clientId": CLIENT_ID,
        "redirectUri": REDIRECT_URI,
        "refreshToken": fresh_refresh_token(cloud),
        "usedRefreshToken": used,
        "code": cloud.oauth.issue_code(CLIENT_ID, "jane@example.com", REDIRECT_URI,
                                       "r:devices:*"),
    }
    request = fill(request, names)
    if request.get("spend_limit_first"):
        for _ in range(cloud.limiter.per_minute):
            cloud.limiter.hit(FRONT_DOOR)
    if request.get("make_history"):
        cloud.world.manual(FRONT_DOOR, "unlocked")
        cloud.world.manual(FRONT_DOOR, "locked")
    base = cloud.url if request["host"] == "api" else cloud.auth_url
    headers = {}
    auth = None
    if request["host"] == "api":
        pat = cloud.oauth.issue_pat("jane@example.com")
        headers["Authorization"] = f"Bearer {pat}"
    elif request.get("auth") == "basic":
        auth = (CLIENT_ID, CLIENT_SECRET)
    return httpx.request(request["method"], base + request["path"],
                         params=request.get("query"), json=request.get("json"),
                         data=request.get("form"), headers=headers, auth=auth, timeout=10)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_fake_answers_a_documented_request_in_the_documented_shape(
        smartthings_cloud: Cloud, path: Path) -> None:
    example = json.loads(path.read_text())
    assert example["source"], "every example names where it was copied from"
    documented = example["response"]

    answer = replay(smartthings_cloud, example)

    assert answer.status_code == documented["status"], answer.text
    assert shape_errors(documented["body"], answer.json()) == []
    for header in documented.get("headers", []):
        assert header in answer.headers


def test_the_rate_limit_answer_says_when_to_retry_as_smartthings_does(
        smartthings_cloud: Cloud) -> None:
    example = json.loads((Path(__file__).parent / "examples" / "rate_limited.json").read_text())
    documented = example["response"]["body"]["error"]["details"][0]["message"]
    assert RETRY_MESSAGE.match(documented)

    answer = replay(smartthings_cloud, example)

    assert RETRY_MESSAGE.match(answer.json()["error"]["details"][0]["message"])
    assert answer.headers["X-RateLimit-Remaining"] == "0"


def test_the_shape_check_catches_a_drifted_answer() -> None:
    """The comparison itself: a missing key, a wrong type and a different error code fail."""
    doc = {"error": {"code": "TooManyRequestError", "details": [{"message": "x"}]}, "n": 1}
    assert shape_errors(doc, {"error": {"code": "Other", "details": [{"message": "x"}]},
                              "n": 1})
    assert shape_errors(doc, {"error": {"code": "TooManyRequestError", "details": [{}]},
                              "n": 1})
    assert shape_errors(doc, {"error": {"code": "TooManyRequestError",
                                        "details": [{"message": "x"}]}, "n": "1"})
    assert not shape_errors(doc, {"error": {"code": "TooManyRequestError",
                                            "details": [{"message": "y"}]}, "n": 2, "extra": 0})
