"""Take out of an uploaded .docx what could act on the public who open the plan: active content
(macros, ActiveX controls, key and toolbar customizations, add-ins), anything fetched from
outside the file when it opens (a remote template, linked pictures and objects, subdocuments,
frames, chart data, INCLUDEPICTURE/INCLUDETEXT/LINK/DDE fields) and zip entries whose names
climb out of the package. Ordinary hyperlinks stay: they fetch nothing until someone clicks.

A clean file comes back as the very same bytes, so importing and exporting it is unchanged.
Otherwise only the parts that change are rewritten: the removed parts go, every .rels loses the
relationships to them, [Content_Types].xml loses their entries (and a .docm's main part
becomes a plain .docx one), and what pointed at a removed relationship in the source part goes
with it, so Word finds nothing dangling.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import re
import zipfile
from dataclasses import asdict, dataclass, field
from urllib.parse import unquote

from lxml import etree

from .docx_import import REL, W, parse_xml
from .i18n import DEFAULT_LOCALE, N_, gettext

CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
R_NAMESPACES = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships",
                "http://purl.oclc.org/ooxml/officeDocument/relationships")
O_RELID = "{urn:schemas-microsoft-com:office:office}relid"
A_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
PIC = "{http://schemas.openxmlformats.org/drawingml/2006/picture}"
WP = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}"
A_GRAPHIC = "{http://schemas.openxmlformats.org/drawingml/2006/main}graphic"
MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MACRO_MAIN_TYPES = {"application/vnd.ms-word.document.macroenabled.main+xml",
                    "application/vnd.ms-word.template.macroenabledtemplate.main+xml"}

MESSAGES = {
    "macros": N_("Macros (%(part)s)"),
    "macro_type": N_("The macro-enabled file type: the plan is a plain Word document (.docx)"),
    "customizations": N_("Word customizations: shortcut keys and toolbars (%(part)s)"),
    "activex": N_("An ActiveX control (%(part)s)"),
    "add_in": N_("An Office add-in (%(part)s)"),
    "template": N_("A template fetched from outside the file when it opens (%(target)s)"),
    "picture": N_("A picture linked from outside the file (%(target)s)"),
    "object": N_("An object linked from outside the file (%(target)s)"),
    "external": N_("A link that fetches content from outside the file (%(target)s)"),
    "field": N_("A field that fetches content from outside the file (%(field)s)"),
    "unsafe_name": N_("A file in the package whose name points outside it (%(part)s)"),
    "duplicate_name": N_("A second part with the same name (%(part)s)"),
}
HEADING = N_("Removed from the uploaded Word file for safety:")

# Relationship types (their last word, lower case) and content types of active content.
ACTIVE_TYPES = {
    "vbaproject": "macros", "wordvbadata": "macros", "vbaprojectsignature": "macros",
    "vbaprojectsignatureagile": "macros", "vbaprojectsignaturev3": "macros",
    "keymapcustomizations": "customizations", "attachedtoolbars": "customizations",
    "control": "activex", "activexcontrolbinary": "activex",
    "webextension": "add_in", "webextensiontaskpanes": "add_in",
}
ACTIVE_CONTENT = {
    "application/vnd.ms-office.vbaproject": "macros",
    "application/vnd.ms-word.vbadata+xml": "macros",
    "application/vnd.ms-word.keymapcustomizations+xml": "customizations",
    "application/vnd.ms-word.attachedtoolbars": "customizations",
    "application/vnd.ms-office.activex+xml": "activex",
    "application/vnd.ms-office.activex": "activex",
    "application/vnd.ms-office.webextension+xml": "add_in",
    "application/vnd.ms-office.webextensiontaskpanes+xml": "add_in",
}
ACTIVE_NAMES = {"vbaproject.bin": "macros", "vbadata.xml": "macros"}
EXTERNAL_KINDS = {"attachedtemplate": "template", "image": "picture", "oleobject": "object",
                  "package": "object"}
# Fields that read a file or a URL, or start another program, when Word updates them.
FETCHING_FIELDS = {"INCLUDEPICTURE", "INCLUDETEXT", "INCLUDE", "LINK", "DDE", "DDEAUTO", "IMPORT",
                   "DATABASE"}
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class Removed:
    """One thing taken out of the file: a stable code and what to show (part, target or field)."""

    code: str
    params: dict = field(default_factory=dict, hash=False)

    @property
    def message(self) -> str:
        return MESSAGES[self.code]

    def text(self, locale: str = DEFAULT_LOCALE) -> str:
        return gettext(self.message, locale, **self.params)


def sanitize(data: bytes) -> tuple[bytes, list[Removed]]:
    """(clean bytes, what was removed); the same bytes and [] when there was nothing to remove.

    Bytes that are not a zip come back unchanged for the importer to refuse. A part that is
    not well-formed XML, or declares entities, raises docx_import.ImportRefused.
    """
    try:
        zin = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return data, []
    with zin:
        clean = _Sanitizer(zin)
        clean.run()
        if not clean.removed:
            return data, []
        return clean.repack(), _unique(clean.removed)


def _unique(removed: list[Removed]) -> list[Removed]:
    seen, out = set(), []
    for item in removed:
        key = (item.code, tuple(sorted(item.params.items())))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _unsafe_name(name: str) -> bool:
    """A name that would climb out of a folder it is unpacked into."""
    return (name.startswith(("/", "\\")) or "\\" in name or "\x00" in name
            or bool(_DRIVE.match(name)) or ".." in name.split("/"))


def _has_fields(raw: bytes) -> bool:
    return b"instrText" in raw or b"fldSimple" in raw


def _source_of(rels_name: str) -> str:
    """'word/_rels/document.xml.rels' -> 'word/document.xml'; '_rels/.rels' -> '' (the package)."""
    folder, base = posixpath.split(rels_name)
    return posixpath.join(posixpath.dirname(folder), base[: -len(".rels")]).lower()


def _rels_of(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels").lower()


def _target(source: str, rel: etree._Element) -> str:
    target = unquote(rel.get("Target", ""))
    name = target[1:] if target.startswith("/") else posixpath.join(posixpath.dirname(source), target)
    return posixpath.normpath(name).lower()


def _external(rel: etree._Element) -> bool:
    return (rel.get("TargetMode") or "").lower() == "external"


def _kind(rel: etree._Element) -> str:
    return (rel.get("Type") or "").rsplit("/", 1)[-1].lower()


class _Sanitizer:
    def __init__(self, zin: zipfile.ZipFile):
        self.zin = zin
        self.removed: list[Removed] = []
        self.infos: list[zipfile.ZipInfo] = []  # the entries kept, in order
        self.changed: dict[str, bytes] = {}  # lower-case name -> new bytes
        self.dropped: set[str] = set()  # lower-case names of removed parts
        self.roots: dict[str, etree._Element] = {}  # parsed parts, by lower-case name

    # --- entries ---

    def _entries(self) -> None:
        """Keep every safely named entry; of two with one name, the last (the one zip readers use)."""
        last = {info.filename.lower(): info for info in self.zin.infolist()}
        for info in self.zin.infolist():
            if _unsafe_name(info.filename):
                self.removed.append(Removed("unsafe_name", {"part": _short(info.filename)}))
            elif last[info.filename.lower()] is not info:
                self.removed.append(Removed("duplicate_name", {"part": _short(info.filename)}))
            else:
                self.infos.append(info)
        self.names = {info.filename.lower(): info for info in self.infos}

    def xml(self, name: str) -> etree._Element:
        if name not in self.roots:
            info = self.names[name]
            self.roots[name] = parse_xml(self.zin.read(info), info.filename)
        return self.roots[name]

    def _drop(self, name: str, code: str) -> None:
        if name in self.names and name not in self.dropped:
            self.dropped.add(name)
            self.removed.append(Removed(code, {"part": self.names[name].filename}))

    # --- the passes ---

    def run(self) -> None:
        self._entries()
        types = self._content_types()
        for name in self.names:
            code = ACTIVE_NAMES.get(posixpath.basename(name)) or ACTIVE_CONTENT.get(types(name))
            if code:
                self._drop(name, code)
        rels = [n for n in self.names if n.endswith(".rels")]
        for rels_name in rels:  # the targets of active relationships, wherever they are named
            source = _source_of(rels_name)
            for rel in self.xml(rels_name).iter(REL + "Relationship"):
                code = ACTIVE_TYPES.get(_kind(rel))
                if code and not _external(rel):
                    self._drop(_target(source, rel), code)
        for rels_name in rels:  # a removed part takes its own relationships along
            if _source_of(rels_name) in self.dropped:
                self.dropped.add(rels_name)
        dangling: dict[str, set[str]] = {}
        for rels_name in rels:
            if rels_name not in self.dropped:
                source = _source_of(rels_name)
                ids = self._relationships(rels_name, source)
                if ids:
                    dangling.setdefault(source, set()).update(ids)
        for source, ids in dangling.items():
            if source in self.names and source not in self.dropped and source.endswith(".xml"):
                if _drop_references(self.xml(source), ids):
                    self.changed[source] = b""
        for name, info in self.names.items():
            if name.startswith("word/") and name.endswith(".xml") and name not in self.dropped \
                    and _has_fields(self.zin.read(info)):
                found = _neutralise_fields(self.xml(name))
                if found:
                    self.changed[name] = b""
                    self.removed.extend(Removed("field", {"field": f}) for f in found)
        self._fix_content_types()
        for name in self.changed:
            root = self.roots[name]
            tree = root.getroottree()
            self.changed[name] = etree.tostring(tree, xml_declaration=True, encoding="UTF-8",
                                                standalone=tree.docinfo.standalone)

    def _content_types(self):
        """A function: part name -> its content type (lower case), from [Content_Types].xml."""
        self.ct_name = "[content_types].xml" if "[content_types].xml" in self.names else None
        if self.ct_name is None:
            return lambda name: ""
        root = self.xml(self.ct_name)
        overrides = {(el.get("PartName") or "").lstrip("/").lower(): (el.get("ContentType") or "").lower()
                     for el in root.iter(CT + "Override")}
        defaults = {(el.get("Extension") or "").lower(): (el.get("ContentType") or "").lower()
                    for el in root.iter(CT + "Default")}
        return lambda name: overrides.get(name) or defaults.get(name.rsplit(".", 1)[-1], "")

    def _relationships(self, rels_name: str, source: str) -> set[str]:
        """Remove the relationships that are active, fetch from outside, or lead to a removed
        part; return their ids."""
        root = self.xml(rels_name)
        ids: set[str] = set()
        for rel in list(root.iter(REL + "Relationship")):
            kind, external = _kind(rel), _external(rel)
            if external and kind == "hyperlink":
                continue
            if external:
                code = ACTIVE_TYPES.get(kind) or EXTERNAL_KINDS.get(kind, "external")
                self.removed.append(Removed(code, {"target": _short(unquote(rel.get("Target", "")))}))
            elif kind not in ACTIVE_TYPES and _target(source, rel) not in self.dropped:
                continue
            rel.getparent().remove(rel)
            ids.add(rel.get("Id", ""))
            self.changed[rels_name] = b""
        return ids - {""}

    def _fix_content_types(self) -> None:
        """No entry for a removed part or for active content; a .docm's main part becomes .docx's."""
        if self.ct_name is None:
            return
        root, changed = self.xml(self.ct_name), False
        for el in list(root):
            if not isinstance(el.tag, str):
                continue
            content = (el.get("ContentType") or "").lower()
            part = (el.get("PartName") or "").lstrip("/").lower()
            if (el.tag == CT + "Override" and part in self.dropped) or content in ACTIVE_CONTENT:
                # A kept part typed by an active Default would have been removed above.
                root.remove(el)
                changed = True
            elif content in MACRO_MAIN_TYPES:
                el.set("ContentType", MAIN_TYPE)
                self.removed.append(Removed("macro_type"))
                changed = True
        if changed:
            self.changed[self.ct_name] = b""

    def repack(self) -> bytes:
        """The kept entries in their order, the rewritten ones with their new bytes."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zout:
            for item in self.infos:
                name = item.filename.lower()
                if name in self.dropped:
                    continue
                clone = zipfile.ZipInfo(item.filename, item.date_time)
                clone.compress_type, clone.external_attr = item.compress_type, item.external_attr
                clone.create_system = item.create_system
                zout.writestr(clone, self.changed[name] if name in self.changed
                              else self.zin.read(item))
        return out.getvalue()


