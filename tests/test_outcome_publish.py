"""The outcome is published on purpose (issue #12): by an administrator, after the period (or with
an audited reason), after a confirmation that counts what becomes public; it can be withdrawn
with a reason; the public page counts participants, comments and decisions without a scan."""

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from conftest import parse_html
from test_editor import _comment, csrf_of, sign_in

from revise import commenting, departments, drafts, outcome, revising, triage
from revise.docx_import import import_docx
from revise.store import blocks as block_store
from revise.store import consultations as consultation_store
from revise.store import counts as count_store
from revise.window import Window

SLUG = "nanchong-2022"
CONFIRM = f"/editor/c/{SLUG}/outcome"
EDITOR = {"id": 1, "display_name": "张编辑"}
HIDDEN = "这条意见被隐藏:内含不宜公开的内容。"
UNREVIEWED = "这条意见尚未审核,不应出现。"


@pytest.fixture
def c(db):
    return consultation_store.by_slug(db, SLUG)


def close_window(db, c):
    now = datetime.now(timezone.utc)
    drafts.change_window(db, c, Window(now - timedelta(days=30), now - timedelta(days=1)), "管理员")
    return consultation_store.by_slug(db, SLUG)


@pytest.fixture
def made(db, c):
    """Comments in every state: published and decided, published and undecided, hidden, never reviewed,
    a department's; one suggestion accepted (the revision links it) with a reason."""
    blocks = block_store.of_consultation(db, c["id"])
    para = next(b for b in blocks if b["text"].startswith("南充历史底蕴深厚"))
    dept_id, _ = departments.add(db, c, "市数据资源管理局", "test")
    dept = db.table("departments").get(dept_id)
    history = _comment(db, c, para, "建城史应为2300多年。", kind="edit",
                       suggestion=para["text"].replace("2200多年", "2300多年"), name="王五")
    same_person = _comment(db, c, para, "另外,机场数据也请核实。", name="王五")
    anonymous = _comment(db, c, None, "整体目标偏高。")
    hidden = _comment(db, c, para, HIDDEN, name="赵六")
    _comment(db, c, para, UNREVIEWED, name="孙七")
    dept_comment = _comment(db, c, para, "部门意见:交通数据需核实。", department=dept)
    commenting.moderate(db, c, [history["id"], same_person["id"], anonymous["id"], dept_comment["id"]], True, "编辑")
    commenting.moderate(db, c, [hidden["id"]], False, "编辑")
    revising.accept_suggestion(db, c, history["id"], base_number=0, author=EDITOR, reason="经核实,建城史为2300多年")
    triage.decide(db, c, [anonymous["id"]], "rejected", "目标经过测算", "张编辑")
    triage.decide(db, c, [dept_comment["id"]], "reflected", "已在第三部分体现", "张编辑")
    return {"para": para, "history": history, "hidden": hidden, "dept": dept_comment}


def admin(client, db):
    return sign_in(client, db, "boss", "admin", "管理员")


def publish(client, **fields):
    data = {"csrf": csrf_of(client, CONFIRM), "department_names": "1", **fields}
    return client.post(CONFIRM, data=data, follow_redirects=False)


def test_an_editor_may_not_see_the_confirmation_publish_or_withdraw(client, db, c, made):
    sign_in(client, db)
    assert client.get(CONFIRM).status_code == 403
    token = csrf_of(client, f"/editor/c/{SLUG}")
    for path in (CONFIRM, CONFIRM + "/withdraw"):
        response = client.post(path, data={"csrf": token, "override_reason": "急需", "withdraw_reason": "x"})
        assert response.status_code == 403
    assert consultation_store.by_slug(db, SLUG)["outcome_published_at"] is None
    assert db.execute("select count(*) from outcome_publications").fetchone()[0] == 0


def test_the_confirmation_counts_what_becomes_public_and_never_quotes_a_withheld_comment(client, db, c, made):
    admin(client, db)
    response = client.get(CONFIRM)
    assert response.status_code == 200
    page = parse_html(response.text)
    counts = {li.get("data-count"): int(re.search(r"\d+", li.text_content()).group())
              for li in page.xpath("//ul[@class='outcome-counts']/li")}
    # adopted, not adopted, already reflected; the second comment of 王五; hidden + never reviewed
    assert counts == {"decided": 3, "undecided": 1, "withheld": 2, "changed": 1}
    text = page.text_content()
    assert HIDDEN not in text and UNREVIEWED not in text
    # the option, and the reason the still-open period asks for
    assert page.xpath("//input[@name='department_names' and @checked]")
    assert page.xpath("//textarea[@name='override_reason']")


