"""Secrets stay out of the logs: the scrubber over each secret shape lockhub knows, and a real
server's log file after a database error that quoted a webview's auth token."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet
from seam import Seam, SeamHttpApiError

from lockhub.logs import (
    LockhubHandler,
    LogSettingError,
    configure,
    direct_handler,
    scrub,
    scrub_secrets,
)
from tests.conformance.helpers import SANDBOX_KEY, wait_until
from tests.databases import sql
from tests.server import start_server

FERNET_TOKEN = Fernet(Fernet.generate_key()).encrypt(b'{"password": "1234"}').decode()

# (secret as it appears in a line, what must be left of it)
SHAPES = [
    ("Authorization: Bearer seam_apikey1_token", "Bearer [redacted]"),
    ("key seam_testAbCd1234_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz", "seam_[redacted]"),
    ("pat seam_at1_shorttoken_longtoken", "seam_[redacted]"),
    ("cst seam_cst1cst3_0123456789abcdef", "seam_[redacted]"),
    ("publishable seam_pk1_token", "seam_[redacted]"),
    ("webhook secret whsec_aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ+/w==", "whsec_[redacted]"),
    (f"pending_login {FERNET_TOKEN}", "pending_login [redacted]"),
    ("/connect_webviews/view?connect_webview_id=9e1&auth_token=q5-Xy_Z0&provider=ttlock",
     "auth_token=[redacted]&provider=ttlock"),
    ("{'auth_token': 'q5-Xy_Z0', 'status': 'pending'}", "'auth_token': '[redacted]'"),
    ('{"email": "jane@example.com", "password": "1234"}', '"password": "[redacted]"'),
    ("postgresql://lockhub:s3cret@db.internal:5432/lockhub",
     "postgresql://lockhub:[redacted]@db.internal:5432/lockhub"),
    ("postgresql+asyncpg://lockhub:p%40ss@db/lockhub", "postgresql+asyncpg://lockhub:[redacted]@"),
]
SECRETS = ["seam_apikey1_token", "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz", "shorttoken_longtoken",
           "0123456789abcdef", "seam_pk1_token", "aGVsbG8gd29ybGQ", FERNET_TOKEN, "q5-Xy_Z0",
           '"1234"', "s3cret", "p%40ss"]


@pytest.mark.parametrize(("line", "left"), SHAPES, ids=[s[1] for s in SHAPES])
def test_scrub_replaces_each_secret_shape_and_keeps_what_it_was(line: str, left: str) -> None:
    scrubbed = scrub(line)
    assert left in scrubbed
    assert not [s for s in SECRETS if s in scrubbed], scrubbed


@pytest.mark.parametrize("line", [
    "INSERT INTO connect_webviews (connect_webview_id, auth_token, status) VALUES (?, ?, ?)",
    "job 6f1c0a52-7d0e-4b55-9a53-08c1f1a2b3c4 (sync_access_code) failed",
    "GET http://127.0.0.1:3020/devices/list?limit=10 sent seam-request-id 42",
    "The code must contain the digits 0-9 only",
])
def test_scrub_leaves_ordinary_lines_alone(line: str) -> None:
    assert scrub(line) == line


@pytest.fixture
def scrubbing() -> Iterator[None]:
    make = logging.getLogRecordFactory()
    scrub_secrets()
    scrub_secrets()  # twice: still one layer
    yield
    logging.setLogRecordFactory(make)


def test_records_are_scrubbed_in_message_arguments_and_traceback_whatever_the_handler(
        scrubbing: None) -> None:
    logger = logging.getLogger("tests.logs")
    logger.propagate = False
    # A handler added after the scrubber was installed, as Litestar's and uvicorn's are.
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"refused row (9e1, {FERNET_TOKEN}, postgresql://u:s3cret@db/x)")
        except RuntimeError:
            logger.exception("opening %s failed", "/view?connect_webview_id=9e1&auth_token=q5-Xy_Z0")
        logger.warning("a stack", stack_info=True)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    written = out.getvalue()
    assert "opening /view?connect_webview_id=9e1&auth_token=[redacted] failed" in written
    assert "Traceback (most recent call last)" in written and "RuntimeError: refused row" in written
    assert not [s for s in SECRETS if s in written], written


def test_a_database_error_quoting_the_auth_token_leaves_no_secret_in_the_server_log(
        tmp_path: Path) -> None:
    server = start_server(tmp_path, env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0"}, name="secrets")
    try:
        seam = Seam(api_key=SANDBOX_KEY, endpoint=server.url)
        webview = seam.connect_webviews.create(custom_redirect_url="https://app.example/back")
        [auth_token] = parse_qs(urlsplit(webview.url).query)["auth_token"]
        # The database refuses the next webview, quoting the first one's page URL (as a
        # database quotes the row it refused), among other secrets.
        refuse_webviews(server.database_url,
                        f"refused by the test: {webview.url} seam_at1_shorttoken_longtoken "
                        "postgresql://lockhub:s3cret@db/lockhub")
        with pytest.raises(SeamHttpApiError) as caught:
            seam.connect_webviews.create(customer_key="customer-quoted-by-the-error",
                                         custom_redirect_url="https://app.example/back")
        assert caught.value.status_code == 500
        assert server.log_path is not None
        log = wait_until(lambda: "refused by the test" in (text := server.log_path.read_text())
                         and "Traceback" in text and text, message="the error in the log")
    finally:
        server.stop()
    error = log[log.index("unhandled error"):]
    assert "auth_token=[redacted]" in error
    assert auth_token not in log
    assert "shorttoken_longtoken" not in log and "s3cret" not in log
    # The statement's bound values (the new webview's own token among them) are not shown.
    assert "customer-quoted-by-the-error" not in log


@pytest.fixture
def configured() -> Iterator[io.StringIO]:
    """`logs.configure` on a clean root logger, everything put back afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogRecordFactory())
    uvicorn = {name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
               for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}
    root.handlers = [logging.StreamHandler()]  # basicConfig's, as the CLI makes it today
    out = io.StringIO()
    yield out
    root.handlers, root.level = saved[0], saved[1]
    logging.setLogRecordFactory(saved[2])
    for name, (handlers, propagate) in uvicorn.items():
        logging.getLogger(name).handlers, logging.getLogger(name).propagate = handlers, propagate


