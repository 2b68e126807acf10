"""A returned Word file becomes comments (issue #14).

Departments answer a 征求意见 by sending the draft back edited in Word, WPS or LibreOffice,
with track changes (修订) and remarks (批注). propose() reads such a file three ways — every
change accepted, every change rejected (the draft as they received it, plus edits made without
track changes), and each author's changes alone — with the importer's own rules, so a block of
the returned file is what the importer would make of it. Its blocks, as they were before the
tracked changes, are aligned with the consultation's blocks as imported (revision 0): exact
texts in order first, then similar ones in the gaps (difflib ratio ≥ 0.6), then the same or a
very similar text anywhere (a paragraph moved). What is left over was added or deleted.

Each proposal is one comment: a 修改/删除/新增 whose suggestion is the block with that author's
changes, an 意见 for each Word comment quoting the words it was attached to, or a 修改 for an
edit made without track changes. The editor (or department) sees them before anything is stored
and may drop some; store() records the rest once per file (its SHA-256).
"""

from __future__ import annotations

import copy
import hashlib
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher

from lxml import etree
from sqlite_utils import Database

from revise import grouping
from revise.docx_import import (
    ImportRefused,
    W,
    _Importer,
    _Package,
    _Styles,
    import_docx,
)
from revise.i18n import N_
from revise.numbering import Numbering
from revise.store import audit as audit_store
from revise.store import comments as comment_store
from revise.store import returns as return_store
from revise.store import writing
from revise.textclean import clean_name, clean_text
from revise.timeutil import SHANGHAI, to_text, utc_now

SIMILAR, MOVED_SIMILAR = 0.6, 0.8
MIN_SHARED = 0.4  # share of the draft's blocks the file must hold to be that draft
REFUSALS = {
    "not_draft": N_("This Word file is not the draft of this consultation: only %(percent)s%% of "
                    "the draft's paragraphs were found in it."),
    "seen": N_("This file was imported before: nothing new was created."),
}
_INS, _DEL = (W + "ins", W + "moveTo"), (W + "del", W + "moveFrom")


class ReturnRefused(Exception):
    """The file cannot be taken as a returned draft; .message is a msgid, .params its values."""

    def __init__(self, code: str, message: str | None = None, **params: object):
        super().__init__(code)
        self.code, self.message, self.params = code, message or REFUSALS[code], params


@dataclass
class Proposal:
    """One comment the file will become, shown before it is stored."""

    n: int
    kind: str  # edit | delete | insert | remark
    block: dict
    author: str
    date: str  # ISO instant of the change or remark ("" when unknown)
    origin: str  # tracked | untracked | moved | comment
    suggestion: str = ""
    body: str = ""
    quote: str | None = None
    quote_start: int | None = None


@dataclass
class Returned:
    """What a returned file will become."""

    sha256: str
    filename: str
    proposals: list[Proposal] = field(default_factory=list)
    shared: float = 0.0  # share of the draft's blocks found in the file


# --- the file read three ways ---

def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def _author(el: etree._Element) -> str:
    return el.get(W + "author") or ""


def _resolved(body: etree._Element, accept) -> etree._Element:
    """A copy of the body with each tracked change accepted (accept(author) true) or rejected."""
    body = copy.deepcopy(body)
    for el in list(body.iter(*_INS, *_DEL)):
        parent = el.getparent()
        if parent is None or parent.tag == W + "rPr":
            continue  # a paragraph mark: the importer keeps paragraphs apart anyway
        if parent.tag == W + "trPr":  # a row inserted or deleted
            row_gone = (el.tag in _INS) != bool(accept(_author(el)))
            parent.remove(el)
            if row_gone:
                etree.SubElement(parent, W + "del")  # the importer skips such a row
            continue
        keep = bool(accept(_author(el))) == (el.tag in _INS)
        if keep:
            for text in el.iter(W + "delText", W + "delInstrText"):
                text.tag = W + ("t" if text.tag == W + "delText" else "instrText")
            for child in list(el):
                el.addprevious(child)
        parent.remove(el)
    return body


