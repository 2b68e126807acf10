"""The command line of revise: serve the app, import drafts, list consultations, back up.

server.py in a checkout and the installed `revise` command (and `python -m revise`) all run main().
"""


from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from revise import accounts_cli, departments, drafts
from revise.docx_import import ImportRefused
from revise.i18n import gettext as _
from revise.settings import Settings
from revise.store import consultations as consultation_store
from revise.store import open_database
from revise.timeutil import parse_local
from revise.window import STATE_NAMES, Window, default_window


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="server.py", description=_("revise: public comment on a draft"))
    parser.add_argument("--data", type=Path, help=_("data folder (default: ./data or $REVISE_DATA)"))
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help=_("serve the web app (the default)"))
    _serve_options(serve)
    _serve_options(parser)

    imp = sub.add_parser("import", help=_("import a .docx as a new consultation"))
    imp.add_argument("file", type=Path)
    imp.add_argument("--slug", required=True, help=_("short name used in the address, e.g. plan-2024"))
    imp.add_argument("--title", default="")
    imp.add_argument("--issuer", default="")
    imp.add_argument("--notice", default="")
    imp.add_argument("--contact", default="")
    imp.add_argument("--published-on", default="", help="YYYY-MM-DD")
    _window_options(imp)

    sub.add_parser("list", help=_("list consultations"))

    win = sub.add_parser("window", help=_("change a consultation's comment window"))
    win.add_argument("slug")
    win.add_argument("--opens", type=_instant, required=True, help=_("when commenting opens (Beijing time unless an offset is given)"))
    win.add_argument("--closes", type=_instant, required=True, help=_("when commenting closes"))
    win.add_argument("--by", default=_actor(), help=_("who makes the change (for the audit log)"))

    dep = sub.add_parser("departments", help=_("the roster of departments asked to reply"))
    dep.add_argument("slug")
    dep.add_argument("action", choices=["add", "list", "new-link"])
    dep.add_argument("names", nargs="*")
    dep.add_argument("--base-url", default="http://127.0.0.1:8000", help=_("address the links start with"))
    dep.add_argument("--by", default=_actor())

    exp = sub.add_parser("export", help=_("write the revised plan and the report to files"))
    exp.add_argument("slug")
    exp.add_argument("--clean", type=Path, help=_("the revised plan, clean (.docx)"))
    exp.add_argument("--tracked", type=Path, help=_("the revised plan with tracked changes (.docx)"))
    exp.add_argument("--report", type=Path, help=_("the report: .docx, .xlsx or .csv by the file's extension"))

    bak = sub.add_parser("backup", help=_("copy the database consistently, even while the server runs"))
    bak.add_argument("file", type=Path)

    mod = sub.add_parser("moderate", help=_("publish or withhold public comments"))
    mod.add_argument("slug")
    mod.add_argument("--publish", type=int, nargs="*", default=[], metavar="ID")
    mod.add_argument("--hide", type=int, nargs="*", default=[], metavar="ID")
    mod.add_argument("--auto-publish", choices=["on", "off"], help=_("publish public comments without review"))
    mod.add_argument("--attachments", choices=["on", "off"], help=_("let the public attach one scan or photo to a comment"))
    mod.add_argument("--by", default=_actor())
    accounts_cli.add_parser(sub)
    return parser


def _actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def _serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help=_("address to listen on (default 127.0.0.1)"))
    parser.add_argument("--port", type=int, help=_("port (default 8000)"))
    parser.add_argument(
        "--no-default", action="store_true", help=_("do not import docs/draft.docx on first start")
    )
    _window_options(parser)


def _window_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--opens",
        type=_instant,
        help=_("when commenting opens: ISO date-time, Beijing time unless an offset is given (default: now)"),
    )
    parser.add_argument(
        "--closes", type=_instant, help=_("when commenting closes (default: seven days after it opens)")
    )


def _instant(value: str) -> datetime:
    try:
        return parse_local(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_("not a date-time: %(value)s", value=value)) from None


