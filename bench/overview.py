"""Issue #13 at scale: the overview (progress, charts) and "my queue" with 1,000,000 comments.

    .venv/bin/python bench/overview.py DATA [--runs 20] [--editors 3] [--reassign]

DATA is a data folder built by bench/bigcase.py; it is CHANGED (work a copy): the first run
creates editor accounts bench-e1.. and gives them the top-level sections in turn (each
assignment timed: it rewrites `assigned_to` of the comments under the section in one
transaction; --reassign: the biggest section handed to another editor and back, with the
longest transaction), and a theme put on 10,000 comments. Then, in process (Starlette's TestClient,
one thread, no network), signed in as the bigcase editor, each page is fetched --runs times and
the median and slowest server times are printed: the overview, my queue (all, and still to be
decided), another editor's queue, the queue filtered by theme.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lxml import html as lxml_html  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from revise import accounts, assignments, themes  # noqa: E402
from revise.app import create_app  # noqa: E402
from revise.settings import Settings  # noqa: E402
from revise.store import assignments as assignment_store  # noqa: E402
from revise.store import consultations as consultation_store  # noqa: E402
from revise.store import open_database  # noqa: E402
from revise.store import queue as queue_store  # noqa: E402


def prepare(data: Path, editors: int, reassign: bool) -> dict:
    t = time.perf_counter()
    db = open_database(data / "revise.db")  # migrations run here (m018 on a database built before it)
    opened = time.perf_counter() - t
    info = json.loads((data / "bigcase.json").read_text(encoding="utf-8"))
    c = consultation_store.by_slug(db, info["slug"])
    made = {"open_and_migrate_s": round(opened, 1), "assign_s": []}
    ids = []
    for i in range(1, editors + 1):
        found = db.execute("select id from accounts where username = ?", [f"bench-e{i}"]).fetchone()
        ids.append(found[0] if found else accounts.create_account(
            db, f"bench-e{i}", f"编辑{i}", "editor", "bench-password-2024", "bench"))
    bench = db.execute("select id from accounts where username = ?", [info["editor"]]).fetchone()[0]
    ids.append(bench)
    top = [h for h in queue_store.headings(db, c["id"]) if h["level"] == 1]
    if not assignment_store.section_map(db, c["id"]):
        totals = queue_store.section_counts(db, c["id"])
        for n, h in enumerate(top):
            t = time.perf_counter()
            moved = assignments.assign_section(db, c, h["id"], ids[n % len(ids)], "bench")
            made["assign_s"].append((totals.get(h["id"], 0), moved, round(time.perf_counter() - t, 2)))
    if not db.execute("select 1 from themes where consultation_id = ?", [c["id"]]).fetchone():
        theme = themes.create(db, c, "交通出行", "bench")
        picked = [r[0] for r in db.execute("select id from comments where consultation_id = ? and id % 100 = 7 "
                                           "limit 10000", [c["id"]])]
        t = time.perf_counter()
        themes.tag(db, c, theme, picked, "bench")
        made["tag_10000_s"] = round(time.perf_counter() - t, 2)
    made["theme"] = db.execute("select id from themes where consultation_id = ?", [c["id"]]).fetchone()[0]
    made["bench_id"], made["other_id"], made["slug"] = bench, ids[0], info["slug"]
    made["mine"] = db.execute("select n from editor_counts where consultation_id = ? and dim = 'assignee' "
                              "and key = ?", [c["id"], str(bench)]).fetchone()
    made["comments"] = db.execute("select count(*) from comments").fetchone()[0]
    made["info"] = info
    if not reassign:
        db.close()
        return made
    # Hand the biggest section to another editor and back: the total time, and the longest
    # transaction (what a comment arriving meanwhile may wait for).
    biggest = max(top, key=lambda h: queue_store.section_counts(db, c["id"]).get(h["id"], 0))
    owner = assignment_store.section_map(db, c["id"]).get(biggest["id"])
    longest = []
    real = assignment_store.writing

    @contextlib.contextmanager
    def timed_writing(database):
        t0 = time.perf_counter()
        with real(database) as inner:
            yield inner
        longest.append(time.perf_counter() - t0)

    assignment_store.writing = timed_writing
    for who in (next(i for i in ids if i != owner), owner):
        t = time.perf_counter()
        moved = assignments.assign_section(db, c, biggest["id"], who, "bench")
        made["assign_s"].append((queue_store.section_counts(db, c["id"]).get(biggest["id"], 0), moved,
                                 round(time.perf_counter() - t, 2)))
    assignment_store.writing = real
    made["longest_transaction_ms"] = round(max(longest) * 1000, 1)
    made["transactions"] = len(longest)
    db.close()
    return made


def timed(client: TestClient, path: str, runs: int) -> tuple[float, float, float, int]:
    """Median and slowest wall time, and the median CPU time of the process (server and client
    threads: on a machine shared with other work the CPU time is the steadier figure)."""
    client.get(path)  # warm (statement cache, pages of the file)
    times, cpu = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        r = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    return statistics.median(times), max(times), statistics.median(cpu), len(r.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--editors", type=int, default=3)
    parser.add_argument("--reassign", action="store_true", help="time handing the biggest section over and back")
    parser.add_argument("--stub-roster", action="store_true",
                        help="the overview without the departments' roster (departments.status answers [])")
    args = parser.parse_args()
    made = prepare(args.data.resolve(), args.editors, args.reassign)
    print(f"{made['comments']:,} comments; open + migrate {made['open_and_migrate_s']} s")
    for total, moved, s in made["assign_s"]:
        print(f"  assign a top-level section of {total:,} comments ({moved:,} changed hands): {s} s")
    if "transactions" in made:
        print(f"  ({made['transactions']} transactions for the last two; the longest held the write lock "
              f"{made['longest_transaction_ms']} ms)")
    if "tag_10000_s" in made:
        print(f"  put a theme on 10,000 comments (audited each): {made['tag_10000_s']} s")
    slug, info = made["slug"], made["info"]
    if args.stub_roster:
        from revise import departments

        departments.status = lambda db, c: []
        print("  (the departments' roster stubbed out: the overview without it)")
    app = create_app(Settings(data_dir=args.data.resolve(), base_url="http://testserver"))
    with TestClient(app) as client:
        page = lxml_html.fromstring(client.get("/editor/sign-in").text)
        csrf = page.xpath("string(//input[@name='csrf']/@value)")
        r = client.post("/editor/sign-in", data={"username": info["editor"], "password": info["password"],
                                                   "csrf": csrf, "next": "/editor"}, follow_redirects=False)
        assert r.status_code == 303, r.status_code
        queue = f"/editor/c/{slug}/comments"
        paths = {
            "overview (progress, charts)": f"/editor/c/{slug}",
            "the queue as before (no filter), for comparison": queue,
            f"my queue (assignee={made['bench_id']}, {made['mine'][0] if made['mine'] else 0:,} comments)":
                f"{queue}?assignee={made['bench_id']}",
            "my queue, still to be decided": f"{queue}?assignee={made['bench_id']}&disposition=pending",
            "another editor's queue": f"{queue}?assignee={made['other_id']}",
            "queue by theme (10,000 tagged)": f"{queue}?theme={made['theme']}",
        }
        redirect = client.get(f"{queue}?mine=1", follow_redirects=False)
        assert redirect.headers["location"].endswith(f"assignee={made['bench_id']}")
        print(f"\n| page | median ms | slowest ms | CPU ms (median) | bytes |  ({args.runs} runs each, in process)"
              "\n|---|---|---|---|---|")
        for name, path in paths.items():
            median, worst, cpu, size = timed(client, path, args.runs)
            print(f"| {name} | {median:.1f} | {worst:.1f} | {cpu:.1f} | {size:,} |", flush=True)


if __name__ == "__main__":
    main()
