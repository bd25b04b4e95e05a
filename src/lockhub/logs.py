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
import re
from typing import Any

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
    # Webhook signing secrets
    r"|(?P<whsec>\bwhsec_)[A-Za-z0-9+/=_-]+"
    # Fernet tokens (secret_box): version byte 0x80 and a timestamp, base64url
    r"|(?-i:\bgAAAAA[A-Za-z0-9_-]{20,}={0,2})",
    re.IGNORECASE,
)
_KEEP = ("url", "bearer", "field", "seam", "whsec")


def _replace(match: re.Match[str]) -> str:
    kept = next((match.group(name) for name in _KEEP if match.group(name)), "")
    return kept + REDACTED


def scrub(text: str) -> str:
    """`text` with every secret-shaped value replaced by `[redacted]` (the key, scheme or
    prefix before it stays, so the line still says what was there)."""
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