def _drop_references(root: etree._Element, ids: set[str]) -> bool:
    """Take out what pointed at a removed relationship, so that Word finds nothing dangling.

    A picture keeps its embedded copy when it has one; a picture that was only linked goes with
    its drawing; anything else that names the relationship (a control, an OLE link, a subdocument,
    the attached template, a frame's source, a chart's external data) goes itself. Returns
    whether anything changed.
    """
    changed = False
    for el in list(root.iter()):
        if not isinstance(el.tag, str):
            continue
        hits = [name for name, value in el.attrib.items() if value in ids
                and (name == O_RELID or etree.QName(name).namespace in R_NAMESPACES)]
        if not hits:
            continue
        changed = True
        if el.tag == A_BLIP:
            for name in hits:
                del el.attrib[name]
            embedded = any(etree.QName(n).namespace in R_NAMESPACES for n in el.attrib)
            pic = el.getparent().getparent() if el.getparent() is not None else None
            if not embedded and pic is not None and pic.tag == PIC + "pic":
                _remove_drawing_of(pic)
            continue
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
    return changed


def _remove_drawing_of(pic: etree._Element) -> None:
    """Remove the w:drawing whose one picture this is (a picture in a group keeps an empty blip)."""
    graphic_data = pic.getparent()
    graphic = graphic_data.getparent() if graphic_data is not None else None
    anchor = graphic.getparent() if graphic is not None else None
    drawing = anchor.getparent() if anchor is not None else None
    if graphic is not None and graphic.tag == A_GRAPHIC and anchor is not None \
            and anchor.tag in (WP + "inline", WP + "anchor") and drawing is not None \
            and drawing.tag == W + "drawing" and drawing.getparent() is not None:
        drawing.getparent().remove(drawing)