def test_publishing_while_the_period_is_open_needs_a_reason_which_is_audited(client, db, c, made):
    admin(client, db)
    refused = publish(client)
    assert refused.status_code == 422
    assert "给出理由" in parse_html(refused.text).xpath("string(//p[@id='override-error'])")
    assert consultation_store.by_slug(db, SLUG)["outcome_published_at"] is None
    assert client.get(f"/c/{SLUG}/outcome").status_code == 404
    done = publish(client, override_reason="市政府常务会议要求提前公布")
    assert done.status_code == 303 and done.headers["location"].endswith("?done=published")
    (row,) = db.execute("select published_by, override_reason, withdrawn_at from outcome_publications").fetchall()
    assert row == ("管理员", "市政府常务会议要求提前公布", None)
    (event,) = db.execute("select actor, after from audit where action = 'outcome.publish'").fetchall()
    assert event[0] == "管理员" and json.loads(event[1])["override_reason"] == "市政府常务会议要求提前公布"
    assert client.get(f"/c/{SLUG}/outcome").status_code == 200


def test_after_the_period_closes_the_administrator_publishes_without_a_reason_but_only_once(client, db, c, made):
    close_window(db, c)
    admin(client, db)
    page = parse_html(client.get(CONFIRM).text)
    assert not page.xpath("//textarea[@name='override_reason']")
    assert publish(client).status_code == 303
    published = consultation_store.by_slug(db, SLUG)
    assert published["outcome_published_at"]
    again = outcome.OutcomeError
    with pytest.raises(again) as refused:
        outcome.publish(db, published, "管理员")
    assert refused.value.status == 409
    assert db.execute("select count(*) from outcome_publications").fetchone()[0] == 1


def test_a_withdrawal_needs_a_reason_is_audited_and_the_public_outcome_disappears(client, db, c, made):
    close_window(db, c)
    admin(client, db)
    publish(client)
    assert client.get(f"/c/{SLUG}/outcome").status_code == 200
    token = csrf_of(client, CONFIRM)
    refused = client.post(CONFIRM + "/withdraw", data={"csrf": token, "withdraw_reason": "  "})
    assert refused.status_code == 422
    assert consultation_store.by_slug(db, SLUG)["outcome_published_at"]
    done = client.post(CONFIRM + "/withdraw", data={"csrf": token, "withdraw_reason": "采纳情况表有误,更正后重新发布"},
                       follow_redirects=False)
    assert done.status_code == 303
    for path in ("", "/comparison.docx", "/report.docx", "/plan.docx"):
        assert client.get(f"/c/{SLUG}/outcome{path}").status_code == 404, path
    (row,) = db.execute("select withdrawn_by, withdraw_reason from outcome_publications").fetchall()
    assert row == ("管理员", "采纳情况表有误,更正后重新发布")
    (event,) = db.execute("select after from audit where action = 'outcome.withdraw'").fetchall()
    assert json.loads(event[0]) == {"reason": "采纳情况表有误,更正后重新发布"}
    # the confirmation page lists it, and the outcome can be published again
    history = parse_html(client.get(CONFIRM).text).xpath("string(//section[h2[@id='history-h']])")
    assert "采纳情况表有误" in history
    assert publish(client).status_code == 303


@pytest.mark.parametrize("names, shown, not_shown", [("1", "市数据资源管理局", None), ("", "有关部门", "市数据资源管理局")])
def test_department_comments_are_shown_by_name_only_if_the_administrator_chose_so(client, db, c, made, names,
                                                                                  shown, not_shown):
    close_window(db, c)
    admin(client, db)
    publish(client, department_names=names)
    rows = parse_html(client.get(f"/c/{SLUG}/outcome").text).xpath("//table[@class='report']//tr[td]")
    (dept_row,) = [r for r in rows if "交通数据需核实" in r.text_content()]
    assert shown in dept_row.text_content()
    if not_shown:
        assert not_shown not in client.get(f"/c/{SLUG}/outcome").text
    # the office's own report always names the department
    assert "市数据资源管理局" in client.get(f"/editor/c/{SLUG}/export/report.csv").content.decode("utf-8-sig")


