"""Bridge-proxied jobs: `POST /devices/{lockId}/jobs/bridges/{bridgeId}` queues one, the bridge
carries it to the lock over Bluetooth, `GET /jobs/{jobId}` reports it.

A job is accepted before it is done. Here a job advances only when it is polled (no timers in the
fake): it stays `completed: false` for `polls_to_complete` reads, then runs against the world.
Jobs of one bridge run one at a time in the order they were created, and a job nobody polls
holds the bridge until it expires ("jobs must be polled to completion or they block each other",
integrators' notes). `jobResponse.jobStatus` is 0 when the job succeeded and 2 when it failed.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tests.fakes.igloohome import world as w

JOB_LOCK, JOB_UNLOCK, JOB_CREATE_PIN, JOB_DELETE_PIN = 1, 2, 4, 5
JOB_BATTERY, JOB_DEVICE_STATUS, JOB_ACTIVITY_LOGS = 9, 10, 15
SCOPES = {
    JOB_LOCK: "igloohomeapi/lock-bridge-proxied-job",
    JOB_UNLOCK: "igloohomeapi/unlock-bridge-proxied-job",
    JOB_CREATE_PIN: "igloohomeapi/create-pin-bridge-proxied-job",
    JOB_DELETE_PIN: "igloohomeapi/delete-pin-bridge-proxied-job",
    JOB_BATTERY: "igloohomeapi/get-battery-level-bridge-proxied-job",
    JOB_ACTIVITY_LOGS: "igloohomeapi/get-activity-logs-bridge-proxied-job",
}
STATUS_DONE, STATUS_FAILED = 0, 2
PIN_FORMAT = re.compile(r"^\d{4,10}$")
JOB_TTL = timedelta(minutes=5)

# What a failed job says (this fake's wording; igloohome's is not public).
PIN_EXISTS = "PIN already exists on the lock"
STORAGE_FULL = "PIN storage of the lock is full"
PIN_NOT_FOUND = "PIN not found on the lock"
OUT_OF_RANGE = "Lock is out of the bridge's Bluetooth range"


class JobError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Job:
    job_id: str
    job_type: int
    lock_id: str
    bridge_id: str
    data: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    polls: int = 0
    completed: bool = False
    response: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        # jobType comes back as a string (igloohome-api's GetJobStatusResponse declares str).
        return {"jobId": self.job_id, "expiryDate": self.expires_at.isoformat(timespec="seconds"),
                "completed": self.completed, "jobType": str(self.job_type),
                "jobResponse": dict(self.response)}


def _iso(data: dict[str, Any], key: str) -> datetime:
    try:
        value = datetime.fromisoformat(data[key])
        if value.tzinfo is None:
            raise ValueError
        return value
    except (KeyError, TypeError, ValueError):
        raise JobError(400, f"'jobData.{key}' must be an ISO 8601 date with an offset") from None


class JobQueue:
    def __init__(self, world: w.World) -> None:
        self.world = world
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self.polls_to_complete = 1
        self.held = False  # the bridge picks nothing up (jobs stay pending until they expire)
        self.failures: list[str] = []  # the next jobs to run fail with these messages
        self._ids = itertools.count(1)

    def submit(self, lock_id: str, bridge_id: str, body: dict[str, Any]) -> Job:
        job_type = body.get("jobType")
        data = body.get("jobData") or {}
        if not isinstance(job_type, int) or job_type not in SCOPES:
            raise JobError(400, "'jobType' is not a supported job type")
        if not isinstance(data, dict):
            raise JobError(400, "'jobData' must be an object")
        with self.world.lock:
            lock = self.world.locks.get(lock_id)
            bridge = self.world.bridges.get(bridge_id)
            if lock is None or bridge is None:
                raise JobError(404, "Device not found")
            if lock.bridge_id != bridge_id:
                raise JobError(400, "Device is not linked to the bridge")
            if not bridge.online:
                raise JobError(406, "Unable to contact bridge")
        if job_type == JOB_CREATE_PIN:
            pin = data.get("pin")
            if not isinstance(pin, str) or not PIN_FORMAT.match(pin):
                raise JobError(400, "'jobData.pin' must be 4 to 10 digits")
            if not isinstance(data.get("accessName"), str):
                raise JobError(400, "'jobData.accessName' is required")
            if "startDate" in data or "endDate" in data:
                if _iso(data, "endDate") <= _iso(data, "startDate"):
                    raise JobError(400, "'jobData.endDate' must be after 'jobData.startDate'")
        if job_type == JOB_DELETE_PIN and not isinstance(data.get("pin"), str):
            raise JobError(400, "'jobData.pin' is required")
        now = self.world.clock.now()
        with self.lock:
            job_id = f"{next(self._ids):08d}-fake-job"
            job = Job(job_id, job_type, lock_id, bridge_id, data, now, now + JOB_TTL)
            self.jobs[job_id] = job
            return job

    def poll(self, job_id: str) -> Job | None:
        """The job as GET /jobs/{jobId} sees it, after letting it advance one step."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                return None
            if not job.completed and self._may_run(job):
                job.polls += 1
                if job.polls > self.polls_to_complete:
                    self._run(job)
            return job

    def _expired(self, job: Job) -> bool:
        return self.world.clock.now() >= job.expires_at

    def _may_run(self, job: Job) -> bool:
        if self.held or self._expired(job):
            return False
        bridge = self.world.bridges.get(job.bridge_id)
        if bridge is None or not bridge.online:
            return False
        return not any(other.bridge_id == job.bridge_id and not other.completed
                       and not self._expired(other) and other.created_at <= job.created_at
                       and other.job_id < job.job_id for other in self.jobs.values())

    def _run(self, job: Job) -> None:
        job.completed = True
        try:
            extra = self._execute(job)
        except JobError as failure:
            job.response = {"jobStatus": STATUS_FAILED, "message": failure.message}
        else:
            job.response = {"jobStatus": STATUS_DONE, **extra}

    def _execute(self, job: Job) -> dict[str, Any]:
        world = self.world
        with world.lock:
            if self.failures:
                raise JobError(0, self.failures.pop(0))
            lock = world.locks.get(job.lock_id)
            if lock is None or not lock.in_bridge_range:
                raise JobError(0, OUT_OF_RANGE)
            lock.last_sync = world.clock.now()
            if job.job_type in (JOB_LOCK, JOB_UNLOCK):
                lock.locked = job.job_type == JOB_LOCK
                world.log(lock, w.LOG_LOCK_BRIDGE if lock.locked else w.LOG_UNLOCK_BRIDGE)
                return {}
            if job.job_type == JOB_CREATE_PIN:
                if lock.find_pin(job.data["pin"]) is not None:
                    raise JobError(0, PIN_EXISTS)
                if len(lock.pins) >= w.MAX_PINS_PER_LOCK:
                    raise JobError(0, STORAGE_FULL)
                timed = "startDate" in job.data
                added = world.add_pin(lock, pin=job.data["pin"], name=job.data["accessName"],
                                      kind="custom",
                                      starts_at=_iso(job.data, "startDate") if timed else None,
                                      ends_at=_iso(job.data, "endDate") if timed else None)
                # The key id the lock gave the PIN (its activity-log entries name it). Where
                # igloohome puts it in a job answer is not public: this fake's choice.
                return {"keyId": added.key_id}
            if job.job_type == JOB_DELETE_PIN:
                found = lock.find_pin(job.data["pin"])
                if found is None or found.kind != "custom":
                    raise JobError(0, PIN_NOT_FOUND)
                lock.pins.remove(found)
                return {}
            if job.job_type == JOB_BATTERY:
                return {"batteryLevel": lock.battery_level}
            return {"logs": [dict(entry) for entry in lock.logs]}
