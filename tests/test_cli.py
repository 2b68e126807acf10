"""The command line: import and list drafts, change windows, and refuse ordinary mistakes with a
message in the user's language (zh-CN by default, English when the locale asks for it)."""

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import docx
import pytest

import server
from revise.store import connect
from revise.store import consultations as consultation_store

ROOT = Path(__file__).resolve().parent.parent
LOCALE_VARIABLES = ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE")
EN = {"LANG": "en_US.UTF-8"}


def run(*args, env=None, cwd=None, input=""):
    """server.py run as a user runs it: a new process, no locale unless `env` gives one."""
    clean = {k: v for k, v in os.environ.items() if k not in (*LOCALE_VARIABLES, "REVISE_DATA")}
    return subprocess.run([sys.executable, str(ROOT / "server.py"), *map(str, args)], env=dict(clean, **(env or {})),
                          cwd=cwd, input=input, capture_output=True, text=True, timeout=120)


def _docx(path, *paragraphs):
    document = docx.Document()
    document.add_heading("总则", level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(path)
    return path


@pytest.fixture
def data(tmp_path):
    """A data folder holding one consultation, `plan`."""
    folder = tmp_path / "d"
    assert server.main(["--data", str(folder), "import", str(_docx(tmp_path / "plan.docx", "正文。")), "--slug", "plan"]) == 0
    return folder


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


# --- help, language, options in any order -------------------------------------------------------

def _actions(parser: argparse.ArgumentParser, path=("server.py",)):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest for choice in action._choices_actions if choice.help}
            for name, sub in action.choices.items():
                yield path + (name,), "(command)", name in helped
                yield from _actions(sub, path + (name,))
        elif not isinstance(action, argparse._HelpAction):
            yield path, action.option_strings[0] if action.option_strings else action.dest, bool(action.help)


def test_every_command_and_option_has_help_text():
    from revise.cli import build_parser

    found = list(_actions(build_parser()))
    assert len(found) > 60  # every command, every option of every command
    assert [(" ".join(path), name) for path, name, helped in found if not helped] == []


@pytest.mark.parametrize("env, words", [
    ({}, ("用法", "数据目录")),
    (EN, ("usage:", "data folder")),
    ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, ("usage:", "data folder")),
    ({"LANGUAGE": "en", "LANG": "C.UTF-8"}, ("usage:", "data folder")),
    ({"LANG": "C.UTF-8"}, ("用法", "数据目录")),
])
def test_help_follows_the_users_locale(env, words):
    result = run("list", "--help", env=env)
    assert result.returncode == 0
    for word in words:
        assert word in result.stdout


def test_argparse_errors_follow_the_users_locale():
    zh, en = run("window", env={}), run("window", env=EN)
    assert zh.returncode == en.returncode == 2
    assert "错误" in zh.stderr and "缺少以下参数" in zh.stderr
    assert "error: the following arguments are required" in en.stderr


def test_data_may_be_given_before_or_after_the_command(data):
    before, after = run("--data", data, "list"), run("list", "--data", data)
    assert before.returncode == after.returncode == 0
    assert before.stdout == after.stdout and before.stdout.startswith("plan\t")
    nested = run("departments", "plan", "list", "--data", data), run("accounts", "list", "--data", data)
    assert [r.returncode for r in nested] == [0, 0]


@pytest.mark.parametrize("argv", [["--port", "8123", "serve"], ["serve", "--port", "8123"], ["--port", "8123"]])
def test_serve_options_may_stand_before_or_after_serve(argv):
    from revise.cli import build_parser

    args = build_parser().parse_args(["--data", "x", *argv])
    assert args.port == 8123 and args.data == Path("x") and args.run.__name__ == "cmd_serve"


