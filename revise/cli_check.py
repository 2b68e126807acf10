"""`server.py check`: is this data folder and these settings fit to serve? One line per check.

Each line starts with ok, warning or PROBLEM (in the user's language); the exit status is 1 when
any line is a problem, 0 otherwise. Nothing is created or changed: the database is opened read-only.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import shutil
import sqlite3
import stat
from pathlib import Path
from urllib.parse import urlsplit

from revise.cli_common import N_, _
from revise.settings import Settings
from revise.store import health

OK, WARNING, PROBLEM = N_("ok"), N_("warning"), N_("PROBLEM")
# Less free space than this (or than twice the database, if larger) is a problem: a backup,
# a migration or SQLite's own temporary files may need it.
MIN_FREE_BYTES = 100 * 1024 * 1024
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def add_parser(sub, common: argparse.ArgumentParser, address_options) -> None:
    """The `check` command; it takes serve's address options so it judges the same settings."""
    chk = sub.add_parser(
        "check", parents=[common], help=_("check the data folder, the database and the settings"),
        description=_("Check the data folder and its permissions, the schema version, the database's integrity, "
                      "free disk space, the secret file, the trusted proxies and the base URL. "
                      "Exit status 1 when there is a problem."),
    )
    address_options(chk, argparse.SUPPRESS)
    chk.set_defaults(run=cmd_check)


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from revise.cli import with_address

    settings = with_address(settings, args)
    lines = [data_folder(settings.data_dir)]
    if settings.db_path.is_file():
        lines += [_unreadable(check, settings.db_path) for check in (schema, integrity)]
    else:
        lines.append((PROBLEM, N_("database"), _("there is no database at %(path)s (`serve` or `import` creates one)",
                                                   path=settings.db_path.absolute())))
    lines += [disk_space(settings), secret_file(settings.data_dir / "secret.key"),
              trusted_proxies(settings), base_url(settings)]
    for status, label, detail in lines:
        print(_(status) + "\t" + _("%(label)s: %(detail)s", label=_(label), detail=detail))
    return 1 if any(status == PROBLEM for status, _label, _detail in lines) else 0


def _unreadable(check, db_path: Path) -> tuple[str, str, str]:
    """A check of the database file, or a problem line when SQLite cannot read the file at all."""
    try:
        return check(db_path)
    except sqlite3.DatabaseError as error:
        label = N_("schema version") if check is schema else N_("integrity")
        return PROBLEM, label, _("SQLite cannot read %(path)s: %(reason)s; restore the newest backup",
                                 path=db_path.absolute(), reason=error)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _octal(mode: int) -> str:
    return format(mode, "04o")


def data_folder(folder: Path) -> tuple[str, str, str]:
    label, where = N_("data folder"), folder.absolute()
    if not folder.is_dir():
        return PROBLEM, label, _("%(path)s does not exist or is not a folder", path=where)
    mode = _mode(folder)
    if not os.access(folder, os.W_OK | os.X_OK):
        return PROBLEM, label, _("%(path)s is not writable by this user", path=where)
    if mode & stat.S_IWOTH:
        return PROBLEM, label, _("%(path)s (mode %(mode)s): any user may write in it; chmod 700 it", path=where, mode=_octal(mode))
    if mode & (stat.S_IROTH | stat.S_IXOTH):
        return WARNING, label, _("%(path)s (mode %(mode)s): other users may read it, and it holds "
                                 "commenters' contact details; chmod 700 it", path=where, mode=_octal(mode))
    return OK, label, _("%(path)s (mode %(mode)s, writable)", path=where, mode=_octal(mode))


def schema(db_path: Path) -> tuple[str, str, str]:
    label = N_("schema version")
    state = health.schema_state(db_path)
    known = len(state.applied) - len(state.unknown) + len(state.pending)
    if state.unknown:
        return PROBLEM, label, _("the database has migrations this program does not know (%(names)s): "
                                 "it was written by a newer revise", names=", ".join(state.unknown))
    if state.pending:
        return WARNING, label, _("%(applied)s of %(known)s migrations applied; the next start applies %(names)s",
                                 applied=len(state.applied), known=known, names=", ".join(state.pending))
    return OK, label, _("%(applied)s of %(known)s migrations applied (latest %(name)s)",
                        applied=len(state.applied), known=known, name=state.applied[-1] if state.applied else "-")


def integrity(db_path: Path) -> tuple[str, str, str]:
    label = N_("integrity")
    result = health.integrity(db_path)
    if result != "ok":
        return PROBLEM, label, _("PRAGMA integrity_check reports: %(result)s; restore the newest backup", result=result)
    return OK, label, _("PRAGMA integrity_check: ok")


def disk_space(settings: Settings) -> tuple[str, str, str]:
    label = N_("free disk space")
    folder = settings.data_dir if settings.data_dir.is_dir() else Path(".")
    free = shutil.disk_usage(folder).free
    used = sum(p.stat().st_size for p in (settings.db_path, Path(f"{settings.db_path}-wal")) if p.is_file())
    needed = max(MIN_FREE_BYTES, 2 * used)
    detail = _("%(free)s free, database %(used)s", free=_size(free), used=_size(used))
    if free < needed:
        return PROBLEM, label, _("%(detail)s: less than %(needed)s", detail=detail, needed=_size(needed))
    return OK, label, detail


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def secret_file(path: Path) -> tuple[str, str, str]:
    label = N_("secret file")
    if not path.is_file():
        return WARNING, label, _("%(path)s is missing: the next start makes a new one "
                                 "(editors then sign in again)", path=path.absolute())
    mode = _mode(path)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return PROBLEM, label, _("%(path)s (mode %(mode)s): other users may read it and forge sessions; "
                                 "chmod 600 it", path=path.absolute(), mode=_octal(mode))
    if path.stat().st_size < 32:
        return PROBLEM, label, _("%(path)s is shorter than 32 bytes: remove it and restart", path=path.absolute())
    return OK, label, _("%(path)s (mode %(mode)s)", path=path.absolute(), mode=_octal(mode))


def trusted_proxies(settings: Settings) -> tuple[str, str, str]:
    label = N_("trusted proxies")
    proxies = tuple(getattr(settings, "trusted_proxies", ()) or ())
    if not proxies:
        return OK, label, _("none: a client's address is the connection's (right without a proxy in front)")
    for value in proxies:
        if value == "*":
            return WARNING, label, _("* believes X-Forwarded-For from anyone who reaches the port: "
                                     "name the proxy's address instead")
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return PROBLEM, label, _("not an IP address or network: %(value)s", value=value)
    return OK, label, ", ".join(proxies)


def base_url(settings: Settings) -> tuple[str, str, str]:
    label = N_("base URL")
    url = getattr(settings, "base_url", "")
    hosts = ", ".join(getattr(settings, "host_names", ()) or ())
    served = _("; host names served: %(names)s", names=hosts) if hosts else ""
    if not url:
        if settings.host in LOOPBACK:
            return OK, label, _("not set: links use http://%(host)s:%(port)s (fine on this machine only)",
                                host=settings.host, port=settings.port) + served
        return WARNING, label, _("not set while listening on %(host)s: set --base-url or REVISE_BASE_URL "
                                 "to the address the public uses", host=settings.host) + served
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return PROBLEM, label, _("%(url)s is not an address like https://consult.example.gov.cn", url=url)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        return WARNING, label, _("%(url)s is not https: sign-in passwords would cross the network in clear",
                                 url=url) + served
    return OK, label, url + served
