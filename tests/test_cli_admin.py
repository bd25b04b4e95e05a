"""The `lockhub` command at the program's edge: administration, the first run of a production
server, finding the database, and one clear line (never a traceback) for every mistake.

Every test drives the real command in a subprocess (`python -m lockhub.cli`), in an empty
folder and without any LOCKHUB_* variable of the caller, against real databases.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from seam import Seam, SeamHttpUnauthorizedError, SeamWithoutWorkspace

from lockhub.api import processes
from lockhub.config import FILE_SETTINGS
from tests.databases import database_url
from tests.postgres import PostgresServer
from tests.server import free_port, start_server

ROOT = Path(__file__).parents[1]
FIRST_RUN_KEY = re.compile(r"seam_live[A-Za-z0-9]+_[A-Za-z0-9]+")
PUBLISHED_KEYS = ("seam_apikey1_token", "seam_apikey2_token", "seam_demokey1_token")


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOCKHUB_")}
    return {**clean, "PYTHONUNBUFFERED": "1", **(extra or {})}


def lockhub(cwd: Path, *args: str, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lockhub.cli", *args], cwd=cwd,
                          env=_env(env), capture_output=True, text=True, timeout=timeout)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def one_line(result: subprocess.CompletedProcess[str], expected: str, code: int = 1) -> str:
    """The failure is exactly one line on stderr, with `expected` in it, and no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert "Traceback" not in output and "lockhub is running" not in output, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0], lines[0]
    return lines[0]


def created(stdout: str) -> tuple[str, str]:
    """`workspaces create`'s two lines: the workspace id and its API key."""
    values = dict(line.split(None, 1) for line in stdout.strip().splitlines())
    return values["workspace_id"].strip(), values["api_key"].strip()


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = database_url(tmp_path, "admin")
    ok(lockhub(tmp_path, "migrate", "--database-url", url))
    return url