def test_the_public_outcome_has_the_table_of_changes_with_reason_and_links_and_no_withheld_comment(
        client, db, c, made):
    close_window(db, c)
    admin(client, db)
    publish(client)
    page = parse_html(client.get(f"/c/{SLUG}/outcome").text)
    (change,) = page.xpath("//table[@class='comparison']/tbody[@class='change']")
    assert change.xpath("string(.//td[@class='old']//del)") == "2"
    assert change.xpath("string(.//td[@class='new']//ins)") == "3"
    assert "经核实,建城史为2300多年" in change.xpath("string(.//tr[@class='why'])")
    (link,) = change.xpath(".//tr[@class='why']//a")
    target = page.xpath(f"//tr[@id='{link.get('href')[1:]}']")
    assert target and "建城史应为2300多年" in target[0].text_content()
    text = page.text_content()
    assert HIDDEN not in text and UNREVIEWED not in text


def test_a_hidden_comment_behind_a_revision_gives_neither_its_reason_nor_a_link(client, db, c, made):
    para = block_store.get(db, c["id"], made["para"]["id"])
    secret = _comment(db, c, para, "隐藏的建议", kind="edit", suggestion=para["text"] + "隐藏的补充句。")
    commenting.moderate(db, c, [secret["id"]], False, "编辑")
    revising.accept_suggestion(db, c, secret["id"], base_number=para["rev"], author=EDITOR, reason="")
    triage.decide(db, c, [secret["id"]], "adopted", "隐藏意见的处理理由", "张编辑", None)
    rows = outcome.comparison(db, consultation_store.by_slug(db, SLUG))
    assert secret["id"] not in rows[0].comment_ids
    assert "隐藏意见的处理理由" not in " ".join(rows[0].reasons)


def test_the_published_outcome_keeps_the_text_published_while_editors_go_on(client, db, c, made):
    close_window(db, c)
    admin(client, db)
    publish(client)
    para = block_store.get(db, c["id"], made["para"]["id"])
    revising.edit_block(db, c, para["id"], para["text"].replace("2300多年", "2400多年"), base_number=para["rev"],
                        author=EDITOR, reason="later")
    page = parse_html(client.get(f"/c/{SLUG}/outcome").text)
    assert page.xpath("string(//table[@class='comparison']//td[@class='new']//ins)") == "3"
    assert "2400多年" not in page.text_content()
    # the public's Word copy of the plan is the text published too, not the editors' later one
    plan = [b.text for b in import_docx(client.get(f"/c/{SLUG}/outcome/plan.docx").content).blocks]
    assert any("有2300多年的建城史" in t for t in plan) and not any("2400多年" in t for t in plan)
    # and the editors' own download has their latest text
    editor_plan = [b.text for b in import_docx(client.get(f"/editor/c/{SLUG}/export/plan.docx").content).blocks]
    assert any("有2400多年的建城史" in t for t in editor_plan)


def test_editors_download_the_table_of_changes_any_time_and_the_public_only_once_published(client, db, c, made):
    assert client.get(f"/c/{SLUG}/outcome/comparison.docx").status_code == 404
    sign_in(client, db)
    response = client.get(f"/editor/c/{SLUG}/comparison.docx")
    assert response.status_code == 200 and response.content[:2] == b"PK"
    assert "comparison.docx" in response.headers["content-disposition"]
    links = parse_html(client.get(f"/editor/c/{SLUG}").text).xpath("//a/@href")
    assert any(link.endswith(f"/editor/c/{SLUG}/comparison.docx") for link in links)
    close_window(db, c)
    outcome.publish(db, consultation_store.by_slug(db, SLUG), "管理员")
    public = client.get(f"/c/{SLUG}/outcome/comparison.docx")
    assert public.status_code == 200 and public.content[:2] == b"PK"


# --- the public counts --------------------------------------------------------------------


def page_counts(client) -> dict:
    page = parse_html(client.get(f"/c/{SLUG}").text)
    lines = page.xpath("//p[contains(@class,'public-counts')]")
    return {"lines": [line.text_content() for line in lines],
            "numbers": [[int(n) for n in line.xpath(".//span[@class='count']/text()")] for line in lines]}


def test_the_public_page_counts_participants_and_comments_and_after_the_outcome_the_decisions(client, db, c, made):
    before = page_counts(client)
    assert len(before["lines"]) == 1 and "参与人数" in before["lines"][0] and "意见条数" in before["lines"][0]
    # 王五 twice (same name and contact) is one participant; the anonymous one, the department: one each
    assert before["numbers"] == [[3, 4]]
    close_window(db, c)
    outcome.publish(db, consultation_store.by_slug(db, SLUG), "管理员")
    after = page_counts(client)
    assert "采纳" in after["lines"][1] and "不予采纳" in after["lines"][1]
    assert after["numbers"][1] == [1, 0, 1, 1]  # adopted, partly, not adopted, already reflected
    # a decision changed after publication shows at the next view
    triage.decide(db, c, [made["dept"]["id"]], "partly", "部分采纳", "张编辑")
    assert page_counts(client)["numbers"][1] == [1, 1, 1, 0]


