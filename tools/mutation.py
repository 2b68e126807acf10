"""Mutation testing of the modules that guard the record (issue #17); not part of CI.

    pip install -e '.[mutation]'
    python tools/mutation.py                      # every module, on a copy of this work tree
    python tools/mutation.py masking window       # some modules
    python tools/mutation.py --source DIR ...     # a copy of another checkout (e.g. a git worktree)
    python tools/mutation.py --progress           # the kill rates of the run in --workdir so far

mutmut rewrites the files it mutates, so this never runs in the work tree: it copies the
tracked and new files of --source (default: this checkout) into --workdir and runs mutmut
there, once per module. Each module gets its own pytest selection (the test files that state
its rules), and mutmut then runs, for each mutant, only the selected tests that call the
mutated function, so a module's run takes minutes on two cores, not hours.

Prints the kill rate per module (killed and timed out / all mutants; "no tests" counts as
survived) and writes, per module, the surviving mutants' diffs to
WORKDIR/results/<module>.txt and the counts to WORKDIR/results/summary.json.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module → the test files that state its rules (files missing in --source are skipped), then
# any other pytest arguments for the selection.
MODULES: dict[str, list[str]] = {
    "revise/masking.py": ["tests/test_masking.py", "tests/test_report.py", "tests/test_public_page.py"],
    "revise/window.py": ["tests/test_window.py", "tests/test_comments.py", "tests/test_departments.py",
                         "tests/test_admin_pages.py"],
    "revise/security.py": ["tests/test_guards.py", "tests/test_security.py", "tests/test_comments.py",
                           "tests/test_public_page.py", "tests/test_departments.py"],
    "revise/web/middleware.py": ["tests/test_guards.py", "tests/test_sessions.py", "tests/test_i18n.py",
                                 "tests/test_public_page.py", "tests/test_comments.py", "tests/test_ledger.py",
                                 "tests/test_request_path.py", "tests/test_public_shortcut.py", "tests/test_access_log.py",
                                 "tests/test_perimeter.py", "tests/test_body_limit_messages.py",
                                 # (the catalog check reads the source, which mutmut fills with "XX…XX" strings)
                                 "-k", "not test_every_message_in_code_and_templates"],
    # the Origin and CSRF token check of every form POST
    "revise/web/csrf.py": ["tests/test_csrf.py", "tests/test_guards.py"],
    # the per-minute limits every worker counts alike (app.state.limiter)
    "revise/store/limits.py": ["tests/test_shared_rate_limits.py", "tests/test_comments.py"],
    "revise/web/auth.py": ["tests/test_guards.py", "tests/test_editor_access.py", "tests/test_accounts.py",
                           "tests/test_sessions.py", "tests/test_signin_throttle.py", "tests/test_admin_pages.py",
                           "tests/test_auth_rules.py"],
    "revise/commenting.py": ["tests/test_window.py", "tests/test_comment_rules.py", "tests/test_comments.py",
                             "tests/test_departments.py",
                             "tests/test_editor.py", "tests/test_public_page.py",
                             # the attachment a public comment carries to the store (_with_attachment)
                             "tests/test_ledger.py"],
    # test_fuzz.py's Hypothesis health checks fail on a loaded machine; its kills are the web tests'.
    "revise/comment_form.py": ["tests/test_comment_rules.py", "tests/test_comments.py", "tests/test_window.py",
                               "tests/test_row_cells.py"],  # a table row's cell inputs (issue #16)
    "revise/triage.py": ["tests/test_dispositions.py", "tests/test_editor.py", "tests/test_report.py"],
    "revise/revising.py": ["tests/test_revising.py", "tests/test_revision_rules.py", "tests/test_workspace.py",
                           "tests/test_anchoring.py", "-k", "not in_a_browser"],
    # LibreOffice round trips take seconds each and add no kills the XML checks miss.
    "revise/docx_runs.py": ["tests/test_docx_runs.py", "tests/test_docx_export.py", "tests/test_exports.py",
                            "tests/test_tracked_marks.py", "-k", "not libreoffice"],
}

# mutmut's "killed", "timeout" and "caught by type check"; -9: the mutant's tests never ended and the
# process was killed (a mutant that makes the tests hang is caught as surely as a timeout).
KILLED = {1, 3, 24, -24, -9, 36, 37, 152, 255}
SKIPPED = {34}


def copy_tree(source: Path, target: Path) -> None:
    """The checkout's tracked and new (not ignored) files, as they are on disk, into target."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=source,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = source / name
        if not src.is_file():
            continue  # deleted but still tracked
        dst = target / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def config(module: str, tests: list[str]) -> str:
    """A setup.cfg [mutmut] section for one module."""
    lines = ["[mutmut]", "source_paths = revise", f"only_mutate = {module}",
             "also_copy =", "    docs/", "    static/", "    tools/", "    server.py",
             "pytest_add_cli_args =", "    -p", "    no:cacheprovider",
             "pytest_add_cli_args_test_selection ="]
    lines += [f"    {t}" for t in tests]
    return "\n".join(lines) + "\n"


