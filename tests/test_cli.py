"""The command line: import another draft, choose its window, list consultations."""


import docx
import pytest

import server
from revise.store import connect
from revise.store import consultations as consultation_store


def _docx(path, *paragraphs):
    document = docx.Document()
    document.add_heading("总则", level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(path)
    return path


def test_import_creates_a_consultation_with_the_window_given_in_beijing_time(tmp_path, capsys):
    f = _docx(tmp_path / "plan.docx", "第一段。", "第二段。")
    code = server.main(
        ["--data", str(tmp_path / "d"), "import", str(f), "--slug", "plan-2024", "--title", "某某方案",
         "--opens", "2024-03-01 09:00", "--closes", "2024-03-31T00:00:00+08:00"]
    )
    assert code == 0
    assert "plan-2024" in capsys.readouterr().out
    db = connect(tmp_path / "d" / "revise.db")
    c = consultation_store.by_slug(db, "plan-2024")
    assert c["title"] == "某某方案"
    assert c["opens_at"] == "2024-03-01T01:00:00Z"
    assert c["closes_at"] == "2024-03-30T16:00:00Z"
    assert db.table("blocks").count == 3


def test_list_shows_each_consultation_with_its_state(tmp_path, capsys):
    f = _docx(tmp_path / "plan.docx", "正文。")
    data = str(tmp_path / "d")
    server.main(["--data", data, "import", str(f), "--slug", "old", "--opens", "2020-01-01", "--closes", "2020-02-01"])
    server.main(["--data", data, "import", str(f), "--slug", "new"])
    capsys.readouterr()
    assert server.main(["--data", data, "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    states = {line.split("\t")[0]: line.split("\t")[1] for line in lines}
    assert states == {"old": "已结束", "new": "征求中"}


def test_a_file_that_is_not_a_docx_is_refused_with_a_reason(tmp_path, capsys):
    bad = tmp_path / "notes.docx"
    bad.write_text("这不是 Word 文件")
    assert server.main(["--data", str(tmp_path / "d"), "import", str(bad), "--slug", "bad"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("未导入:") and "Traceback" not in err
    assert connect(tmp_path / "d" / "revise.db").table("consultations").count == 0


@pytest.mark.parametrize("slug", ["Has Space", "大写", "-x", ""])
def test_a_bad_short_name_is_refused(tmp_path, capsys, slug):
    f = _docx(tmp_path / "plan.docx", "正文。")
    assert server.main(["--data", str(tmp_path / "d"), "import", str(f), f"--slug={slug}"]) == 2
    assert "未导入" in capsys.readouterr().err


def test_a_window_that_closes_before_it_opens_is_refused(tmp_path, capsys):
    f = _docx(tmp_path / "plan.docx", "正文。")
    code = server.main(["--data", str(tmp_path / "d"), "import", str(f), "--slug", "w",
                        "--opens", "2024-03-02", "--closes", "2024-03-01"])
    assert code == 2
    assert "未导入" in capsys.readouterr().err


def test_changing_the_window_is_written_to_the_audit_log(tmp_path, capsys):
    import json

    f = _docx(tmp_path / "plan.docx", "正文。")
    data = str(tmp_path / "d")
    server.main(["--data", data, "import", str(f), "--slug", "w", "--opens", "2024-03-01", "--closes", "2024-03-08"])
    assert server.main(["--data", data, "window", "w", "--opens", "2024-03-01", "--closes", "2024-03-15 18:00", "--by", "张科长"]) == 0
    db = connect(tmp_path / "d" / "revise.db")
    c = consultation_store.by_slug(db, "w")
    assert c["closes_at"] == "2024-03-15T10:00:00Z"
    (event,) = list(db.table("audit").rows_where("action = 'window.change'"))
    assert event["actor"] == "张科长" and event["at"]
    assert json.loads(event["before"])["closes_at"] == "2024-03-07T16:00:00Z"
    assert json.loads(event["after"])["closes_at"] == "2024-03-15T10:00:00Z"
    assert server.main(["--data", data, "window", "w", "--opens", "2024-03-15", "--closes", "2024-03-01"]) == 2
    assert db.table("audit").count == 1


def test_moderation_from_the_command_line(tmp_path, capsys):
    from revise import commenting
    from revise.security import Signer

    f = _docx(tmp_path / "plan.docx", "正文。")
    data = str(tmp_path / "d")
    server.main(["--data", data, "import", str(f), "--slug", "m"])
    db = connect(tmp_path / "d" / "revise.db")
    c = consultation_store.by_slug(db, "m")
    values = {"kind": "remark", "body": "一条意见", "suggestion": "", "quote": "", "quote_start": None, "name": "", "contact": ""}
    comment, _ = commenting.submit(db, c, None, values, form_token=Signer(b"k").form_token())
    capsys.readouterr()
    assert server.main(["--data", data, "moderate", "m"]) == 0
    assert f"{comment['id']}\t" in capsys.readouterr().out
    assert server.main(["--data", data, "moderate", "m", "--publish", str(comment["id"])]) == 0
    assert db.table("comments").get(comment["id"])["status"] == "published"
    assert server.main(["--data", data, "moderate", "m", "--auto-publish", "on"]) == 0
    assert consultation_store.by_slug(db, "m")["publish_immediately"] == 1
    comment2, _ = commenting.submit(db, consultation_store.by_slug(db, "m"), None, values, form_token=Signer(b"k").form_token())
    assert comment2["status"] == "published"
