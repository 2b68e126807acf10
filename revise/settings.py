"""One Settings object, read from the environment and overridden by the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

# The checkout, whose static/ and docs/ the app reads; an installed wheel has no checkout around it,
# so setup.py ships copies of them in revise/_bundled/, used when present (issue #15).
_BUNDLED = Path(__file__).resolve().parent / "_bundled"
ROOT = _BUNDLED if _BUNDLED.is_dir() else Path(__file__).resolve().parent.parent
DEFAULT_DRAFT = ROOT / "docs" / "draft.docx"
DEFAULT_NOTICE = ROOT / "docs" / "notice.json"


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about where it runs and how strict it is."""

    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("REVISE_DATA", "data")))
    host: str = os.environ.get("REVISE_HOST", "127.0.0.1")
    port: int = int(os.environ.get("REVISE_PORT", "8000"))
    # Imports larger than this are refused before any parsing (issue #2).
    max_docx_bytes: int = int(os.environ.get("REVISE_MAX_DOCX_BYTES", str(20 * 1024 * 1024)))
    # A .docx whose parts inflate past this is refused as a possible zip bomb.
    max_docx_inflated: int = int(os.environ.get("REVISE_MAX_DOCX_INFLATED", str(200 * 1024 * 1024)))
    # Import docs/draft.docx as nanchong-2022 when the data folder is empty.
    seed_default: bool = os.environ.get("REVISE_SEED_DEFAULT", "1") != "0"
    # Comment submissions allowed per client address per minute (answered 429 beyond).
    comments_per_minute: int = int(os.environ.get("REVISE_COMMENTS_PER_MINUTE", "10"))
    # Previews of a comment (a diff computed on the server) per client address per minute.
    previews_per_minute: int = int(os.environ.get("REVISE_PREVIEWS_PER_MINUTE", "30"))
    # Seconds a comment may wait for the database (another process holding its lock) before 503.
    write_wait: float = float(os.environ.get("REVISE_WRITE_WAIT", "8"))
    # Largest form body accepted (answered 413 beyond).
    max_form_bytes: int = int(os.environ.get("REVISE_MAX_FORM_BYTES", str(64 * 1024)))
    # Largest attachment (a scanned letter: PDF, PNG or JPEG) to a comment; larger ones are refused.
    max_attachment_bytes: int = int(os.environ.get("REVISE_MAX_ATTACHMENT_BYTES", str(5 * 1024 * 1024)))
    # The address the public reaches this site at: QR codes, department links and the printed
    # notice are built from it, never from a request's Host header (issue #10). Empty: http://host:port.
    base_url: str = field(default_factory=lambda: os.environ.get("REVISE_BASE_URL", ""))
    # Host names requests may be addressed to, beside the base URL's (others get 400).
    # Empty: localhost, 127.0.0.1 and ::1.
    allowed_hosts: tuple[str, ...] = field(default_factory=lambda: split_names(os.environ.get("REVISE_ALLOWED_HOSTS", "")))
    # Reverse proxies (IPs or CIDRs) whose X-Forwarded-For/-Proto are believed. Empty: none.
    trusted_proxies: tuple[str, ...] = field(default_factory=lambda: split_names(os.environ.get("REVISE_TRUSTED_PROXIES", "")))
    # Seconds a request body may take to arrive (plus 1 s per 10 KB received); slower ones get 408.
    body_timeout: float = field(default_factory=lambda: float(os.environ.get("REVISE_BODY_TIMEOUT", "30")))
    # Connections served at once; beyond, uvicorn answers 503 at once instead of running out of files.
    max_connections: int = field(default_factory=lambda: int(os.environ.get("REVISE_MAX_CONNECTIONS", "500")))
    # Where comments are committed: "thread" (a thread of the server's process) or "process" (a
    # process of its own beside each server process: what serve runs unless told otherwise, since
    # the thread shares the interpreter lock with the event loop; revise/writer_process.py).
    comment_writer: str = field(default_factory=lambda: os.environ.get("REVISE_COMMENT_WRITER", "thread"))
    default_locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "revise.db"

    @property
    def public_url(self) -> str:
        """The configured base URL without a trailing slash (http://host:port when none is set)."""
        if self.base_url:
            return self.base_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def host_names(self) -> tuple[str, ...]:
        """The Host header names served: the base URL's, then the allowed ones (loopback by default)."""
        own = urlsplit(self.public_url).hostname or ""
        others = self.allowed_hosts or ("localhost", "127.0.0.1", "::1")
        return tuple(dict.fromkeys(name.lower() for name in (own, *others) if name))

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def split_names(text: str) -> tuple[str, ...]:
    """A comma-separated list from the environment or the command line, blanks dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())
