"""Attachments to comments (a scanned letter, a photo): checked by their content, never their name.

One rule for staff entering a letter and for the public form: a PDF, PNG or JPEG recognised by
its first bytes, no larger than the setting, whose file name's extension agrees with what the
bytes are. The browser's content type is never consulted: it is only a guess from the name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from revise.i18n import N_
from revise.textclean import clean_name as clean_text_name

# (magic bytes, media type, the extensions such a file may be named with, a name for messages)
KINDS = (
    (b"%PDF-", "application/pdf", (".pdf",), "PDF"),
    (b"\x89PNG\r\n\x1a\n", "image/png", (".png",), "PNG"),
    (b"\xff\xd8\xff", "image/jpeg", (".jpg", ".jpeg"), "JPEG"),
)
EXTENSIONS = {ext: kind for _, _, exts, kind in KINDS for ext in exts}
ACCEPT = ".pdf,.png,.jpg,.jpeg"  # the file input's hint to the browser; the check is below
NAME_MAX = 200
# The characters Windows forbids in names (the name goes into a header); control characters,
# noncharacters, bidi controls and zero-width characters are textclean's to remove.
_UNSAFE = re.compile(r'["<>:|?*\\/]')


class AttachmentRefused(Exception):
    """The file is not accepted; .message is a msgid shown next to the file field, .params its values."""

    def __init__(self, message: str, **params: object):
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass(frozen=True)
class Attachment:
    """A checked file, ready to store with its comment."""

    filename: str
    media_type: str
    size: int
    sha256: str
    data: bytes

    def row(self) -> dict:
        """The columns of the attachments table (without comment and time)."""
        return {"filename": self.filename, "media_type": self.media_type, "size": self.size,
                "sha256": self.sha256, "data": self.data}


def clean_name(filename: str) -> str:
    """The file's own name: no folders (old browsers send C:\\fakepath\\…), no control characters,
    nothing that disguises it (a right-to-left override shows "gpj.exe" as "exe.jpg")."""
    name = PureWindowsPath(PurePosixPath(filename if isinstance(filename, str) else "").name).name
    name = _UNSAFE.sub("", clean_text_name(name)).strip(" .")
    if len(name) > NAME_MAX:  # keep the extension, which the check below reads
        stem, dot, ext = name.rpartition(".")
        name = stem[: NAME_MAX - len(ext) - 1] + dot + ext if dot and len(ext) <= 10 else name[:NAME_MAX]
    return name


def sniff(data: bytes) -> tuple[str, tuple[str, ...], str] | None:
    """(media type, allowed extensions, name) of what the bytes are, or None if none we accept."""
    for magic, media_type, extensions, kind in KINDS:
        if data.startswith(magic):
            return media_type, extensions, kind
    return None


def check(filename: str, data: bytes, limit: int) -> Attachment:
    """Accept a PDF, PNG or JPEG no larger than `limit` whose name agrees with its content, or raise."""
    name = clean_name(filename)
    if not data:
        raise AttachmentRefused(N_("The file is empty: choose the scanned document again."))
    if len(data) > limit:
        raise AttachmentRefused(N_("The file is too large (at most %(mb)s MB)."), mb=megabytes(limit))
    found = sniff(data)
    if found is None:
        raise AttachmentRefused(N_("Only PDF, PNG or JPEG files are accepted, and this file is none of them."))
    media_type, extensions, kind = found
    extension = PurePosixPath(name.lower()).suffix
    if extension not in extensions:
        # A lying or missing extension: whoever opens the file later trusts its name.
        raise AttachmentRefused(
            N_("The file is named “%(name)s” but its content is %(kind)s: only .pdf, .png, .jpg or .jpeg files whose name matches their content are accepted."),
            name=name or "?", kind=kind,
        )
    return Attachment(name, media_type, len(data), hashlib.sha256(data).hexdigest(), data)


def megabytes(limit: int) -> str:
    """A limit in MB as people read it (5, or 0.2 for small test limits)."""
    return f"{round(limit / (1024 * 1024), 1):g}"


async def read_upload(upload: object, limit: int) -> tuple[str, bytes] | None:
    """An uploaded file's name and first limit + 1 bytes (enough to tell it is too large).

    None when the form had no file chosen: browsers then send an empty part without a name.
    """
    if not hasattr(upload, "read"):
        return None
    data = await upload.read(limit + 1)
    filename = getattr(upload, "filename", "") or ""
    return (filename, data) if filename or data else None
