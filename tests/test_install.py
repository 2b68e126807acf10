"""An installed wheel is a complete revise: built from the checkout, installed in a fresh venv
outside it, started from its own `revise` command, it serves a public page, its static files and
the editor's pages (templates in every folder, catalogs, the embedded default draft)."""

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx2 as httpx
import pytest
from conftest import free_port, parse_html

ROOT = Path(__file__).resolve().parent.parent
# pip's words when it cannot reach a package index at all (then the test is skipped, saying so).
NO_INDEX = re.compile(r"NewConnectionError|Temporary failure in name resolution|Network is unreachable|"
                      r"Failed to establish a new connection|ProxyError|ConnectTimeout|Could not fetch URL")


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900,
                            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    if result.returncode != 0 and NO_INDEX.search(result.stdout + result.stderr):
        pytest.skip("pip cannot reach a package index (needed for setuptools and the dependencies): "
                    + (result.stderr.strip().splitlines() or ["?"])[-1])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _copy_checkout(target: Path) -> None:
    """The files a clone would have (tracked, plus new files not ignored), without .venv or data."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv outside the checkout with revise installed from a wheel built from the checkout."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to know which files make the source tree")
    tmp = tmp_path_factory.mktemp("install")
    source, dist, venv = tmp / "source", tmp / "dist", tmp / "venv"
    _copy_checkout(source)
    _pip(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source), cwd=tmp)
    (wheel,) = dist.glob("revise-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    _pip(str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel), cwd=tmp)
    return tmp, venv


def test_the_installed_package_is_imported_from_the_venv_not_the_checkout(installed):
    tmp, venv = installed
    where = subprocess.run([venv / "bin" / "python", "-c", "import revise; print(revise.__file__)"],
                           cwd=tmp, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(ROOT)


def test_python_m_revise_and_the_revise_command_are_the_command_line(installed):
    tmp, venv = installed
    for command in ([venv / "bin" / "revise"], [venv / "bin" / "python", "-m", "revise"]):
        result = subprocess.run([*command, "--help"], cwd=tmp, capture_output=True, text=True,
                                env=dict(os.environ, LANG="en_US.UTF-8"), timeout=60)
        assert result.returncode == 0 and "backup" in result.stdout and "check" in result.stdout


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the installed server exited with {process.returncode}"
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"the installed server did not answer within {timeout} s")


def test_the_installed_server_serves_public_and_editor_pages(installed):
    tmp, venv = installed
    run_dir, data = tmp / "run", tmp / "run" / "data"
    run_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "REVISE_DATA", "LANG", "LC_ALL", "LANGUAGE")}
    port = free_port()
    server = subprocess.Popen([venv / "bin" / "revise", "serve", "--data", str(data), "--port", str(port)],
                              cwd=run_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url + "/", server)
        with httpx.Client(base_url=url, timeout=30) as client:
            public = client.get("/c/nanchong-2022")  # the embedded default, imported from the wheel
            assert public.status_code == 200
            assert "南充市" in parse_html(public.text).findtext(".//h1")
            css = client.get("/static/site.css")
            assert css.status_code == 200 and len(css.content) > 1000

            made = subprocess.run([venv / "bin" / "python", "-m", "revise", "accounts", "add", "admin", "--name", "管理员",
                                   "--role", "admin", "--generate", "--data", str(data)],
                                  cwd=run_dir, env=env, capture_output=True, text=True, timeout=60)
            assert made.returncode == 0, made.stderr
            password = made.stdout.strip().splitlines()[-1]
            page = parse_html(client.get("/editor/sign-in").text)
            (form,) = page.xpath("//form[contains(@class,'sign-in')]")
            hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
            signed_in = client.post(form.get("action"), data={**hidden, "username": "admin", "password": password})
            assert signed_in.status_code == 303, signed_in.text
            for path in ("/editor", "/editor/c/nanchong-2022", "/editor/c/nanchong-2022/comments"):
                answer = client.get(path)  # templates/editor/*.html, only in the wheel if packaged
                assert answer.status_code == 200, (path, answer.status_code)
                assert parse_html(answer.text).xpath("//nav[@class='editor-nav']"), path
    finally:
        server.terminate()
        server.wait(30)
