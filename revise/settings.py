"""One Settings object, read from the environment and overridden by the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

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
    # Largest form body accepted (answered 413 beyond).
    max_form_bytes: int = int(os.environ.get("REVISE_MAX_FORM_BYTES", str(64 * 1024)))
    # Largest attachment (a scanned letter: PDF, PNG or JPEG) to a comment; larger ones are refused.
    max_attachment_bytes: int = int(os.environ.get("REVISE_MAX_ATTACHMENT_BYTES", str(5 * 1024 * 1024)))
    default_locale: str = "zh_CN"
    timezone: str = "Asia/Shanghai"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "revise.db"

    def with_(self, **changes) -> "Settings":
        """A copy with some fields changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