@pytest.fixture(scope="module")
def shared_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database the tests only read from, migrated once."""
    folder = tmp_path_factory.mktemp("shared")
    url = database_url(folder, "shared")
    ok(lockhub(folder, "migrate", "--database-url", url))
    return url


@pytest.mark.fixed_database
def test_version_comes_from_the_package_metadata(tmp_path: Path) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert ok(lockhub(tmp_path, "--version")).strip() == f"lockhub {version('lockhub')}"
    assert version("lockhub") == pyproject["version"]
    assert pyproject["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text()
    assert f"## {pyproject['version']}" in (ROOT / "CHANGELOG.md").read_text()


@pytest.mark.fixed_database
def test_every_setting_the_code_reads_may_be_given_in_the_configuration_file() -> None:
    read = set()
    for path in (ROOT / "src" / "lockhub").rglob("*.py"):
        read |= set(re.findall(r"LOCKHUB_[A-Z0-9_]*[A-Z0-9]", path.read_text()))
    # LOCKHUB_CONFIG names the file itself; serve hands its settings to its API processes.
    assert read - FILE_SETTINGS - {"LOCKHUB_CONFIG", processes.SETTINGS_ENV} == set()


def test_workspaces_keys_and_tokens_are_administered_without_showing_a_stored_secret(
    tmp_path: Path, database: str,
) -> None:
    db = ("--database-url", database)
    home, home_key = created(ok(lockhub(tmp_path, "workspaces", "create", "Home", *db)))
    sand, sand_key = created(ok(lockhub(tmp_path, "workspaces", "create", "Play", "--sandbox",
                                        *db)))
    assert home_key.startswith("seam_live") and sand_key.startswith("seam_test")

    listed = ok(lockhub(tmp_path, "workspaces", "list", *db))
    assert re.search(rf"{home}.*Home.*production.*active.*1", listed)
    assert re.search(rf"{sand}.*Play.*sandbox.*active.*1", listed)

    second_key = ok(lockhub(tmp_path, "keys", "create", "--workspace", home, "--name", "Door",
                            *db)).strip()
    keys = ok(lockhub(tmp_path, "keys", "list", *db))
    home_id, second_id = home_key.split("_")[1], second_key.split("_")[1]
    assert home_id in keys and second_id in keys and "Door" in keys and home in keys
    only_sand = ok(lockhub(tmp_path, "keys", "list", "--workspace", sand, *db))
    assert sand_key.split("_")[1] in only_sand and home_id not in only_sand

    token = ok(lockhub(tmp_path, "tokens", "create", "--email", "ops@example.com",
                       "--workspace", home, "--workspace", sand, *db)).strip()
    again = ok(lockhub(tmp_path, "tokens", "create", "--email", "OPS@example.com", *db)).strip()
    assert token.startswith("seam_at") and again.startswith("seam_at")
    tokens = ok(lockhub(tmp_path, "tokens", "list", "--email", "ops@example.com", *db))
    assert token[len("seam_at"):].split("_")[0] in tokens and home in tokens and sand in tokens

    for listing in (listed, keys, only_sand, tokens):
        for secret in (home_key, sand_key, second_key, token, again):
            assert secret.rpartition("_")[2] not in listing

    ok(lockhub(tmp_path, "keys", "revoke", second_id, *db))
    ok(lockhub(tmp_path, "keys", "revoke", home_key, *db))
    assert home_id not in ok(lockhub(tmp_path, "keys", "list", *db))
    one_line(lockhub(tmp_path, "keys", "revoke", home_key, *db), "no such API key")
    ok(lockhub(tmp_path, "tokens", "revoke", token, *db))
    one_line(lockhub(tmp_path, "tokens", "revoke", token, *db), "no such personal access token")
    assert token[len("seam_at"):].split("_")[0] not in ok(lockhub(tmp_path, "tokens", "list",
                                                                   *db))


@pytest.mark.fixed_database
@pytest.mark.parametrize("command", [
    ["keys", "list"], ["keys", "create", "--workspace", "w"], ["keys", "revoke", "k"],
    ["tokens", "list"], ["tokens", "create", "--email", "a@example.com"],
    ["workspaces", "list"], ["workspaces", "create", "Home"], ["workspaces", "delete", "w"],
    ["sandbox", "clock", "get", "--workspace", "w"], ["webhooks", "deliveries", "--workspace", "w"],
    ["worker"],
])
def test_commands_other_than_serve_and_migrate_refuse_a_database_that_does_not_exist(
    tmp_path: Path, command: list[str],
) -> None:
    missing = tmp_path / "nowhere" / "lockhub.db"
    one_line(lockhub(tmp_path, *command, "--database-url", f"sqlite:///{missing}"),
             f"no lockhub database at {missing}; start `lockhub serve` or pass --database-url")
    default = tmp_path / ".lockhub" / "lockhub.db"
    one_line(lockhub(tmp_path, *command), f"no lockhub database at {default}")
    assert not missing.parent.exists() and not default.parent.exists()


@pytest.mark.parametrize("command", [
    ["keys", "create", "--workspace", "nope"], ["keys", "list", "--workspace", "nope"],
    ["tokens", "create", "--email", "a@example.com", "--workspace", "nope"],
    ["workspaces", "suspend", "nope"], ["workspaces", "delete", "nope"],
    ["sandbox", "clock", "get", "--workspace", "nope"],
    ["sandbox", "clock", "advance", "60", "--workspace", "nope"],
    ["sandbox", "fail", "--device", "d", "--workspace", "nope"],
    ["webhooks", "deliveries", "--workspace", "nope"],
])
def test_a_workspace_that_does_not_exist_is_not_found(tmp_path: Path, shared_database: str,
                                                      command: list[str]) -> None:
    one_line(lockhub(tmp_path, *command, "--database-url", shared_database),
             "lockhub: workspace not found: nope")


@pytest.mark.fixed_database
def test_the_database_is_found_by_flag_then_environment_then_configuration_file(
    tmp_path: Path,
) -> None:
    urls = {name: f"sqlite:///{tmp_path / name}.db" for name in ("flag", "env", "file", "etc")}
    for name, url in urls.items():
        ok(lockhub(tmp_path, "migrate", "--database-url", url))
        ok(lockhub(tmp_path, "workspaces", "create", f"in-{name}", "--database-url", url))
    (tmp_path / "lockhub.toml").write_text(f'database_url = "{urls["file"]}"\n')
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text(f'database_url = "{urls["etc"]}"\nlease_seconds = 20\n')

    def listed(*args: str, env: dict[str, str] | None = None) -> str:
        return ok(lockhub(tmp_path, "workspaces", "list", *args, env=env))

    assert "in-file" in listed()
    assert "in-env" in listed(env={"LOCKHUB_DATABASE_URL": urls["env"]})
    assert "in-flag" in listed("--database-url", urls["flag"],
                               env={"LOCKHUB_DATABASE_URL": urls["env"]})
    assert "in-etc" in listed(env={"LOCKHUB_CONFIG": str(elsewhere)})

    one_line(lockhub(tmp_path, "workspaces", "list", env={"LOCKHUB_CONFIG": "/no/such.toml"}),
             "LOCKHUB_CONFIG=/no/such.toml: no such file")
    (tmp_path / "lockhub.toml").write_text('database_url = "x"\ndatabse_url = "typo"\n')
    one_line(lockhub(tmp_path, "workspaces", "list"), "unknown setting 'databse_url'")
    (tmp_path / "lockhub.toml").write_text("database_url = \n")
    one_line(lockhub(tmp_path, "workspaces", "list"), "cannot read lockhub.toml")


@pytest.mark.fixed_database
def test_mistakes_and_start_up_failures_are_one_line(tmp_path: Path, database: str) -> None:
    db = ("--database-url", database)
    for url in ("sqlite://", "sqlite:///:memory:"):
        for command in (["serve"], ["migrate"], ["worker"], ["workspaces", "list"]):
            one_line(lockhub(tmp_path, *command, "--database-url", url),
                     "in-memory SQLite database")
    one_line(lockhub(tmp_path, "migrate", "--database-url", "mysql://u:pw@host/db"),
             "unsupported database mysql://u:***@host/db")
    one_line(lockhub(tmp_path, "serve", "--port", str(free_port()), *db,
                     env={"LOCKHUB_LEASE_SECONDS": "soon"}),
             "LOCKHUB_LEASE_SECONDS='soon' is not a number")

    workspace, _ = created(ok(lockhub(tmp_path, "workspaces", "create", "Play", "--sandbox",
                                      *db)))
    one_line(lockhub(tmp_path, "sandbox", "clock", "advance", "soon", "--workspace", workspace,
                     *db), "Invalid value for 'seconds'", code=2)
    one_line(lockhub(tmp_path, "sandbox", "clock", "set", "yesterday", "--workspace", workspace,
                     *db), "'yesterday' is not an ISO 8601 instant")
    one_line(lockhub(tmp_path, "sandbox", "clock", "set", "2026-01-01T00:00:00",
                     "--workspace", workspace, *db), "has no time zone")
    one_line(lockhub(tmp_path, "keys", "create", *db), "Missing option '--workspace'", code=2)
    one_line(lockhub(tmp_path, "tokens", "create", "--email", "nobody", *db),
             "'nobody' is not an email address")
    one_line(lockhub(tmp_path, "frobnicate"), "No such command 'frobnicate'", code=2)
    one_line(lockhub(tmp_path, "serve", "--port", "70000", *db), "Invalid value for '--port'",
             code=2)


@pytest.mark.fixed_database
def test_a_port_in_use_is_one_line_before_the_banner_and_before_the_database(
    tmp_path: Path,
) -> None:
    port = free_port()
    target = tmp_path / "never.db"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        one_line(lockhub(tmp_path, "serve", "--port", str(port), "--database-url",
                         f"sqlite:///{target}"),
                 f"port {port} on 127.0.0.1 is already in use")
    assert not target.exists()


@pytest.mark.fixed_database
def test_an_unreachable_postgresql_is_one_line_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://lockhub:hunter2secret@127.0.0.1:{free_port()}/lockhub"
    for command in (["serve", "--port", str(free_port())], ["migrate"], ["worker"],
                    ["workspaces", "list"]):
        result = lockhub(tmp_path, *command, "--database-url", url)
        line = one_line(result, "cannot open the database at "
                                f"{url.replace('hunter2secret', '***')}")
        assert "hunter2secret" not in result.stdout + result.stderr
        assert "Connect call failed" in line or "refused" in line.lower()


def test_migrate_and_worker_mask_the_database_password(postgres: PostgresServer,
                                                       tmp_path: Path) -> None:
    # The throwaway cluster trusts loopback connections: the password is accepted, unused.
    url = postgres.new_database("cli_masking").replace("lockhub@", "lockhub:hunter2secret@")
    migrated = lockhub(tmp_path, "migrate", "--database-url", url)
    assert "lockhub:***@" in ok(migrated)
    assert "hunter2secret" not in migrated.stdout + migrated.stderr

    worker = subprocess.Popen([sys.executable, "-m", "lockhub.cli", "worker", "--database-url",
                               url], cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        assert worker.stdout is not None
        deadline, output = time.monotonic() + 30, ""
        while "lockhub:***@" not in output and time.monotonic() < deadline:
            output += worker.stdout.readline()
    finally:
        worker.send_signal(signal.SIGTERM)
        rest, _ = worker.communicate(timeout=30)
    assert "lockhub:***@" in output
    assert "hunter2secret" not in output + rest and "Traceback" not in output + rest


def test_a_first_production_start_prints_one_working_key_once(tmp_path: Path) -> None:
    url = database_url(tmp_path, "production")
    first = start_server(tmp_path, name="first", database_url=url, seed=False,
                         test_hooks=False, env={"PYTHONUNBUFFERED": "1"})
    try:
        assert first.log_path is not None
        deadline = time.monotonic() + 10
        while not (keys := FIRST_RUN_KEY.findall(first.log_path.read_text())):
            assert time.monotonic() < deadline, first.log_path.read_text()
            time.sleep(0.05)
        [key] = keys
        seam = Seam(api_key=key, endpoint=first.url)
        workspace = seam.workspaces.get()
        assert workspace.is_sandbox is False and workspace.name == "Production"
        assert seam.devices.list() == []
        for published in PUBLISHED_KEYS:
            with pytest.raises(SeamHttpUnauthorizedError):
                Seam(api_key=published, endpoint=first.url).workspaces.get()

        # Administered while the server runs: the new key and token work at once.
        sand, sand_key = created(ok(lockhub(tmp_path, "workspaces", "create", "Play",
                                            "--sandbox", "--database-url", url)))
        assert Seam(api_key=sand_key, endpoint=first.url).workspaces.get().is_sandbox is True
        token = ok(lockhub(tmp_path, "tokens", "create", "--email", "ops@example.com",
                           "--workspace", sand, "--workspace", workspace.workspace_id,
                           "--database-url", url)).strip()
        user = SeamWithoutWorkspace(personal_access_token=token, endpoint=first.url)
        assert {w.workspace_id for w in user.workspaces.list()} == {sand, workspace.workspace_id}
        ok(lockhub(tmp_path, "tokens", "revoke", token, "--database-url", url))
        with pytest.raises(SeamHttpUnauthorizedError):
            user.workspaces.list()
    finally:
        first.stop()
    log = first.log_path.read_text()
    assert log.count(key) == 1 and not any(k in log for k in PUBLISHED_KEYS)

    again = start_server(tmp_path, name="again", database_url=url, seed=False,
                         test_hooks=False, env={"PYTHONUNBUFFERED": "1"})
    try:
        assert Seam(api_key=key, endpoint=again.url).workspaces.get().name == "Production"
    finally:
        again.stop()
    assert again.log_path is not None
    later = again.log_path.read_text()
    assert "lockhub is running" in later and not FIRST_RUN_KEY.search(later)
    assert later.count("Production") == 0
    assert ok(lockhub(tmp_path, "workspaces", "list", "--database-url", url)).count(
        "production") == 1


def test_a_seeded_database_gets_no_first_run_workspace(tmp_path: Path) -> None:
    url = database_url(tmp_path, "seeded")
    ok(lockhub(tmp_path, "seed", "--database-url", url))
    server = start_server(tmp_path, name="seeded", database_url=url, seed=False,
                          test_hooks=False, env={"PYTHONUNBUFFERED": "1"})
    server.stop()
    assert server.log_path is not None and not FIRST_RUN_KEY.search(server.log_path.read_text())
    assert "Production" not in ok(lockhub(tmp_path, "workspaces", "list", "--database-url", url))