def run_module(workdir: Path, module: str, tests: list[str], mutmut: str, children: int,
               only: list[str] = ()) -> dict:
    (workdir / "setup.cfg").write_text(config(module, tests))
    shutil.rmtree(workdir / "mutants", ignore_errors=True)
    log = workdir / "results" / (Path(module).stem + ".log")
    with log.open("w") as out:
        subprocess.run(["nice", "-n", "10", mutmut, "run", "--max-children", str(children), *only], cwd=workdir,
                       stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    meta = workdir / "mutants" / (module + ".meta")
    if not meta.exists():
        return {"module": module, "error": f"mutmut did not finish: see {log}"}
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    if only:  # a subset of the module's functions (see --only)
        codes = {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, pattern) for pattern in only)}
    if not codes or None in codes.values():
        return {"module": module, "error": f"mutmut did not check every mutant: see {log}"}
    counted = {k: v for k, v in codes.items() if v not in SKIPPED}
    survivors = sorted(k for k, v in counted.items() if v not in KILLED)
    with (workdir / "results" / (Path(module).stem + ".txt")).open("w") as out:
        for name in survivors:
            shown = subprocess.run([mutmut, "show", name], cwd=workdir, capture_output=True, text=True)
            out.write(f"# {name} (exit {counted[name]})\n{shown.stdout}\n")
    killed = len(counted) - len(survivors)
    return {"module": module, "mutants": len(counted), "killed": killed,
            "rate": round(100 * killed / len(counted), 1) if counted else None, "survivors": survivors,
            "tests": tests, "only": list(only)}


def progress(workdir: Path) -> None:
    """The modules finished so far and, for the one running, the mutants checked so far."""
    done = json.loads((workdir / "results" / "summary.json").read_text()) if (
        workdir / "results" / "summary.json").exists() else []
    for r in done:
        print(f"{r['module']:28} " + (r.get("error") or f"{r['killed']:4} / {r['mutants']:4} killed  {r['rate']}%"))
    finished = {r["module"] for r in done}
    for meta in sorted((workdir / "mutants").rglob("*.py.meta")):
        module = str(meta.relative_to(workdir / "mutants"))[:-len(".meta")]
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        if module in finished or not codes:
            continue
        checked = {k: v for k, v in codes.items() if v is not None and v not in SKIPPED}
        killed = sum(1 for v in checked.values() if v in KILLED)
        print(f"{module:28} {killed:4} / {len(checked):4} killed of {len(codes)} mutants so far (running)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="e.g. masking window revise/revising.py (default: all)")
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to test (default: this one)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/revise-mutation"),
                        help="where the copy is made and mutmut runs (emptied first)")
    parser.add_argument("--mutmut", default=shutil.which("mutmut") or str(Path(sys.executable).parent / "mutmut"))
    parser.add_argument("--children", type=int, default=2, help="mutants run at once (default 2)")
    parser.add_argument("--only", action="append", default=[],
                        help="mutate only functions matching this mutmut name pattern, e.g. "
                             "'revise.revising.x__check_base__mutmut_*' (repeatable; the rate is then of that subset)")
    parser.add_argument("--progress", action="store_true", help="print the kill rates of a run in --workdir so far")
    args = parser.parse_args()
    if args.progress:
        progress(args.workdir)
        return 0

    wanted = list(MODULES) if not args.modules else [  # in the order asked for: the quick ones first
        m for a in args.modules for m in MODULES if m == a or Path(m).stem == a or m.endswith("/" + a)]
    if not wanted:
        parser.error(f"no such module; choose from {', '.join(Path(m).stem for m in MODULES)}")
    source, workdir = args.source.resolve(), args.workdir.resolve()
    if workdir == source or source in workdir.parents or workdir in source.parents:
        parser.error("--workdir must lie outside the checkout: mutmut rewrites the files it mutates")

    shutil.rmtree(workdir, ignore_errors=True)
    copy_tree(source, workdir)
    (workdir / "results").mkdir()
    summary = []
    for module in wanted:
        tests = [t for t in MODULES[module] if not t.startswith("tests/") or (workdir / t).exists()]
        result = run_module(workdir, module, tests, args.mutmut, args.children, args.only)
        summary.append(result)
        (workdir / "results" / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
        if "error" in result:
            print(f"{module:28} {result['error']}", flush=True)
        else:
            print(f"{module:28} {result['killed']:4} / {result['mutants']:4} killed  {result['rate']}%", flush=True)
    return 0 if all("error" not in r for r in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
