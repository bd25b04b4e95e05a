"""Fixtures for the browser tests: one lockhub server and one Chromium per module, a fresh
browser context per test, and a fresh sandbox workspace per test (so "which accounts exist"
is a question about that test alone).

The integrator's app (the webview's redirect target and the page that embeds it in an iframe)
is a small HTTP server on loopback. (Pages fulfilled by a Playwright route would not do for
the iframe: Chromium treats a fulfilled page as public, and its Local Network Access checks
then refuse the frame from 127.0.0.1.) Any request to an origin other than lockhub and the
app is refused and fails the test, so the pages are also checked to load nothing from outside.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)
from seam import Seam, SeamWithoutWorkspace

from tests.conformance.helpers import PAT
from tests.server import LockhubServer, start_server

CHROMIUM = Path("/usr/bin/chromium")
# Root needs --no-sandbox; the rest keep Chromium from reaching out (only loopback exists).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
DESKTOP: ViewportSize = {"width": 900, "height": 1000}
PHONE: ViewportSize = {"width": 390, "height": 844}


def no_horizontal_scroll(page: Page) -> None:
    """The page fits its viewport's width. Call it once the page has settled (after an
    `expect` on the new page): during a navigation there is no document to measure."""
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"page is {width[0]}px wide in a {width[1]}px viewport"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TIMEOUT_MS = 10_000

_workspace_numbers = itertools.count(1)


APP_HOME = "<!doctype html><title>Acme app</title><h1>Back in the app</h1>"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".map": "application/json",
                ".svg": "image/svg+xml"}


def _static_file(static: dict[str, Path], path: str) -> Path | None:
    """The file a static URL names, only inside its folder."""
    for prefix, folder in static.items():
        if path.startswith(prefix):
            root = folder.resolve()
            file = (root / path.removeprefix(prefix).lstrip("/")).resolve()
            if file.is_relative_to(root) and file.is_file():
                return file
    return None


class App:
    """The integrator's web app: a loopback server answering each path with the page a test
    put in `pages` (by default a plain landing page, where the redirect URL leads), or with a
    file under a folder a test put in `static` (URL prefix -> folder), as the app's own
    scripts and styles."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.static: dict[str, Path] = {}
        pages, static = self.pages, self.static

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                file = _static_file(static, path)
                if file is not None:
                    body = file.read_bytes()
                    content_type = STATIC_TYPES.get(file.suffix, "application/octet-stream")
                elif any(path.startswith(prefix) for prefix in static):
                    self.send_error(404)
                    return
                else:
                    body = pages.get(path, APP_HOME).encode()
                    content_type = "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def redirect_url(self) -> str:
        return f"{self.origin}/connected?state=xyz"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def lockhub(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockhubServer]:
    name = request.module.__name__.rsplit(".", 1)[-1]
    srv = start_server(tmp_path_factory.mktemp(name), env={"LOCKHUB_SANDBOX_LATENCY_SCALE": "0"})
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    expect.set_options(timeout=TIMEOUT_MS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def app_server() -> Iterator[App]:
    app = App()
    yield app
    app.stop()


@pytest.fixture
def app(app_server: App) -> App:
    app_server.pages.clear()
    app_server.static.clear()
    return app_server


class Contexts:
    """Opens browser contexts wired to lockhub and the app; closes them and fails the test on
    any request that left for another origin."""

    def __init__(self, browser: Browser, lockhub: LockhubServer, app: App) -> None:
        self.browser, self.lockhub, self.app = browser, lockhub, app
        self.opened: list[BrowserContext] = []
        self.refused: list[str] = []
        # Where pages may load from: lockhub, the app, and what a test adds.
        self.origins = [lockhub.url, app.origin]

    def new(self, viewport: ViewportSize = DESKTOP, *, intercept: bool = True,
            **options: Any) -> BrowserContext:
        """A context whose requests to other origins are refused; with `intercept=False`
        they are only recorded (still failing the test), because while Playwright intercepts
        requests it answers CORS preflights itself, and a CORS test needs the server's."""
        context = self.browser.new_context(viewport=viewport, **options)
        context.set_default_timeout(TIMEOUT_MS)
        if intercept:
            context.route("**/*", self._route)
        else:
            context.on("request", self._watch)
        self.opened.append(context)
        return context

    def _allowed(self, url: str) -> bool:
        return url.startswith(tuple(origin + "/" for origin in self.origins))

    def _route(self, route: Route) -> None:
        url = route.request.url
        if self._allowed(url):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort("blockedbyclient")

    def _watch(self, request: Request) -> None:
        if not self._allowed(request.url):
            self.refused.append(request.url)

    def close(self) -> None:
        for context in self.opened:
            context.close()


@pytest.fixture
def contexts(browser: Browser, lockhub: LockhubServer, app: App) -> Iterator[Contexts]:
    opened = Contexts(browser, lockhub, app)
    yield opened
    opened.close()
    assert not opened.refused, f"pages requested other origins: {opened.refused}"


@pytest.fixture
def page(contexts: Contexts) -> Page:
    """A desktop-sized page in a context of its own."""
    return contexts.new().new_page()


@pytest.fixture
def sandbox(lockhub: LockhubServer) -> Seam:
    """An SDK client of a new, empty sandbox workspace (created through the SDK too)."""
    john = SeamWithoutWorkspace(personal_access_token=PAT, endpoint=lockhub.url)
    workspace = john.workspaces.create(name=f"Browser tests {next(_workspace_numbers)}",
                                       company_name="Acme Rentals", is_sandbox=True)
    return Seam.from_personal_access_token(PAT, workspace.workspace_id, endpoint=lockhub.url)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
