"""What a comment form must hold before it is taken (issue #17: the rules of comment_form.validate
and commenting.submit, each stated so that breaking it fails a test). No web, no database, except
where the rule is about what is stored."""

import pytest

from revise import comment_form
from revise.comment_form import validate

PARA = {"id": 9, "kind": "paragraph", "text": "南充历史底蕴深厚,建城史2200多年。"}
ROW = {"id": 10, "kind": "table_row", "text": "1\t高新技术产业营业收入\t亿元\t1100\t"}


def form(**fields):
    return {"kind": "remark", "body": "建议补充。", **fields}


def test_a_plain_remark_is_taken_with_every_field_cleaned():
    values, errors = validate(form(name=" 王五 ", contact=" 13800138000 ", body="  建议补充。\n"), PARA)
    assert errors == {}
    assert values == {"kind": "remark", "name": "王五", "contact": "13800138000", "body": "建议补充。",
                      "suggestion": "", "quote": "", "quote_start": None}


def test_without_a_kind_a_paragraph_comment_is_an_edit_and_a_draft_comment_a_remark():
    assert validate({"body": "x", "suggestion": "新的文字"}, PARA) == ({
        "kind": "edit", "name": "", "contact": "", "body": "x", "suggestion": "新的文字", "quote": "",
        "quote_start": None}, {})
    assert validate({"body": "x"}, None) == ({"kind": "remark", "name": "", "contact": "", "body": "x",
                                               "suggestion": "", "quote": "", "quote_start": None}, {})


@pytest.mark.parametrize("kind, block", [("nonsense", PARA), ("edit", None), ("delete", None), ("insert", None)])
def test_a_kind_that_does_not_fit_is_asked_for_again(kind, block):
    values, errors = validate(form(kind=kind, suggestion="新的文字"), block)
    assert errors == {"kind": "Choose what kind of comment this is."}
    assert values["kind"] == ("remark" if block is None else "edit")


def test_every_kind_is_taken_on_a_paragraph():
    for kind in comment_form.KINDS:
        values, errors = validate(form(kind=kind, suggestion="新的文字。"), PARA)
        assert errors == {} and values["kind"] == kind
        assert values["suggestion"] == ("新的文字。" if kind in ("edit", "insert") else "")


@pytest.mark.parametrize("kind", ["edit", "insert"])
def test_an_edit_or_insert_needs_its_wording(kind):
    assert validate(form(kind=kind, suggestion="  "), PARA)[1] == {"suggestion": "Write the wording you propose."}
    too_long = "字" * (comment_form.SUGGESTION_MAX + 1)
    assert validate(form(kind=kind, suggestion=too_long), PARA)[1] == {"suggestion": "The proposed wording is too long."}
    assert validate(form(kind=kind, suggestion="字" * comment_form.SUGGESTION_MAX), PARA)[1] == {}


@pytest.mark.parametrize("kind", ["edit", "insert"])
def test_wording_that_only_repeats_the_paragraph_is_refused(kind):
    assert validate(form(kind=kind, suggestion=PARA["text"]), PARA)[1] == {
        "suggestion": "The proposed wording is the same as the current text."}
    assert validate(form(kind=kind, suggestion=PARA["text"] + "新增"), PARA)[1] == {}


def test_a_table_rows_empty_last_cell_survives_the_trimming():
    values, errors = validate(form(kind="edit", suggestion="1\t高新技术产业营业收入\t亿元\t1200\t"), ROW)
    assert errors == {} and values["suggestion"] == "1\t高新技术产业营业收入\t亿元\t1200\t"
    values, errors = validate(form(kind="edit", suggestion="X\t身份证号\t\t"), ROW)
    assert errors == {} and values["suggestion"] == "X\t身份证号\t\t"  # only spaces and line ends go
    values, _ = validate(form(kind="edit", suggestion="  新的文字\t"), PARA)
    assert values["suggestion"] == "新的文字"  # in a paragraph a trailing tab is only whitespace


