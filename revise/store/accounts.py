"""Editor accounts, their sessions (by the hash of the token) and the record of sign-in attempts."""

from __future__ import annotations

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


def start_attempt(db: Database, username: str, client: str, at: str, since: str,
                  per_account: int, per_client: int) -> int | None:
    """Record a sign-in attempt as undecided; None (nothing recorded) if the throttle refuses it.

    The count and the insert are one write transaction, so parallel guesses cannot all
    slip under the limit before any of them is recorded. An undecided attempt counts as
    a failure until it is decided.
    """
    with writing(db):
        counts = first(
            db,
            "select (select count(*) from signin_attempts where username = ? and at > ? and ok is not 1"
            "  and id > coalesce((select max(id) from signin_attempts"
            "                     where username = ? and at > ? and ok = 1), 0)) as by_account,"
            " (select count(*) from signin_attempts where client = ? and at > ? and ok is not 1) as by_client",
            [username, since, username, since, client, since],
        )
        if counts["by_account"] >= per_account or counts["by_client"] >= per_client:
            return None
        return insert(db, "signin_attempts", {"at": at, "username": username, "client": client, "ok": None})


def fail_attempt(db: Database, attempt_id: int, audit: dict) -> None:
    """Mark an attempt as failed, with its audit event."""
    with writing(db):
        db.execute("update signin_attempts set ok = 0 where id = ?", [attempt_id])
        insert(db, "audit", audit)


def succeed_attempt(db: Database, attempt_id: int, session: dict, audit: dict,
                    new_hash: str | None = None) -> None:
    """Mark an attempt as successful and open its session (and upgrade an outdated hash)."""
    with writing(db):
        db.execute("update signin_attempts set ok = 1 where id = ?", [attempt_id])
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
