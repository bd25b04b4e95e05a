"""algoPINs: offline PINs the igloohome cloud derives for a lock, never sent to it.

`POST /devices/{deviceId}/algopin/{hourly|daily|permanent|onetime}` with
`{variance, startDate, endDate?, accessName}` → `{pin, pinId}`. The rules enforced here are the
documented ones (Seam's igloohome guide, Inlet's knowledge base, integrators' notes): dates on the
hour with an explicit offset, hourly 1–672 h, daily 29–367 days with equal start and end time of
day, variance picks one of the few PINs of a slot (≤3, ≤5 for one-time), ≤199 PINs per lock. The
PIN is a deterministic function of the lock and the request, as a real algoPIN is (the lock
computes the same value offline).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

KINDS = ("hourly", "daily", "permanent", "onetime")
DATE_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:00:00[+-]\d{2}:\d{2}$")
MAX_HOURS = 672
MIN_DAYS, MAX_DAYS = 29, 367
MAX_VARIANCE = {"hourly": 3, "daily": 3, "permanent": 3, "onetime": 5}
PIN_DIGITS = 9

_serial = itertools.count(1)


class AlgoPinError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class AlgoPinRequest:
    kind: str
    variance: int
    starts_at: datetime
    ends_at: datetime | None
    name: str


def _date(body: dict[str, Any], key: str) -> datetime:
    value = body.get(key)
    if not isinstance(value, str) or not DATE_FORMAT.match(value):
        raise AlgoPinError(400, f"'{key}' must be in format YYYY-MM-DDTHH:00:00+hh:mm")
    return datetime.fromisoformat(value)


def parse(kind: str, body: dict[str, Any], now: datetime) -> AlgoPinRequest:
    """Check a request against igloohome's rules; AlgoPinError(400|422) when it breaks one."""
    name = body.get("accessName")
    if not isinstance(name, str) or not name:
        raise AlgoPinError(400, "'accessName' is required")
    variance = body.get("variance")
    if not isinstance(variance, int) or isinstance(variance, bool) \
            or not 1 <= variance <= MAX_VARIANCE[kind]:
        raise AlgoPinError(400, f"'variance' must be an integer from 1 to {MAX_VARIANCE[kind]}")
    starts_at = _date(body, "startDate")
    if starts_at < now.replace(minute=0, second=0, microsecond=0):
        raise AlgoPinError(400, "'startDate' cannot be in the past")
    ends_at = None
    if kind in ("hourly", "daily"):
        ends_at = _date(body, "endDate")
        if ends_at <= starts_at:
            raise AlgoPinError(400, "'endDate' must be after 'startDate'")
        length = ends_at - starts_at
        if kind == "hourly" and length > timedelta(hours=MAX_HOURS):
            raise AlgoPinError(422, f"Exceeded the limit of {MAX_HOURS} hours")
        if kind == "daily":
            if length % timedelta(days=1):
                raise AlgoPinError(400, "'startDate' and 'endDate' must be at the same time of day")
            if length > timedelta(days=MAX_DAYS):
                raise AlgoPinError(422, f"Exceeded the limit of {MAX_DAYS} days")
            if length < timedelta(days=MIN_DAYS):
                raise AlgoPinError(400, f"A daily algoPIN must last at least {MIN_DAYS} days")
    return AlgoPinRequest(kind, variance, starts_at, ends_at, name)


def generate(lock_secret: str, request: AlgoPinRequest) -> tuple[str, str]:
    """The PIN (same request, same PIN) and a fresh pinId."""
    message = "|".join([request.kind, request.starts_at.isoformat(),
                        request.ends_at.isoformat() if request.ends_at else "",
                        str(request.variance)])
    digest = hmac.new(lock_secret.encode(), message.encode(), hashlib.sha256).digest()
    pin = str(int.from_bytes(digest[:8], "big") % 10**PIN_DIGITS).zfill(PIN_DIGITS)
    return pin, str(uuid.UUID(int=next(_serial) + (1 << 120)))
