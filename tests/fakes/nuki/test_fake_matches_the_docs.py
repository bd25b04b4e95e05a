"""Replay the requests of Nuki's own documentation against the fake and compare the answers'
shape (keys, JSON types, status, and the exact text where the docs quote an error), so the fake
follows Nuki and cannot drift into agreeing with lockhub. Each example names its source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from lockhub.providers.nuki.client import verify_webhook
from tests.fakes.nuki.server import BACK_DOOR, FRONT_DOOR, TOKEN, NukiCloud

EXAMPLES = sorted((Path(__file__).parent / "examples").glob("*.json"))


def same_shape(documented: Any, served: Any, where: str = "body") -> None:
    """Every documented key is served, with the documented JSON type (lists: first item)."""
    if documented is None:
        assert served is None, f"{where}: expected no body, got {served!r}"
    elif isinstance(documented, dict):
        assert isinstance(served, dict), f"{where}: expected an object, got {served!r}"
        for key, value in documented.items():
            assert key in served, f"{where}: missing {key!r} (served {sorted(served)})"
            same_shape(value, served[key], f"{where}.{key}")
    elif isinstance(documented, list):
        assert isinstance(served, list) and (served or not documented), f"{where}: {served!r}"
        if documented:
            same_shape(documented[0], served[0], f"{where}[0]")
    elif isinstance(documented, bool):
        assert isinstance(served, bool), f"{where}: expected a boolean, got {served!r}"
    elif isinstance(documented, int | float):
        assert isinstance(served, int | float) and not isinstance(served, bool), \
            f"{where}: expected a number, got {served!r}"
    else:
        assert isinstance(served, str), f"{where}: expected a string, got {served!r}"


def test_every_example_names_its_source() -> None:
    assert len(EXAMPLES) >= 10
    for path in EXAMPLES:
        example = json.loads(path.read_text())
        assert example["source"].startswith("https://"), path.name
        assert example["note"], path.name


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_the_fake_answers_like_the_documentation(nuki_cloud: NukiCloud, path: Path) -> None:
    example = json.loads(path.read_text())
    lock_id = BACK_DOOR if example.get("lock") == "without_keypad" else FRONT_DOOR
    headers = {"Authorization": f"Bearer {TOKEN}"} if example.get("auth", True) else {}
    hook = None
    with httpx.Client(base_url=nuki_cloud.url, headers=headers, timeout=5) as http:
        if "webhook" in example:
            hook = http.put("/api/decentralWebhook", json={
                "webhookUrl": f"{nuki_cloud.url}/receiver",
                "webhookFeatures": [example["webhook"]]}).json()
        for step in example.get("before", []):
            done = http.request(step["method"], step["path"].format(smartlockId=lock_id),
                                json=step.get("body"))
            assert done.status_code < 300, done.text
        if example.get("settle"):
            nuki_cloud.settle()
        auths = list(nuki_cloud.lock(lock_id).auths)
        request = example["request"]
        target = request["path"].format(smartlockId=lock_id, authId=auths[0] if auths else "")
        response = http.request(request["method"], target, json=request.get("body"),
                                params=request.get("query"))
    documented = example["response"]
    assert response.status_code == documented["status"], response.text
    served = response.json() if response.content else None
    if documented.get("exact"):
        assert served == documented["body"]
    else:
        same_shape(documented["body"], served)
    if hook is not None:
        nuki_cloud.settle()
        (delivery,) = [d for d in nuki_cloud.deliveries()
                       if json.loads(d.body)["feature"] == example["webhook"]]
        same_shape(example["delivery"], json.loads(delivery.body), "delivery")
        assert verify_webhook(delivery.body, delivery.signature, hook["secret"])
