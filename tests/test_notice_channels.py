"""The notice belongs to the consultation (issue #12): how to comment is its data, the period
comes from its window, an administrator edits it (audited), and the page and the printable
notice never contradict the window."""

import json

import pytest
from conftest import parse_html
from test_editor import csrf_of, sign_in

from revise import drafts, notice
from revise.settings import DEFAULT_NOTICE
from revise.store import consultations as consultation_store
from revise.store.schema import migrations

PAGE, PRINT, EDIT = "/c/nanchong-2022", "/c/nanchong-2022/notice", "/editor/c/nanchong-2022/notice"


def texts(html: str, xpath: str) -> list[str]:
    """The elements' text as read: spaces collapsed, none after a full-width colon."""
    return [" ".join(e.text_content().split()).replace(": ", ":") for e in parse_html(html).xpath(xpath)]


def test_the_embedded_default_has_the_seeds_channels_and_no_stale_deadline(client, db):
    c = consultation_store.by_slug(db, "nanchong-2022")
    assert (c["email"], c["contact_person"], c["contact_phone"], c["office"]) == (
        "372297662@qq.com", "张馨丹", "0817—2223280", "市科技局成果管理与科普科")
    assert "2022年10月14日" not in c["notice"] and "10月8日" not in c["notice"]
    for html in (client.get(PAGE).text, client.get(PRINT).text):
        assert "2022年10月14日" not in html and "2022年10月8日至" not in html
        assert texts(html, "//li[@class='ch-email']") == ["通过电子邮箱:372297662@qq.com"]
        assert texts(html, "//li[@class='ch-contact']") == ["联系人及电话:张馨丹 0817—2223280"]


def test_the_embedded_facts_come_from_the_seed(shared_dir):
    seed = (shared_dir / "seed" / "000_9eafd9a176462cfb.txt").read_text(encoding="utf-8")
    default = json.loads(DEFAULT_NOTICE.read_text(encoding="utf-8"))
    assert default["notice"] in seed
    for value in default["channels"].values():
        assert value in seed


def test_the_printed_notice_and_the_page_show_the_window_itself(client, db, settings):
    sign_in(client, db, "admin", "admin", "管理员")
    csrf = csrf_of(client, "/editor/c/nanchong-2022")
    response = client.post("/editor/c/nanchong-2022/window", data={
        "csrf": csrf, "opens": "2030-03-01 09:00", "closes": "2030-03-31 17:00"}, follow_redirects=False)
    assert response.status_code == 303
    printed = client.get(PRINT).text
    assert texts(printed, "//li[@class='ch-window']") == ["无论采用哪种方式,请于2030年3月31日 17:00(北京时间)前提交意见。"]
    page = client.get(PAGE).text
    assert texts(page, "//li[@class='ch-window']") == ["无论采用哪种方式,请于2030年3月31日 17:00(北京时间)前提交意见。"]


def admin(client, db):
    sign_in(client, db, "admin", "admin", "管理员")
    return csrf_of(client, EDIT)


FORM = {"notice": "现征求社会公众意见。", "email": "kjj@nanchong.gov.cn", "postal_address": "南充市顺庆区人民南路1号",
        "fax": "0817-2223281", "contact_person": "李明", "contact_phone": "0817-2223282", "office": "市科技局政策法规科"}


