"""The commands on consultations: import, list, window, departments, moderate, export."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from revise import departments, drafts
from revise.cli_common import (
    N_,
    Refused,
    _,
    actor,
    check_writable_file,
    current_locale,
    instant,
    open_existing,
    reason,
    window_from,
)
from revise.docx_import import ImportRefused
from revise.settings import Settings
from revise.store import consultations as consultation_store
from revise.store import open_database
from revise.textclean import clean_name
from revise.window import STATE_NAMES, Window

REPORT_SUFFIXES = (".docx", ".xlsx", ".csv")


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """The parsers of the commands in this module, each with its function as `run`."""
    imp = sub.add_parser("import", parents=[common], help=_("import a .docx as a new consultation"),
                         description=_("Import a .docx as a new consultation, shown at /c/SLUG."))
    imp.add_argument("file", type=Path, help=_("the draft as a Word file (.docx)"))
    imp.add_argument("--slug", required=True, help=_("short name used in the address, e.g. plan-2024"))
    imp.add_argument("--title", default="", help=_("title shown on the page (default: the document's title)"))
    imp.add_argument("--issuer", default="", help=_("the office that issues the draft"))
    imp.add_argument("--notice", default="", help=_("the notice text shown above the draft"))
    imp.add_argument("--contact", default="", help=_("how to reach the office (shown with the notice)"))
    imp.add_argument("--published-on", default="", metavar="YYYY-MM-DD", help=_("date of publication"))
    window_options(imp, argparse.SUPPRESS)
    imp.set_defaults(run=cmd_import)

    lst = sub.add_parser("list", parents=[common], help=_("list consultations"),
                         description=_("List consultations: slug, state, window (UTC), number of blocks, title."))
    lst.set_defaults(run=cmd_list)

    win = sub.add_parser("window", parents=[common], help=_("change a consultation's comment window"))
    win.add_argument("slug", help=_("the consultation's short name"))
    win.add_argument("--opens", type=instant, required=True, help=_("when commenting opens (Beijing time unless an offset is given)"))
    win.add_argument("--closes", type=instant, required=True, help=_("when commenting closes"))
    win.add_argument("--by", default=actor(), help=_("who makes the change (for the audit log)"))
    win.set_defaults(run=cmd_window)

    dep = sub.add_parser("departments", parents=[common], help=_("the roster of departments asked to reply"),
                         description=_("add: put departments on the roster, each with a private link printed once; "
                                       "new-link: replace a leaked link; list: who replied and when."))
    dep.add_argument("slug", help=_("the consultation's short name"))
    dep.add_argument("action", choices=["add", "list", "new-link"], help=_("add, list or new-link"))
    dep.add_argument("names", nargs="*", metavar="NAME", help=_("department names (for add and new-link)"))
    dep.add_argument("--base-url", help=_("address the links start with (default: $REVISE_BASE_URL or http://HOST:PORT)"))
    dep.add_argument("--by", default=actor(), help=_("who makes the change (for the audit log)"))
    dep.set_defaults(run=cmd_departments)

    mod = sub.add_parser("moderate", parents=[common], help=_("publish or withhold public comments"),
                         description=_("Publish or withhold public comments and list those awaiting review."))
    mod.add_argument("slug", help=_("the consultation's short name"))
    mod.add_argument("--publish", type=int, nargs="*", default=[], metavar="ID", help=_("publish these comments"))
    mod.add_argument("--hide", type=int, nargs="*", default=[], metavar="ID", help=_("withhold these comments"))
    mod.add_argument("--auto-publish", choices=["on", "off"], help=_("publish public comments without review"))
    mod.add_argument("--attachments", choices=["on", "off"], help=_("let the public attach one scan or photo to a comment"))
    mod.add_argument("--by", default=actor(), help=_("who makes the change (for the audit log)"))
    mod.set_defaults(run=cmd_moderate)

    exp = sub.add_parser("export", parents=[common], help=_("write the revised plan and the report to files"),
                         description=_("Write any number of files from one consistent snapshot; each option may be repeated."))
    exp.add_argument("slug", help=_("the consultation's short name"))
    exp.add_argument("--clean", type=Path, action="append", default=[], metavar="FILE.docx",
                     help=_("the revised plan, clean (.docx)"))
    exp.add_argument("--tracked", type=Path, action="append", default=[], metavar="FILE.docx",
                     help=_("the revised plan with tracked changes (.docx)"))
    exp.add_argument("--report", type=Path, action="append", default=[], metavar="FILE",
                     help=_("the report: .docx, .xlsx or .csv by the file's extension"))
    exp.set_defaults(run=cmd_export)


def window_options(parser: argparse.ArgumentParser, default) -> None:
    """--opens and --closes for serve and import (default None, or SUPPRESS below a command)."""
    parser.add_argument(
        "--opens", type=instant, default=default,
        help=_("when commenting opens: ISO date-time, Beijing time unless an offset is given (default: now)"),
    )
    parser.add_argument(
        "--closes", type=instant, default=default, help=_("when commenting closes (default: seven days after it opens)")
    )


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise Refused(N_("Not imported: cannot read %(path)s: %(reason)s"), path=args.file, reason=reason(error)) from None
    db = open_database(settings.db_path)
    try:
        cid = drafts.import_draft(
            db,
            data,
            filename=args.file.name,
            slug=args.slug,
            window=window_from(args),
            settings=settings,
            title=args.title,
            issuer=args.issuer,
            notice=args.notice,
            contact=args.contact,
            published_on=args.published_on,
        )
    except ImportRefused as refused:
        raise Refused(N_("Not imported: %(reason)s"), reason=_(refused.message)) from None
    except drafts.DraftError as error:
        raise Refused(N_("Not imported: %(reason)s"), reason=_(error.message, **error.params)) from None
    finally:
        db.close()
    print(_("Imported as consultation %(slug)s (id %(id)s).", slug=args.slug, id=cid))
    from revise import docx_sanitize

    for line in docx_sanitize.report_lines(data, current_locale()):  # what import took out
        print(line)
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    db = open_existing(settings)
    try:
        rows = consultation_store.all_(db)
    finally:
        db.close()
    if not rows:
        print(_("No consultations yet."))
    for row in rows:
        state = _(STATE_NAMES[Window.of(row).state()])
        print(f"{row['slug']}\t{state}\t{row['opens_at']} – {row['closes_at']}\t{row['blocks']}\t{row['title']}")
    return 0


def consultation(db, slug: str) -> dict:
    """The consultation named `slug`, or a refusal naming it."""
    found = consultation_store.by_slug(db, slug)
    if found is None:
        raise Refused(N_("No consultation is named %(slug)s."), slug=slug)
    return found


def cmd_window(args: argparse.Namespace, settings: Settings) -> int:
    db = open_existing(settings)
    try:
        c = consultation(db, args.slug)
        drafts.change_window(db, c, Window(args.opens, args.closes), args.by)
    except drafts.DraftError as error:
        raise Refused(error.message, **error.params) from None
    finally:
        db.close()
    print(_("Comment window of %(slug)s: %(opens)s – %(closes)s (UTC).", slug=args.slug,
            opens=args.opens.isoformat(), closes=args.closes.isoformat()))
    return 0


def cmd_departments(args: argparse.Namespace, settings: Settings) -> int:
    db = open_existing(settings)
    try:
        c = consultation(db, args.slug)
        base = (args.base_url or settings.public_url).rstrip("/")
        if args.action == "list":
            for row in departments.status(db, c):
                print(f"{row['name']}\t{_(departments.STATUS_NAMES[row['status']])}\t{row['replied_at'] or ''}\t{row['comments']}")
            return 0
        if not args.names:
            raise Refused(N_("Name at least one department."))
        if args.action == "add":
            # All or nothing: every name is checked before any is added, then all in one transaction.
            links = departments.add_all(db, c, args.names, args.by)
        else:
            links = [(name, departments.new_link(db, c, name, args.by)) for name in _known(db, c, args.names)]
    except departments.RosterError as error:
        raise Refused(error.message, **error.params) from None
    finally:
        db.close()
    print(_("Each link is shown only this once: send it to the department privately."))
    for name, token in links:
        print(f"{name}\t{base}/d/{token}")
    return 0


def _known(db, c: dict, names: list[str]) -> list[str]:
    """The names, once every one has been found on the roster (so no link is replaced half-way)."""
    on_roster = {row["name"] for row in departments.status(db, c)}
    for name in names:
        if clean_name(name) not in on_roster:
            raise departments.RosterError(N_("“%(name)s” is not on the roster."), name=name)
    return names


def cmd_moderate(args: argparse.Namespace, settings: Settings) -> int:
    from revise import commenting
    from revise.store import audit as audit_store
    from revise.store import comments as comment_store
    from revise.timeutil import utc_now_text

    db = open_existing(settings)
    try:
        c = consultation(db, args.slug)
        if args.auto_publish:
            on = args.auto_publish == "on"
            audit = audit_store.event(args.by, "consultation.auto_publish", c["id"], bool(c["publish_immediately"]), on, at=utc_now_text())
            consultation_store.set_publish_immediately(db, c["id"], on, audit)
        if args.attachments:
            on = args.attachments == "on"
            audit = audit_store.event(args.by, "consultation.public_attachments", c["id"], bool(c["public_attachments"]), on, at=utc_now_text())
            consultation_store.set_public_attachments(db, c["id"], on, audit)
        published = commenting.moderate(db, c, args.publish, True, args.by)
        hidden = commenting.moderate(db, c, args.hide, False, args.by)
        if args.publish or args.hide:
            print(_("Published %(p)s, withheld %(h)s.", p=published, h=hidden))
        pending = comment_store.with_status(db, c["id"], "pending")
        print(_("Awaiting review: %(n)s", n=len(pending)))
        for row in pending:
            print(f"{row['id']}\t{row['created_at']}\t{row['kind']}\t{row['body'][:60]}")
    finally:
        db.close()
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from revise import docx_export, exporting

    wanted = [(path, "plan.docx") for path in args.clean] + [(path, "plan-tracked.docx") for path in args.tracked]
    for path in args.report:
        suffix = path.suffix.lower()
        if suffix not in REPORT_SUFFIXES:
            raise Refused(N_("The report is written as .docx, .xlsx or .csv: %(path)s"), path=path)
        wanted.append((path, "report" + suffix))
    if not wanted:
        raise Refused(N_("Say what to write: --clean, --tracked and/or --report."))
    # Every target is checked before anything is rendered, so a typo in the last one costs nothing.
    for path, _name in wanted:
        check_writable_file(path)
    db = open_existing(settings)
    try:
        snap = exporting.snapshot(db, consultation(db, args.slug))
        files = [(path, exporting.render_file(snap, name)) for path, name in wanted]  # temporary files
    except docx_export.ExportError as error:
        raise Refused(error.message) from None
    finally:
        db.close()
    for path, data in files:
        try:
            with path.open("wb") as target:
                shutil.copyfileobj(data, target)
        except OSError as error:
            print(_("Cannot write %(path)s: %(reason)s", path=path, reason=reason(error)), file=sys.stderr)
            return 2
        print(_("Wrote %(path)s", path=path))
    return 0