@dataclass
class _Field:
    begin: int
    instruction: list[str] = field(default_factory=list)
    separate: int | None = None
    starts_nested: bool = False  # its keyword is made by another field: hides what it is


def _keyword(instruction: str) -> str:
    words = instruction.strip().lstrip('"').split()
    return words[0].upper() if words else ""


def _neutralise_fields(root: etree._Element) -> list[str]:
    """Turn every field that fetches from outside into its last result; return the instructions.

    A field is begin, instruction, separate, result, end (fldChar and instrText in runs, maybe
    spread over paragraphs, maybe nested). The begin, the whole instruction (nested fields in it
    included) and the end go; the result stays as plain content. w:fldSimple is unwrapped.
    """
    found: list[str] = []
    for simple in list(root.iter(W + "fldSimple")):
        instruction = simple.get(W + "instr") or ""
        if _keyword(instruction) in FETCHING_FIELDS and simple.getparent() is not None:
            found.append(_short(instruction))
            parent, index = simple.getparent(), simple.getparent().index(simple)
            for offset, child in enumerate([c for c in simple if c.tag != W + "fldData"]):
                parent.insert(index + offset, child)
            parent.remove(simple)
    tokens = [(run, child) for run in root.iter(W + "r") for child in run
              if isinstance(child.tag, str) and child.tag != W + "rPr"]
    stack: list[_Field] = []
    doomed: list[int] = []
    for index, (_, child) in enumerate(tokens):
        if child.tag == W + "fldChar":
            kind = child.get(W + "fldCharType")
            if kind == "begin":
                if stack and stack[-1].separate is None and not "".join(stack[-1].instruction).strip():
                    stack[-1].starts_nested = True
                stack.append(_Field(index))
            elif kind == "separate" and stack:
                stack[-1].separate = index
            elif kind == "end" and stack:
                done = stack.pop()
                instruction = "".join(done.instruction)
                if _keyword(instruction) in FETCHING_FIELDS or done.starts_nested:
                    found.append(_short(instruction) or "?")
                    last = done.separate if done.separate is not None else index
                    doomed.extend(range(done.begin, last + 1))
                    doomed.append(index)
        elif child.tag in (W + "instrText", W + "delInstrText") and stack \
                and stack[-1].separate is None:
            stack[-1].instruction.append(child.text or "")
    for left in stack:  # never ended: its instruction goes all the same
        instruction = "".join(left.instruction)
        if _keyword(instruction) in FETCHING_FIELDS or left.starts_nested:
            found.append(_short(instruction) or "?")
            doomed.extend(range(left.begin, (left.separate or len(tokens) - 1) + 1))
    runs = []
    for index in sorted(set(doomed)):
        run, child = tokens[index]
        if child.getparent() is run:
            run.remove(child)
            runs.append(run)
    for run in runs:
        if run.getparent() is not None and all(c.tag == W + "rPr" for c in run
                                               if isinstance(c.tag, str)):
            run.getparent().remove(run)
    return found


# --- what the administrator is shown ---

def audit_values(uploaded: bytes, removed: list[Removed]) -> tuple[dict, dict]:
    """Before and after for the audit event of an import that removed something."""
    return ({"sha256": hashlib.sha256(uploaded).hexdigest(), "size": len(uploaded)},
            {"removed": [asdict(r) for r in removed]})


def from_audit(after: str | None) -> list[Removed]:
    """The removed items recorded by audit_values (unknown codes are skipped)."""
    try:
        items = json.loads(after or "{}").get("removed", [])
    except (ValueError, AttributeError):
        return []
    return [Removed(i["code"], dict(i.get("params") or {})) for i in items
            if isinstance(i, dict) and i.get("code") in MESSAGES]


def report_lines(data: bytes, locale: str = DEFAULT_LOCALE) -> list[str]:
    """What importing these bytes removes, as lines for the command line (none: no lines)."""
    try:
        _, removed = sanitize(data)
    except Exception:  # a file the importer refused has nothing to report
        return []
    if not removed:
        return []
    return [gettext(HEADING, locale)] + ["  - " + r.text(locale) for r in removed]
