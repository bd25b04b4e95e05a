"""docs/deploy.md, run as written: the install, the systemd units' commands (with the unit's
environment), nginx with TLS in front of lockhub, the backup and restore commands for SQLite
and PostgreSQL, and the upgrade command. Paths the guide names on a server (/opt/lockhub,
/etc/..., /var/...) are moved into the test's folder; nothing else is changed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.postgres import PostgresServer
from tests.server import free_port

pytestmark = pytest.mark.fixed_database  # the guide names its databases (SQLite, PostgreSQL)

REPO = Path(__file__).resolve().parents[1]
GUIDE = (REPO / "docs" / "deploy.md").read_text()
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE, re.S)


def unit(description: str) -> dict[str, list[str]]:
    """The settings of the guide's systemd unit with this Description."""
    text = next(b for b in blocks("ini") if f"Description={description}" in b)
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("["):
            settings.setdefault(name, []).append(value)
    return settings


def sh_lines(containing: str) -> list[str]:
    return [line for block in blocks("sh") for line in block.splitlines()
            if containing in line]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The guide's install, into the test's folder instead of /opt/lockhub."""
    root = tmp_path_factory.mktemp("opt")
    [venv_line, pip_line] = blocks("sh")[0].strip().splitlines()
    venv_line = venv_line.replace("/opt/lockhub", str(root / "lockhub"))
    pip_line = pip_line.split("#")[0].replace("/opt/lockhub", str(root / "lockhub")).replace(
        "/path/to/lockhub", str(REPO))
    subprocess.run(venv_line, shell=True, check=True, timeout=120)
    subprocess.run(pip_line + " --quiet", shell=True, check=True, timeout=900)
    return root / "lockhub" / "bin" / "lockhub"


def environment(tmp_path: Path, database_url: str) -> dict[str, str]:
    """The shared environment file of the guide, for this test."""
    return {**os.environ, "LOCKHUB_DATABASE_URL": database_url,
            "LOCKHUB_SECRET_KEY": Fernet.generate_key().decode(),
            "LOCKHUB_PUBLIC_URL": "https://locks.example.com", "LOCKHUB_TEST_HOOKS": "0"}


def command(line: str, lockhub: Path, port: int) -> list[str]:
    line = line.replace("/opt/lockhub/bin/lockhub", str(lockhub))
    return re.sub(r"--port \d+", f"--port {port}", line).split()


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "lockhub exited"
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "lockhub did not come up"
        time.sleep(0.1)


@pytest.fixture
def api_unit(installed: Path, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The API unit's ExecStartPre and ExecStart, run with its environment and folder."""
    settings = unit("lockhub API")
    workdir = tmp_path / "var-lib-lockhub"
    workdir.mkdir()
    env = unit_environment(environment(tmp_path, f"sqlite:///{workdir / 'lockhub.db'}"),
                           settings)
    port = free_port()
    for pre in settings["ExecStartPre"]:
        subprocess.run(command(pre, installed, port), env=env, cwd=workdir, check=True,
                       timeout=120)
    process = subprocess.Popen(command(settings["ExecStart"][0], installed, port), env=env,
                               cwd=workdir)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, process)
        yield url, env
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_api_unit_migrates_and_serves(api_unit: tuple[str, dict[str, str]]) -> None:
    url, _ = api_unit
    answer = httpx.get(f"{url}/health")
    assert answer.status_code == 200


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/system-deps.sh)")
def test_nginx_with_tls_in_front(api_unit: tuple[str, dict[str, str]], installed: Path,
                                 tmp_path: Path) -> None:
    url, env = api_unit
    api_port = url.rsplit(":", 1)[1]
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=locks.example.com", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    port = free_port()
    server = blocks("nginx")[0]
    server = server.replace("listen 443 ssl", f"listen 127.0.0.1:{port} ssl")
    server = server.replace("/etc/letsencrypt/live/locks.example.com/fullchain.pem", str(cert))
    server = server.replace("/etc/letsencrypt/live/locks.example.com/privkey.pem", str(key))
    server = server.replace("http://127.0.0.1:3020", f"http://127.0.0.1:{api_port}")
    temp = tmp_path / "nginx"
    temp.mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
