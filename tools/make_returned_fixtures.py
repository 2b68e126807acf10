"""Make the returned-draft fixtures with a real office suite (issue #14).

A department edits docs/draft.docx in LibreOffice with change recording on — an insertion, a
deletion, a replaced number in the 主要目标表, a moved paragraph, a new paragraph, a deleted
paragraph — then adds Word comments (批注, last: NOTES.md says LibreOffice 7.4 can crash loading
a document with comments hidden) and saves it as .docx. A second file is the same work with
every change accepted before sending (no marks left: only a comparison finds the edits).

Run with Debian's interpreter (the uno module imports only there):

    /usr/bin/python3 tools/make_returned_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/fixtures/returned. It writes lo-tracked.docx, lo-accepted.docx and
expected.json, the list of the changes made (what a correct import turns each into). soffice
runs in a throw-away profile on a free loopback port and its process group is ended at the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from uno_check import _alarm, connect, free_port, prop  # noqa: E402

import uno  # noqa: E402
from com.sun.star.text.ControlCharacter import PARAGRAPH_BREAK  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AUTHOR = "市发展改革委"
# Each change: what is done, and the comment it should become on which block (by the start of
# the block's original text).
CHANGES = [
    {"do": "insert", "find": "南充历史底蕴深厚", "at": 4, "text": "文化",
     "expect": {"kind": "edit", "block": "南充历史底蕴深厚", "suggestion_has": "南充历史文化底蕴深厚"}},
    {"do": "delete", "find": "、中国优秀旅游城市", "expect": {
        "kind": "edit", "block": "南充市位于四川盆地东北", "suggestion_lacks": "中国优秀旅游城市"}},
    {"do": "cell", "row": "9", "column": 4, "old": "1100", "text": "1200", "expect": {
        "kind": "edit", "block": "\t9\t高新技术产业营业务收入", "suggestion_has": "\t1200"}},
    {"do": "delete_paragraph", "find": "坚持深化改革、优化环境", "expect": {
        "kind": "delete", "block": "坚持深化改革、优化环境"}},
    {"do": "new_paragraph", "after": "坚持突出特色、打造亮点",
     "text": "坚持开放合作、协同创新。深化与成渝地区双城经济圈的科技合作。", "expect": {
         "kind": "insert", "block": "坚持突出特色、打造亮点",
         "suggestion_has": "坚持开放合作、协同创新"}},
    {"do": "move", "find": "对照省级创新型城市建设要求", "after": "南充传统产业发展基础较好", "expect": [
        {"kind": "delete", "block": "对照省级创新型城市建设要求"},
        {"kind": "insert", "block": "南充传统产业发展基础较好", "suggestion_has": "对照省级创新型城市建设要求"}]},
    {"do": "comment", "find": "多年的建城史", "text": "建城史年数请核实。", "expect": {
        "kind": "remark", "block": "南充历史底蕴深厚", "quote": "多年的建城史"}},
    {"do": "comment", "find": "科技创新综合实力较强", "text": "建议补充近三年数据。", "expect": {
        "kind": "remark", "block": "南充科技创新综合实力较强", "quote": "科技创新综合实力较强"}},
]


def set_author(context, name: str) -> None:
    """Tracked changes carry the profile's user name."""
    provider = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.configuration.ConfigurationProvider", context)
    access = provider.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationUpdateAccess",
        (prop("nodepath", "/org.openoffice.UserProfile/Data"),))
    access.setPropertyValue("givenname", name)
    access.setPropertyValue("sn", "")
    access.commitChanges()


def find(doc, text: str):
    search = doc.createSearchDescriptor()
    search.SearchString = text
    found = doc.findFirst(search)
    if found is None:
        raise RuntimeError(f"not found in the draft: {text}")
    return found


def paragraph_cursor(doc, text: str):
    """A cursor selecting the whole paragraph that contains text."""
    found = find(doc, text)
    cursor = found.getText().createTextCursorByRange(found.getStart())
    cursor.gotoStartOfParagraph(False)
    cursor.gotoEndOfParagraph(True)
    return cursor


def row_cell(doc, row: str, column: int):
    """The cell of the targets table in the row whose 序号 is row."""
    tables = doc.getTextTables()
    for t in range(tables.getCount()):
        table = tables.getByIndex(t)
        for r in range(table.getRows().getCount()):
            try:
                number = table.getCellByPosition(1, r).getString()
            except Exception:
                continue
            if number == row:
                return table.getCellByPosition(column, r)
    raise RuntimeError(f"no row {row}")


def apply(doc, change: dict) -> None:
    kind = change["do"]
    if kind == "insert":
        found = find(doc, change["find"])
        cursor = found.getText().createTextCursorByRange(found.getStart())
        cursor.goRight(change["at"], False)
        cursor.getText().insertString(cursor, change["text"], False)
    elif kind == "delete":
        find(doc, change["find"]).setString("")
    elif kind == "cell":
        cell = row_cell(doc, change["row"], change["column"])
        assert cell.getString() == change["old"], cell.getString()
        cursor = cell.createTextCursor()
        cursor.gotoStart(False)
        cursor.gotoEnd(True)
        cursor.setString(change["text"])
    elif kind == "delete_paragraph":
        cursor = paragraph_cursor(doc, change["find"])
        cursor.goRight(1, True)  # and its paragraph mark
        cursor.setString("")
    elif kind == "new_paragraph":
        _new_paragraph_after(doc, change["after"], change["text"])
    elif kind == "move":
        cursor = paragraph_cursor(doc, change["find"])
        text = cursor.getString()
        cursor.goRight(1, True)
        cursor.setString("")
        _new_paragraph_after(doc, change["after"], text)