def _window(args: argparse.Namespace) -> Window:
    default = default_window(args.opens)
    return Window(default.opens_at, args.closes or default.closes_at)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from revise.app import create_app

    settings = settings.with_(host=args.host, port=args.port)
    if args.no_default:
        settings = settings.with_(seed_default=False)
    db = open_database(settings.db_path)
    try:
        drafts.ensure_default(db, settings, _window(args))
    finally:
        db.close()
    print(_("revise is serving on http://%(host)s:%(port)s/", host=settings.host, port=settings.port))
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
    return 0


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings.db_path)
    try:
        cid = drafts.import_draft(
            db,
            args.file.read_bytes(),
            filename=args.file.name,
            slug=args.slug,
            window=_window(args),
            settings=settings,
            title=args.title,
            issuer=args.issuer,
            notice=args.notice,
            contact=args.contact,
            published_on=args.published_on,
        )
    except ImportRefused as refused:
        print(_("Not imported: %(reason)s", reason=_(refused.message)), file=sys.stderr)
        return 2
    except drafts.DraftError as error:
        print(_("Not imported: %(reason)s", reason=_(error.message, **error.params)), file=sys.stderr)
        return 2
    finally:
        db.close()
    print(_("Imported as consultation %(slug)s (id %(id)s).", slug=args.slug, id=cid))
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings.db_path)
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


def _consultation(db, slug: str) -> dict:
    found = consultation_store.by_slug(db, slug)
    if found is None:
        print(_("No consultation is named %(slug)s.", slug=slug), file=sys.stderr)
        raise SystemExit(2)
    return found


def cmd_window(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings.db_path)
    try:
        c = _consultation(db, args.slug)
        drafts.change_window(db, c, Window(args.opens, args.closes), args.by)
    except drafts.DraftError as error:
        print(_(error.message, **error.params), file=sys.stderr)
        return 2
    finally:
        db.close()
    print(_("Comment window of %(slug)s: %(opens)s – %(closes)s (UTC).", slug=args.slug,
            opens=args.opens.isoformat(), closes=args.closes.isoformat()))
    return 0


def cmd_departments(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings.db_path)
    try:
        c = _consultation(db, args.slug)
        base = args.base_url.rstrip("/")
        if args.action == "list":
            for row in departments.status(db, c):
                print(f"{row['name']}\t{_(departments.STATUS_NAMES[row['status']])}\t{row['replied_at'] or ''}\t{row['comments']}")
            return 0
        if not args.names:
            print(_("Name at least one department."), file=sys.stderr)
            return 2
        print(_("Each link is shown only this once: send it to the department privately."))
        for name in args.names:
            if args.action == "add":
                _id, token = departments.add(db, c, name, args.by)
            else:
                token = departments.new_link(db, c, name, args.by)
            print(f"{name}\t{base}/d/{token}")
    except departments.RosterError as error:
        print(_(error.message, **error.params), file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0


def cmd_moderate(args: argparse.Namespace, settings: Settings) -> int:
    from revise import commenting
    from revise.store import audit as audit_store
    from revise.store import comments as comment_store
    from revise.timeutil import utc_now_text

    db = open_database(settings.db_path)
    try:
        c = _consultation(db, args.slug)
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

    wanted = [(args.clean, "plan.docx"), (args.tracked, "plan-tracked.docx")]
    if args.report:
        suffix = args.report.suffix.lower()
        if suffix not in (".docx", ".xlsx", ".csv"):
            print(_("The report is written as .docx, .xlsx or .csv: %(path)s", path=args.report), file=sys.stderr)
            return 2
        wanted.append((args.report, "report" + suffix))
    wanted = [(path, name) for path, name in wanted if path]
    if not wanted:
        print(_("Say what to write: --clean, --tracked and/or --report."), file=sys.stderr)
        return 2
    db = open_database(settings.db_path)
    try:
        snap = exporting.snapshot(db, _consultation(db, args.slug))
        for path, name in wanted:
            path.write_bytes(exporting.render(snap, name))
            print(_("Wrote %(path)s", path=path))
    except docx_export.ExportError as error:
        print(_(error.message), file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from revise.store.backup import backup

    if not settings.db_path.exists():
        print(_("There is no database at %(path)s.", path=settings.db_path), file=sys.stderr)
        return 2
    try:
        pages = backup(settings.db_path, args.file)
    except FileExistsError:
        print(_("%(path)s already exists: choose a new file name.", path=args.file), file=sys.stderr)
        return 2
    print(_("Backed up to %(path)s (%(pages)s pages, integrity checked).", path=args.file, pages=pages))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings().with_(data_dir=args.data)
    commands = {"import": cmd_import, "list": cmd_list, "window": cmd_window,
                "departments": cmd_departments, "moderate": cmd_moderate, "backup": cmd_backup, "export": cmd_export,
                "accounts": accounts_cli.run}
    return commands.get(args.command, cmd_serve)(args, settings)


if __name__ == "__main__":
    sys.exit(main())
