"""The interface speaks zh-CN through the message catalog, and English as a second locale."""

import subprocess
import sys

from conftest import ROOT

from revise.i18n import choose_locale, gettext


def test_every_message_in_code_and_templates_is_in_the_catalogs_and_translated():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "messages.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_english_page_has_no_chinese_outside_the_document(client):
    from conftest import parse_html

    page = parse_html(client.get("/?lang=en").text)
    for el in page.xpath("//header|//footer|//h1"):
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in el.text_content().replace("中文", ""))


def test_language_choice_order():
    assert choose_locale("en", "zh_CN", "zh-CN") == "en"
    assert choose_locale(None, "en", "zh-CN") == "en"
    assert choose_locale(None, None, "en-GB,en;q=0.8") == "en"
    assert choose_locale(None, None, "zh-TW,zh;q=0.9") == "zh_CN"
    assert choose_locale("xx", None, "") == "zh_CN"


def test_messages_outside_templates_are_translated_too():
    assert gettext("open") == "征求中"
    assert gettext("open", "en") == "open"