pid {temp}/nginx.pid;
error_log {temp}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{server}
}}
""")
    nginx = subprocess.Popen([str(NGINX), "-c", str(conf), "-p", str(temp), "-g",
                              "daemon off;"], stderr=subprocess.PIPE)
    try:
        endpoint = f"https://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            assert nginx.poll() is None, nginx.stderr.read() if nginx.stderr else ""
            try:
                httpx.get(f"{endpoint}/health", verify=False, timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "nginx did not come up"
                time.sleep(0.1)
        health = httpx.get(f"{endpoint}/health", verify=False)
        assert health.status_code == 200 and health.json()["ok"] is True
        # /metrics is reachable only from the Prometheus network the guide allows.
        assert httpx.get(f"{endpoint}/metrics", verify=False).status_code == 403
        preflight = httpx.options(f"{endpoint}/devices/list", verify=False, headers={
            "origin": "https://app.example.com", "access-control-request-method": "POST"})
        assert preflight.headers.get("access-control-allow-origin") == "https://app.example.com"
        # The console behind the proxy: a form from the public origin is taken, one from
        # another site refused; its cookie is Secure; its assets were installed.
        made = subprocess.run([str(installed), "workspaces", "create", "Console"], env=env,
                              capture_output=True, text=True, check=True, timeout=60)
        key = dict(line.split(None, 1) for line in made.stdout.strip().splitlines())[
            "api_key"].strip()
        with httpx.Client(base_url=endpoint, verify=False) as browser:
            form = {"token": key, "next": "/console/devices"}
            assert browser.post("/console/sign_in", data=form, headers={
                "origin": "https://elsewhere.example.com"}).status_code == 403
            signed_in = browser.post("/console/sign_in", data=form, headers={
                "origin": "https://locks.example.com"})
            assert signed_in.status_code == 303, signed_in.text
            assert "secure" in signed_in.headers["set-cookie"].lower()
            assert browser.get("/console/devices").status_code == 200
            for asset, media_type in (("console.css", "text/css"),
                                      ("console.js", "text/javascript")):
                answer = browser.get(f"/console/assets/{asset}")
                assert answer.status_code == 200 and media_type in answer.headers[
                    "content-type"]
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)


def test_the_sqlite_backup_command_and_restore(installed: Path,
                                               api_unit: tuple[str, dict[str, str]],
                                               tmp_path: Path) -> None:
    _, env = api_unit
    [line] = sh_lines("lockhub backup")
    target_dir = tmp_path / "backups"
    line = line.replace("/var/backups/lockhub", str(target_dir))
    target_dir.mkdir()
    done = subprocess.run(line.replace("lockhub backup", f"{installed} backup"), shell=True,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    [copy] = target_dir.glob("lockhub-*.db")
    database = Path(env["LOCKHUB_DATABASE_URL"].removeprefix("sqlite:///"))
    assert copy.stat().st_size > 0 and database.exists()


def test_the_postgresql_dump_and_restore_commands(postgres: PostgresServer,
                                                  installed: Path, tmp_path: Path) -> None:
    url = postgres.new_database("deployguide")
    env = environment(tmp_path, url)
    [upgrade] = sh_lines("lockhub migrate")
    subprocess.run(upgrade.replace("lockhub", str(installed)), shell=True, env=env, check=True,
                   timeout=120)
    bin_dir = Path(next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin")))))
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    target_dir = tmp_path / "backups"
    target_dir.mkdir()
    [dump] = sh_lines("pg_dump ")
    [restore] = sh_lines("pg_restore ")
    dump = dump.replace("/var/backups/lockhub", str(target_dir)).replace(
        "$(date +%F)", "2026-12-03")
    restore = restore.replace("/var/backups/lockhub", str(target_dir))
    for line in (dump, restore):
        done = subprocess.run(line, shell=True, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    assert (target_dir / "lockhub-2026-12-03.dump").stat().st_size > 0



def unit_environment(env: dict[str, str], settings: dict[str, list[str]],
                     instance: str = "1") -> dict[str, str]:
    """`env` with the unit's own `Environment=` lines (`%i` as `instance`)."""
    env = dict(env)
    for assignment in settings.get("Environment", []):
        name, _, value = assignment.partition("=")
        env[name] = value.replace("%i", instance)
    return env


def test_the_api_processes_and_worker_units_share_postgresql(
        postgres: PostgresServer, installed: Path, tmp_path: Path) -> None:
    """The guide's API-only unit (`serve --workers N --no-engine`) and two instances of its
    worker unit on one PostgreSQL database: an unlock through the API is done by a worker."""
    from seam import Seam

    from tests.conformance.helpers import SANDBOX_KEY

    url = postgres.new_database("deployworkers")
    env = {**environment(tmp_path, url), "LOCKHUB_SANDBOX_LATENCY_SCALE": "0"}
    subprocess.run([str(installed), "seed"], env=env, cwd=tmp_path, check=True, timeout=120,
                   capture_output=True)
    api_settings = unit("lockhub API processes")
    assert "--workers" in api_settings["ExecStart"][0]
    port = free_port()
    for pre in api_settings["ExecStartPre"]:
        subprocess.run(command(pre, installed, port), env=unit_environment(env, api_settings),
                       cwd=tmp_path, check=True, timeout=120)
    api = subprocess.Popen(command(api_settings["ExecStart"][0], installed, port),
                           env=unit_environment(env, api_settings), cwd=tmp_path)
    worker_settings = unit("lockhub worker %i")
    workers = [subprocess.Popen(command(worker_settings["ExecStart"][0], installed, 0),
                                env=unit_environment(env, worker_settings, str(i)), cwd=tmp_path)
               for i in (1, 2)]
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_healthy(endpoint, api)
        seam = Seam(api_key=SANDBOX_KEY, endpoint=endpoint)
        devices = [d for d in seam.devices.list()
                   if d.properties.online and d.can_remotely_unlock and not d.errors]
        for device in devices[:4]:
            assert seam.locks.unlock_door(device_id=device.device_id).status == "success"
        ready = httpx.get(f"{endpoint}/_lockhub/ready")
        assert ready.status_code == 200, ready.text
    finally:
        for process in (*workers, api):
            process.terminate()
            process.wait(timeout=20)