def _blocks(body: etree._Element, styles: _Styles, numbering_root) -> dict[str, object]:
    importer = _Importer(styles, Numbering(numbering_root, styles.numbering_styles))
    importer.walk(body, "")
    return {b.locator: b for b in importer.blocks()}


def _locator(el: etree._Element, body: etree._Element) -> str:
    parts = []
    while el is not body and el.getparent() is not None:
        parent = el.getparent()
        parts.append(str([c for c in parent if isinstance(c.tag, str)].index(el)))
        el = parent
    return ".".join(reversed(parts))


def _block_element(el: etree._Element) -> etree._Element:
    """The w:tr (of a body-level table) or w:p a paragraph's block is made of."""
    rows = [a for a in el.iterancestors(W + "tr")]
    return rows[-1] if rows else el


@dataclass
class _Item:
    locator: str
    original: str  # every tracked change rejected
    accepted: str  # every tracked change accepted
    changes: list[tuple[str, str, str]]  # (ins|del, author, date)
    by_author: dict[str, str] = field(default_factory=dict)


def _read(data: bytes):
    """(items in reading order, Word comments, the file's last author) of a returned .docx."""
    document = import_docx(data)  # the size, safety and format checks of any upload
    with zipfile.ZipFile(io.BytesIO(document.data)) as zf:
        package = _Package(zf)
        main = package.rels("").get("officeDocument") or "word/document.xml"
        root = package.xml(main)
        rels = package.rels(main)
        styles = _Styles(package.xml(rels.get("styles")))
        numbering = package.xml(rels.get("numbering"))
        notes = package.xml(rels.get("comments"))
        core = package.xml(package.rels("").get("core-properties", "docProps/core.xml"))
    body = root.find(W + "body")
    accepted_body = _resolved(body, lambda a: True)
    views = {"original": _blocks(_resolved(body, lambda a: False), styles, numbering),
             "accepted": _blocks(accepted_body, styles, numbering)}
    changes: dict[str, list[tuple[str, str, str]]] = {}
    for el in body.iter(*_INS, *_DEL):
        target = el.getparent()
        if target.tag == W + "rPr":
            continue
        holder = _block_element(next(el.iterancestors(W + "p"), el) if target.tag != W + "trPr"
                                else target.getparent())
        kind = "ins" if el.tag in _INS else "del"
        changes.setdefault(_locator(holder, body), []).append((kind, _author(el), el.get(W + "date") or ""))
    authors = sorted({a for found in changes.values() for _, a, _ in found})
    by_author = {a: _blocks(_resolved(body, lambda x, a=a: x == a), styles, numbering)
                 for a in authors} if len(authors) > 1 else {}
    locators = sorted(set(views["original"]) | set(views["accepted"]),
                      key=lambda loc: [int(p) for p in loc.split(".")])
    items = []
    for loc in locators:
        original, accepted = views["original"].get(loc), views["accepted"].get(loc)
        item = _Item(loc, original.text if original else "", accepted.text if accepted else "",
                     changes.get(loc, []))
        for a, view in by_author.items():
            item.by_author[a] = view[loc].text if loc in view else ""
        items.append(item)
    remarks = _remarks(accepted_body, notes)
    modified_by = ""
    if core is not None:
        found = core.find("{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
                          "lastModifiedBy")
        modified_by = (found.text or "") if found is not None else ""
    return items, remarks, clean_name(modified_by)


