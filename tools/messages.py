"""Extract the messages of revise and update the catalogs (revise/locale/*/LC_MESSAGES/messages.po).

    python tools/messages.py          update the .po files: new messages added (to translate), gone ones dropped
    python tools/messages.py --check  exit 1 if a message is missing from a catalog or untranslated in zh_CN
                                      (an empty msgstr, or an empty or missing msgstr[n] of a plural)

tests/test_i18n.py runs the check, so a string added to a template without a translation fails CI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = ROOT / "revise" / "locale"
METHOD_MAP = [
    ("revise/templates/**.html", "jinja2.ext:babel_extract"),
    ("revise/**.py", "python"),
    ("server.py", "python"),
]
OPTIONS = {"revise/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
TRANSLATED = ("zh_CN",)  # en uses the msgids themselves


def extract() -> Catalog:
    """Every message the code and templates ask for."""
    template = Catalog(project="revise")
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, METHOD_MAP, options_map=OPTIONS, keywords=KEYWORDS, comment_tags=("NOTE:",)
    ):
        if filename.startswith((".venv", "tests", "bench", "tools", "docs")):
            continue
        template.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    return template


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = catalog_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="revise")
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def problems(template: Catalog) -> list[str]:
    """Messages missing from a catalog, or untranslated where a translation is needed."""
    found = []
    for locale in ("zh_CN", "en"):
        catalog = load(locale)
        for message in template:
            if not message.id:
                continue
            have = catalog.get(message.id)
            if have is None:
                found.append(f"{locale}: missing {message.id!r}")
            elif locale in TRANSLATED and (have.fuzzy or not _complete(have, catalog.num_plurals)):
                found.append(f"{locale}: untranslated {message.id!r}")
    return found


def _complete(message, num_plurals: int) -> bool:
    """Translated in full: a non-empty msgstr, and for a plural every msgstr[n] the language has
    (a plural's msgstr is a tuple, and ("",) is true in Python: the check missed empty plurals)."""
    if isinstance(message.string, (tuple, list)):
        forms = list(message.string)
        return len(forms) >= num_plurals and all(isinstance(f, str) and f.strip() for f in forms[:num_plurals])
    return bool(message.string and message.string.strip())


def update(template: Catalog) -> None:
    for locale in ("zh_CN", "en"):
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path = catalog_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=100, omit_header=False, sort_output=True, include_lineno=False)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    template = extract()
    if args.check:
        found = problems(template)
        print("\n".join(found) or "catalogs complete")
        return 1 if found else 0
    update(template)
    print("updated; to translate:\n" + "\n".join(problems(template)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
