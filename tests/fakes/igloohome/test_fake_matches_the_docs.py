"""Replay igloohome's documented requests (examples/*.json, each naming its source) against the
fake and compare the answer's status and shape (keys, JSON types, error codes) with the
documented one, so the fake follows igloohome rather than whatever lockhub expects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lockhub.clock import ManualClock
from tests.fakes.igloohome.conftest import START
from tests.fakes.igloohome.server import IgloohomeCloud
from tests.fakes.igloohome.tokens import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

EXAMPLES = sorted((Path(__file__).parent / "examples").glob("*.json"))


@pytest.fixture(scope="module")
def documented_cloud() -> Iterator[IgloohomeCloud]:
    """The devices the documentation's examples name, on the documentation's dates."""
    cloud = IgloohomeCloud(ManualClock(START))
    cloud.world.add_bridge("EB1X04879082")
    cloud.world.add_lock("OE1X12d87626", "Back Door", bridge="EB1X04879082")
    cloud.world.add_lock("OE1X123cbb11", "Front Door", battery_level=100)
    cloud.world.add_lock("EK1X16f8898a", "Keybox")
    cloud.start()
    yield cloud
    cloud.stop()


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}[type(value)]


def shape_differences(doc: Any, got: Any, example: dict, where: str = "body") -> list[str]:
    """Where the fake's JSON differs in shape from the documented JSON."""
    nullable = set(example.get("nullable", []))
    optional = set(example.get("optional_keys", []))
    if isinstance(doc, dict) and isinstance(got, dict):
        problems = [f"{where}: missing key {k!r}" for k in doc.keys() - got.keys()]
        problems += [f"{where}: undocumented key {k!r}"
                     for k in got.keys() - doc.keys() - optional]
        for key in doc.keys() & got.keys():
            if key in nullable and got[key] is None:
                continue
            problems += shape_differences(doc[key], got[key], example, f"{where}.{key}")
        return problems
    if isinstance(doc, list) and isinstance(got, list):
        return [p for item in (got if doc else []) for p in
                shape_differences(doc[0], item, example, f"{where}[]")]
    if _kind(doc) != _kind(got):
        return [f"{where}: documented {_kind(doc)}, fake answered {_kind(got)} ({got!r})"]
    return []


def _job_id(cloud: IgloohomeCloud, token: str) -> str:
    answer = httpx.post(f"{cloud.api_url}/devices/OE1X12d87626/jobs/bridges/EB1X04879082",
                        json={"jobType": 2}, headers={"Authorization": f"Bearer {token}"})
    return answer.json()["jobId"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_fake_answers_as_documented(path: Path, documented_cloud: IgloohomeCloud) -> None:
    example = json.loads(path.read_text())
    assert example["source"], "every example names where it comes from"
    request, documented = example["request"], example["response"]
    token = httpx.post(f"{documented_cloud.url}/oauth2/token",
                       auth=(SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET),
                       data={"grant_type": "client_credentials"}).json()["access_token"]
    kwargs: dict[str, Any] = {}
    auth = request.get("auth", "none")
    if auth == "basic":
        kwargs["auth"] = (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
    elif auth == "basic-wrong-secret":
        kwargs["auth"] = (SANDBOX_CLIENT_ID, "not-the-secret")
    elif auth == "bearer":
        kwargs["headers"] = {"Authorization": f"Bearer {token}"}
    if "form" in request:
        kwargs["data"] = request["form"]
    if "json" in request:
        kwargs["json"] = request["json"]
    url_path = request["path"]
    if "{jobId}" in url_path:
        url_path = url_path.replace("{jobId}", _job_id(documented_cloud, token))
    answer = httpx.request(request["method"], documented_cloud.url + url_path, **kwargs)

    assert answer.status_code == documented["status"], answer.text
    body = answer.json()
    assert shape_differences(documented["body"], body, example) == []
    for key in example.get("exact", []):
        assert body[key] == documented["body"][key], key
    for key, prefix in example.get("prefix", {}).items():
        assert body[key].startswith(prefix), body[key]


def test_the_shape_check_notices_a_drift() -> None:
    documented = {"jobId": "x", "completed": False, "jobResponse": {}}
    drifted = {"jobId": 7, "done": False, "jobResponse": {}}
    assert sorted(shape_differences(documented, drifted, {})) == [
        "body.jobId: documented string, fake answered number (7)",
        "body: missing key 'completed'", "body: undocumented key 'done'"]