def _remarks(body: etree._Element, notes) -> list[dict]:
    """Each Word comment: its author, date, text, the block it starts in and the words it spans."""
    texts = {}
    for note in notes.iter(W + "comment") if notes is not None else ():
        paragraphs = ["".join(t.text or "" for t in p.iter(W + "t")) for p in note.iter(W + "p")]
        texts[note.get(W + "id")] = (_author(note), note.get(W + "date") or "",
                                     "\n".join(p for p in paragraphs if p.strip()))
    out = []
    for start in body.iter(W + "commentRangeStart"):
        cid = start.get(W + "id")
        if cid not in texts:
            continue
        p = next(start.iterancestors(W + "p"), None)
        if p is None:  # a range starting between paragraphs: the next paragraph holds it
            p = next(start.itersiblings(W + "p"), None)
        if p is None:
            continue
        words, inside = [], False
        for el in p.iter():
            if el is start:
                inside = True
            elif el.tag == W + "commentRangeEnd" and el.get(W + "id") == cid:
                break
            elif inside and el.tag == W + "t":
                words.append(el.text or "")
        author, date, text = texts[cid]
        out.append({"locator": _locator(_block_element(p), body), "author": author, "date": date,
                    "text": text, "quote": "".join(words).strip()})
    return out


# --- alignment with the draft as sent ---

