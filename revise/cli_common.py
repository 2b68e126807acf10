"""What every command of the command line shares: the user's language, refusals, files and the database.

The language comes from the environment the way GNU programs read it (LANGUAGE, LC_ALL,
LC_MESSAGES, LANG): English when one of them asks for it, zh_CN otherwise, through the same
catalogs as the web pages. argparse's own words (usage, options, errors) are translated too.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

import sqlite_utils

from revise.i18n import DEFAULT_LOCALE, N_, gettext, translations
from revise.settings import Settings
from revise.store import open_database
from revise.timeutil import parse_local
from revise.window import Window, default_window

_locale: ContextVar[str] = ContextVar("cli_locale", default=DEFAULT_LOCALE)

# argparse's own messages (Python's argparse asks gettext for them); translated in our catalog.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("expected one argument"),
    N_("expected at least one argument"),
    N_("invalid %(type)s value: %(value)r"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
)

# Why a file or folder could not be used, by errno; anything else falls back to the system's words.
REASONS = {
    errno.ENOENT: N_("it does not exist"),
    errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("permission denied"),
    errno.EISDIR: N_("it is a folder"),
    errno.ENOTDIR: N_("part of the path is not a folder"),
    errno.ENOSPC: N_("the disk is full"),
    errno.EROFS: N_("the file system is read-only"),
    errno.EEXIST: N_("it already exists"),
}


class Refused(Exception):
    """An ordinary mistake on the command line: its message is shown and the exit status is 2."""

    def __init__(self, message: str, **params: object):
        super().__init__(message)
        self.message, self.params = message, params

    def text(self) -> str:
        return _(self.message, **self.params)


def _(message: str, **params: object) -> str:
    """Translate a msgid into the command line's language."""
    return gettext(message, _locale.get(), **params)


def current_locale() -> str:
    """The command line's language (for modules that take a locale argument)."""
    return _locale.get()


def locale_from(environ: Mapping[str, str]) -> str:
    """en when LANGUAGE / LC_ALL / LC_MESSAGES / LANG ask for English first, zh_CN otherwise."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for part in environ.get(name, "").split(":"):
            language = part.split(".")[0].split("@")[0].split("_")[0].lower()
            if language in ("", "c", "posix"):
                continue  # no preference stated here: look further
            if language == "en":
                return "en"
            if language == "zh":
                return "zh_CN"
    return DEFAULT_LOCALE


@contextlib.contextmanager
def speaking(locale: str) -> Iterator[None]:
    """Run the command line in a locale, argparse's messages included."""
    token = _locale.set(locale)
    catalog = translations(locale)
    saved = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = catalog.gettext, catalog.ngettext
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved
        _locale.reset(token)


def reason(error: OSError) -> str:
    """Why a file operation failed, in the user's language."""
    known = REASONS.get(error.errno)
    return _(known) if known else (error.strerror or str(error))


def check_writable_file(path: Path) -> None:
    """Refuse before any work is done when `path` cannot be written (missing or read-only folder)."""
    folder = path.parent
    if path.is_dir():
        raise Refused(N_("Cannot write %(path)s: %(reason)s"), path=path, reason=_(REASONS[errno.EISDIR]))
    if not folder.is_dir():
        raise Refused(N_("Cannot write %(path)s: the folder %(folder)s does not exist."), path=path, folder=folder)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise Refused(N_("Cannot write %(path)s: %(reason)s"), path=path, reason=_(REASONS[errno.EACCES]))


def open_existing(settings: Settings) -> sqlite_utils.Database:
    """The database of the data folder; refused (never created) when there is none yet."""
    if not settings.db_path.is_file():
        raise Refused(
            N_("There is no database at %(path)s. Give the data folder with --data DIR (or REVISE_DATA); "
               "`serve` or `import` creates a new one."),
            path=settings.db_path.absolute(),
        )
    return open_database(settings.db_path)


def instant(value: str) -> datetime:
    """argparse type of --opens/--closes: ISO 8601, Beijing time unless an offset is given."""
    try:
        return parse_local(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a date-time: %(value)s", value=value)) from None


def window_from(args: argparse.Namespace) -> Window:
    """The comment window asked for by --opens/--closes: opens now and lasts seven days by default."""
    default = default_window(args.opens)
    return Window(default.opens_at, args.closes or default.closes_at)


def actor() -> str:
    """Who runs the command, for the audit log: cli:<login name>."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"
