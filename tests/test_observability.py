"""Logs, metrics and readiness of real server processes: an access-log line per request with the
request id the client got, JSON lines, the level setting, Prometheus counters of requests and
action attempts, and readiness following the engine.

A server's log is read after the server stopped (the process has exited, so every line it
wrote is in the file): no waiting for a line to appear.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conformance.helpers import SANDBOX_KEY, wait_until
from tests.server import LockhubServer, start_server, start_worker

AUTH = {"Authorization": f"Bearer {SANDBOX_KEY}"}
QUIET = {"LOCKHUB_SANDBOX_LATENCY_SCALE": "0"}


def _stopped_log(server: LockhubServer) -> list[str]:
    server.stop()
    assert server.log_path is not None
    return server.log_path.read_text().splitlines()


def _json_lines(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.startswith("{")]


def _samples(server: LockhubServer, headers: dict[str, str] | None = None) -> dict[tuple, float]:
    response = httpx.get(f"{server.url}/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples}


def test_each_request_has_an_access_log_line_with_the_request_id_the_client_got(
        tmp_path: Path) -> None:
    server = start_server(tmp_path, env=QUIET, name="access")
    try:
        listed = httpx.post(f"{server.url}/devices/list", headers=AUTH, json={})
        unknown = httpx.get(f"{server.url}/no/such/page")
    finally:
        lines = _stopped_log(server)
    assert listed.status_code == 200 and unknown.status_code == 404
    [line] = [x for x in lines if listed.headers["seam-request-id"] in x]
    assert "lockhub.access" in line and "POST /devices/list 200 " in line
    assert "workspace_id=demo_workspace" in line
    [line] = [x for x in lines if unknown.headers["seam-request-id"] in x]
    assert "GET /no/such/page 404 " in line and "workspace_id=-" in line


def test_json_log_lines_parse_and_carry_the_request_fields(tmp_path: Path) -> None:
    server = start_server(tmp_path, env={**QUIET, "LOCKHUB_LOG_FORMAT": "json"}, name="json")
    try:
        listed = httpx.post(f"{server.url}/devices/list", headers=AUTH, json={})
        device_id = listed.json()["devices"][0]["device_id"]
        unlocked = httpx.post(f"{server.url}/locks/unlock_door", headers=AUTH,
                              json={"device_id": device_id, "sync": True})
        assert unlocked.json()["action_attempt"]["status"] == "success"
    finally:
        lines = _stopped_log(server)
    records = _json_lines(lines)
    [access] = [r for r in records if r.get("request_id") == listed.headers["seam-request-id"]]
    assert access["logger"] == "lockhub.access" and access["level"] == "INFO"
    assert access["method"] == "POST" and access["path"] == "/devices/list"
    assert access["status"] == 200 and access["workspace_id"] == "demo_workspace"
    assert access["duration_ms"] > 0 and access["time"].endswith("Z")
    assert "POST /devices/list 200" in access["message"]
    attempt_id = unlocked.json()["action_attempt"]["action_attempt_id"]
    [settled] = [r for r in records if r.get("action_attempt_id") == attempt_id
                 and "settled" in r["message"]]
    assert settled["action_type"] == "UNLOCK_DOOR" and settled["outcome"] == "success"
    [run] = [r for r in records if r.get("job_kind") == "action_attempt"]
    assert run["device_id"] == device_id and run["outcome"] == "done"
    # Every line of the process is JSON, the migrations' included, but the start-up banner
    # (the CLI's console output in a box, not a log line).
    assert lines[0].startswith("{")
    assert all(x.startswith("{") or x[:1] in "╭│╰" for x in lines if x.strip()), lines


def test_the_log_level_setting_filters_lines(tmp_path: Path) -> None:
    server = start_server(tmp_path, env={**QUIET, "LOCKHUB_LOG_LEVEL": "WARNING"},
                          name="quiet")
    try:
        answered = httpx.post(f"{server.url}/devices/list", headers=AUTH, json={})
        assert answered.status_code == 200
    finally:
        lines = _stopped_log(server)
    assert not [x for x in lines if "lockhub.access" in x or " INFO " in x], lines


def test_metrics_count_a_request_and_an_action_attempt_and_need_the_token_when_set(
        tmp_path: Path) -> None:
    token = "metrics-scrape-token"
    server = start_server(tmp_path, env={**QUIET, "LOCKHUB_METRICS_TOKEN": token},
                          name="metrics")
    scrape = {"Authorization": f"Bearer {token}"}
    try:
        refused = httpx.get(f"{server.url}/metrics")
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "unauthorized"
        assert httpx.get(f"{server.url}/metrics",
                         headers={"Authorization": "Bearer wrong"}).status_code == 401
        before = _samples(server, scrape)
        listed = httpx.post(f"{server.url}/devices/list", headers=AUTH, json={})
        device_id = listed.json()["devices"][0]["device_id"]
        locked = httpx.post(f"{server.url}/locks/lock_door", headers=AUTH,
                            json={"device_id": device_id, "sync": True})
        assert locked.json()["action_attempt"]["status"] == "success"
        after = _samples(server, scrape)
    finally:
        server.stop()

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("lockhub_http_requests_total", route="/devices/list", method="POST",
                status="200") == 1
    assert grew("lockhub_http_request_duration_seconds_count", route="/devices/list") == 1
    assert grew("lockhub_action_attempts_total", action_type="LOCK_DOOR", outcome="success",
                error_type="") == 1
    assert grew("lockhub_job_runs_total", kind="action_attempt", outcome="done") == 1
    assert grew("lockhub_provider_call_duration_seconds_count", provider="sandbox",
                operation="lock") == 1
    assert ("lockhub_jobs_due", (("kind", "action_attempt"),)) in after


def test_readiness_needs_a_running_engine(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=QUIET, name="ready", extra_args=["--no-engine"])
    worker = None
    try:
        not_ready = httpx.get(f"{server.url}/_lockhub/ready")
        assert not_ready.status_code == 503
        error = not_ready.json()["error"]
        assert error["type"] == "service_unavailable" and "engine" in error["message"]
        assert httpx.get(f"{server.url}/health").status_code == 200  # alive all the same

        worker = start_worker(server.database_url, tmp_path / "worker.log", env=QUIET)
        wait_until(lambda: httpx.get(f"{server.url}/_lockhub/ready").status_code == 200,
                   timeout=30, message="ready once a worker runs")
        worker.send_signal(signal.SIGTERM)  # a clean stop removes its heartbeat row
        worker.wait(timeout=10)
        assert httpx.get(f"{server.url}/_lockhub/ready").status_code == 503
    finally:
        if worker and worker.poll() is None:
            worker.kill()
        server.stop()


def test_a_server_running_its_engine_is_ready(tmp_path: Path) -> None:
    server = start_server(tmp_path, env=QUIET, name="engine")
    try:
        ready = wait_until(lambda: (r := httpx.get(f"{server.url}/_lockhub/ready"))
                           .status_code == 200 and r, timeout=30, message="ready")
        assert ready.json()["ok"] is True and ready.headers["seam-request-id"]
    finally:
        server.stop()
