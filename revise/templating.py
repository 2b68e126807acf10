"""Jinja2 templates with the message catalog and Asia/Shanghai times."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date, format_skeleton
from jinja2 import BytecodeCache, Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from revise import table_cards
from revise.comment_form import KIND_SHORT
from revise.diffing import diff_html
from revise.i18n import DEFAULT_LOCALE, LOCALES, babel_locale, translations
from revise.masking import mask
from revise.timeutil import SHANGHAI, from_text
from revise.triage import DISPOSITIONS

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
# Each language is offered under its own name (中文, English), as Babel spells it.
LOCALE_NAMES = [(code, babel_locale(code).language_name) for code in LOCALES]


def _newstyle(func, plain: dict | None = None):
    """Jinja's new-style gettext: %(name)s filled from keyword arguments, values escaped.

    `plain` keeps the answers to calls without variables (most of a page's: labels, buttons,
    options), one dict per language: a translation never changes while the server runs.
    """

    @pass_context
    def call(context, message, **variables):
        if plain is not None and not variables and context.eval_ctx.autoescape:
            text = plain.get(message)
            if text is None:
                text = Markup(context.call(func, message)) % variables
                if len(plain) < PLAIN_MESSAGES_KEPT:  # a template may pass other text through _()
                    plain[message] = text
            return text
        text = context.call(func, message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return call


def _newstyle_plural(func):
    """New-style ngettext: like _newstyle, with %(num)s set to the count."""

    @pass_context
    def call(context, singular, plural, num, **variables):
        variables.setdefault("num", num)
        text = context.call(func, singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return call


_PLAIN_MESSAGES: dict[str, dict[str, Markup]] = {}  # per language: message → translated Markup
PLAIN_MESSAGES_KEPT = 4096


def _i18n_context(request: Request) -> dict:
    locale = request.scope.get("state", {}).get("locale", DEFAULT_LOCALE)
    catalog = translations(locale)
    return {
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else locale,
        "gettext": _newstyle(catalog.gettext, _PLAIN_MESSAGES.setdefault(locale, {})),
        "ngettext": _newstyle_plural(catalog.ngettext),
        "locale_names": LOCALE_NAMES,
        "csrf_token": _csrf_token(request),
    }


def _csrf_token(request: Request) -> str:
    """The CSRF token for the visitor's session (forms carry it as a hidden field)."""
    state = request.scope.get("state", {})
    session_id = state.get("session_id") or state.get("new_session_id")
    signer = getattr(request.app.state, "signer", None)
    return signer.csrf_token(session_id) if signer and session_id else ""


@pass_context
def local_time(context, instant: str | None) -> str:
    """An instant stored as UTC text, shown in Asia/Shanghai in the visitor's language."""
    if not instant:
        return ""
    return _local_time(instant, context.get("locale", DEFAULT_LOCALE))


# Babel's formatting was an eighth of the queue page in the draft's order (50 rows, 50 minutes):
# each instant, each Beijing day and each hh:mm is formatted once per language.
@lru_cache(maxsize=8192)
def _local_time(instant: str, locale: str) -> str:
    moment = from_text(instant).astimezone(SHANGHAI)
    return f"{_local_day(moment.date(), locale)} {_local_clock(moment.hour, moment.minute, locale)}"


@lru_cache(maxsize=2048)
def _local_day(day: date, locale: str) -> str:
    return format_skeleton("yMMMd", datetime.combine(day, time(12), SHANGHAI), tzinfo=SHANGHAI, locale=locale)


@lru_cache(maxsize=4096)
def _local_clock(hour: int, minute: int, locale: str) -> str:
    return format_skeleton("Hm", datetime(2000, 1, 1, hour, minute, tzinfo=SHANGHAI), tzinfo=SHANGHAI, locale=locale)


def local_input(instant: str | None) -> str:
    """An instant as Beijing time in the form people type it back: 2024-03-01 09:00."""
    if not instant:
        return ""
    return from_text(instant).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


@pass_context
def local_date(context, iso_date: str | None) -> str:
    """A calendar date (YYYY-MM-DD) in the visitor's language."""
    if not iso_date:
        return ""
    return format_date(
        date.fromisoformat(iso_date), format="long", locale=context.get("locale", DEFAULT_LOCALE)
    )


