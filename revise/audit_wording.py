"""Audit events and revisions as sentences in the editor's language (issue #13).

The audit table keeps machine values (an action name such as `comment.disposition`, a subject
such as `block:129`, before/after as JSON) because they are the record. Editors read them here:
each action has one function in WORDINGS that turns an event into a sentence — which paragraph
(its section and number, 二、(三) 第2段, never `block:129`), before → after in words
(办理意见由“待处理”改为“采纳”,理由:……). No page shows an action name or JSON.

A new audit action needs an entry in WORDINGS; tests/test_editor_language.py finds every
action written under revise/ and fails on one without a sentence.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlite_utils import Database

from revise import accounts, docx_sanitize, triage
from revise.i18n import DEFAULT_LOCALE, N_, translations
from revise.ledger import CHANNELS
from revise.store import wording as wording_store
from revise.timeutil import SHANGHAI, from_text

STATUS_NAMES = {"pending": N_("Awaiting review"), "published": N_("Published"), "hidden": N_("Not published")}
REVISION_STEPS = {  # a block's history, one sentence per revision
    "edit": N_("%(who)s changed the text on %(at)s"),
    "insert": N_("%(who)s added this paragraph on %(at)s"),
    "delete": N_("%(who)s deleted this paragraph on %(at)s"),
    "revert": N_("%(who)s brought back an earlier text on %(at)s"),
}
SNIPPET = 24  # characters of a paragraph quoted after its place


@dataclass
class Place:
    """Where a block sits, as a reader names it: 二、(三) 第2段."""

    block_id: int
    name: str
    snippet: str
    deleted: bool = False


@dataclass
class Line:
    """One event as the editor reads it."""

    at: str
    who: str
    sentence: str
    block_id: int | None = None
    comment_id: int | None = None
    details: list[str] = field(default_factory=list)


class Speaker:
    """gettext and ngettext of one locale, with %(name)s parameters filled in."""

    def __init__(self, locale: str):
        self.locale = locale
        self.catalog = translations(locale)

    def __call__(self, message: str, **params: object) -> str:
        text = self.catalog.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, num: int, **params: object) -> str:
        return self.catalog.ngettext(singular, plural, num) % {"num": num, **params}

    def time(self, instant: str | None) -> str:
        if not instant:
            return ""
        from babel.dates import format_skeleton

        moment = from_text(instant)
        day = format_skeleton("yMMMd", moment, tzinfo=SHANGHAI, locale=self.locale)
        return f"{day} {format_skeleton('Hm', moment, tzinfo=SHANGHAI, locale=self.locale)}"


def places(blocks: list[dict], t: Speaker) -> dict[int, Place]:
    """Every block's place: the labels of the headings above it, then its number in its section
    (paragraphs and list items counted apart from headings; table rows as 表N 第M行)."""
    _ = t
    by_id = {b["id"]: b for b in blocks}
    counters: dict[tuple, int] = {}
    found: dict[int, Place] = {}
    for block in blocks:
        outline = _ids(block.get("outline"))
        section = "".join(_heading_label(by_id.get(h)) for h in outline)
        live = not block.get("deleted")
        if block["kind"] == "heading":
            name = _("heading %(title)s", title=_heading_title(block))
        elif block["kind"] == "table_row":
            key = ("table", block.get("table_no"))
            n = counters.get(key, 0) + 1
            if live:
                counters[key] = n
            table = (block.get("table_no") or 0) + 1
            name = (_("%(section)s, table %(table)s, row %(n)s", section=section, table=table, n=n) if section
                    else _("table %(table)s, row %(n)s", table=table, n=n))
        else:
            key = ("section", outline[-1] if outline else None)
            n = counters.get(key, 0) + 1
            if live:
                counters[key] = n
            name = (_("%(section)s, paragraph %(n)s", section=section, n=n) if section
                    else _("before the first heading, paragraph %(n)s", n=n))
        if not live:
            name = _("%(place)s (deleted)", place=name)
        text = (block.get("text") or "").replace("\t", " ").strip()
        snippet = text[:SNIPPET] + ("…" if len(text) > SNIPPET else "")
        found[block["id"]] = Place(block["id"], name, snippet, not live)
    return found


def _ids(outline) -> list[int]:
    if isinstance(outline, list):
        return outline
    try:
        return [i for i in json.loads(outline or "[]") if isinstance(i, int)]
    except ValueError:
        return []


def _heading_title(heading: dict) -> str:
    text = (heading.get("text") or "").strip()
    return "“" + text[:16] + ("…" if len(text) > 16 else "") + "”"


def _heading_label(heading: dict | None) -> str:
    if heading is None:
        return ""
    if heading.get("label"):
        return heading["label"].strip()
    text = (heading.get("text") or "").strip()
    return "“" + text[:12] + ("…" if len(text) > 12 else "") + "”"


class Reader:
    """What the sentences of one consultation need: places, comments' paragraphs, the roster."""

    def __init__(self, db: Database, consultation: dict | None, locale: str = DEFAULT_LOCALE):
        self.db, self.c, self.t = db, consultation, Speaker(locale)
        self._ = self.t  # named _ so that tools/messages.py finds the messages
        cid = consultation["id"] if consultation else None
        blocks = wording_store.blocks_in_order(db, cid) if cid else []
        self.places = places(blocks, self.t)
        self.headings = {b["id"]: b for b in blocks if b["kind"] == "heading"}
        self.departments = wording_store.department_names(db, cid) if cid else {}
        self.comment_blocks: dict[int, int | None] = {}

    def lines(self, events: list[dict]) -> list[Line]:
        """The events as sentences, in the order given."""
        wanted = [n for e in events for kind, n in [_subject(e.get("subject"))] if kind == "comment"]
        if wanted and self.c:
            self.comment_blocks.update(wording_store.comment_blocks(self.db, self.c["id"], wanted))
        return [self.line(e) for e in events]

    def line(self, event: dict) -> Line:
        kind, key = _subject(event.get("subject"))
        before, after = _decode(event.get("before")), _decode(event.get("after"))
        line = Line(event.get("at") or "", self.who(event.get("actor") or ""), "")
        if kind == "block" and isinstance(key, int):
            line.block_id = key
        if kind == "comment" and isinstance(key, int):
            line.comment_id = key
            line.block_id = self.comment_blocks.get(key)
        speak = WORDINGS.get(event.get("action") or "")
        line.sentence = (speak(self, key, before, after, line) if speak
                         else self._("A change this page cannot describe yet."))
        return line

    def who(self, actor: str) -> str:
        if actor == "revise":
            return self._("the system")
        if actor.startswith("client:"):
            return self._("a visitor from %(client)s", client=actor[7:])
        if actor.startswith("department:"):
            number = actor[11:]
            return self.departments.get(int(number), self._("a department")) if number.isdigit() else self._("a department")
        return actor

    def place(self, block_id) -> str:
        if block_id is None:
            return self._("The draft as a whole")
        found = self.places.get(block_id) if isinstance(block_id, int) else None
        return found.name if found else self._("a paragraph no longer in the draft")

    def comment(self, comment_id) -> str:
        """意见#12(二、(三) 第2段)"""
        block = self.comment_blocks.get(comment_id)
        return self._("comment #%(id)s (%(place)s)", id=comment_id, place=self.place(block))

    def quoted(self, text) -> str:
        text = (text or "").replace("\t", " ").strip()
        return "“" + text + ("…" if len(text) >= 80 else "") + "”"


