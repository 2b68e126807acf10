"""Editor and administrator accounts: passwords, sign-in with a throttle, sessions. No HTTP here.

Passwords are hashed with Argon2id (argon2-cffi's defaults); a session is a random token of
which only the SHA-256 is stored, valid for 12 hours or until signed out.

The sign-in throttle slows guessing down and never locks an account: a lockout anyone can
trigger would let an attacker keep the owner out (OWASP Authentication Cheat Sheet; the policy
is in docs/ARCHITECTURE.md). Every try counts in buckets: the (user name, client) pair and the
client across all names; a try from a browser holding a valid device cookie for that name (one
that signed in as it before) counts only in its own (user name, device) bucket, so an attacker's
failures never slow the owner's browser down. Past a bucket's free failures (3 for a name, 20
for a client) each failure doubles the wait before the bucket's next try: 1 s, 2 s, 4 s … at
most 15 minutes. A try made sooner is refused (429, with the time to wait) without checking the
password; it is recorded and does not lengthen the wait. A success clears its (name, client) or
(name, device) bucket; a bucket idle for a day is forgotten. Unknown user names count like real
ones, so the throttle does not tell which names exist. An IPv6 client counts as its /64 network
(one subscriber usually holds all of it). Buckets and attempts are SQLite rows: several worker
processes and restarts share them. Nothing sleeps: the wait is a refusal, not a pause.
"""

from __future__ import annotations

import ipaddress
import math
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from revise.i18n import N_
from revise.security import token_hash
from revise.store import accounts as account_store
from revise.store import audit as audit_store
from revise.textclean import clean_name
from revise.timeutil import from_text, to_text, utc_now

ROLES = ("editor", "admin")
ROLE_NAMES = {"editor": N_("editor"), "admin": N_("administrator")}
USERNAME = re.compile(r"[a-z0-9._-]{3,32}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1000  # Argon2 hashes anything, but there is no point hashing megabytes
SESSION_HOURS = 12
# The throttle: failures a bucket allows before its tries wait, the longest wait, when it forgets.
FREE_FAILURES = {"account+client": 3, "account+device": 3, "client": 20}
MAX_WAIT = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)
# Generated passwords are typed from a printout: no 0/O, 1/l/I.
PASSWORD_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

WRONG = N_("The user name or password is wrong.")
THROTTLED = N_("Too many failed sign-ins. Try again in %(wait)s.")

_hasher = PasswordHasher()


class AccountError(Exception):
    """An account could not be created or changed; .message is a msgid, .params fill it in."""

    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


class SignInRefused(Exception):
    """A sign-in was refused: .status is 401 (wrong name or password) or 429 (throttled).

    A throttled try's .retry_after is the number of seconds before the next one may be made.
    """

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


def generate_password() -> str:
    """A random password of four groups of four, e.g. "k7Qh-2mZx-4Rtw-9PcE" (about 93 bits)."""
    return "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(4))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(N_("The password must have at least %(n)s characters."), n=MIN_PASSWORD)
    if len(password) > MAX_PASSWORD:
        raise AccountError(N_("The password must have at most %(n)s characters."), n=MAX_PASSWORD)


def create_account(db: Database, username: str, display_name: str, role: str, password: str, actor: str) -> int:
    """Create an editor or administrator account; return its id."""
    username = username.strip()
    display_name = clean_name(display_name)
    if not USERNAME.fullmatch(username):
        raise AccountError(N_("A user name has 3 to 32 characters: lower-case letters, digits, “.”, “_” or “-”."))
    if not 1 <= len(display_name) <= 50 or not display_name.isprintable():
        raise AccountError(N_("Give a display name of 1 to 50 characters."))
    if role not in ROLES:
        raise AccountError(N_("The role must be editor or admin."))
    _check_password(password)
    if account_store.by_username(db, username):
        raise AccountError(N_("The user name %(username)s is taken."), username=username)
    at = to_text(utc_now())
    row = {"username": username, "display_name": display_name, "role": role,
           "password_hash": _hasher.hash(password), "created_at": at, "disabled_at": None}
    audit = audit_store.event(actor, "account.create", None,
                              after={"username": username, "display_name": display_name, "role": role}, at=at)
    return account_store.create(db, row, audit)


def _existing(db: Database, username: str) -> dict:
    account = account_store.by_username(db, username.strip())
    if account is None:
        raise AccountError(N_("There is no account %(username)s."), username=username)
    return account


def set_password(db: Database, username: str, password: str, actor: str) -> None:
    """Give an account a new password; its open sessions are signed out."""
    account = _existing(db, username)
    _check_password(password)
    at = to_text(utc_now())
    audit = dict(audit_store.event(actor, "account.password", None, at=at), subject=f"account:{account['username']}")
    account_store.set_password_hash(db, account["id"], _hasher.hash(password), at, audit)