def test_the_body_is_required_and_at_most_five_thousand_characters():
    assert validate(form(body=" \n "), PARA)[1] == {"body": "Write your comment."}
    assert validate(form(body="意" * 5000), PARA)[1] == {}
    assert validate(form(body="意" * 5001), PARA)[1] == {"body": "The comment is too long (at most 5,000 characters)."}


def test_the_name_is_at_most_fifty_characters():
    assert validate(form(name="名" * 50), PARA)[1] == {}
    assert validate(form(name="名" * 51), PARA)[1] == {"name": "The name is too long (at most 50 characters)."}


@pytest.mark.parametrize("contact", ["13800138000", "+86 13800138000", "0817-2223280", "0817—2223280",
                                     "028 86123456", "zhang.san@example.com", ""])
def test_a_phone_number_or_e_mail_address_is_taken_as_contact(contact):
    assert validate(form(contact=contact), PARA)[1] == {}


@pytest.mark.parametrize("contact", ["12345", "23800138000", "zhang@", "@example.com", "zhang@example",
                                     "a@b.c", "1380013800", "138001380001", "x" * 90 + "@example.com"])
def test_anything_else_as_contact_is_refused_with_an_example(contact):
    assert set(validate(form(contact=contact), PARA)[1]) == {"contact"}


def test_a_quote_is_located_in_the_paragraph_or_refused():
    values, errors = validate(form(quote="建城史2200多年"), PARA)
    assert errors == {} and values["quote_start"] == PARA["text"].index("建城史")
    values, errors = validate(form(quote="南充"), PARA)
    assert errors == {} and values["quote_start"] == 0  # at the very start is a position, not "none"
    assert set(validate(form(quote="不在这里"), PARA)[1]) == {"quote"}
    assert set(validate(form(quote="南充"), None)[1]) == {"quote"}  # the whole draft has no text to quote
    long_quote = PARA["text"] * 30
    assert validate(form(quote=long_quote), {**PARA, "text": long_quote})[1] == {
        "quote": "The quoted phrase is too long (at most 500 characters)."}


def test_a_quote_found_twice_is_anchored_at_its_first_place():
    text = "加快建设创新型城市,建设创新型城市示范区。"
    values, errors = validate(form(quote="创新型城市"), {**PARA, "text": text})
    assert errors == {} and values["quote_start"] == text.index("创新型城市") == 4


@pytest.mark.parametrize("kind", [" edit ", "edit\n"])
def test_a_kind_with_white_space_around_it_is_still_that_kind(kind):
    values, errors = validate(form(kind=kind, suggestion="新的文字。"), PARA)
    assert errors == {} and values["kind"] == "edit"


def test_a_quote_of_exactly_five_hundred_characters_is_taken():
    text = "字" * 500
    assert validate(form(quote=text), {**PARA, "text": text})[1] == {}



def test_an_e_mail_address_of_exactly_one_hundred_characters_is_taken_and_one_more_is_not():
    address = "a" * 64 + "@" + "b" * 32 + ".cn"
    assert len(address) == comment_form.CONTACT_MAX == 100
    assert validate(form(contact=address), PARA)[1] == {}
    longer = "a" * 64 + "@" + "b" * 33 + ".cn"
    assert validate(form(contact=longer), PARA)[1] == {"contact": (
        "Enter a phone number (e.g. 13800138000 or 0817-2223280) or an e-mail address, or leave it empty.")}


# --- a department's reply names its officer (经办人) and phone (联系电话), issue #12 ---

def reply(**fields):
    return form(**{"officer_name": "李 明", "officer_phone": "0817-2223280", **fields})


def test_a_departments_reply_keeps_its_officer_and_phone_cleaned():
    values, errors = validate(reply(officer_name="  李\u200b明 \n 科长 ", officer_phone=" 13800138000 "), PARA,
                              department=True)
    assert errors == {}
    assert (values["officer_name"], values["officer_phone"]) == ("李明 科长", "13800138000")


def test_a_public_comment_has_no_officer_fields_even_if_sent():
    values, errors = validate(reply(), PARA)
    assert errors == {} and "officer_name" not in values and "officer_phone" not in values


