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


@pytest.fixture
def settings(tmp_path):
    """Settings for an app on its own fresh data folder."""
    from revise.settings import Settings

    return Settings(data_dir=tmp_path / "data")


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


def parse_html(text: str):
    """Parse a page (tests check parsed HTML, not strings)."""
    import lxml.html

    return lxml.html.fromstring(text)