def erase(db, comment_id):
    """Delete a comment as an erasure would: what refers to it first."""
    for table in db.table_names():
        if table != "comments" and "comment_id" in db[table].columns_dict:
            db.execute(f"delete from [{table}] where comment_id = ?", [comment_id])
    db.execute("delete from comments where id = ?", [comment_id])


def test_the_counts_the_page_reads_are_kept_by_triggers_through_every_kind_of_change(client, db, c, made):
    cid = c["id"]
    assert count_store.public_totals(db, cid) == count_store.totals_by_scan(db, cid)
    commenting.moderate(db, c, [made["hidden"]["id"]], True, "编辑")  # a new participant
    db.execute("update comments set name = '王 五' where id = ?", [made["history"]["id"]])  # 王五 now two people
    triage.decide(db, c, [made["hidden"]["id"]], "partly", "部分", "张编辑")
    commenting.moderate(db, c, [made["dept"]["id"]], False, "编辑")
    erase(db, made["hidden"]["id"])
    assert count_store.public_totals(db, cid) == count_store.totals_by_scan(db, cid)
    assert count_store.public_totals(db, cid)["participants"] == 3
    count_store.recount_totals(db)
    assert count_store.public_totals(db, cid) == count_store.totals_by_scan(db, cid)


def test_the_public_page_reads_the_kept_counts_not_the_comments(client, db, c, made):
    """The page's cost does not grow with the comments: it shows what published_totals holds."""
    db.execute("update published_totals set n = 987654 where consultation_id = ? and key = 'participants'", [c["id"]])
    db.execute("update public_versions set comments = comments + 1 where consultation_id = ?", [c["id"]])
    assert page_counts(client)["numbers"][0][0] == 987654


def test_a_forged_or_anonymous_post_publishes_nothing(client, db, c, made):
    close_window(db, c)
    assert client.post(CONFIRM, data={"department_names": "1"}, follow_redirects=False).status_code in (401, 403)
    assert client.get(CONFIRM, follow_redirects=False).headers["location"].startswith("/editor/sign-in")
    admin(client, db)
    assert client.post(CONFIRM, data={"department_names": "1"}, follow_redirects=False).status_code == 403
    other_site = client.post(CONFIRM, data={"csrf": csrf_of(client, CONFIRM)}, headers={"Origin": "https://evil.example"},
                             follow_redirects=False)
    assert other_site.status_code == 403
    assert consultation_store.by_slug(db, SLUG)["outcome_published_at"] is None
    assert db.execute("select count(*) from outcome_publications").fetchone()[0] == 0


def test_an_overlong_override_reason_is_refused_with_the_form_kept(client, db, c, made):
    admin(client, db)
    response = publish(client, override_reason="理" * 2001)
    assert response.status_code == 422
    page = parse_html(response.text)
    assert "2,000" in page.xpath("string(//p[@id='override-error'])") or "2000" in page.xpath(
        "string(//p[@id='override-error'])")
    assert len(page.xpath("string(//textarea[@name='override_reason'])")) == 2001
    assert consultation_store.by_slug(db, SLUG)["outcome_published_at"] is None


def test_publishing_freezes_the_editors_text_as_the_published_version_and_only_when_it_changed(db, c, made):
    c = close_window(db, c)
    versions_before = db.execute("select count(*) from versions").fetchone()[0]
    outcome.publish(db, c, "管理员")
    publication = outcome.current(db, c)
    assert db.execute("select count(*) from versions").fetchone()[0] == versions_before + 1
    assert consultation_store.by_slug(db, SLUG)["version_id"] == publication["version_id"]
    assert publication["options"]["from_version_id"] == c["version_id"]  # the text commented on
    frozen = {b["id"]: b["text"] for b in outcome.published_blocks(db, publication)}
    assert "有2300多年的建城史" in frozen[made["para"]["id"]]
    outcome.withdraw(db, c, "管理员", "更正")
    outcome.publish(db, consultation_store.by_slug(db, SLUG), "管理员")  # nothing revised since
    assert db.execute("select count(*) from versions").fetchone()[0] == versions_before + 1
