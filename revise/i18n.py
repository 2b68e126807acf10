"""Message catalogs: zh_CN by default, en as the second locale.

The .po files under revise/locale are the source; they are compiled in memory when first
used, so there is no build step and no compiled file to forget.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (it is translated where shown)."""
    return message


@cache
def translations(locale: str) -> Translations:
    """The compiled catalog for a locale (English falls back to the msgids themselves)."""
    po = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return Translations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf)


def gettext(message: str, locale: str = DEFAULT_LOCALE, **params: object) -> str:
    """Translate a msgid (outside templates: the command line, plain-text answers)."""
    text = translations(locale).gettext(message)
    return text % params if params else text


def choose_locale(query_lang: str | None, cookie_lang: str | None, accept_language: str) -> str:
    """?lang= first, then the remembered choice, then Accept-Language, then zh_CN."""
    for candidate in (query_lang, cookie_lang):
        found = _match(candidate)
        if found:
            return found
    wanted = [part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")]
    wanted = [w for w in wanted if w and w != "*"]
    aliases = {"zh": "zh_CN", "zh_Hans": "zh_CN", "zh_Hans_CN": "zh_CN", "en_US": "en", "en_GB": "en"}
    return negotiate_locale(wanted, LOCALES, aliases=aliases) or DEFAULT_LOCALE


def _match(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_")
    for locale in LOCALES:
        if value.lower() == locale.lower() or value.lower() == locale.split("_")[0].lower():
            return locale
    return None


def babel_locale(locale: str) -> Locale:
    """The Babel Locale for formatting dates and numbers."""
    return Locale.parse(locale)