@pytest.mark.parametrize("fields, expected", [
    ({"officer_name": " "}, {"officer_name": "Name the officer handling this reply (经办人)."}),
    ({"officer_name": "名" * 51}, {"officer_name": "The name is too long (at most 50 characters)."}),
    ({"officer_name": "名" * 50}, {}),
    ({"officer_phone": ""}, {"officer_phone": "Give the officer's phone number (联系电话), e.g. 0817-2223280."}),
    ({"officer_phone": "li@example.com"}, {"officer_phone": "Enter a phone number, e.g. 0817-2223280 or 13800138000."}),
    ({"officer_phone": "12345"}, {"officer_phone": "Enter a phone number, e.g. 0817-2223280 or 13800138000."}),
    ({"officer_name": "", "officer_phone": ""}, {
        "officer_name": "Name the officer handling this reply (经办人).",
        "officer_phone": "Give the officer's phone number (联系电话), e.g. 0817-2223280."}),
])
def test_a_departments_reply_without_a_proper_officer_or_phone_is_asked_again(fields, expected):
    assert validate(reply(**fields), PARA, department=True)[1] == expected


def test_an_officer_phone_may_carry_an_extension_and_its_spaces_are_cleaned():
    assert validate(reply(officer_phone="0817-2223280-12345"), PARA, department=True)[1] == {}
    values, errors = validate(reply(officer_phone="0817  2223280"), PARA, department=True)
    assert errors == {} and values["officer_phone"] == "0817 2223280"


# --- a table row proposed one cell per input (issue #16) ---

def cells(*texts):
    return {f"cell-{i}": t for i, t in enumerate(texts)}


def test_a_rows_cells_are_joined_by_tabs_each_trimmed_and_a_tab_inside_a_cell_is_a_space():
    values, errors = validate(form(kind="edit", **cells(" 1 ", "高新技术\t产业营业收入", "亿元\u3000", "1300\n", "")), ROW)
    assert errors == {}
    assert values["suggestion"] == "1\t高新技术 产业营业收入\t亿元\t1300\t"


def test_a_cells_own_line_break_stays_in_the_cell():
    values, _ = validate(form(kind="edit", **cells("1", "第一行\r\n第二行", "亿元", "1100", "")), ROW)
    assert values["suggestion"] == "1\t第一行\n第二行\t亿元\t1100\t"


def test_cells_beyond_the_rows_are_ignored_and_missing_ones_are_empty():
    values, _ = validate(form(kind="edit", **cells("2", "x", "亿元", "1100", "", "extra")), ROW)
    assert values["suggestion"] == "2\tx\t亿元\t1100\t"
    values, _ = validate(form(kind="edit", **{"cell-0": "2"}), ROW)
    assert values["suggestion"] == "2\t\t\t\t"


def test_cells_unchanged_are_the_same_as_the_current_text():
    values, errors = validate(form(kind="edit", **cells(*ROW["text"].split("\t"))), ROW)
    assert errors == {"suggestion": "The proposed wording is the same as the current text."}


def test_cell_inputs_count_only_on_a_table_row():
    values, errors = validate(form(kind="edit", suggestion="新的文字", **cells("a", "b")), PARA)
    assert errors == {} and values["suggestion"] == "新的文字"


# --- what commenting.submit stores ---

@pytest.fixture
def c(db):
    from revise.store import consultations as consultation_store

    return consultation_store.by_slug(db, "nanchong-2022")


@pytest.fixture
def para(db, c):
    from revise.store import blocks as block_store

    return next(b for b in block_store.of_consultation(db, c["id"]) if b["text"].startswith("南充历史底蕴深厚"))


def _submit(db, c, block, token="t1", department=None, attachment=None, **fields):
    from revise import commenting
    from revise.security import Signer

    values = {"kind": "remark", "body": "建议补充。", "suggestion": "", "quote": "", "quote_start": None,
              "name": "王五", "contact": "13800138000", **fields}
    return commenting.submit(db, c, block, values, form_token=Signer(b"k").form_token() if token else token,
                             department=department, attachment=attachment)