# Markers of a count left open while a page is rendered once for any counts (CountSlots).
# Each starts with a raw "<", which text from a draft or a comment never carries into the page
# (autoescaping makes it &lt;), followed by a C0 control no template holds: even a control
# written into the database past revise/textclean.py cannot pass for a marker (issue #10).
_OPEN, _KEY_END, _NUMBER, _CLOSE = "<\x01", "<\x02", "<\x03", "<\x04"
_BADGE = Markup(' <span class="count"%s>%s</span>')


class CountSlots:
    """Stands for a dict of counts while a page is rendered as a Skeleton (`name` tells which dict)."""

    def __init__(self, name: str):
        self.name = name


def count_badge(counts, key, title: str = "") -> Markup:
    """The count shown after a link (' <span class="count">N</span>'), nothing for zero."""
    attr = Markup(' title="%s"') % title if title else ""
    if isinstance(counts, CountSlots):
        return Markup(f"{_OPEN}{counts.name}:{key}{_KEY_END}") + _BADGE % (attr, Markup(_NUMBER)) + Markup(_CLOSE)
    n = counts.get(key, 0) if counts else 0
    return _BADGE % (attr, n) if n else Markup("")


class Skeleton:
    """A page rendered with its counts left open (CountSlots): filled for any counts by one join.

    The public draft page is 1,000 paragraphs of template work (about a second) but only its
    counts change when a comment is published: those are filled in here in milliseconds.
    """

    def __init__(self, html: str):
        parts = html.split(_OPEN)
        self.texts = [parts[0]]
        self.slots: list[tuple[str, int | None, str, str]] = []
        for part in parts[1:]:
            key, rest = part.split(_KEY_END, 1)
            badge, text = rest.split(_CLOSE, 1)
            name, _, which = key.partition(":")
            before, _, after = badge.partition(_NUMBER)
            self.slots.append((name, None if which == "None" else int(which), before, after))
            self.texts.append(text)
        self.nbytes = 2 * len(html)

    def fill(self, counts: dict[str, dict]) -> str:
        """The page with `counts[name][key]` in each slot (a zero shows nothing)."""
        out = [self.texts[0]]
        for (name, key, before, after), text in zip(self.slots, self.texts[1:]):
            n = counts[name].get(key, 0)
            if n:
                out += (before, str(n), after)
            out.append(text)
        return "".join(out)


class SharedBytecode(BytecodeCache):
    """Compiled templates kept for the whole process, keyed by name and source checksum: an app
    compiles its ~70 templates once at start (render_gate.warm, about a second); a second app in
    the same process (the test suite makes hundreds, a reload makes one) loads them in 30 ms."""

    def __init__(self):
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        data = self._compiled.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


BYTECODE = SharedBytecode()


_DICT_ATTRIBUTES = frozenset(dir(dict))


class FastEnvironment(Environment):
    """jinja2's Environment, reading `d.key` of a plain dict as `d["key"]` first.

    jinja2 tries getattr(d, "key") first, and for a dict (every row the store gives) that raises
    and catches an AttributeError on each read: a fifth of the editor queue's render (issue #11).
    Only the order of the two attempts changes, and only for names that are not dict methods,
    so `d.items()` and `d.get(...)` are still the methods; a missing key is still undefined.
    """

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                # What jinja2 ends with after both attempts fail (a plain dict has no such attribute),
                # without raising and catching the AttributeError first (`form.picked` on 50 rows).
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


# Each router's answers to url_path_for, by route name and parameters. Starlette finds a route by
# trying every route in turn, each non-match raising NoMatchFound: with ~200 routes, the editor's
# navigation (a dozen links) cost a sixth of the queue page's render (issue #11). Routes do not
# change while an app runs; the paths are kept on the router itself (tests build many apps).
URL_PATHS_KEPT = 4096  # per router; the parameters (slugs, ids) are the site's, cleared when full