def test_an_administrator_edits_the_channels_and_the_page_and_the_print_follow_audited(client, db):
    csrf = admin(client, db)
    response = client.post(EDIT, data=dict(FORM, csrf=csrf), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith("/editor/c/nanchong-2022#notice")
    for html in (client.get(PAGE).text, client.get(PRINT).text):
        assert texts(html, "//li[@class='ch-email']") == ["通过电子邮箱:kjj@nanchong.gov.cn"]
        assert texts(html, "//li[@class='ch-post']") == ["通过信函:南充市顺庆区人民南路1号 市科技局政策法规科"]
        assert texts(html, "//li[@class='ch-fax']") == ["通过传真:0817-2223281"]
        assert texts(html, "//li[@class='ch-contact']") == ["联系人及电话:李明 0817-2223282"]
        assert "372297662@qq.com" not in html  # the footer's contact follows the fields too
    c = consultation_store.by_slug(db, "nanchong-2022")
    assert c["notice"] == "现征求社会公众意见。"
    [event] = db.query("select * from audit where action = 'notice.change'")
    assert event["actor"] == "管理员"
    assert json.loads(event["before"])["email"] == "372297662@qq.com"
    assert json.loads(event["after"])["email"] == "kjj@nanchong.gov.cn"


@pytest.mark.parametrize("field, value, message", [
    ("notice", "征求意见时间为2022年10月8日至2022年10月14日。", "“2022年10月8日”"),
    ("notice", "请于10月14日前反馈。", "“10月14日”"),
    ("email", "not-an-address", "不是电子邮箱地址"),
    ("contact_phone", "call me", "不是电话号码"),
    ("fax", "12", "不是电话号码"),
])
def test_a_bad_notice_is_refused_with_a_message_and_nothing_changes(client, db, field, value, message):
    csrf = admin(client, db)
    response = client.post(EDIT, data=dict(FORM, csrf=csrf, **{field: value}))
    assert response.status_code == 422
    assert message in " ".join(texts(response.text, f"//p[@id='n-{field}-e']"))
    assert parse_html(response.text).xpath(f"string(//*[@id='n-{field}']/@aria-invalid)") == "true"
    assert consultation_store.by_slug(db, "nanchong-2022")["email"] == "372297662@qq.com"
    assert not list(db.query("select * from audit where action = 'notice.change'"))


def test_only_an_administrator_may_edit_the_notice_and_only_with_a_csrf_token(client, db):
    assert client.post(EDIT, data=FORM, follow_redirects=False).status_code in (303, 401, 403)
    sign_in(client, db, "editor", "editor", "张编辑")
    assert client.get(EDIT, follow_redirects=False).status_code == 403
    csrf = csrf_of(client, "/editor/c/nanchong-2022")
    assert client.post(EDIT, data=dict(FORM, csrf=csrf)).status_code == 403
    client.post("/editor/sign-out", data={"csrf": csrf})
    csrf = admin(client, db)
    assert client.post(EDIT, data=dict(FORM, csrf="forged")).status_code == 403
    assert consultation_store.by_slug(db, "nanchong-2022")["email"] == "372297662@qq.com"


def test_the_migration_turns_an_old_default_into_channels_without_the_deadline(tmp_path):
    """A database made before m016 with the old embedded notice: its deadline sentence goes, its contact line becomes fields."""
    from revise.store import connect

    db = connect(tmp_path / "old.db")
    migrations.apply(db, stop_before="m016_notice_channels_and_department_contacts")
    old = json.loads(DEFAULT_NOTICE.read_text(encoding="utf-8"))
    stale = old["notice"] + "因工作实际需要,征求意见时间为2022年10月8日至2022年10月14日,在此期间请将修改意见通过电子邮箱反馈至市科技局成果管理与科普科。"
    db.table("consultations").insert({"slug": "nanchong-2022", "title": "t", "notice": stale, "contact": old["contact"],
                                      "opens_at": "2030-01-01T00:00:00Z", "closes_at": "2030-02-01T00:00:00Z",
                                      "created_at": "2030-01-01T00:00:00Z"})
    migrations.apply(db)
    c = consultation_store.by_slug(db, "nanchong-2022")
    assert c["notice"] == old["notice"]
    assert (c["email"], c["contact_person"], c["contact_phone"], c["office"]) == (
        "372297662@qq.com", "张馨丹", "0817—2223280", "市科技局成果管理与科普科")


def test_an_imported_draft_reads_its_channels_from_the_contact_line():
    assert notice.from_contact("联系人及电话:张馨丹 0817—2223280\n邮箱:372297662@qq.com") == {
        "email": "372297662@qq.com", "contact_phone": "0817—2223280", "contact_person": "张馨丹"}
    assert drafts  # the importer calls from_contact when no channels are given