def test_a_public_comment_waits_for_moderation_unless_the_consultation_publishes_at_once(db, c, para):
    comment, created = _submit(db, c, para)
    assert created and (comment["source"], comment["status"], comment["name"]) == ("public", "pending", "王五")
    assert (comment["contact"], comment["block_id"], comment["block_rev"]) == ("13800138000", para["id"], para["rev"])
    comment, _ = _submit(db, dict(c, publish_immediately=1), para)
    assert comment["status"] == "published"


def test_a_department_comment_carries_its_name_never_a_contact_and_waits(db, c, para):
    from revise import departments

    department_id, _ = departments.add(db, c, "市发展改革委", "test")
    department = db.table("departments").get(department_id)
    comment, _ = _submit(db, dict(c, publish_immediately=1), para, department=department)
    assert (comment["source"], comment["status"], comment["name"], comment["contact"]) == (
        "department", "pending", "市发展改革委", "")
    assert comment["department_id"] == department_id


def test_a_comment_on_a_paragraph_of_another_draft_or_a_deleted_one_is_refused(db, c, para):
    from revise import commenting

    for block in (dict(para, consultation_id=c["id"] + 1), dict(para, deleted=1)):
        with pytest.raises(commenting.Refused) as refused:
            _submit(db, c, block)
        assert (refused.value.status, refused.value.message) == (404, "This paragraph is not part of the draft.")
    assert db.table("comments").count == 0


def test_a_quote_is_anchored_where_it_was_written(db, c, para):
    comment, _ = _submit(db, c, para, quote="建城史", quote_start=para["text"].index("建城史"))
    assert (comment["quote"], comment["quote_start"]) == ("建城史", para["text"].index("建城史"))
    assert (comment["anchor_start"], comment["anchor_rev"], comment["anchor_state"]) == (
        para["text"].index("建城史"), para["rev"], "ok")
    plain, _ = _submit(db, c, para)
    assert (plain["quote"], plain["anchor_start"], plain["anchor_rev"], plain["anchor_state"]) == (None,) * 4


def test_a_comment_on_the_whole_draft_has_no_block(db, c):
    comment, _ = _submit(db, c, None)
    assert (comment["block_id"], comment["block_rev"], comment["anchor_rev"]) == (None, None, None)


def test_moderation_publishes_or_withholds_and_is_audited(db, c, para):
    from revise import commenting

    ids = [_submit(db, c, para)[0]["id"], _submit(db, c, para)[0]["id"]]
    assert commenting.moderate(db, c, ids, True, "张编辑") == 2
    assert {r["status"] for r in db.table("comments").rows} == {"published"}
    assert commenting.moderate(db, c, ids[:1], False, "张编辑") == 1
    assert db.table("comments").get(ids[0])["status"] == "hidden"
    events = list(db.table("audit").rows_where("action = ?", ["comment.moderate"]))
    assert {e["actor"] for e in events} == {"张编辑"} and len(events) == 3
    assert all(e["consultation_id"] == c["id"] and e["at"] for e in events)


# --- the row a comment becomes (commenting.prepare), and what the writer does after inserting it ---

OPEN_C = {"id": 7, "opens_at": "2022-10-08T00:00:00Z", "closes_at": "2022-10-14T16:00:00Z", "publish_immediately": 0,
          "round_id": 3, "version_id": 5}
BLOCK = {"id": 9, "consultation_id": 7, "rev": 2, "kind": "paragraph", "text": "南充历史底蕴深厚,建城史2200多年。"}
VALUES = {"kind": "edit", "name": "王五", "contact": "13800138000", "body": "建议补充。", "suggestion": "新的文字",
          "quote": "", "quote_start": None, "officer_name": "李明", "officer_phone": "0817-2223280"}


def _prepare(consultation=OPEN_C, block=BLOCK, department=None, **values):
    from revise import commenting
    from revise.timeutil import from_text

    return commenting.prepare(consultation, block, {**VALUES, **values}, form_token="tok",
                              department=department, now=from_text("2022-10-10T02:30:00Z"))