def _remembered(scope, memo: str, key: tuple, compute):
    """The value under `key` in the dict named `memo` kept on the app's router (tests build many
    apps), computed on a miss; the dict is cleared when URL_PATHS_KEPT entries are reached."""
    router = scope.get("router") or scope.get("app")
    kept = getattr(router, memo, None)
    if kept is None:
        kept = {}
        setattr(router, memo, kept)
    value = kept.get(key)
    if value is None:
        value = compute()
        if len(kept) >= URL_PATHS_KEPT:
            kept.clear()
        kept[key] = value
    return value


def route_path(scope, name: str, /, **path_params):
    """router.url_path_for(name, **path_params), each route's path found once (a URLPath)."""
    router = scope.get("router") or scope.get("app")
    key = (name, *sorted((k, str(v)) for k, v in path_params.items()))
    return _remembered(scope, "revise_url_paths", key, lambda: router.url_path_for(name, **path_params))


@pass_context
def url_for(context, name: str, /, **path_params):
    """Starlette's url_for (an absolute URL), with each route's path found once, and made
    absolute once per address the site is asked under (a URL parsed and built each time was
    half of the call)."""
    request: Request = context["request"]
    path = route_path(request.scope, name, **path_params)
    base = request.base_url
    key = (str(path), path.protocol, path.host, str(base))
    return _remembered(request.scope, "revise_absolute_urls", key, lambda: path.make_absolute_url(base_url=base))


def make_templates() -> Jinja2Templates:
    """The one template environment of the app."""
    env = FastEnvironment(loader=FileSystemLoader(str(TEMPLATE_DIR)), autoescape=select_autoescape())
    templates = Jinja2Templates(env=env, context_processors=[_i18n_context])
    env.bytecode_cache = BYTECODE
    env.add_extension("jinja2.ext.i18n")
    # Defaults for rendering outside a request; each request's locale overrides them.
    fallback = translations(DEFAULT_LOCALE)
    env.install_gettext_callables(fallback.gettext, fallback.ngettext, newstyle=True)
    env.filters["local_time"] = local_time
    env.filters["local_date"] = local_date
    env.filters["local_input"] = local_input
    env.filters["mask"] = mask
    env.globals["url_for"] = url_for
    env.globals["diff_html"] = diff_html
    env.globals["kind_short"] = KIND_SHORT
    env.globals["dispositions"] = DISPOSITIONS
    env.globals["count_badge"] = count_badge
    env.globals["table_cards"] = table_cards.cards  # issue #16: rows as cards on a phone
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates


class FragmentCache:
    """A small LRU of rendered fragments and pages, keyed by what they were rendered from.

    `max_bytes` bounds the memory held by values that report their size (`nbytes`): a
    rendered draft of 1,000 paragraphs is about a megabyte, and a server has a budget.
    """

    def __init__(self, size: int = 32, max_bytes: int = 64 * 1024 * 1024):
        import threading
        from collections import OrderedDict

        self.size = size
        self.max_bytes = max_bytes
        self._items: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._building: dict = {}  # key -> the asyncio task rebuilding it (latest())

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            if key in self._items:
                self._bytes -= getattr(self._items[key], "nbytes", 0)
            self._items[key] = value
            self._bytes += getattr(value, "nbytes", 0)
            self._items.move_to_end(key)
            while len(self._items) > self.size or (self._bytes > self.max_bytes and len(self._items) > 1):
                _, dropped = self._items.popitem(last=False)
                self._bytes -= getattr(dropped, "nbytes", 0)

    async def latest(self, key, version, build):
        """The value under `key` whose `.version` is `version`, built by `await build()` if needed.

        One build per key at a time: callers arriving while it runs get the value it replaces
        (stale by at most one build; a page rebuilt after every comment of a crowd would
        otherwise be rebuilt by every reader), or, when there is none yet, wait for it. The
        build runs to the end even when the request that started it goes away.
        """
        import asyncio

        current = self.get(key)
        if current is not None and current.version == version:
            return current
        task = self._building.get(key)
        if task is None:
            task = asyncio.ensure_future(build())
            self._building[key] = task

            def done(finished) -> None:
                self._building.pop(key, None)
                if not finished.cancelled() and finished.exception() is None:
                    self.put(key, finished.result())

            task.add_done_callback(done)
        elif current is not None:
            return current
        return await asyncio.shield(task)