def _subject(subject: str | None) -> tuple[str, int | str | None]:
    kind, _, key = (subject or "").partition(":")
    return kind, int(key) if key.isdigit() else (key or None)


def _decode(value: str | None):
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def _get(value, name: str, default=None):
    return value.get(name, default) if isinstance(value, dict) else default


# --- one function per action: (reader, subject key, before, after, line) -> sentence ---------


def _disposition(r: Reader, key, before, after, line: Line) -> str:
    _ = r.t
    old, new = _get(before, "disposition", "pending"), _get(after, "disposition", "pending")
    names = {k: _(v) for k, v in triage.DISPOSITIONS.items()}
    if old == new:
        text = _("Decision on %(comment)s kept as “%(after)s”", comment=r.comment(key), after=names.get(new, new))
    else:
        text = _("Decision on %(comment)s changed from “%(before)s” to “%(after)s”", comment=r.comment(key),
                 before=names.get(old, old), after=names.get(new, new))
    if _get(after, "disposition_reason"):
        text += _("; reason: %(reason)s", reason=_get(after, "disposition_reason"))
    if _get(after, "disposition_revision_id"):
        text += _("; its wording was taken into the text")
    return text


def _moderate(r: Reader, key, before, after, line: Line) -> str:
    _ = r.t
    return _("%(comment)s: publication changed from “%(before)s” to “%(after)s”", comment=r.comment(key),
             before=_(STATUS_NAMES.get(before, N_("Awaiting review"))), after=_(STATUS_NAMES.get(after, N_("Awaiting review"))))


