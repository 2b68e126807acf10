"""Editor and administrator accounts: passwords, sign-in with a throttle, sessions. No HTTP here.

Passwords are hashed with Argon2id (argon2-cffi's defaults); a session is a random token of
which only the SHA-256 is stored, valid for 12 hours or until signed out.

The sign-in throttle: within any 15 minutes, at most 5 failed attempts for one user name
(counted since that account's last successful sign-in) and at most 20 failed attempts from
one client address (whatever the user names). Beyond either limit every try is refused with
429, the right password included, until the oldest failure leaves the 15 minutes. Unknown
user names are counted like real ones, so the throttle does not tell which names exist.
Attempts are rows in `signin_attempts`, so a restart does not reset the count; refused tries
are not recorded (they check no password). Each failed attempt also sleeps a little.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from revise.i18n import N_
from revise.security import token_hash
from revise.store import accounts as account_store
from revise.store import audit as audit_store
from revise.timeutil import to_text, utc_now

ROLES = ("editor", "admin")
ROLE_NAMES = {"editor": N_("editor"), "admin": N_("administrator")}
USERNAME = re.compile(r"[a-z0-9._-]{3,32}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1000  # Argon2 hashes anything, but there is no point hashing megabytes
SESSION_HOURS = 12
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_CLIENT = 20
FAILURE_DELAY = 0.2  # seconds each failed attempt waits before answering
# Generated passwords are typed from a printout: no 0/O, 1/l/I.
PASSWORD_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

WRONG = N_("The user name or password is wrong.")
THROTTLED = N_("Too many failed sign-ins. Wait 15 minutes and try again.")

_hasher = PasswordHasher()


class AccountError(Exception):
    """An account could not be created or changed; .message is a msgid, .params fill it in."""

    def __init__(self, message: str, **params: object):
        super().__init__(message % params if params else message)
        self.message, self.params = message, params


class SignInRefused(Exception):
    """A sign-in was refused: .status is 401 (wrong name or password) or 429 (throttled)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


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
    display_name = " ".join(display_name.split())
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


def sign_in(db: Database, username: str, password: str, client: str, now: datetime | None = None,
            delay: float = FAILURE_DELAY) -> tuple[dict, str]:
    """Check a user name and password; return the account and a new session token.

    Raises SignInRefused(429) when the throttle refuses the try (see the module docstring),
    SignInRefused(401) with the same message for an unknown name and a wrong password.
    """
    now = now or utc_now()
    name = username.strip().lower()[:64]
    client = (client or "unknown")[:64]
    at = to_text(now)
    attempt = account_store.start_attempt(db, name, client, at, to_text(now - THROTTLE_WINDOW),
                                          MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_CLIENT)
    if attempt is None:
        raise SignInRefused(429, THROTTLED)
    account = account_store.by_username(db, name)
    usable = account is not None and not account["disabled_at"] and len(password) <= MAX_PASSWORD
    ok = _verify(account["password_hash"] if usable else _dummy_hash(), password[:MAX_PASSWORD]) and usable
    if not ok:
        audit = audit_store.event(f"client:{client}", "account.sign_in_failed", None, after={"client": client}, at=at)
        account_store.fail_attempt(db, attempt, dict(audit, subject=f"account:{name}"))
        # Slows guessing further; the throttle is what bounds it.
        time.sleep(delay)
        raise SignInRefused(401, WRONG)
    token = secrets.token_urlsafe(32)
    session = {"token_hash": token_hash(token), "account_id": account["id"], "created_at": at,
               "expires_at": to_text(now + timedelta(hours=SESSION_HOURS)), "signed_out_at": None,
               "client": client}
    new_hash = _hasher.hash(password) if _hasher.check_needs_rehash(account["password_hash"]) else None
    audit = audit_store.event(account["username"], "account.sign_in", None, after={"client": client}, at=at)
    account_store.succeed_attempt(db, attempt, session, dict(audit, subject=f"account:{account['username']}"), new_hash)
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
