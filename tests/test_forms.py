"""The comment form's fast URL-encoded reader reads every body exactly as Starlette does (issue #11)."""

from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers
from starlette.formparsers import FormParser
from starlette.formparsers import MultiPartException

from conftest import finish
from revise.web.forms import FormTooLarge, parse_urlencoded


def starlette(body: bytes, max_fields=1000, max_part_size=1024 * 1024):
    async def stream():
        yield body
        yield b""

    parser = FormParser(Headers({"content-type": "application/x-www-form-urlencoded"}), stream(),
                        max_fields=max_fields, max_part_size=max_part_size)
    return list(finish(parser.parse()).multi_items())


# Bodies made of what matters to a decoder: separators, escapes good and bad, plus signs, hex
# digits, non-ASCII bytes and line breaks.
PIECES = st.sampled_from([b"a", b"Z", b"=", b"&", b";", b"%", b"+", b"%E4", b"%b8", b"%AD", b"%2", b"%zz",
                          b"%3D", b"%26", b"%25", b"%0A", b"%FF", b"4", b"f", b" ", b"\r\n", b"\n", b"\xe4\xb8\xad",
                          b"_", b"=3D", b"%C3%A9", b"%F0%9F%98%80", b"%ED%A0%80"])


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=40).map(b"".join))
def test_any_body_is_read_as_starlette_reads_it_or_left_to_starlette(body):
    fast = parse_urlencoded(body)
    if fast is not None:
        assert fast == starlette(body)
    else:  # only what it cannot read the same way
        assert not body.isascii() or b"%" in body


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.text(max_size=60), max_size=6))
def test_what_a_browser_sends_is_read_by_the_fast_path(fields):
    body = urlencode(fields).encode()
    assert parse_urlencoded(body) == starlette(body)


def test_a_chinese_comment_as_a_browser_sends_it():
    fields = {"body": "建议将“2200家”修改为“2300家”,理由:近三年每年增加约 100 家。\n第二段 & 符号 = 与 + 号", "kind": "edit",
              "csrf": "abc.def", "name": "张三"}
    assert dict(parse_urlencoded(urlencode(fields).encode())) == fields


@pytest.mark.parametrize("body, fields, size", [(b"a=" + b"x" * 10, 1000, 10), (b"&".join([b"a=1"] * 4), 3, 100)])
def test_the_limits_are_starlettes(body, fields, size):
    with pytest.raises(MultiPartException) as theirs:
        starlette(body, fields, size)
    with pytest.raises(FormTooLarge) as ours:
        parse_urlencoded(body, fields, size)
    assert str(ours.value) == theirs.value.message
    at_limit = body[:-1] if size == 10 else b"&".join([b"a=1"] * 3)
    assert parse_urlencoded(at_limit, fields, size) == starlette(at_limit, fields, size)


def test_a_comment_posted_in_chinese_is_stored_as_typed(client, db):
    """Through the real form: the words stored are the words typed, escapes and all."""
    from conftest import parse_html

    block_id = db.execute("select id from blocks where kind = 'paragraph' order by position limit 1").fetchone()[0]
    page = parse_html(client.get(f"/c/nanchong-2022/b/{block_id}").text)
    (form,) = page.xpath("//form[contains(@class,'comment-form')]")
    hidden = {i.get("name"): i.get("value") for i in form.xpath(".//input[@type='hidden']")}
    text = "建议增加“数字经济”一节 & 说明 100% 的来源 = 统计年鉴 + 调查;第二行\n第三行"
    response = client.post(form.get("action"), data={**hidden, "kind": "remark", "body": text, "action": "submit"},
                           follow_redirects=False)
    assert response.status_code == 303
    stored = db.execute("select body from comments order by id desc limit 1").fetchone()[0]
    assert stored == text