def _enter(r: Reader, key, before, after, line: Line) -> str:
    _ = r.t
    channel = _(CHANNELS.get(_get(after, "channel"), N_("Website")))
    text = _("%(comment)s entered: received by %(channel)s on %(date)s", comment=r.comment(key), channel=channel,
             date=_get(after, "received_on") or "—")
    if _get(after, "late_reason"):
        text += _("; taken outside the comment period because: %(reason)s", reason=_get(after, "late_reason"))
    if _get(after, "attachment"):
        text += _("; with an attachment")
    return text


def _mail(r: Reader, key, before, after, line: Line) -> str:
    _, ngettext = r.t, r.t.ngettext
    text = _("%(comment)s imported from an e-mail received on %(date)s", comment=r.comment(key),
             date=_get(after, "received_on") or "—")
    kept, refused = len(_get(after, "attachments") or []), len(_get(after, "refused") or [])
    if kept:
        text += ngettext("; %(num)s attachment kept", "; %(num)s attachments kept", kept)
    if refused:
        text += ngettext("; %(num)s file not taken", "; %(num)s files not taken", refused)
    return text


def _place_comment(r: Reader, key, before, after, line: Line) -> str:
    return r._("Comment #%(id)s placed on %(place)s (it was about %(before)s)", id=key,
               place=r.place(_get(after, "block_id")), before=r.place(_get(before, "block_id")))


def _returned(r: Reader, key, before, after, line: Line) -> str:
    _, ngettext = r.t, r.t.ngettext
    made = len(_get(after, "comments") or [])
    text = ngettext("%(num)s comment taken from the returned Word file “%(file)s”",
               "%(num)s comments taken from the returned Word file “%(file)s”", made, file=_get(after, "filename") or "")
    dropped = len(_get(after, "dropped") or [])
    if dropped:
        text += ngettext("; %(num)s proposed item left out", "; %(num)s proposed items left out", dropped)
    return text


def _revision(message: str) -> Callable:
    def speak(r: Reader, key, before, after, line: Line) -> str:
        _, ngettext = r.t, r.t.ngettext
        text = _(message, place=r.place(key), rev=_get(after, "rev", ""), to=_get(after, "to_number", 0),
                 before=r.quoted(_get(before, "text")), after=r.quoted(_get(after, "text")))
        if _get(after, "reason"):
            text += _("; reason: %(reason)s", reason=_get(after, "reason"))
        answered = _get(after, "comments") or []
        if answered:
            text += ngettext("; answers comment %(list)s", "; answers comments %(list)s", len(answered),
                        list=_(", ").join(f"#{i}" for i in answered))
        return text

    return speak


def _window(r: Reader, key, before, after, line: Line) -> str:
    _ = r.t

    def span(value) -> str:
        return _("%(opens)s to %(closes)s", opens=r.t.time(_get(value, "opens_at")), closes=r.t.time(_get(value, "closes_at")))

    return _("Comment period changed from %(before)s to %(after)s", before=span(before), after=span(after))


def _department(message: str) -> Callable:
    def speak(r: Reader, key, before, after, line: Line) -> str:
        name = _get(after, "name") or (r.departments.get(key) if isinstance(key, int) else None) or r._("a department")
        return r._(message, name=name)

    return speak


def _no_comment(r: Reader, key, before, after, line: Line) -> str:
    name = r.departments.get(key) if isinstance(key, int) else None
    return r._("%(name)s replied: no changes proposed", name=name or r._("a department"))


def _switch(on: str, off: str) -> Callable:
    return lambda r, key, before, after, line: r._(on if after else off)


def _sanitize(r: Reader, key, before, after, line: Line) -> str:
    removed = docx_sanitize.from_audit(json.dumps(after) if after is not None else None)
    return r._("Draft imported; taken out of the file: %(list)s",
               list=r._("; ").join(item.text(r.t.locale) for item in removed) or "—")


def _account(message: str) -> Callable:
    def speak(r: Reader, key, before, after, line: Line) -> str:
        role = _get(after, "role")
        return r._(message, username=_get(after, "username") or key or "", name=_get(after, "display_name") or "",
                   role=r._(accounts.ROLE_NAMES[role]) if role in accounts.ROLE_NAMES else "")

    return speak


def _assignee(r: Reader, value) -> str:
    return _get(value, "assignee") or r._("nobody")