def test_a_public_comment_becomes_exactly_this_row():
    assert _prepare() == {
        "consultation_id": 7, "block_id": 9, "block_rev": 2, "kind": "edit", "source": "public",
        "department_id": None, "name": "王五", "contact": "13800138000", "officer_name": None, "officer_phone": None,
        "body": "建议补充。", "suggestion": "新的文字", "quote": None, "quote_start": None, "anchor_start": None,
        "anchor_rev": None, "anchor_state": None, "form_token": "tok", "status": "pending",
        "created_at": "2022-10-10T02:30:00Z", "round_id": 3, "version_id": 5}


def test_a_departments_comment_carries_its_name_and_officer_never_a_contact():
    row = _prepare(department={"id": 4, "name": "市发展改革委"})
    assert {k: row[k] for k in ("source", "department_id", "name", "contact", "officer_name", "officer_phone",
                                "status")} == {
        "source": "department", "department_id": 4, "name": "市发展改革委", "contact": "",
        "officer_name": "李明", "officer_phone": "0817-2223280", "status": "pending"}
    published_at_once = _prepare(consultation={**OPEN_C, "publish_immediately": 1}, department={"id": 4, "name": "x"})
    assert published_at_once["status"] == "pending"  # an editor reads a department's reply first


def test_a_public_comment_is_published_at_once_only_where_the_consultation_says_so():
    assert _prepare(consultation={**OPEN_C, "publish_immediately": 1})["status"] == "published"


def test_a_quoted_comment_is_anchored_on_the_revision_it_was_written_on():
    row = _prepare(quote="建城史", quote_start=9)
    assert {k: row[k] for k in ("quote", "quote_start", "anchor_start", "anchor_rev", "anchor_state")} == {
        "quote": "建城史", "quote_start": 9, "anchor_start": 9, "anchor_rev": 2, "anchor_state": "ok"}


def test_a_comment_on_the_whole_draft_takes_the_consultations_version():
    row = _prepare(block=None, kind="remark")
    assert (row["block_id"], row["block_rev"], row["anchor_rev"], row["version_id"]) == (None, None, None, 5)
    on_a_published_block = _prepare(block={**BLOCK, "version_id": 6})
    assert on_a_published_block["version_id"] == 6  # the version the block was shown in


def test_a_consultation_without_rounds_gives_no_round_or_version():
    bare = {k: v for k, v in OPEN_C.items() if k not in ("round_id", "version_id")}
    row = _prepare(consultation=bare)
    assert (row["round_id"], row["version_id"]) == (None, None)


@pytest.mark.parametrize("block", [{**BLOCK, "consultation_id": 8}, {**BLOCK, "deleted": 1}])
def test_a_block_of_another_draft_or_deleted_is_refused_before_anything_is_made(block):
    from revise import commenting

    with pytest.raises(commenting.Refused) as refused:
        _prepare(block=block)
    assert (refused.value.status, str(refused.value)) == (404, "This paragraph is not part of the draft.")


def test_a_department_left_out_of_the_round_is_refused():
    from revise import commenting

    with pytest.raises(commenting.Refused) as refused:
        _prepare(department={"id": 4, "name": "x", "left_out": 1})
    assert (refused.value.status, refused.value.message) == (
        403, "Your department is not on the roster of this round of consultation: nothing was recorded.")


def test_the_writer_stores_a_web_comments_attachment_and_queues_it_for_grouping(db, c, para):
    from revise import commenting
    from revise.attachments import Attachment
    from revise.store import comments as comment_store

    file = Attachment("意见.pdf", "application/pdf", 4, "ab" * 32, b"%PDF")
    values = {**VALUES, "kind": "remark", "suggestion": ""}
    row = commenting.prepare(c, para, values, form_token="w1")
    comment, created = comment_store.insert_once(db, row, then=commenting.then_web(row, file))
    assert created
    stored = list(db.table("attachments").rows_where("comment_id = ?", [comment["id"]]))
    assert [(a["filename"], a["media_type"], a["size"], a["data"], a["created_at"]) for a in stored] == [
        ("意见.pdf", "application/pdf", 4, b"%PDF", row["created_at"])]
    assert [q["comment_id"] for q in db.table("grouping_queue").rows] == [comment["id"]]
    plain = commenting.prepare(c, para, values, form_token="w2")
    comment, _ = comment_store.insert_once(db, plain, then=commenting.then_web(plain))
    assert db.table("attachments").count == 1 and db.table("grouping_queue").count == 2


