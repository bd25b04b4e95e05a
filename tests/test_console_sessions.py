"""Console sessions on the server: the cookie's secret opens its session until it expires or
is ended, the database holds neither the secret nor the credential in clear, and a form token
belongs to one session. In-process with a controllable clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from lockhub.clock import ManualClock
from lockhub.config import Settings
from lockhub.services import console_sessions
from lockhub.services.runtime import Runtime, build_runtime
from lockhub.store import tables as t
from lockhub.store.migrate import upgrade
from tests.databases import database_url

KEY = "seam_testabcdefgh_0123456789abcdefghijklmnopqrstuv"


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    url = database_url(tmp_path, "console")
    upgrade(url)
    runtime = build_runtime(Settings(database_url=url, secret_key_file=str(tmp_path / "key")),
                            ManualClock(datetime(2026, 12, 3, 12, tzinfo=UTC)))
    yield runtime
    await runtime.close()


async def test_a_session_opens_until_it_expires(rt: Runtime) -> None:
    clock = rt.clock
    assert isinstance(clock, ManualClock)
    session = await console_sessions.start(rt, KEY, "ws_1")
    opened = await console_sessions.open_session(rt, session.secret)
    assert opened is not None and (opened.credential, opened.workspace_id) == (KEY, "ws_1")

    clock.advance(console_sessions.LIFETIME.total_seconds() - 1)
    assert await console_sessions.open_session(rt, session.secret) is not None
    clock.advance(1)
    assert await console_sessions.open_session(rt, session.secret) is None
    # The next sign-in removes expired rows.
    await console_sessions.start(rt, KEY, "ws_1")
    async with rt.db.read() as conn:
        assert len((await conn.execute(select(t.console_sessions))).all()) == 1


async def test_ending_a_session_and_unknown_secrets(rt: Runtime) -> None:
    session = await console_sessions.start(rt, KEY, None)
    assert await console_sessions.open_session(rt, session.secret + "x") is None
    assert await console_sessions.open_session(rt, None) is None
    await console_sessions.end(rt, session.secret)
    assert await console_sessions.open_session(rt, session.secret) is None


async def test_nothing_that_signs_in_is_stored_in_clear(rt: Runtime) -> None:
    session = await console_sessions.start(rt, KEY, "ws_1")
    async with rt.db.read() as conn:
        row = (await conn.execute(select(t.console_sessions))).one()
    stored = " ".join(str(value) for value in row)
    assert KEY not in stored and session.secret not in stored


async def test_a_form_token_belongs_to_one_session(rt: Runtime) -> None:
    one = await console_sessions.start(rt, KEY, "ws_1")
    two = await console_sessions.start(rt, KEY, "ws_1")
    token = console_sessions.form_token(rt, one.secret)
    assert console_sessions.form_token_matches(rt, one.secret, token)
    assert not console_sessions.form_token_matches(rt, two.secret, token)
    assert not console_sessions.form_token_matches(rt, one.secret, None)
    assert not console_sessions.form_token_matches(rt, one.secret, "")


async def test_switching_workspace_is_kept(rt: Runtime) -> None:
    session = await console_sessions.start(rt, "seam_atabc_def", None)
    await console_sessions.switch_workspace(rt, session, "ws_2")
    opened = await console_sessions.open_session(rt, session.secret)
    assert opened is not None and opened.workspace_id == "ws_2" and opened.is_pat
