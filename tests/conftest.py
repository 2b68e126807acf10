import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ../shared folder beside the clone: skipped on a user's machine, required in CI."""
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {SHARED} beside the clone")
        pytest.skip(f"{SHARED} is absent: the seed and the .docx corpus live there (CI has it)")
    return SHARED

DRAFT = ROOT / "docs" / "draft.docx"


@pytest.fixture(autouse=True)
def default_locale(monkeypatch):
    """No locale variable, whatever the machine's: the command line speaks its default, zh-CN
    (tests that want English set LANG themselves)."""
    for name in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settings(tmp_path):
    """Settings for an app on its own fresh data folder."""
    from revise.settings import Settings

    # TestClient addresses its requests to "testserver": that is the site's name in tests.
    return Settings(data_dir=tmp_path / "data", base_url="http://testserver")


@pytest.fixture
def client(settings):
    """A test client on a fresh data folder: lifespan runs, so the default draft is imported."""
    from starlette.testclient import TestClient

    from revise.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def db(settings, client):
    """The database the client's app uses (after start-up)."""
    from revise.store import connect

    database = connect(settings.db_path)
    yield database
    database.close()


def finish(coroutine):
    """Run a coroutine that never waits on anything, without an event loop (another test of the
    session may have left one running in this thread, so asyncio.run would refuse)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("the coroutine waited for something")


def in_own_loop(coroutine, seconds: float = 60.0):
    """Run a coroutine that needs a real event loop (timers, wake-ups from threads) in a thread of
    its own: another test of the session may have left a loop running in this one."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(coroutine, seconds)).result(seconds + 30)


def eventually(condition, seconds: float = 30.0) -> bool:
    """Wait for a condition, bounded (never for a fixed time: CI's machine may be slow); its last value."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def parse_html(text: str):
    """Parse a page (tests check parsed HTML, not strings)."""
    import lxml.html

    return lxml.html.fromstring(text)


CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = ROOT / "test-output"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """revise started as a user starts it (python server.py → uvicorn) on a free loopback port."""

    def __init__(self, data_dir: Path, *args: str, port: int | None = None, **env_vars: str):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.args = args
        self.env = dict(os.environ, REVISE_DATA=str(data_dir), **env_vars)
        self.start()

    def start(self) -> None:
        import subprocess
        import sys

        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), "--port", str(self.port), *self.args],
            env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.wait_until_up()

    def wait_until_up(self, timeout: float = 30) -> None:
        import time
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush — a crash."""
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def live_server(tmp_path):
    server = LiveServer(tmp_path / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium through Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium (.ci/run does)")
        pytest.skip("Chromium is not installed: apt-get install chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(chromium, request):
    """A phone-sized page (375 × 740, touch, zh-CN); a screenshot of its last screen is kept."""
    context = chromium.new_context(viewport={"width": 375, "height": 740}, is_mobile=True,
                                   has_touch=True, locale="zh-CN")
    page = context.new_page()
    yield page
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{request.node.name}.png"))
    context.close()
