"""`mail import SLUG FILE`: the messages of an .eml file or an .mbox become comments (issue #14)."""

from __future__ import annotations

import argparse
from pathlib import Path

from revise.cli_common import N_, Refused, _, actor, open_existing, reason
from revise.settings import Settings


def add_parser(sub, common: argparse.ArgumentParser) -> None:
    """The `mail` command and its `import` subcommand."""
    mail = sub.add_parser("mail", parents=[common], help=_("import e-mail as comments"),
                          description=_("Import the messages of an .eml file or an .mbox mailbox as comments "
                                        "received by e-mail. A message imported before is skipped."))
    actions = mail.add_subparsers(dest="mail_action", metavar="ACTION", required=True)
    run = actions.add_parser("import", parents=[common], help=_("import an .eml file or an .mbox mailbox"))
    run.add_argument("slug", metavar="SLUG", help=_("the consultation's short name"))
    run.add_argument("file", type=Path, metavar="FILE", help=_("an .eml file or an .mbox mailbox"))
    run.set_defaults(run=cmd_mail_import)


def cmd_mail_import(args: argparse.Namespace, settings: Settings) -> int:
    from revise import mail_import
    from revise.store import blocks as block_store
    from revise.store import consultations as consultation_store

    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise Refused(N_("Not imported: cannot read %(path)s: %(reason)s"), path=args.file,
                      reason=reason(error)) from None
    if len(data) > settings.max_docx_bytes:
        raise Refused(N_("The file is too large (at most %(mb)s MB)."),
                      mb=round(settings.max_docx_bytes / 1048576, 1))
    db = open_existing(settings)
    try:
        c = consultation_store.by_slug(db, args.slug)
        if c is None:
            raise Refused(N_("No consultation is named %(slug)s."), slug=args.slug)
        try:
            outcomes = mail_import.import_mail(
                db, c, data, args.file.name, actor(), blocks=block_store.of_consultation(db, c["id"]),
                attachment_limit=settings.max_attachment_bytes,
                returned=mail_import.returned_drafts(db, c, actor()))
        except mail_import.MailRefused as refused:
            raise Refused(N_("Not imported: %(reason)s"), reason=_(refused.message, **refused.params)) from None
    finally:
        db.close()
    for o in outcomes:
        status = {"created": _("created"), "skipped": _("skipped: imported before"),
                  "refused": _("refused")}[o.status]
        line = f"{status}\t{o.received_on}\t{o.sender}\t{o.subject}"
        if o.status == "refused":
            line += "\t" + _(o.reason)
        elif o.comment:
            line += "\t" + _("comment %(id)s", id=o.comment["id"])
        print(line)
        for f in o.files:
            print("\t" + (_("%(name)s: kept", name=f.filename) if f.taken and not f.reason else
                          _("%(name)s: %(reason)s", name=f.filename, reason=_(f.reason, **f.params)) if f.taken else
                          _("%(name)s: not taken: %(reason)s", name=f.filename, reason=_(f.reason, **f.params))))
    counts = {s: sum(o.status == s for o in outcomes) for s in ("created", "skipped", "refused")}
    print(_("%(created)s created, %(skipped)s skipped, %(refused)s refused.", **counts))
    return 0
