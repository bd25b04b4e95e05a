"""Keep secrets out of log lines.

Errors carry secrets into logs: a database error can quote the row it refused (a webview's
`auth_token`, encrypted credentials), a connection error its URL with the password, a logged
request its `Authorization` header. Every record lockhub's processes log is scrubbed of the
shapes lockhub's secrets take (`scrub`), in its message, its traceback and its stack.

The scrubbing rides on the log record factory rather than on a filter of the root handler:
Litestar's logging set-up replaces the root handler when the app is built (and uvicorn brings
handlers of its own), so a filter on the handlers present at start-up would not last. A record
is scrubbed once, when it is made, whatever handler then writes it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec

REDACTED = "[redacted]"

_SECRETS = re.compile(
    # A password in a URL's user info: postgresql://user:PASSWORD@host/db
    r"(?P<url>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+(?=@)"
    # An Authorization header's credentials
    r"|(?P<bearer>\b(?:Bearer|Basic)\s+)[^\s\"',;]+"
    # auth_token=… in a query string, 'auth_token': '…' in a repr, "password": "…" in JSON
    r"|(?P<field>\b(?:auth_token|client_session_token|api_key|password|secret)"
    r"[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;)}]+"
    # API keys seam_<id>_<secret>, PATs seam_at…, client session tokens seam_cst…,
    # publishable keys seam_pk…
    r"|(?P<seam>\bseam_)(?:(?:at|cst|pk)[A-Za-z0-9_-]+|[A-Za-z0-9]+_[A-Za-z0-9_-]+)"
    # The key in a brand's push URL (/_lockhub/callbacks/nuki/<key>), derived from lockhub's secret
    r"|(?P<callback>/_lockhub/callbacks/[a-z0-9_]+/)[^\s/?#\"']+"
    # Webhook signing secrets
    r"|(?P<whsec>\bwhsec_)[A-Za-z0-9+/=_-]+"
    # Fernet tokens (secret_box): version byte 0x80 and a timestamp, base64url
    r"|(?-i:\bgAAAAA[A-Za-z0-9_-]{20,}={0,2})",
    re.IGNORECASE,
)
_KEEP = ("url", "bearer", "field", "callback", "seam", "whsec")


def _replace(match: re.Match[str]) -> str:
    kept = next((match.group(name) for name in _KEEP if match.group(name)), "")
    return kept + REDACTED


# Every shape above contains one of these (lower-cased) literals, or a Fernet token's prefix:
# a line with none of them is returned as it is without running the expression, which costs
# about 20 µs on a request's log line.
_MARKERS = ("://", "bearer", "basic", "auth_token", "client_session_token", "api_key",
            "password", "secret", "seam_", "/_lockhub/callbacks/", "whsec_")


def scrub(text: str) -> str:
    """`text` with every secret-shaped value replaced by `[redacted]` (the key, scheme or
    prefix before it stays, so the line still says what was there)."""
    lower = text.lower()
    if "gAAAAA" not in text and not any(marker in lower for marker in _MARKERS):
        return text
    return _SECRETS.sub(_replace, text)


_traceback_formatter = logging.Formatter()


def scrub_record(record: logging.LogRecord) -> None:
    """Render the record's message, traceback and stack now, scrubbed, so no handler
    formats the raw values later."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it when the record is handled
        return
    record.msg, record.args = scrub(message), ()
    if record.exc_info:
        record.exc_text = scrub(_traceback_formatter.formatException(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def scrub_secrets() -> None:
    """Scrub every log record this process makes from now on (idempotent)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "scrubs_secrets", False):
        return

    def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        scrub_record(record)
        return record

    scrubbed_record.scrubs_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(scrubbed_record)


# --- output: format and level ---------------------------------------------------------------

FORMATS = ("plain", "json")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every record has; anything else on a record came in through `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}
# uvicorn's loggers come with handlers of their own (and do not propagate): routed to ours,
# their lines take the same format.
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the
    record's structured fields (its `extra=` values, scrubbed like the message)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _utc_iso(record.created), "level": record.levelname,
            "logger": record.name, "message": record.getMessage()}
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                line[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return _json_line(line)


_encode_json = msgspec.json.Encoder(enc_hook=str).encode  # 1 µs a line where json.dumps took 11


def _json_line(line: dict[str, Any]) -> str:
    return _encode_json(line).decode()


def _utc_iso(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class LockhubHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """lockhub's one handler on the root logger. Besides ordinary records it writes lines for
    hot paths (`write_line`): the access log's line per request, which through a LogRecord,
    the record factory and a Formatter cost about 50 µs of a 70 µs request; written here it
    is the same line (same format, scrubbed) for a few µs."""

    lockhub = True
    # Hot-path lines wait in memory for at most this long (or this many lines, or the next
    # ordinary record, or exit) and are then written together: a write to stderr per line cost
    # 3 µs. A process killed with SIGKILL loses the access lines of its last quarter second.
    PENDING_SECONDS = 0.25
    PENDING_LINES = 64

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self.json_lines = False
        self._second = -1
        self._second_text = ""
        self._pending: list[str] = []
        self._drainer: threading.Thread | None = None

    def use_format(self, format_name: str) -> None:
        self.json_lines = format_name == "json"
        self.setFormatter(JsonFormatter() if self.json_lines else logging.Formatter(PLAIN_FORMAT))

    def write_line(self, logger: str, level: str, message: str, fields: dict[str, Any]) -> None:
        """Write one line as `format` would for a record of `logger` at `level` with
        `message` and `extra=fields` (scrubbed like any record)."""
        created = time.time()
        if self.json_lines:
            line: dict[str, Any] = {"time": _utc_iso(created), "level": level, "logger": logger,
                                    "message": scrub(message)}
            for key, value in fields.items():
                line[key] = scrub(value) if isinstance(value, str) else value
            text = _json_line(line)
        else:
            second = int(created)
            if second != self._second:  # logging's default asctime, made once a second
                self._second = second
                self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            millis = int((created - second) * 1000)
            text = f"{self._second_text},{millis:03d} {level} {logger}: {scrub(message)}"
        with self.lock:  # type: ignore[union-attr]
            self._pending.append(text + self.terminator)
            if len(self._pending) >= self.PENDING_LINES:
                self._drain()
            elif self._drainer is None:
                self._drainer = threading.Thread(target=self._drain_periodically,
                                                 name="lockhub-log-drain", daemon=True)
                self._drainer.start()

    def _drain(self) -> None:
        """Write the pending lines (the caller holds the lock)."""
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            try:
                self.stream.write(text)
            except Exception:
                self.handleError(logging.makeLogRecord({"msg": text}))

    def _drain_periodically(self) -> None:
        while True:
            time.sleep(self.PENDING_SECONDS)
            if self._pending:
                self.flush()

    def emit(self, record: logging.LogRecord) -> None:
        self._drain()  # under the lock `handle` holds: lines stay in order
        super().emit(record)

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._drain()
        super().flush()


def flush() -> None:
    """Write out pending lines now: at shutdown (uvicorn re-raises SIGTERM once it has shut
    down, so the interpreter's exit hooks, logging's flush among them, never run)."""
    for handler in logging.getLogger().handlers:
        handler.flush()


def direct_handler(logger: logging.Logger) -> LockhubHandler | None:
    """lockhub's handler if it is the only handler `logger`'s records reach, with no filter on
    the way (so `write_line` is exactly what logging would do), else None (e.g. under pytest's
    log capture): then log the ordinary way."""
    found: LockhubHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters:
            return None
        for handler in current.handlers:
            if found is not None or not isinstance(handler, LockhubHandler) or handler.filters:
                return None
            found = handler
        if not current.propagate:
            break
        current = current.parent
    return found


class LogSettingError(ValueError):
    pass


def configure(env: Mapping[str, str] | None = None, *,
              stream: TextIO | None = None) -> LockhubHandler:
    """Set up this process's logging from `LOCKHUB_LOG_FORMAT` (plain | json, default plain)
    and `LOCKHUB_LOG_LEVEL` (default INFO), with secret scrubbing. Idempotent: a second call
    re-applies the settings to the same one handler on the root logger.

    `logging.basicConfig`'s handler, if present, is replaced (other handlers, e.g. pytest's,
    are left alone); uvicorn's loggers are routed to the root handler.
    """
    env = os.environ if env is None else env
    format_name = (env.get("LOCKHUB_LOG_FORMAT") or "plain").strip().lower()
    if format_name not in FORMATS:
        raise LogSettingError(f"LOCKHUB_LOG_FORMAT must be one of {', '.join(FORMATS)}, "
                              f"not {format_name!r}")
    level_name = (env.get("LOCKHUB_LOG_LEVEL") or "INFO").strip().upper()
    level = logging.getLevelNamesMapping().get(level_name)
    if level is None:
        raise LogSettingError(f"LOCKHUB_LOG_LEVEL must be a level name (DEBUG, INFO, WARNING, "
                              f"ERROR, CRITICAL), not {level_name!r}")
    scrub_secrets()
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, LockhubHandler)), None)
    if handler is None:
        for other in list(root.handlers):
            if type(other) is logging.StreamHandler:  # basicConfig's
                root.removeHandler(other)
        handler = LockhubHandler(stream or sys.stderr)
        root.addHandler(handler)
    elif stream is not None:
        handler.setStream(stream)
    handler.use_format(format_name)
    root.setLevel(level)
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
