"""Webhook rules: signature vector, retry schedule and target policy."""

import ipaddress
from datetime import UTC, datetime, timedelta

from lockhub.domain.webhooks import next_attempt_delay, signed_headers, target_refusal

VECTOR_BODY = (
    '{"event_id":"9a1c3f0e-0000-4000-8000-000000000001","event_type":"lock.unlocked",'
    '"workspace_id":"5b9e8c1a-0000-4000-8000-00000000000a",'
    '"device_id":"0d7c4b2e-0000-4000-8000-0000000000d1",'
    '"connected_account_id":"c2f1e0d9-0000-4000-8000-0000000000ca","method":"remote",'
    '"action_attempt_id":"a1b2c3d4-0000-4000-8000-0000000000aa",'
    '"created_at":"2026-01-01T00:00:00.000Z","occurred_at":"2026-01-01T00:00:00.000Z"}')


def test_signature_matches_the_documented_test_vector_in_both_header_families() -> None:
    headers = signed_headers("whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                             "msg_lockhub_0001", datetime.fromtimestamp(1767225600, UTC),
                             VECTOR_BODY)
    expected = "v1,JSrOH8vC+O1cWamlNum2hu5lc50JPIG0Xf+epjM1Gi8="
    assert headers["svix-signature"] == headers["webhook-signature"] == expected
    assert headers["svix-timestamp"] == headers["webhook-timestamp"] == "1767225600"


def test_retry_schedule_is_svix_and_ends_after_eight_retries() -> None:
    delays = [next_attempt_delay(n) for n in range(1, 10)]
    assert delays[:8] == [timedelta(0), timedelta(seconds=5), timedelta(minutes=5),
                          timedelta(minutes=30), timedelta(hours=2), timedelta(hours=5),
                          timedelta(hours=10), timedelta(hours=10)]
    assert delays[8] is None


def test_private_addresses_are_refused_unless_allowed() -> None:
    loopback = [ipaddress.ip_address("127.0.0.1")]
    public = [ipaddress.ip_address("93.184.216.34")]
    assert target_refusal("localhost", loopback, allow="", deny="", private_allowed=False)
    assert target_refusal("localhost", loopback, allow="", deny="", private_allowed=True) is None
    assert target_refusal("localhost", loopback, allow="127.0.0.0/8", deny="",
                          private_allowed=False) is None
    assert target_refusal("example.com", public, allow="", deny="", private_allowed=False) is None
    assert target_refusal("example.com", public, allow="", deny="example.com",
                          private_allowed=True)