def _assign_comment(r: Reader, key, before, after, line: Line) -> str:
    return r._("%(comment)s given to %(after)s (before: %(before)s)", comment=r.comment(key),
               after=_assignee(r, after), before=_assignee(r, before))


def _assign_section(r: Reader, key, before, after, line: Line) -> str:
    _, ngettext = r.t, r.t.ngettext
    heading = r.headings.get(key)
    section = _heading_title(heading) if heading else r.place(key)
    text = _("Section %(section)s given to %(after)s (before: %(before)s)", section=section,
             after=_assignee(r, after), before=_assignee(r, before))
    moved = _get(after, "comments")
    if isinstance(moved, int) and moved:
        text += ngettext("; %(num)s comment goes with it", "; %(num)s comments go with it", moved)
    return text


def _tag(on: bool) -> Callable:
    def speak(r: Reader, key, before, after, line: Line) -> str:
        theme = _get(after if on else before, "theme") or ""
        if on:
            return r._("%(comment)s tagged with the theme “%(theme)s”", comment=r.comment(key), theme=theme)
        return r._("The theme “%(theme)s” taken off %(comment)s", comment=r.comment(key), theme=theme)

    return speak


def _theme(r: Reader, key, before, after, line: Line) -> str:
    _, ngettext = r.t, r.t.ngettext
    if before is None:
        return _("Theme “%(name)s” created", name=_get(after, "name") or "")
    if after is None:
        return ngettext("Theme “%(name)s” deleted (taken off %(num)s comment)",
                        "Theme “%(name)s” deleted (taken off %(num)s comments)",
                        _get(before, "comments") or 0, name=_get(before, "name") or "")
    return _("Theme “%(before)s” renamed “%(after)s”", before=_get(before, "name") or "", after=_get(after, "name") or "")


NOTICE_FIELDS = {  # the same msgids as revise/notice.py's form labels
    "notice": N_("Notice"), "contact": N_("Contact"), "email": N_("E-mail"), "postal_address": N_("Postal address"),
    "fax": N_("Fax"), "contact_person": N_("Contact person"), "contact_phone": N_("Phone"),
    "office": N_("Office taking the comments"), "title": N_("Title"), "issuer": N_("Issuing body"),
}


def _notice(r: Reader, key, before, after, line: Line) -> str:
    _ = r.t
    names = [_(NOTICE_FIELDS[k]) for k in (after or {}) if k in NOTICE_FIELDS] if isinstance(after, dict) else []
    return _("Notice changed: %(fields)s", fields=_(", ").join(names) or "—")


def _outcome_publish(r: Reader, key, before, after, line: Line) -> str:
    text = r._("Outcome published: receipts show each decision and its reason")
    if _get(after, "override_reason"):
        text += r._("; published before the comment period closed, because: %(reason)s",
                    reason=_get(after, "override_reason"))
    return text


def _outcome_withdraw(r: Reader, key, before, after, line: Line) -> str:
    return r._("Outcome withdrawn: receipts no longer show decisions") + (
        r._("; reason: %(reason)s", reason=_get(after, "reason")) if _get(after, "reason") else "")


def _reply(message: str) -> Callable:
    def speak(r: Reader, key, before, after, line: Line) -> str:
        value = after if isinstance(after, dict) else before
        title = _get(value, "title") or (_get(value, "body") or "")[:20]
        decision = triage.DISPOSITIONS.get(_get(value, "disposition"), N_("To be decided"))
        return r._(message, title=title, decision=r._(decision))

    return speak


def _round(r: Reader, key, before, after, line: Line) -> str:
    _, ngettext = r.t, r.t.ngettext
    text = _("Round %(round)s of consultation opened on version %(version)s of the text, from %(opens)s to %(closes)s",
             round=_get(after, "round", ""), version=_get(after, "version", ""),
             opens=r.t.time(_get(after, "opens_at")), closes=r.t.time(_get(after, "closes_at")))
    asked = _get(after, "departments")
    if isinstance(asked, list):
        text += ngettext("; %(num)s department asked", "; %(num)s departments asked", len(asked))
    return text


def _version(r: Reader, key, before, after, line: Line) -> str:
    text = r._("Version %(version)s of the text published", version=_get(after, "version", ""))
    if _get(after, "label"):
        text += r._(" (%(label)s)", label=_get(after, "label"))
    return text


CORRECTED_FIELDS = {"body": N_("the comment's text"), "suggestion": N_("the proposed wording"),
                    "quote": N_("the words referred to"), "kind": N_("the kind of comment"),
                    "officer_name": N_("the officer's name"), "officer_phone": N_("the officer's phone")}