def _new_paragraph_after(doc, after: str, text: str) -> None:
    cursor = paragraph_cursor(doc, after)
    cursor.collapseToEnd()
    body = cursor.getText()
    body.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    body.insertString(cursor, text, False)


def add_comments(path: Path, changes: list[dict]) -> None:
    """Word comments (批注) over the words they concern, written into the saved file as Word
    writes them: word/comments.xml, w:commentRangeStart/End around the words, a
    w:commentReference run after them. LibreOffice 7.4 cannot do it here: after inserting any
    annotation into a headless document (over a range or collapsed, hidden or not) its next UNO
    call kills it (checked while writing this script; see ../shared/NOTES.md)."""
    with zipfile.ZipFile(path) as zin:
        parts = {info.filename: zin.read(info) for info in zin.infolist()}
    xml = parts["word/document.xml"].decode()
    notes = []
    for n, change in enumerate(changes):
        cid = 900 + n
        run = re.compile(r"<w:r>(<w:rPr>(?:(?!</w:r>).)*?</w:rPr>)?<w:t(?: [^>]*)?>([^<]*)"
                         + re.escape(change["find"]) + r"([^<]*)</w:t></w:r>")
        found = run.search(xml)
        if found is None:
            raise RuntimeError(f"not in one run of the saved file: {change['find']}")
        rpr, before, after = found.group(1) or "", found.group(2), found.group(3)
        piece = (lambda text: f'<w:r>{rpr}<w:t xml:space="preserve">{text}</w:t></w:r>' if text else "")
        xml = xml[:found.start()] + piece(before) + f'<w:commentRangeStart w:id="{cid}"/>' \
            + piece(change["find"]) + f'<w:commentRangeEnd w:id="{cid}"/>' \
            + f'<w:r><w:commentReference w:id="{cid}"/></w:r>' + piece(after) + xml[found.end():]
        notes.append(f'<w:comment w:id="{cid}" w:author="{AUTHOR}" w:date="2022-10-12T10:00:00Z" '
                     f'w:initials="FG"><w:p><w:r><w:t>{change["text"]}</w:t></w:r></w:p></w:comment>')
    parts["word/document.xml"] = xml.encode()
    parts["word/comments.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:comments xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        + "".join(notes) + "</w:comments>").encode()
    rels = parts["word/_rels/document.xml.rels"].decode()
    parts["word/_rels/document.xml.rels"] = rels.replace("</Relationships>", (
        '<Relationship Id="rIdComments900" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/comments" Target="comments.xml"/></Relationships>')).encode()
    types = parts["[Content_Types].xml"].decode()
    parts["[Content_Types].xml"] = types.replace("</Types>", (
        '<Override PartName="/word/comments.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"/></Types>')).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)


def save(doc, path: Path) -> None:
    doc.storeToURL(uno.systemPathToFileUrl(str(path)), (prop("FilterName", "MS Word 2007 XML"),))


def make(desktop, dispatcher, out: Path, tmp: str) -> None:
    copy = Path(tmp) / "draft.docx"  # a lock file, if soffice dies, is left there, not in docs/
    copy.write_bytes((ROOT / "docs" / "draft.docx").read_bytes())
    url = uno.systemPathToFileUrl(str(copy))
    for name, accept in (("lo-tracked.docx", False), ("lo-accepted.docx", True)):
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
        try:
            doc.setPropertyValue("RecordChanges", True)
            for change in CHANGES:
                if change["do"] != "comment":
                    apply(doc, change)
            doc.setPropertyValue("RecordChanges", False)
            if accept:
                frame = doc.getCurrentController().getFrame()
                dispatcher.executeDispatch(frame, ".uno:AcceptAllTrackedChanges", "", 0, ())
            print(f"{name}: {doc.getRedlines().getCount()} tracked changes", file=sys.stderr)
            save(doc, out / name)
        finally:
            doc.close(True)
        add_comments(out / name, [c for c in CHANGES if c["do"] == "comment"])  # last


def main(args: list[str]) -> int:
    out = Path(args[0]) if args else ROOT / "tests" / "fixtures" / "returned"
    out.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(os.environ.get("UNO_CHECK_TIMEOUT", "180")))
    with tempfile.TemporaryDirectory(prefix="returned-") as tmp:
        port = free_port()
        process = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--norestore", "--nologo", "--nodefault",
             f"-env:UserInstallation=file://{tmp}/profile",
             f"--accept=socket,host=127.0.0.1,port={port};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            context = connect(port, process)
            set_author(context, AUTHOR)
            manager = context.ServiceManager
            desktop = manager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
            dispatcher = manager.createInstanceWithContext("com.sun.star.frame.DispatchHelper",
                                                           context)
            make(desktop, dispatcher, out, tmp)
            try:
                desktop.terminate()
            except Exception:  # the bridge drops as soffice exits
                pass
        finally:
            signal.alarm(0)
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
    expected = [dict(c["expect"] if isinstance(c["expect"], dict) else {"each": c["expect"]},
                     do=c["do"]) for c in CHANGES]
    (out / "expected.json").write_text(json.dumps({"author": AUTHOR, "changes": expected},
                                                  ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