def test_submit_stores_the_attachment_with_the_comment(db, c, para):
    from revise.attachments import Attachment

    file = Attachment("附件.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 3,
                      "cd" * 32, b"PK\x03")
    comment, _ = _submit(db, c, para, attachment=file)
    assert [a["filename"] for a in db.table("attachments").rows_where("comment_id = ?", [comment["id"]])] == ["附件.docx"]



def test_a_quote_written_on_a_block_revised_since_is_placed_in_the_editors_text(db, c, para):
    """A public page may show the published text while editors have already changed the block:
    the writer moves the new comment's anchor to where the quoted words now are (issue #12)."""
    from revise import commenting, revising
    from revise.store import comments as comment_store

    published = dict(para)  # the block as the public saw it
    revising.edit_block(db, c, para["id"], "总体来看," + para["text"], base_number=para["rev"],
                        author={"id": 1, "display_name": "张编辑"})
    quote_start = para["text"].index("建城史")
    values = {**VALUES, "kind": "remark", "suggestion": "", "quote": "建城史", "quote_start": quote_start}
    for then in (commenting.then_web, None):
        row = commenting.prepare(c, published, values, form_token=f"q{then is None}")
        if then is None:
            comment, _ = _submit(db, c, published, quote="建城史", quote_start=quote_start)
        else:
            comment, _ = comment_store.insert_once(db, row, then=then(row))
        stored = db.table("comments").get(comment["id"])
        assert (stored["anchor_start"], stored["anchor_rev"], stored["anchor_state"]) == (
            quote_start + len("总体来看,"), para["rev"] + 1, "ok")


def test_submit_groups_a_repeated_letter_with_the_first_at_once(db, c, para):
    letter = "我们坚决支持建设省级创新型城市,建议加大对科技型中小企业的扶持力度,完善人才引进政策。"
    first, _ = _submit(db, c, para, body=letter)
    second, _ = _submit(db, c, para, body=letter)
    groups = [db.table("comments").get(x["id"])["group_id"] for x in (first, second)]
    assert groups[0] is not None and groups[0] == groups[1]


def test_a_form_token_used_again_returns_the_first_comment_and_records_nothing(db, c, para):
    from revise import commenting

    values = {"kind": "remark", "body": "建议补充。", "suggestion": "", "quote": "", "quote_start": None,
              "name": "王五", "contact": ""}
    first, created = commenting.submit(db, c, para, values, form_token="same-token")
    again, created_again = commenting.submit(db, c, para, {**values, "body": "第二次"}, form_token="same-token")
    assert (created, created_again, again["id"], again["body"]) == (True, False, first["id"], "建议补充。")
    assert db.table("comments").count == 1


def test_no_quote_means_no_anchor_whatever_position_is_sent_and_an_unplaced_quote_is_not_ok():
    row = _prepare(quote="", quote_start=3)
    assert (row["quote"], row["anchor_start"], row["anchor_rev"], row["anchor_state"]) == (None, None, None, None)
    unplaced = _prepare(quote="建城史", quote_start=None)
    assert (unplaced["quote"], unplaced["anchor_state"]) == ("建城史", None)


def test_a_department_that_commented_files_no_changes_only_by_withdrawing_them(db, c, para):
    from revise import commenting, departments

    department_id, _ = departments.add(db, c, "市科技局", "test")
    department = db.table("departments").get(department_id)
    _submit(db, c, para, department=department)
    with pytest.raises(commenting.Refused) as refused:
        commenting.file_no_comment(db, c, department)
    assert refused.value.status == 409
    assert db.table("departments").get(department_id)["no_comment_at"] is None
    assert commenting.file_no_comment(db, c, department, withdraw_comments=True) is True
    assert db.table("departments").get(department_id)["no_comment_at"] is not None