def _correct(r: Reader, key, before, after, line: Line) -> str:
    names = [r._(CORRECTED_FIELDS[k]) for k in (after if isinstance(after, dict) else {}) if k in CORRECTED_FIELDS]
    return r._("%(comment)s corrected by the department that sent it: %(fields)s", comment=r.comment(key),
               fields=r._(", ").join(names) or "—")


def _withdraw(r: Reader, key, before, after, line: Line) -> str:
    line.block_id = _get(before, "block_id")
    return r._("Comment #%(id)s (%(place)s) withdrawn by the department that sent it: %(body)s", id=key,
               place=r.place(_get(before, "block_id")), body=r.quoted(_get(before, "body")))


WORDINGS: dict[str, Callable] = {
    "comment.correct": _correct,
    "comment.withdraw": _withdraw,
    "comment.assign": _assign_comment,
    "section.assign": _assign_section,
    "comment.tag": _tag(True),
    "comment.untag": _tag(False),
    "theme.create": _theme,
    "theme.rename": _theme,
    "theme.delete": _theme,
    "notice.change": _notice,
    "outcome.publish": _outcome_publish,
    "outcome.withdraw": _outcome_withdraw,
    "reply_template.create": _reply(N_("Common reply “%(title)s” for “%(decision)s” added")),
    "reply_template.update": _reply(N_("Common reply “%(title)s” for “%(decision)s” changed")),
    "reply_template.delete": _reply(N_("Common reply “%(title)s” for “%(decision)s” deleted")),
    "round.open": _round,
    "version.publish": _version,
    "comment.disposition": _disposition,
    "comment.moderate": _moderate,
    "comment.enter": _enter,
    "comment.mail": _mail,
    "comment.place": _place_comment,
    "comment.returned_docx": _returned,
    "revision.edit": _revision(N_("%(place)s changed (revision %(rev)s) from %(before)s to %(after)s")),
    "revision.insert": _revision(N_("New paragraph added as %(place)s: %(after)s")),
    "revision.delete": _revision(N_("%(place)s deleted (it read %(before)s)")),
    "revision.revert": _revision(N_("%(place)s brought back to revision %(to)s: from %(before)s to %(after)s")),
    "window.change": _window,
    "department.add": _department(N_("%(name)s put on the roster of departments")),
    "department.new_link": _department(N_("A new private link made for %(name)s (the old one no longer works)")),
    "department.no_comment": _no_comment,
    "consultation.outcome": _switch(N_("Outcome published: receipts show each decision and its reason"),
                                    N_("Outcome withdrawn: receipts no longer show decisions")),
    "consultation.auto_publish": _switch(N_("Public comments now appear without review"),
                                         N_("Public comments now wait for review before they appear")),
    "consultation.public_attachments": _switch(N_("The public form now takes one attachment"),
                                               N_("The public form no longer takes attachments")),
    "document.sanitize": _sanitize,
    "account.create": _account(N_("Account %(username)s created for %(name)s (%(role)s)")),
    "account.password": _account(N_("New password set for %(username)s")),
    "account.disable": _account(N_("Account %(username)s disabled")),
    "account.sign_in": _account(N_("Signed in")),
    "account.sign_in_failed": _account(N_("Failed sign-in as %(username)s")),
    "account.sign_out": _account(N_("Signed out")),
}


def describe(db: Database, consultation: dict | None, events: list[dict], locale: str = DEFAULT_LOCALE) -> list[Line]:
    """Audit events as lines of who, when and a sentence of what."""
    return Reader(db, consultation, locale).lines(events)


def revision_steps(steps: list[dict], locale: str = DEFAULT_LOCALE) -> list[str]:
    """One sentence per revision of a block's history (revision 0: as imported)."""
    _ = t = Speaker(locale)
    out = []
    for step in steps:
        if step["number"] == 0:
            out.append(_("As imported from the Word file"))
            continue
        text = _(REVISION_STEPS.get(step.get("action"), REVISION_STEPS["edit"]), who=step.get("author_name") or "",
                 at=t.time(step.get("created_at")))
        if step.get("reason"):
            text += _("; reason: %(reason)s", reason=step["reason"])
        out.append(text)
    return out


def place_names(db: Database, consultation: dict, locale: str = DEFAULT_LOCALE) -> dict[int, str]:
    """Every block's place (二、(三) 第2段) by block id."""
    return {i: p.name for i, p in places(wording_store.blocks_in_order(db, consultation["id"]), Speaker(locale)).items()}