@pytest.mark.parametrize("argv", [
    ["list"],
    ["window", "plan", "--opens", "2024-03-01", "--closes", "2024-03-02"],
    ["departments", "plan", "list"],
    ["moderate", "plan"],
    ["export", "plan", "--report", "r.csv"],
    ["accounts", "list"],
    ["backup", "b.db"],
])
def test_commands_other_than_serve_and_import_never_create_a_database(tmp_path, argv):
    result = run(*argv, env=EN, cwd=tmp_path)
    assert result.returncode == 2
    assert f"There is no database at {tmp_path / 'data' / 'revise.db'}" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []  # no data folder, no file


# --- ordinary mistakes: a message and exit status 2, nothing half done -------------------------

@pytest.mark.parametrize("argv, en, zh", [
    (["import", "/nonexistent.docx", "--slug", "x"], "Not imported: cannot read /nonexistent.docx: it does not exist",
     "未导入:无法读取 /nonexistent.docx:不存在"),
    (["export", "plan", "--clean", "missing-folder/x.docx"], "the folder missing-folder does not exist",
     "目录 missing-folder 不存在"),
    (["backup", "missing-folder/b.db"], "the folder missing-folder does not exist", "目录 missing-folder 不存在"),
    (["window", "nope", "--opens", "2024-03-01", "--closes", "2024-03-02"], "No consultation is named nope.", "nope"),
    (["export", "nope", "--clean", "x.docx"], "No consultation is named nope.", "nope"),
    (["departments", "nope", "add", "财政局"], "No consultation is named nope.", "nope"),
    (["moderate", "nope"], "No consultation is named nope.", "nope"),
    (["accounts", "add", "alice", "--name", "A"], "No password on standard input", "标准输入中没有密码"),
    (["export", "plan", "--report", "r.pdf"], "The report is written as .docx, .xlsx or .csv", ".xlsx"),
])
def test_an_ordinary_mistake_is_a_message_and_exit_status_2(data, tmp_path, argv, en, zh):
    for env, words in ((EN, en), ({}, zh)):
        result = run("--data", data, *argv, env=env, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x.docx").exists()


def test_a_data_folder_that_cannot_be_created_is_a_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("--data", blocker / "d", "import", _docx(tmp_path / "p.docx", "正文。"), "--slug", "p", env=EN)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and str(blocker) in result.stderr


def test_two_different_passwords_piped_in_are_refused(data):
    different = run("--data", data, "accounts", "add", "alice", "--name", "Alice", env=EN,
                    input="first-password-123\nsecond-password-123\n")
    assert different.returncode == 2 and "The two passwords differ" in different.stderr
    assert connect(data / "revise.db").table("accounts").count == 0
    same = run("--data", data, "accounts", "add", "alice", "--name", "Alice",
               input="first-password-123\nfirst-password-123\n")
    assert same.returncode == 0 and "alice" in same.stdout
    assert connect(data / "revise.db").table("accounts").count == 1


def _roster(data):
    return sorted(r[0] for r in sqlite3.connect(data / "revise.db").execute("select name from departments"))


def test_a_department_already_on_the_roster_adds_none_of_the_others(data):
    assert run("--data", data, "departments", "plan", "add", "财政局").returncode == 0
    result = run("--data", data, "departments", "plan", "add", "教育局", "财政局")
    assert result.returncode == 2 and "财政局" in result.stderr and "/d/" not in result.stdout
    assert _roster(data) == ["财政局"]
    twice = run("--data", data, "departments", "plan", "add", "教育局", "教育局", env=EN)
    assert twice.returncode == 2 and "named more than once" in twice.stderr
    assert _roster(data) == ["财政局"]
    both = run("--data", data, "departments", "plan", "add", "教育局", "科技局")
    assert both.returncode == 0 and both.stdout.count("/d/") == 2
    assert _roster(data) == sorted(["教育局", "财政局", "科技局"])


def test_new_link_for_an_unknown_department_replaces_no_link(data):
    run("--data", data, "departments", "plan", "add", "财政局")
    before = sqlite3.connect(data / "revise.db").execute("select token_hash from departments").fetchall()
    result = run("--data", data, "departments", "plan", "new-link", "财政局", "不存在局")
    assert result.returncode == 2 and "不存在局" in result.stderr
    assert sqlite3.connect(data / "revise.db").execute("select token_hash from departments").fetchall() == before


# --- export: any number of files in one run -------------------------------------------------------

def test_export_writes_every_file_asked_for_in_one_run(data, tmp_path):
    import openpyxl

    out = tmp_path / "out"
    out.mkdir()
    result = run("export", "plan", "--data", data, "--report", out / "a.docx", "--report", out / "b.xlsx",
                 "--report", out / "c.csv", "--clean", out / "plan.docx", "--tracked", out / "tracked.docx")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.docx", "b.xlsx", "c.csv", "plan.docx", "tracked.docx"]
    assert docx.Document(out / "plan.docx").paragraphs[1].text == "正文。"
    assert docx.Document(out / "a.docx").tables  # the report is a table
    assert openpyxl.load_workbook(out / "b.xlsx").active.max_row >= 1


def test_export_checks_every_target_before_writing_any(data, tmp_path):
    result = run("export", "plan", "--data", data, "--clean", tmp_path / "ok.docx", "--report",
                 tmp_path / "missing" / "r.xlsx", env=EN)
    assert result.returncode == 2 and "missing" in result.stderr
    assert not (tmp_path / "ok.docx").exists()


# --- check -----------------------------------------------------------------------------------------

def _check(data, *extra, env=EN):
    result = run("check", "--data", data, *extra, env=env)
    lines = [line.split("\t", 1) for line in result.stdout.splitlines()]
    return result.returncode, {re.split(": |:", rest, maxsplit=1)[0]: mark for mark, rest in lines}, result.stdout


def test_check_reports_one_line_per_item_and_passes_a_healthy_folder(data):
    (data / "secret.key").write_bytes(os.urandom(32))
    (data / "secret.key").chmod(0o600)
    data.chmod(0o700)
    code, status, out = _check(data)
    assert code == 0, out
    assert list(status) == ["data folder", "schema version", "integrity", "free disk space", "secret file",
                            "trusted proxies", "base URL"]
    assert set(status.values()) == {"ok"}
    zh_code, zh_status, _out = _check(data, env={})
    assert zh_code == 0 and list(zh_status)[:2] == ["数据目录", "数据库结构版本"] and set(zh_status.values()) == {"正常"}


def test_check_finds_each_problem(data):
    (data / "secret.key").write_bytes(os.urandom(32))
    (data / "secret.key").chmod(0o644)
    code, status, out = _check(data, "--forwarded-allow-ips", "not-an-ip", "--base-url", "ftp://x")
    assert code == 1
    assert status["secret file"] == status["trusted proxies"] == status["base URL"] == "PROBLEM", out
    assert status["integrity"] == "ok"


def test_check_finds_a_database_written_by_a_newer_revise_and_a_damaged_one(data):
    db = sqlite3.connect(data / "revise.db")
    db.execute("insert into _sqlite_migrations (migration_set, name, applied_at) values ('revise', 'm999_future', 'now')")
    db.commit()
    db.close()
    code, status, out = _check(data)
    assert code == 1 and status["schema version"] == "PROBLEM" and "m999_future" in out
    size = (data / "revise.db").stat().st_size
    with open(data / "revise.db", "r+b") as f:  # scribble over the pages after the first
        f.seek(4096)
        f.write(b"\xff" * (size - 4096))
    code, status, out = _check(data)
    assert code == 1 and status["integrity"] == "PROBLEM"


def test_check_of_a_folder_without_a_database_is_a_problem_and_creates_nothing(tmp_path):
    code, status, out = _check(tmp_path / "nothing")
    assert code == 1 and status["data folder"] == status["database"] == "PROBLEM"
    assert list(tmp_path.iterdir()) == []
