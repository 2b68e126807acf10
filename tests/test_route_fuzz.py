"""Every route of the app, walked from its router as anonymous, department, editor and admin with
hostile path parameters, query strings and form bodies, answers below 500 and logs no traceback;
every export still works afterwards (issue #10).

The routes come from the app itself, so a route added later is walked without editing this test.
Counts of requests are printed with -s; the figures go in the closing note of issue #10.
"""

from __future__ import annotations

import itertools
import logging
import random
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import parse_html
from starlette.convertors import IntegerConvertor
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from revise import accounts, commenting, departments
from revise.app import create_app
from revise.security import Signer
from revise.store import blocks as block_store
from revise.store import connect
from revise.store import consultations as consultation_store

HUGE = ["9223372036854775808", "18446744073709551616", "99999999999999999999999999", "0", "00000000001"]
STRINGS = ["nope", "%00", "..%2F..%2Fetc%2Fpasswd", "%E2%80%AE", "a" * 300, "%F0%9F%98%80"]
# Sent percent-encoded as they are: %ED%A0%80 is a lone surrogate, %FF is not UTF-8 at all.
QUERY_VALUES = ["%00", "0001-01-01", "9999-12-31T23:59:59", "-1", "99999999999999999999", "1e309",
                '"', "NEAR(", "*", "a OR", "AND", "^", "%27%3B%20drop%20table%20comments", "%EF%BF%BE", "%ED%A0%80", "%FF%FE",
                "%F0%9F%98%80" * 40, "a%00b", "2022-02-30", "", "1,2,3", "g:99999999999999999999"]
SOURCE = Path(__file__).resolve().parent.parent / "revise"


def _keys_read(pattern: str) -> list[str]:
    """Every query or form key the code reads, found in its source: a new key is walked too."""
    found = set()
    for path in SOURCE.rglob("*.py"):
        for match in re.findall(pattern, path.read_text(encoding="utf-8")):
            found.update([match] if isinstance(match, str) else [m for m in match if m])
    return sorted(found)


QUERY_READ = _keys_read(r"""query(?:_params)?\.get(?:list)?\(["']([a-z_]+)["']""")
FORM_READ = _keys_read(r"""form(?:s)?\.get(?:list)?\(["']([a-z_]+)["']|form\[["']([a-z_]+)["']\]""")
QUERY_KEYS = ["q", "since", "page", "status", "section", "source", "kind", "disposition", "channel",
              "lang", "code", "receipt", "after", "before", "sort", "order", "block", "group", "theme",
              "state", "next", "filed", "per", "action", "round", "editor", "cursor"]
FORM_VALUES = ["", "\x00", "\ufffe\uffff", "\v\f\x01", "9223372036854775808", "-1", "0001-01-01",
               "x" * 70_000, "😀", "\u202e\u200b", "<script>alert(1)</script>", "NaN"]
FORM_KEYS = ["body", "suggestion", "name", "contact", "kind", "quote", "quote_start", "reason", "disposition",
             "text", "opens", "closes", "username", "password", "action", "ids", "base_rev", "channel",
             "received_on", "late_reason", "sender", "department", "blocks", "cell", "cell_0", "cell_1",
             "names", "next", "publish", "status", "title", "issuer", "notice", "contact_info", "slug",
             "confirm", "override", "template", "theme", "editor", "assignee", "group", "comment_ids"]


def _routes(app) -> list[Route]:
    found = []

    def walk(routes, prefix=""):
        for route in routes:
            if isinstance(route, Mount):
                if route.name != "static":
                    walk(route.routes, prefix + route.path)
            elif isinstance(route, Route):
                found.append(route)

    walk(app.routes)
    return found


def _path_values(route: Route, real: dict) -> list[dict]:
    """Combinations of hostile and real values for the route's path parameters."""
    options = {}
    for name, convertor in route.param_convertors.items():
        good = real.get(name)
        if isinstance(convertor, IntegerConvertor):
            options[name] = ([str(good)] if good is not None else []) + HUGE
        else:
            options[name] = ([good] if good is not None else []) + STRINGS
    names = list(options)
    combos = []
    for values in itertools.product(*(options[n] for n in names)):
        combos.append(dict(zip(names, values)))
    # The real values first (each hostile value then tried with the others real), then a few mixes.
    return combos[:8]


def _fill(path: str, params: dict) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(params[m.group(1)]), path)


class Walker:
    def __init__(self, client: TestClient):
        self.client = client
        self.count = 0
        self.failures: list[str] = []

    def get(self, url: str, key: str, value: str) -> None:
        """A GET with one query parameter, its value sent with its percent escapes as they are."""
        self.send("GET", f"{url}?{key}={quote(value, safe='%')}")

    def send(self, method: str, url: str, **kwargs) -> None:
        self.count += 1
        try:
            response = self.client.request(method, url, follow_redirects=False, **kwargs)
        except Exception as error:  # a crash inside the app that escaped every handler
            self.failures.append(f"{method} {url[:120]!r}: {type(error).__name__}: {error}")
            return
        if response.status_code >= 500 and response.status_code != 503:
            self.failures.append(f"{method} {url[:120]!r} → {response.status_code}")


