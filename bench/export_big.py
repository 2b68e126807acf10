"""Exports at the big size (issue #11): each file against the same export with no comments and python-docx.

    .venv/bin/python bench/export_big.py DATA [--only plan.docx,plan-tracked.docx,report.xlsx,report.docx]

DATA is a data folder built by bench/bigcase.py. A second folder with the same draft (same seed
and paragraph count) and no comments is built in a temporary folder. Each export runs in its
own child process as a user runs it — `server.py --data D export SLUG --clean/--tracked/--report F`
(revise's command line, called in the child as server.main(argv), timed from the call) — so its
peak memory is the child's own (VmHWM, interpreter and imports included). An export still
running after --timeout seconds is stopped and reported as not done. The
floor: python-docx opening and saving the draft .docx in a child process the same way.
Prints time, peak memory and file size for each, and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

CHILD_EXPORT = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import server
argv = json.loads(sys.argv[2])
start = time.perf_counter()
code = server.main(argv)
seconds = time.perf_counter() - start
hwm = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
print("RESULT " + json.dumps({"code": code, "seconds": seconds, "peak_mb": hwm}))
"""

CHILD_DOCX = """
import io, json, sys, time
import docx
data = open(sys.argv[1], "rb").read()
start = time.perf_counter()
out = io.BytesIO()
docx.Document(io.BytesIO(data)).save(out)
open(sys.argv[2], "wb").write(out.getvalue())
seconds = time.perf_counter() - start
hwm = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024
print("RESULT " + json.dumps({"code": 0, "seconds": seconds, "peak_mb": hwm}))
"""

OPTION = {"plan.docx": "--clean", "plan-tracked.docx": "--tracked", "report.xlsx": "--report",
          "report.docx": "--report", "report.csv": "--report"}


def child(code: str, args: list[str], out: Path, timeout: float, cwd: Path = ROOT) -> dict:
    """Run a child; its RESULT line (seconds, peak memory in MB), CPU time and the output file's size.

    Peak memory is the child's VmHWM read by itself at the end: getrusage's ru_maxrss of a child
    also counts this parent's size at fork time. A child still running after `timeout` is killed
    and reported as {"timeout": seconds}.
    """
    with tempfile.TemporaryFile("w+") as so, tempfile.TemporaryFile("w+") as se:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, stdout=so, stderr=se, text=True)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            hwm = _hwm(proc.pid)
            proc.kill()
            proc.wait()
            return {"timeout": timeout, "peak_mb": hwm, "seconds": float("inf"), "size_mb": 0}
        so.seek(0)
        se.seek(0)
        stdout, stderr = so.read(), se.read()
    found = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not found:
        raise SystemExit(f"child failed ({proc.returncode}):\n{stdout}\n{stderr[-3000:]}")
    result = json.loads(found[-1][7:])
    result["size_mb"] = out.stat().st_size / 2**20 if out.exists() else 0
    return result


def _hwm(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/status").read_text().split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        return float("nan")


def export(data: Path, slug: str, name: str, out: Path, timeout: float, tree: Path = ROOT) -> dict:
    argv = ["--data", str(data), "export", slug, OPTION[name], str(out)]
    return child(CHILD_EXPORT, [str(tree), json.dumps(argv)], out, timeout, cwd=tree)


def seconds(r: dict) -> str:
    if "timeout" in r:
        return f"not done after {r['timeout']:.0f} s"
    return f"{r['seconds']:.2f} s"


def texts(path: Path) -> list[str]:
    import docx

    return [p.text for p in docx.Document(str(path)).paragraphs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--only", default="plan.docx,plan-tracked.docx,report.xlsx,report.docx")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the revise checkout to run (default: this one)")
    parser.add_argument("--timeout", type=float, default=900, help="give up on one export after this many seconds")
    args = parser.parse_args()
    from bigcase import build

    data = args.data.resolve()
    info = json.loads((data / "bigcase.json").read_text(encoding="utf-8"))
    names = args.only.split(",")
    results = {"comments": info["comments"]}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        empty = tmp / "empty"
        # The same seed and paragraph count give the same draft: the RNG draws it before any comment.
        build(empty, 0, info.get("paragraphs", 1000), info["seed"], quiet=True)
        if texts(empty / "bigcase-draft.docx") != texts(data / "bigcase-draft.docx"):
            print("note: the no-comment case's draft differs from DATA's (another --paragraphs or --seed?)")
        floor = child(CHILD_DOCX, [str(data / "bigcase-draft.docx"), str(tmp / "floor.docx")], tmp / "floor.docx",
                      args.timeout)
        results["python-docx open+save"] = floor
        print(f"python-docx open+save of the draft: {floor['seconds']:.2f}s, peak {floor['peak_mb']:.0f} MB", flush=True)
        rows = []
        for name in names:
            big = export(data, info["slug"], name, tmp / f"big-{name}", args.timeout, args.tree.resolve())
            none = export(empty, info["slug"], name, tmp / f"none-{name}", args.timeout, args.tree.resolve())
            results[name] = {"big": big, "no_comments": none}
            print(f"{name}: {info['comments']} comments {seconds(big)}, peak {big['peak_mb']:.0f} MB, "
                  f"{big['size_mb']:.1f} MB | no comments {seconds(none)}, peak {none['peak_mb']:.0f} MB", flush=True)
            rows.append((name, big, none))
    print()
    print(f"Exports at {info['comments']} comments, each in its own process (peak = VmHWM of that process):")
    print("| export | at N comments | no comments | ratio | python-docx open+save | ratio |\n|---|---|---|---|---|---|")
    for name, big, none in rows:
        print(f"| {name} | {seconds(big)}, {big['peak_mb']:.0f} MB peak, {big['size_mb']:.1f} MB file | "
              f"{seconds(none)}, {none['peak_mb']:.0f} MB | {big['seconds'] / none['seconds']:.1f}× | "
              f"{seconds(floor)}, {floor['peak_mb']:.0f} MB | {big['seconds'] / floor['seconds']:.0f}× |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
