"""The access log (issue #15): one line per request, the client revise believes, no secrets.

A department's link token is its password and a receipt code opens a comment: an operator's
log (often shipped to a central log server) must never carry either.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from conftest import ROOT, free_port
from revise.app import create_app
from revise.web.access_log import redact

TOKEN = "q3Zr8mK2vX9pL4tN7wB1cD5fG6hJ0sA2eY8uI3oP4kM"


@pytest.fixture
def lines(caplog):
    caplog.set_level(logging.INFO, logger="revise.access")

    def records() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "revise.access"]
    return records


def test_each_request_gives_one_line_with_method_path_status_duration_and_client(client, lines):
    client.get("/c/nanchong-2022?lang=en")
    client.get("/no-such-page")
    assert len(lines()) == 2
    first, second = lines()
    assert first.startswith('testclient "GET /c/nanchong-2022?lang=en" 200 ') and first.endswith("ms")
    assert second.startswith('testclient "GET /no-such-page" 404 ')


@pytest.mark.parametrize("path", [
    f"/d/{TOKEN}", f"/d/{TOKEN}/remarks", f"/d/{TOKEN}/b/3",
    "/r/K7QH2MZ4XR", "/r?code=K7QH2-MZ4XR", "/c/nanchong-2022?receipt=K7QH2MZ4XR",
])
def test_department_tokens_and_receipt_codes_never_reach_the_log(client, lines, path):
    client.get(path, follow_redirects=False)
    (line,) = lines()
    assert TOKEN not in line and "K7QH2" not in line and "MZ4XR" not in line
    assert "[token]" in line or "[receipt]" in line or "[redacted]" in line


def test_redaction_keeps_what_helps_and_no_forged_lines():
    assert redact(f"/d/{TOKEN}/b/12/comments") == "/d/[token]/b/12/comments"
    assert redact("/r/K7QH2MZ4XR") == "/r/[receipt]"
    assert redact("/c/x", "receipt=K7QH2MZ4XR&lang=en") == "/c/x?receipt=[redacted]&lang=en"
    assert redact("/c/x", "CODE=abc") == "/c/x?CODE=[redacted]"
    assert "\n" not in redact("/c/x\n2026-12-01 INFO forged", "a=%0Aforged")
    assert len(redact("/" + "a" * 10_000, "q=" + "b" * 10_000)) < 600


def test_the_client_is_the_one_behind_a_trusted_proxy_only(settings, client, lines):
    app = create_app(settings.with_(trusted_proxies=("10.0.0.2",)))
    with TestClient(app, client=("10.0.0.2", 4000)) as behind, TestClient(app, client=("192.0.2.9", 4000)) as direct:
        behind.get("/", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"})
        direct.get("/", headers={"X-Forwarded-For": "203.0.113.8"})
    assert [line.split(" ")[0] for line in lines()] == ["203.0.113.7", "192.0.2.9"]


def test_a_real_server_says_where_it_serves_from_and_logs_each_request_once(tmp_path):
    port = free_port()
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "serve", "--port", str(port)],
                                  env=dict(os.environ, REVISE_DATA=str(tmp_path / "data")), cwd=ROOT,
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None and time.monotonic() < deadline, log_path.read_text()
                try:
                    httpx.get(f"http://127.0.0.1:{port}/r/K7QH2MZ4XR", timeout=2)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            httpx.get(f"http://127.0.0.1:{port}/c/nanchong-2022", timeout=30)
            while log_path.read_text().count('"GET /c/nanchong-2022"') < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(20)
    text = log_path.read_text()
    (start,) = [line for line in text.splitlines() if f"127.0.0.1:{port}" in line and "revise" in line]
    assert str((tmp_path / "data").resolve()) in start and "1" in start  # the folder and one consultation
    assert text.count('"GET /c/nanchong-2022" 200') == 1  # revise's line only: uvicorn's own is off
    assert '127.0.0.1 "GET /r/[receipt]" 404' in text and "K7QH2" not in text
    assert "HTTP/1.1\" 200" not in text  # uvicorn's access-log format
