"""`backup FILE` and `backup --keep N DIR`: consistent online copies of the database, old ones pruned.

The copy is SQLite's online backup (revise/store/backup.py), safe while the server runs. In a
folder, each copy is named revise-YYYYMMDDTHHMMSSZ.db (UTC, a -2, -3 … suffix if two land in
the same second); --keep N then removes all but the newest N of the files so named, and never
touches any other file in the folder.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from pathlib import Path

from revise.cli_common import N_, Refused, _, check_writable_file
from revise.settings import Settings

NAME = re.compile(r"^revise-(\d{8}T\d{6}Z)(?:-(\d+))?\.db$")


def add_parser(sub, common: argparse.ArgumentParser) -> None:
    """The `backup` command."""
    bak = sub.add_parser(
        "backup", parents=[common], help=_("copy the database consistently, even while the server runs"),
        description=_("Copy the database to FILE, or with --keep to a new timestamped file in the folder DIR, "
                      "keeping only the newest N copies there. Safe while the server runs."),
    )
    bak.add_argument("target", type=Path, metavar="FILE|DIR",
                     help=_("a new file, or an existing folder for timestamped copies"))
    bak.add_argument("--keep", type=_positive, metavar="N",
                     help=_("keep only the newest N timestamped copies in the folder"))
    bak.set_defaults(run=cmd_backup)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(_("not a whole number of at least 1: %(value)s", value=value))
    return number


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from revise.store.backup import backup

    if not settings.db_path.is_file():
        raise Refused(N_("There is no database at %(path)s."), path=settings.db_path.absolute())
    folder_form = args.keep is not None or args.target.is_dir()
    if folder_form:
        if not args.target.is_dir():
            raise Refused(N_("The folder %(path)s does not exist: create it first."), path=args.target)
        target = new_name(args.target, datetime.now(UTC))
    else:
        target = args.target
        if target.exists():
            raise Refused(N_("%(path)s already exists: choose a new file name."), path=target)
    check_writable_file(target)
    try:
        pages = backup(settings.db_path, target)
    except FileExistsError:
        raise Refused(N_("%(path)s already exists: choose a new file name."), path=target) from None
    except RuntimeError as error:  # the copy failed its integrity check: nothing was kept
        raise Refused(N_("The copy failed its integrity check and was removed: %(reason)s"), reason=error) from None
    print(_("Backed up to %(path)s (%(pages)s pages, integrity checked).", path=target, pages=pages))
    if args.keep is not None:
        for old in prune(args.target, args.keep):
            print(_("Removed the older copy %(path)s", path=old))
    return 0


def new_name(folder: Path, now: datetime) -> Path:
    """A file name in `folder` for a copy made `now` that no earlier copy has."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    # After every copy of the same second, even one pruned since, so the newest sorts last.
    taken = [_key(p.name.removesuffix(".partial")) for p in folder.iterdir() if p.name.startswith(f"revise-{stamp}")]
    n = max((key[1] for key in taken if key and key[0] == stamp), default=0) + 1
    return folder / (f"revise-{stamp}.db" if n == 1 else f"revise-{stamp}-{n}.db")


def _key(name: str) -> tuple[str, int] | None:
    match = NAME.match(name)
    return (match[1], int(match[2] or 1)) if match else None


def copies(folder: Path) -> list[Path]:
    """The timestamped copies in `folder`, newest first."""
    found = [(_key(path.name), path) for path in folder.iterdir() if path.is_file() and _key(path.name)]
    return [path for _k, path in sorted(found, reverse=True)]


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` copies; return what was removed."""
    removed = copies(folder)[keep:]
    for path in removed:
        path.unlink()
    return removed