def _align(items: list[_Item], blocks: list[dict]) -> tuple[dict[int, int], set[int]]:
    """item index -> block index, and the items matched out of order (moved)."""
    mine = [_norm(i.original) for i in items]
    theirs = [_norm(b["original_text"] or "") for b in blocks]
    pairs: dict[int, int] = {}
    matcher = SequenceMatcher(None, mine, theirs, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            pairs.update({i1 + k: j1 + k for k in range(i2 - i1)})
        elif op == "replace":  # edited in place: pair similar texts in order
            j = j1
            for i in range(i1, i2):
                for jj in range(j, j2):
                    if mine[i] and SequenceMatcher(None, mine[i], theirs[jj]).ratio() >= SIMILAR:
                        pairs[i], j = jj, jj + 1
                        break
    moved: set[int] = set()
    taken = set(pairs.values())
    for threshold in (1.0, MOVED_SIMILAR):  # the same text elsewhere, then a very similar one
        for i, text in enumerate(mine):
            if i in pairs or not text:
                continue
            for j, other in enumerate(theirs):
                if j in taken or not other:
                    continue
                if text == other or (threshold < 1 and
                                     SequenceMatcher(None, text, other).ratio() >= threshold):
                    pairs[i] = j
                    taken.add(j)
                    moved.add(i)
                    break
    return pairs, moved


# --- proposals ---

def propose(data: bytes, filename: str, blocks: list[dict], *, sender: str = "") -> Returned:
    """What the returned file would become, or ReturnRefused / ImportRefused saying why not.

    blocks are the consultation's blocks (deleted ones included) with original_text at revision 0.
    """
    items, remarks, modified_by = _read(data)
    sent = [b for b in blocks if b.get("locator") is not None and b.get("original_text")]
    pairs, moved = _align(items, sent)
    shared = len(set(pairs.values())) / max(len(sent), 1)
    if shared < MIN_SHARED:
        raise ReturnRefused("not_draft", percent=round(shared * 100))
    fallback = sender or modified_by
    out = Returned(hashlib.sha256(data).hexdigest(), filename, shared=shared)
    add = out.proposals.append

    def proposal(kind, block, author, date, origin, **more) -> None:
        add(Proposal(len(out.proposals), kind, block, clean_name(author) or fallback, date, origin,
                     **more))

    previous = None  # the block of the last matched item: what an added paragraph follows
    for index, item in enumerate(items):
        block = sent[pairs[index]] if index in pairs else None
        authors = sorted({a for _, a, _ in item.changes})
        date = max((d for _, _, d in item.changes), default="")
        if block is None:  # added: tracked or not, a 新增 after the block before it
            if item.accepted.strip():
                proposal("insert", previous or sent[0], authors[0] if authors else "", date,
                         "tracked" if item.changes else "untracked", suggestion=item.accepted)
            continue
        if index in moved:  # the text left its place: removed there, added here
            proposal("delete", block, authors[0] if authors else "", date, "moved")
            if item.accepted.strip() and previous is not None:
                proposal("insert", previous, authors[0] if authors else "", date, "moved",
                         suggestion=item.accepted)
            previous = previous if previous is not None else block
            continue
        previous = block
        if item.changes and not item.accepted.strip():
            proposal("delete", block, authors[0] if authors else "", date, "tracked")
        elif item.changes:
            for author in authors:
                wording = item.by_author.get(author, item.accepted)
                if _norm(wording) != _norm(block["original_text"]):
                    when = max((d for _, a, d in item.changes if a == author), default="")
                    proposal("edit", block, author, when, "tracked", suggestion=wording)
        elif _norm(item.original) != _norm(block["original_text"]):
            proposal("edit", block, "", "", "untracked", suggestion=item.accepted)
    matched = set(pairs.values())
    for j, block in enumerate(sent):  # left out without track changes: deleted
        if j not in matched and not block.get("deleted"):
            proposal("delete", block, "", "", "untracked")
    by_locator = {items[i].locator: sent[j] for i, j in pairs.items()}
    for remark in remarks:
        block = by_locator.get(remark["locator"])
        if block is None or not remark["text"]:
            continue
        quote = remark["quote"] or None
        start = block["original_text"].find(quote) if quote else -1
        body = remark["text"] if start >= 0 or not quote else f"「{quote}」{remark['text']}"
        proposal("remark", block, remark["author"], remark["date"], "comment", body=body,
                 quote=quote if start >= 0 else None, quote_start=start if start >= 0 else None)
    out.proposals.sort(key=lambda p: (p.block.get("position") or 0, p.n))
    return out


# --- storing the proposals kept ---

def _day(date: str) -> str:
    try:
        instant = datetime.fromisoformat(date.replace("Z", "+00:00"))
    except ValueError:
        return utc_now().astimezone(SHANGHAI).date().isoformat()
    if instant.tzinfo is None:
        return instant.date().isoformat()
    return instant.astimezone(SHANGHAI).date().isoformat()


def store(db: Database, consultation: dict, returned: Returned, dropped: set[int], actor: str, *,
          department: dict | None = None, channel: str = "other") -> tuple[list[dict], bool]:
    """Record the proposals not dropped as pending comments; (comments, created). A file stored
    before creates nothing (its SHA-256 is remembered)."""
    at = to_text(utc_now())
    cid = consultation["id"]
    created: list[dict] = []
    with writing(db):
        if not return_store.add(db, {"consultation_id": cid, "sha256": returned.sha256,
                                     "filename": clean_name(returned.filename), "sender": actor,
                                     "department_id": department["id"] if department else None,
                                     "uploaded_by": actor, "created_at": at}):
            return [], False
        for p in returned.proposals:
            if p.n in dropped:
                continue
            row = {
                "consultation_id": cid, "block_id": p.block["id"], "block_rev": 0,
                "kind": p.kind, "source": "department" if department else "public",
                "department_id": department["id"] if department else None,
                "name": department["name"] if department else p.author,
                "contact": "", "body": clean_text(p.body) or _default_body(p),
                "suggestion": clean_text(p.suggestion, strip=False) if p.kind in ("edit", "insert") else "",
                "quote": p.quote, "quote_start": p.quote_start, "status": "pending",
                "created_at": at, "channel": channel, "received_on": _day(p.date),
                "late_reason": None, "entered_by": actor,
                "form_token": f"docx:{cid}:{returned.sha256[:40]}:{p.n}",
            }
            comment, new = comment_store.insert_once_in(db, row, grouping.placer(row))
            if new:
                created.append(comment)
        return_store.set_count(db, cid, returned.sha256, len(created))
        db.table("audit").insert(dict(audit_store.event(
            actor, "comment.returned_docx", cid, at=at,
            after={"sha256": returned.sha256, "filename": returned.filename,
                   "comments": [c["id"] for c in created], "dropped": sorted(dropped)}),
            subject=f"consultation:{cid}"))
    return created, True


def _default_body(p: Proposal) -> str:
    who = f"{p.author}：" if p.author else ""
    return {"edit": f"{who}修订稿中的修改", "delete": f"{who}修订稿中删除此段",
            "insert": f"{who}修订稿中新增段落", "remark": f"{who}批注"}[p.kind]


__all__ = ["ImportRefused", "Proposal", "ReturnRefused", "Returned", "propose", "store"]
