"""What the editor's pages remember between requests (issue #11) changes nothing a reader sees.

The queue at 1,000,000 comments renders 50 rows with their diffs, a hundred translated labels and
a dozen links per view; each of those is now remembered (bounded) instead of rebuilt. Each memo
must give exactly what the plain path gives, per language and per address, and stay bounded.
"""

import gc

from markupsafe import Markup
from starlette.testclient import TestClient

from revise import diffing, templating
from revise.app import create_app
from revise.i18n import translations


def test_a_remembered_diff_is_the_diff_and_long_texts_are_not_kept():
    old, new = "到2024年,全市研发经费投入达到50亿元。", "到2024年,全市研发经费投入达到<b>60</b>亿元以上。"
    for context in (None, 5):
        assert diffing.diff_html(old, new, context) == diffing._diff_html(old, new, context)
        assert diffing.diff_html(old, new, context) == diffing.diff_html(old, new, context)  # remembered
    assert "&lt;b&gt;" in diffing.diff_html(old, new)  # still escaped when it comes from the memo
    before = diffing._remembered_html.cache_info().currsize
    long_old = "创新" * diffing.REMEMBERED_CHARS
    assert diffing.diff_html(long_old, long_old + "。") == diffing._diff_html(long_old, long_old + "。", None)
    assert diffing._remembered_html.cache_info().currsize == before


def _render(env, source: str, locale: str, plain: dict) -> str:
    catalog = translations(locale)
    return env.from_string(source).render(
        gettext=templating._newstyle(catalog.gettext, plain), ngettext=templating._newstyle_plural(catalog.ngettext))


def test_remembered_labels_are_per_language_and_formatted_as_jinja_formats_them():
    env = templating.make_templates().env
    source = '{{ _("Comments") }}|{{ _("100%% sure") }}|{{ _("%(n)s+", n=5) }}'
    zh, en = {}, {}
    first_zh = _render(env, source, "zh_CN", zh)
    assert _render(env, source, "en", en).startswith("Comments|100% sure|5+")
    assert _render(env, source, "zh_CN", zh) == first_zh == _render(env, source, "zh_CN", None)
    assert first_zh.startswith("意见|")
    assert set(zh) == {"Comments", "100%% sure"}  # calls with variables are formatted each time
    assert all(isinstance(text, Markup) for text in zh.values())


def test_the_label_memo_stops_growing_at_its_bound(monkeypatch):
    monkeypatch.setattr(templating, "PLAIN_MESSAGES_KEPT", 3)
    env = templating.make_templates().env
    plain = {}
    template = env.from_string("{{ _(m) }}")
    gettext = templating._newstyle(translations("en").gettext, plain)
    assert [template.render(m=f"text {i}", gettext=gettext) for i in range(10)] == [f"text {i}" for i in range(10)]
    assert len(plain) == 3


def test_a_missing_key_of_a_dict_is_undefined_as_in_jinja():
    env = templating.make_templates().env
    template = env.from_string("{{ d.absent is undefined }}|{{ d.absent }}|{{ d.items is defined }}|{{ d.key }}")
    assert template.render(d={"key": "值"}) == "True||True|值"


def test_links_are_absolute_for_the_address_each_request_came_under(settings):
    with TestClient(create_app(settings)) as client:
        one = client.get("/editor/sign-in", headers={"Host": "testserver"}).text
        two = client.get("/editor/sign-in", headers={"Host": "testserver:8443"}).text
    assert 'href="http://testserver/static/' in one and "testserver:8443" not in one
    assert 'href="http://testserver:8443/static/' in two


def test_the_long_lived_heap_is_frozen_while_serving_and_released_at_shutdown(settings):
    with TestClient(create_app(settings)):
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_times_are_shown_as_babel_formats_each_instant_in_beijing(settings):
    """The remembered day and hh:mm give what formatting each instant whole gives, across
    midnight in Beijing and UTC, in both languages."""
    import random
    from datetime import datetime, timedelta, timezone

    from babel.dates import format_skeleton

    from revise.timeutil import SHANGHAI, to_text

    rng = random.Random(11)
    start = datetime(2022, 10, 7, 15, 0, tzinfo=timezone.utc)  # 23:00 in Beijing
    instants = [start + timedelta(minutes=rng.randrange(0, 60 * 24 * 400), seconds=rng.randrange(60))
                for _ in range(500)]
    instants += [datetime(2022, 10, 7, 15, 59, 59, tzinfo=timezone.utc), datetime(2022, 10, 7, 16, 0, tzinfo=timezone.utc)]
    env = templating.make_templates().env
    template = env.from_string("{{ t|local_time }}")
    for locale in ("zh_CN", "en"):
        for moment in instants:
            text = to_text(moment)
            whole = (f"{format_skeleton('yMMMd', moment, tzinfo=SHANGHAI, locale=locale)} "
                     f"{format_skeleton('Hm', moment, tzinfo=SHANGHAI, locale=locale)}")
            assert template.render(t=text, locale=locale) == whole
