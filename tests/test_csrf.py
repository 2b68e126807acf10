"""The check every form POST passes (revise.web.csrf): the site's own Origin, and the CSRF token of
the visitor's own session. Stated on the function, for each way a form can arrive; the routes'
side (every editor and admin POST route refuses a forged post) is tests/test_guards.py."""

from types import SimpleNamespace

import pytest
from starlette.requests import Request

from revise.security import Signer
from revise.web import csrf
from revise.web.middleware import VisitorSession

SIGNER = Signer(b"a test secret of thirty-two bytes")
SID = VisitorSession.issue(SIGNER.secret)
OTHER_SID = VisitorSession.issue(SIGNER.secret)


def post(origin=None, token=SIGNER.csrf_token(SID), session_id=SID, *, scheme="http", host="testserver",
         public_url="https://consult.example.gov.cn"):
    """What csrf.problem says about a POST to http(s)://host/ with these parts."""
    headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin is not None else [])
    app = SimpleNamespace(state=SimpleNamespace(settings=SimpleNamespace(public_url=public_url), signer=SIGNER))
    scope = {"type": "http", "method": "POST", "scheme": scheme, "server": (host.split(":")[0], 80), "path": "/c/x",
             "query_string": b"", "headers": headers, "app": app, "state": {"session_id": session_id}}
    form = {"body": "意见"} if token is None else {"body": "意见", "csrf": token}
    return csrf.problem(Request(scope), form)


@pytest.mark.parametrize("origin", [None, "http://testserver", "http://testserver/", "https://consult.example.gov.cn",
                                    "null"])
def test_the_sessions_own_token_from_the_site_itself_passes(origin):
    assert post(origin) is None


@pytest.mark.parametrize("origin", ["https://evil.example", "http://testserver.evil.example", "https://testserver",
                                    "http://testserver:8080", "http://consult.example.gov.cn",
                                    "https://consult.example.gov.cn:8443", "HTTP://TESTSERVER", "http://testserverX"])
def test_a_form_from_another_origin_is_refused_even_with_a_good_token(origin):
    assert post(origin) == csrf.FOREIGN == "This form was sent from another site and was refused."


def test_the_site_behind_its_proxy_on_another_port_is_its_own_origin():
    assert post("http://localhost:8000", scheme="http", host="localhost:8000") is None
    assert post("http://localhost:8000", scheme="http", host="localhost:9000") == csrf.FOREIGN


@pytest.mark.parametrize("token, session_id", [
    (None, SID),  # no token
    ("", SID),
    (SIGNER.csrf_token(OTHER_SID), SID),  # another visitor's token
    (SIGNER.csrf_token(SID), None),  # no session (cookies off)
    (SIGNER.csrf_token(SID)[:-1], SID),
    (Signer(b"another instance's secret key....").csrf_token(SID), SID),
])
def test_a_form_without_the_sessions_own_token_is_refused(token, session_id):
    assert post(token=token, session_id=session_id) == csrf.NO_SESSION == (
        "Your session has expired or cookies are off: reload the page and send the form again.")


def test_a_null_origin_proves_nothing_the_token_decides():
    assert post("null", token=None) == csrf.NO_SESSION


def test_a_token_sent_as_a_file_or_a_list_is_no_token():
    for token in (["x"], b"x", SimpleNamespace(filename="csrf.txt")):
        assert post(token=token) == csrf.NO_SESSION