def disable(db: Database, username: str, actor: str) -> None:
    """Stop an account from signing in; its open sessions are signed out."""
    account = _existing(db, username)
    if account["disabled_at"]:
        raise AccountError(N_("The account %(username)s is already disabled."), username=account["username"])
    at = to_text(utc_now())
    audit = dict(audit_store.event(actor, "account.disable", None, at=at), subject=f"account:{account['username']}")
    account_store.disable(db, account["id"], at, audit)


def list_accounts(db: Database) -> list[dict]:
    """Every account by user name (no password hashes)."""
    return account_store.all_(db)


@cache
def _dummy_hash() -> str:
    """A hash to check unknown names against, so they take as long as real ones."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def client_key(client: str) -> str:
    """What the throttle counts a client address as: the address, or its /64 network for IPv6."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def throttle_wait(kind: str, failures: int) -> timedelta:
    """How long a bucket of this kind with this many failures makes its next try wait."""
    over = failures - FREE_FAILURES[kind]
    if over < 0:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(over, 20)), MAX_WAIT)


def _refused_until(now: datetime) -> Callable[[str, int, str], str | None]:
    def until(key: str, failures: int, last_at: str) -> str | None:
        moment = from_text(last_at) + throttle_wait(key.split(":", 1)[0], failures)
        return to_text(moment) if moment > now else None

    return until


def sign_in(db: Database, username: str, password: str, client: str, now: datetime | None = None,
            device: str | None = None, previous_token: str | None = None) -> tuple[dict, str]:
    """Check a user name and password; return the account and a new session token.

    `device` is the id of a device cookie already checked to belong to this user name (see the
    module docstring); `previous_token` a session the browser still holds, ended on success.
    Raises SignInRefused(429) with .retry_after when the throttle refuses the try, and
    SignInRefused(401) with the same message for an unknown name and a wrong password.
    """
    now = now or utc_now()
    name = username.strip().lower()[:64]
    client = (client or "unknown")[:64]
    at = to_text(now)
    device_hash = token_hash(device)[:32] if device else None
    if device_hash:
        keys = [f"account+device:{name}\x1f{device_hash}"]
    else:
        where = client_key(client)
        keys = [f"account+client:{name}\x1f{where}", f"client:{where}"]
    row = {"at": at, "username": name, "client": client, "device": device_hash}
    attempt, until = account_store.start_attempt(db, row, keys, to_text(now - FORGET_AFTER), _refused_until(now))
    if attempt is None:
        raise SignInRefused(429, THROTTLED, retry_after=max(1, math.ceil((from_text(until) - now).total_seconds())))
    account = account_store.by_username(db, name)
    usable = account is not None and not account["disabled_at"] and len(password) <= MAX_PASSWORD
    ok = _verify(account["password_hash"] if usable else _dummy_hash(), password[:MAX_PASSWORD]) and usable
    seen = {"client": client, **({"device": True} if device_hash else {})}
    if not ok:
        audit = audit_store.event(f"client:{client}", "account.sign_in_failed", None, after=seen, at=at)
        account_store.fail_attempt(db, attempt, dict(audit, subject=f"account:{name}"))
        raise SignInRefused(401, WRONG)
    token = secrets.token_urlsafe(32)
    session = {"token_hash": token_hash(token), "account_id": account["id"], "created_at": at,
               "expires_at": to_text(now + timedelta(hours=SESSION_HOURS)), "signed_out_at": None,
               "client": client}
    new_hash = _hasher.hash(password) if _hasher.check_needs_rehash(account["password_hash"]) else None
    audit = audit_store.event(account["username"], "account.sign_in", None, after=seen, at=at)
    account_store.succeed_attempt(db, attempt, session, dict(audit, subject=f"account:{account['username']}"),
                                  cleared=keys[:1], taken_back=keys[1:], new_hash=new_hash,
                                  ended_token_hash=token_hash(previous_token) if previous_token else None)
    return _public(account), token


def _public(account: dict) -> dict:
    return {k: account[k] for k in ("id", "username", "display_name", "role")}


def session_account(db: Database, token: str, now: datetime | None = None) -> dict | None:
    """The account signed in with this session token, or None (unknown, expired, signed out, disabled)."""
    if not token or len(token) > 200:
        return None
    return account_store.session_account(db, token_hash(token), to_text(now or utc_now()))


def sign_out(db: Database, token: str, now: datetime | None = None) -> bool:
    """End a session: its token no longer signs anyone in. False if it was not live."""
    account = session_account(db, token, now)
    if account is None:
        return False
    at = to_text(now or utc_now())
    audit = audit_store.event(account["username"], "account.sign_out", None, at=at)
    return account_store.end_session(db, token_hash(token), at, dict(audit, subject=f"account:{account['username']}"))


def has_role(account: dict, role: str) -> bool:
    """An administrator may do everything an editor may."""
    return account["role"] == role or account["role"] == "admin"