@pytest.fixture
def world(tmp_path):
    from revise.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", comments_per_minute=100_000, base_url="http://testserver")
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as first:
        first.get("/")
    db = connect(settings.db_path)
    c = consultation_store.by_slug(db, "nanchong-2022")
    blocks = block_store.of_consultation(db, c["id"])
    block = next(b for b in blocks if b["kind"] == "paragraph")
    row = next(b for b in blocks if b["kind"] == "table_row")
    dept_id, token = departments.add(db, c, "市科技局", "test")
    values = {"kind": "edit", "body": "建议修改。", "suggestion": block["text"] + "补充。", "quote": "",
              "quote_start": None, "name": "李四", "contact": "13800000000"}
    comment, _ = commenting.submit(db, c, block, values, form_token=Signer(b"x").form_token())
    accounts.create_account(db, "admin", "管理员", "admin", "correct horse battery", "test")
    accounts.create_account(db, "editor", "编辑", "editor", "correct horse battery", "test")
    real = {"slug": "nanchong-2022", "block_id": row["id"], "comment_id": comment["id"], "token": token,
            "code": comment["receipt"], "attachment_id": 1, "name": "report.xlsx", "action": "edit"}
    yield app, db, real, block
    db.close()


def _sign_in(client: TestClient, username: str) -> None:
    page = parse_html(client.get("/editor/sign-in").text)
    csrf = page.xpath("string(//input[@name='csrf']/@value)")
    response = client.post("/editor/sign-in", data={"username": username, "password": "correct horse battery",
                                                     "csrf": csrf, "next": "/editor"}, follow_redirects=False)
    assert response.status_code == 303, (response.status_code, response.text[:500])


def _csrf(client: TestClient) -> str:
    page = parse_html(client.get("/c/nanchong-2022/remarks").text)
    return page.xpath("string(//input[@name='csrf']/@value)")


@pytest.mark.parametrize("role", ["anonymous", "department", "editor", "admin"])
def test_every_route_answers_hostile_input_without_a_server_error(world, role, caplog):
    """Each route: hostile path values; on its real path every query key the code reads set to
    each hostile value at once, and mixes; every form key likewise for POSTs; broken bodies."""
    app, db, real, block = world
    caplog.set_level(logging.ERROR)
    rng = random.Random(role)
    query_keys = sorted(set(QUERY_READ) | set(QUERY_KEYS))
    form_keys = sorted(set(FORM_READ) | set(FORM_KEYS))
    with TestClient(app, raise_server_exceptions=False) as client:
        if role in ("editor", "admin"):
            _sign_in(client, role)
        csrf = _csrf(client)
        walker = Walker(client)
        # Signing out last: the walk sends valid CSRF tokens, so it would end the staff session.
        routes = sorted(_routes(app), key=lambda r: r.name == "sign_out")
        assert len(routes) > 30
        for route in routes:
            methods = sorted((route.methods or {"GET"}) - {"HEAD"})
            for n, params in enumerate(_path_values(route, real)):
                url = _fill(route.path, params)
                for method in methods:
                    if method == "GET" and n > 0:
                        walker.send("GET", url)
                    elif method == "GET":
                        for value in QUERY_VALUES:
                            walker.send("GET", url + "?" + "&".join(f"{k}={quote(value, safe='%')}" for k in query_keys))
                        for _ in range(6):
                            mix = "&".join(f"{k}={quote(rng.choice(QUERY_VALUES), safe='%')}" for k in query_keys)
                            walker.send("GET", f"{url}?{mix}")
                    else:
                        forms = [dict.fromkeys(form_keys, value) for value in FORM_VALUES] if n == 0 else []
                        forms += [{k: rng.choice(FORM_VALUES) for k in form_keys} for _ in range(8 if n == 0 else 2)]
                        for form in forms:
                            walker.send("POST", url, data={**form, "csrf": csrf})
                        walker.send("POST", url, content=b"\xff\xfe\x00garbage", headers={
                            "content-type": "application/x-www-form-urlencoded"})
                        walker.send("POST", url, content=b"--x\r\nbroken", headers={
                            "content-type": "multipart/form-data; boundary=x"})
        print(f"\n{role}: {walker.count} requests, {len(walker.failures)} server errors")
        assert walker.failures == [], "\n".join(walker.failures[:40])
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert tracebacks == [], tracebacks[0].getMessage()


def test_every_export_works_with_hostile_stored_text(world):
    """Text written straight into the database, past the cleaning at the boundary, never stops an
    export: each file answers 200 and reads back in python-docx, openpyxl or the csv module."""
    import csv
    import io

    import docx
    import openpyxl

    app, db, real, block = world
    db.execute("update comments set body = ?, name = ?, suggestion = ? ",
               ["\ufffe\x01\x00\v" + "意见", "\u202e王\ufeff", block["text"] + "\x0b\ufffe"])
    readers = {"docx": lambda data: docx.Document(io.BytesIO(data)),
               "xlsx": lambda data: openpyxl.load_workbook(io.BytesIO(data)),
               "csv": lambda data: list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))}
    with TestClient(app, raise_server_exceptions=False) as client:
        _sign_in(client, "admin")
        for name in ("plan.docx", "plan-tracked.docx", "report.docx", "report.xlsx", "report.csv"):
            response = client.get(f"/editor/c/nanchong-2022/export/{name}")
            assert response.status_code == 200, name
            assert readers[name.rsplit(".", 1)[1]](response.content), name
