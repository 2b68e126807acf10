"""Editor accounts, their sessions (by the hash of the token), the record of sign-in attempts and the throttle."""

from __future__ import annotations

from collections.abc import Callable

from sqlite_utils import Database

from revise.store import first, insert, writing

# What is shown of an account: never its password hash.
PUBLIC_COLUMNS = "id, username, display_name, role, created_at, disabled_at"


def create(db: Database, row: dict, audit: dict) -> int:
    """Insert an account with its audit event; return its id."""
    with writing(db):
        account_id = insert(db, "accounts", row)
        insert(db, "audit", dict(audit, subject=f"account:{row['username']}"))
    return account_id


def by_username(db: Database, username: str) -> dict | None:
    """The account with this user name, password hash included (for checking a password)."""
    return first(db, "select * from accounts where username = ?", [username])


def all_(db: Database) -> list[dict]:
    return list(db.query(f"select {PUBLIC_COLUMNS} from accounts order by username"))


def set_password_hash(db: Database, account_id: int, password_hash: str, at: str, audit: dict) -> None:
    """Replace the password hash and end the account's sessions (a changed password signs it out)."""
    with writing(db):
        db.execute("update accounts set password_hash = ? where id = ?", [password_hash, account_id])
        _end_sessions(db, account_id, at)
        insert(db, "audit", audit)


def disable(db: Database, account_id: int, at: str, audit: dict) -> None:
    """Stop an account from signing in and end its sessions."""
    with writing(db):
        db.execute("update accounts set disabled_at = ? where id = ? and disabled_at is null", [at, account_id])
        _end_sessions(db, account_id, at)
        insert(db, "audit", audit)


def _end_sessions(db: Database, account_id: int, at: str) -> None:
    db.execute(
        "update editor_sessions set signed_out_at = ? where account_id = ? and signed_out_at is null",
        [at, account_id],
    )


def start_attempt(db: Database, attempt: dict, keys: list[str], forget_before: str,
                  refused_until: Callable[[str, int, str], str | None]) -> tuple[int | None, str | None]:
    """Record a sign-in attempt: (its id, None) if the throttle lets it through, else (None, until when).

    `keys` are the throttle buckets the attempt counts in; `refused_until(key, failures, last_at)`
    says until when a bucket refuses tries (None: it does not). The check, the count and the
    insert are one write transaction, so parallel guesses cannot all slip under a limit before
    any is counted: an attempt counts as a failure in its buckets from the moment it starts
    (succeed_attempt takes it back). A refused try is recorded (throttled) and counts nowhere.
    """
    with writing(db):
        db.execute("delete from signin_throttle where last_at < ?", [forget_before])
        marks = ", ".join("?" for _ in keys)
        buckets = db.query(f"select key, failures, last_at from signin_throttle where key in ({marks})", keys)
        waits = [until for b in buckets if (until := refused_until(b["key"], b["failures"], b["last_at"]))]
        if waits:
            insert(db, "signin_attempts", dict(attempt, ok=0, throttled=1))
            return None, max(waits)
        for key in keys:
            db.execute(
                "insert into signin_throttle (key, failures, last_at) values (?, 1, ?)"
                " on conflict(key) do update set failures = failures + 1, last_at = excluded.last_at",
                [key, attempt["at"]],
            )
        return insert(db, "signin_attempts", dict(attempt, ok=None)), None


def fail_attempt(db: Database, attempt_id: int, audit: dict) -> None:
    """Mark an attempt as failed, with its audit event (its buckets counted it when it started)."""
    with writing(db):
        db.execute("update signin_attempts set ok = 0 where id = ?", [attempt_id])
        insert(db, "audit", audit)


def succeed_attempt(db: Database, attempt_id: int, session: dict, audit: dict, cleared: list[str],
                    taken_back: list[str], new_hash: str | None = None,
                    ended_token_hash: str | None = None) -> None:
    """Mark an attempt as successful and open its session (and upgrade an outdated hash).

    The buckets in `cleared` start again from nothing; those in `taken_back` forget only this
    attempt (a success does not excuse a client's failures on other accounts). A session the
    browser still held (`ended_token_hash`) is signed out: one browser, one session.
    """
    with writing(db):
        db.execute("update signin_attempts set ok = 1 where id = ?", [attempt_id])
        if cleared:
            db.execute(f"delete from signin_throttle where key in ({', '.join('?' for _ in cleared)})", cleared)
        for key in taken_back:
            db.execute("update signin_throttle set failures = max(failures - 1, 0) where key = ?", [key])
        if ended_token_hash:
            db.execute("update editor_sessions set signed_out_at = ? where token_hash = ? and signed_out_at is null",
                       [session["created_at"], ended_token_hash])
        insert(db, "editor_sessions", session)
        if new_hash:
            db.execute("update accounts set password_hash = ? where id = ?", [new_hash, session["account_id"]])
        insert(db, "audit", audit)


def session_account(db: Database, token_hash: str, now: str) -> dict | None:
    """The account of a live session: not expired, not signed out, account not disabled."""
    return first(
        db,
        "select a.id, a.username, a.display_name, a.role, s.expires_at from editor_sessions s"
        " join accounts a on a.id = s.account_id"
        " where s.token_hash = ? and s.signed_out_at is null and s.expires_at > ? and a.disabled_at is null",
        [token_hash, now],
    )


def end_session(db: Database, token_hash: str, at: str, audit: dict) -> bool:
    """Sign a session out (its token stops working); False if it was not live."""
    with writing(db):
        changed = db.execute(
            "update editor_sessions set signed_out_at = ? where token_hash = ? and signed_out_at is null",
            [at, token_hash],
        ).rowcount
        if changed:
            insert(db, "audit", audit)
    return bool(changed)