def test_configure_is_idempotent_and_replaces_basic_config(configured: io.StringIO) -> None:
    first = configure({}, stream=configured)
    second = configure({"LOCKHUB_LOG_FORMAT": "json"}, stream=configured)
    root = logging.getLogger()
    # pytest's own capture handlers stay; basicConfig's is replaced by lockhub's, once.
    assert first is second and isinstance(first, LockhubHandler)
    assert [h for h in root.handlers if type(h) in (LockhubHandler, logging.StreamHandler)] \
        == [first]
    assert getattr(logging.getLogRecordFactory(), "scrubs_secrets", False)
    with pytest.raises(LogSettingError):
        configure({"LOCKHUB_LOG_FORMAT": "xml"})
    with pytest.raises(LogSettingError):
        configure({"LOCKHUB_LOG_LEVEL": "LOUD"})


def test_json_lines_and_hot_path_lines_are_scrubbed_fields_included(
        configured: io.StringIO) -> None:
    handler = configure({"LOCKHUB_LOG_FORMAT": "json", "LOCKHUB_LOG_LEVEL": "DEBUG"},
                        stream=configured)
    logger = logging.getLogger("lockhub.tests")
    logger.debug("connecting to %s", "postgresql://lockhub:s3cret@db.internal/lockhub",
                 extra={"url": "postgresql://lockhub:s3cret@db.internal/lockhub",
                        "header": "Bearer seam_apikey1_token", "attempts": 2})
    handler.write_line("lockhub.access", "INFO",
                       "POST /_lockhub/callbacks/nuki/Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz 204",
                       {"path": "/_lockhub/callbacks/nuki/Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz",
                        "status": 204})
    handler.flush()
    first, second = (json.loads(line) for line in configured.getvalue().splitlines())
    assert first["level"] == "DEBUG" and first["logger"] == "lockhub.tests"
    assert first["message"] == "connecting to postgresql://lockhub:[redacted]@db.internal/lockhub"
    assert first["url"] == "postgresql://lockhub:[redacted]@db.internal/lockhub"
    assert first["header"] == "Bearer [redacted]" and first["attempts"] == 2
    assert second["path"] == "/_lockhub/callbacks/nuki/[redacted]" and second["status"] == 204
    written = configured.getvalue()
    assert not [s for s in SECRETS if s in written], written


def test_hot_path_lines_are_written_like_records_and_before_later_records(
        configured: io.StringIO) -> None:
    handler = configure({}, stream=configured)
    logging.getLogger().handlers = [handler]  # without pytest's capture (the fixture restores)
    logger = logging.getLogger("lockhub.access")
    assert direct_handler(logger) is handler
    handler.write_line("lockhub.access", "INFO", "GET /health 200", {})
    logger.info("a record after")
    first, second = configured.getvalue().splitlines()
    assert first.endswith(" INFO lockhub.access: GET /health 200")
    assert second.endswith(" INFO lockhub.access: a record after")
    asctime = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"  # logging's default, as records have
    assert re.fullmatch(asctime + " INFO lockhub.access: GET /health 200", first), first
    assert re.fullmatch(asctime + " INFO lockhub.access: a record after", second), second
    # Another handler on the way (pytest's capture, say): logged the ordinary way.
    extra = logging.StreamHandler(io.StringIO())
    logger.addHandler(extra)
    try:
        assert direct_handler(logger) is None
    finally:
        logger.removeHandler(extra)


def refuse_webviews(database_url: str, message: str) -> None:
    """Make the database refuse every new Connect Webview with `message` (a trigger)."""
    if database_url.startswith("sqlite"):
        sql(database_url, "CREATE TRIGGER refuse_webviews BEFORE INSERT ON connect_webviews "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
        return
    sql(database_url, "CREATE FUNCTION refuse_webviews() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$")
    sql(database_url, "CREATE TRIGGER refuse_webviews BEFORE INSERT ON connect_webviews "
        "FOR EACH ROW EXECUTE FUNCTION refuse_webviews()")
