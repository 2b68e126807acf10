"""Secrets and tokens: receipt codes, department links, CSRF and one-time form tokens, rate limits."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from pathlib import Path

# Receipt codes are read aloud over the phone: no 0/O or 1/I to confuse.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 10  # 10 × 5 bits = 50 bits of randomness


def new_receipt() -> str:
    """A fresh receipt code, e.g. "K7QH2-MZ4XR" without the hyphen (stored form).

    One draw of 50 random bits, 5 bits a character (the alphabet has 32): secrets.choice per
    character was a fourteenth of the comment writer's time (issue #11)."""
    return new_receipts(1)[0]


def new_receipts(n: int) -> list[str]:
    """n fresh receipt codes from one draw of the system's random source (each draw is a system
    call, during which the comment writer hands the interpreter lock to the event loop)."""
    width = 5 * RECEIPT_LENGTH
    bits = secrets.randbits(width * n)
    return ["".join(RECEIPT_ALPHABET[(bits >> (i * width + shift)) & 31] for shift in range(0, width, 5))
            for i in range(n)]


def normalise_receipt(text: str) -> str | None:
    """The stored form of a typed receipt code (case, spaces and hyphens ignored), or None."""
    code = "".join(ch for ch in text.upper() if ch not in " -")
    if len(code) != RECEIPT_LENGTH or any(ch not in RECEIPT_ALPHABET for ch in code):
        return None
    return code


def show_receipt(code: str) -> str:
    """A receipt code as shown: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def new_link_token() -> str:
    """The secret in a department's private link (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a link token: its SHA-256."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def load_or_create_secret(data_dir: Path) -> bytes:
    """The instance's signing key, kept in the data folder so restarts keep sessions valid."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Created 0600 from the start (not chmod-ed after): no moment when others may read it.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return path.read_bytes()
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(32))
    return path.read_bytes()


class Signer:
    """CSRF tokens bound to the visitor's session, and one-time form tokens."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def _mac(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode("utf-8", "surrogatepass")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:32]

    def csrf_token(self, session_id: str) -> str:
        return self._mac("csrf", session_id)

    def check_csrf(self, session_id: str | None, token: str | None) -> bool:
        if not session_id or not token:
            return False
        return _same(self.csrf_token(session_id), token)

    def form_token(self) -> str:
        """A one-time token for one rendered form (used once: its second use finds the first result)."""
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{self._mac('form', nonce)[:16]}"

    def check_form_token(self, token: str | None) -> bool:
        if not token or token.count(".") != 1:
            return False
        nonce, mac = token.split(".")
        return _same(self._mac("form", nonce)[:16], mac)


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that also accepts hostile non-ASCII input (compare_digest on str refuses it)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


class RateLimiter:
    """At most `limit` events per `period` seconds for each key (a client address)."""

    def __init__(self, limit: int, period: float = 60.0):
        self.limit = limit
        self.period = period
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Record an event for key; False (and nothing recorded) if the key is over its limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.period:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            if len(self._events) > 10_000:  # forget idle clients so memory stays bounded
                # Idle: its newest event has left the period. (A client's queue is pruned only when
                # that client comes back, so an idle one still holds its old events.)
                horizon = now - self.period
                for idle in [k for k, v in self._events.items() if not v or v[-1] <= horizon]:
                    del self._events[idle]
            return True

    async def check(self, key: str) -> bool:
        """allow(key): in memory, quick enough for the event loop. One process only: the server
        counts in the database instead (revise.store.limits.SharedRateLimiter), shared by workers."""
        return self.allow(key)
