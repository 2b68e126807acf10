"""revise/security.py as an operator relies on it: the signing key's file, the strength of
department links, tokens that hostile input can neither crash nor forge, and a rate limit whose
memory stays bounded without forgetting a client it is holding back. (The cases of the guards'
everyday rules are in tests/test_guards.py.)"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

import pytest

from revise.security import RateLimiter, Signer, load_or_create_secret, new_link_token

KEY = b"k" * 32


@pytest.fixture
def umask_022():
    """The usual umask, so a mode asked for (0700) is told apart from the default (0755)."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_fresh_data_folder_and_its_signing_key_are_readable_by_the_service_alone(tmp_path, umask_022):
    folder = tmp_path / "data"
    key = load_or_create_secret(folder)
    assert folder.stat().st_mode & 0o777 == 0o700  # not 0755: other accounts cannot even list it
    assert (folder / "secret.key").stat().st_mode & 0o777 == 0o600
    assert (folder / "secret.key").read_bytes() == key and len(key) == 32
    assert load_or_create_secret(folder) == key  # a restart keeps every session and form valid
    assert load_or_create_secret(tmp_path / "another") != key  # another instance signs apart


def test_an_existing_data_folder_keeps_its_mode_and_gets_a_private_key(tmp_path, umask_022):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o750)  # made by the operator, e.g. shared with a backup group
    key = load_or_create_secret(folder)
    assert folder.stat().st_mode & 0o777 == 0o750
    assert (folder / "secret.key").stat().st_mode & 0o777 == 0o600 and len(key) == 32


def test_a_department_link_carries_256_random_bits():
    tokens = [new_link_token() for _ in range(20)]
    assert len(set(tokens)) == 20
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token), token  # fits a URL path as it is
        assert len(base64.urlsafe_b64decode(token + "=")) == 32


def test_a_session_id_with_a_lone_surrogate_gets_its_own_token_and_no_other():
    signer = Signer(KEY)
    token = signer.csrf_token("\ud800")  # no UnicodeEncodeError: a 500 on hostile input
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert signer.check_csrf("\ud800", token)
    # Two lone surrogates, or one and the "?" a lossy encoding would make of it, never share a token.
    for other in ("\udc00", "?", "", "\ud800\ud800", "\ud800 "):
        assert not signer.check_csrf(other, token), repr(other)
    assert len({signer.csrf_token(s) for s in ("\ud800", "\udc00", "?", "\ufffd")}) == 4


def test_a_form_token_with_a_lone_surrogate_is_refused_not_a_crash():
    signer = Signer(KEY)
    mac = signer.form_token().split(".")[1]
    for hostile in ("\ud800.0123456789abcdef", f"\udcff.{mac}", "nonce.\ud800"):
        assert not signer.check_form_token(hostile), repr(hostile)


def test_a_csrf_token_can_never_serve_as_a_form_token():
    """The page shows its CSRF token; a session id that reads like a form's signed message must
    still not turn it into a valid one-time form token (the two are signed under their own label)."""
    signer = Signer(KEY)
    for nonce in ("n0nce", signer.form_token().split(".")[0]):
        lookalike = signer.csrf_token(f"form\x1f{nonce}")
        assert not signer.check_form_token(f"{nonce}.{lookalike[:16]}")
        assert not signer.check_csrf(nonce, f"{nonce}.{lookalike[:16]}")
    form = signer.form_token()
    assert not signer.check_csrf(form.split(".")[0], form.split(".")[1])
    assert not signer.check_csrf(form.split(".")[0], form)


def test_tokens_issued_before_an_upgrade_stay_valid_after_it():
    """The key persists across restarts (so does the session cookie), so the tokens' format is part
    of what a running site has handed out: an upgrade that signed them differently would refuse every
    open form's save and sign-out. The format is HMAC-SHA256(key, label US value), hex."""
    signer = Signer(KEY)

    def mac(message: bytes) -> str:
        return hmac.new(KEY, message, hashlib.sha256).hexdigest()

    assert signer.csrf_token("session-a") == mac(b"csrf\x1fsession-a")[:32]
    assert signer.check_csrf("session-a", mac(b"csrf\x1fsession-a")[:32])
    assert signer.check_form_token("AAAAAAAAAAAAAAAA." + mac(b"form\x1fAAAAAAAAAAAAAAAA")[:16])
    nonce, signed = signer.form_token().split(".")
    assert signed == mac(b"form\x1f" + nonce.encode())[:16]


def test_the_rate_limit_forgets_idle_clients_but_never_one_it_is_holding_back():
    """More than 10,000 clients held: those whose newest event has left the period are forgotten
    (memory stays bounded under a flood of one-off addresses), those within it keep their count."""
    limiter = RateLimiter(1, period=60)
    for i in range(9_998):
        assert limiter.allow(f"idle-{i}", now=0)
    assert limiter.allow("edge", now=1)
    assert limiter.allow("busy", now=60)
    assert len(limiter._events) == 10_000  # up to 10,000 are kept as they are, idle or not
    assert limiter.allow("new", now=61)  # the 10,001st: the events at 0 and 1 have left the period
    assert sorted(limiter._events) == ["busy", "new"]
    assert not limiter.allow("busy", now=62)  # still within its period: still refused
    assert not limiter.allow("new", now=62)
    assert limiter.allow("idle-0", now=62)  # a forgotten client starts afresh, as it would have anyway
    assert limiter.allow("busy", now=120)


def test_the_clean_up_keeps_every_client_while_all_are_within_the_period():
    limiter = RateLimiter(2, period=60)
    for i in range(10_001):
        assert limiter.allow(f"c{i}", now=i * 0.001)
    assert len(limiter._events) == 10_001
    assert limiter.allow("c0", now=11) and not limiter.allow("c0", now=12)  # its first event still counts


def test_receipt_codes_use_every_character_of_the_alphabet_in_every_place():
    """50 random bits, 5 a character: each of the 32 characters turns up in each of the 10 places
    (a code drawn from fewer would be easier to guess); 3,000 codes miss one with odds ~1e-38."""
    from revise.security import RECEIPT_ALPHABET, RECEIPT_LENGTH, new_receipt, new_receipts

    assert len(set(RECEIPT_ALPHABET)) == len(RECEIPT_ALPHABET) == 32
    # One at a time (the one-by-one path) and many from one draw (a batch of the comment writer).
    for codes in ([new_receipt() for _ in range(3000)], [c for _ in range(100) for c in new_receipts(30)]):
        assert all(len(code) == RECEIPT_LENGTH for code in codes)
        for place in range(RECEIPT_LENGTH):
            assert {code[place] for code in codes} == set(RECEIPT_ALPHABET)
        assert len(set(codes)) == len(codes)
    # Codes of one draw are independent: no place of one code follows from another's.
    pairs = [new_receipts(2) for _ in range(3000)]
    for place in range(RECEIPT_LENGTH):
        assert len({(a[place], b[place]) for a, b in pairs}) > 900  # of 1,024 (expected ~974)
