"""Grouping form letters at 100,000 comments: signatures, placing, and one new comment, against a bare insert.

    .venv/bin/python bench/grouping.py [--comments 100000] [--templates 200] [--runs 200]

Builds a fresh database with the Nanchong draft and N comments: 60 % copies of campaign
letters (200 templates of 8-14 sentences, each copy with small edits: another name, often a
sentence added, sometimes other punctuation or a sentence dropped) and 40 % unrelated comments
of 3-6 sentences drawn from 27,000 generated ones. Then, in the same run:

- signatures: revise.grouping.fingerprint over every comment (comments/s), and the classic
  MinHash with 128 hash functions in pure Python on a sample (the cost one-permutation
  hashing avoids);
- placing: grouping.place for every comment in arrival order, each in its own write
  transaction (synchronous=FULL, as the server runs; the path of place_missing) — comments/s;
- one new comment at N: the median time to record (store.comments.insert_once) and group a
  new campaign copy and a new unrelated comment in one transaction, as commenting.submit does,
  and to record one without grouping, against the floor: the bare insert of the same comment
  row in its own transaction;
- the editors' queue page (grouped, the default, and one by one) at N;
- the quality of the groups: copies in their template's largest group, foreign comments in it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from revise import drafts, grouping  # noqa: E402
from revise.settings import Settings  # noqa: E402
from revise.store import comments as comment_store  # noqa: E402
from revise.store import insert, open_database, writing  # noqa: E402
from revise.store import queue as queue_store  # noqa: E402

SUBJECTS = ["城市交通", "嘉陵江生态", "老旧小区改造", "科技创新平台", "乡村振兴", "教育资源配置", "医疗卫生服务",
            "文化旅游", "营商环境", "物流枢纽", "产业园区", "人才引进", "公共交通", "养老服务", "住房保障",
            "数字经济", "农业品牌", "水利设施", "污水处理", "公园绿地", "高新区建设", "临江新区", "研发投入",
            "知识产权", "中小企业融资", "职业教育", "社区治理", "应急管理", "历史文化街区", "新能源汽车"]
ACTIONS = ["建议加大财政投入", "应当明确完成时间表", "需要补充量化指标", "建议适当调整目标", "应与上位规划做好衔接",
           "建议明确牵头单位", "应加强部门之间的协调", "建议分年度细化任务", "需要核实基础数据", "建议扩大覆盖范围",
           "应增加社会资本参与", "建议引入第三方评估", "要充分听取群众意见", "建议优化空间布局", "应加强宣传引导",
           "建议先行开展试点", "需要完善配套政策", "建议提高建设标准", "应加强监督考核", "建议整合现有资源",
           "需要强化要素保障", "建议简化审批流程", "应注重长效运营", "建议加强区域合作", "需要补齐短板弱项",
           "建议设立专项资金", "应控制建设成本", "建议公开进展情况", "需要加强人才支撑", "建议明确责任分工"]
DETAILS = ["避免重复建设", "方便群众办事", "提高资金使用效率", "确保按期完成", "让群众有实实在在的获得感",
           "防止形式主义", "兼顾城乡均衡发展", "守住生态保护红线", "减少对居民生活的影响", "形成可复制的经验",
           "提升整体服务水平", "增强发展后劲", "促进产业转型升级", "保障公平公正", "稳定市场预期",
           "带动周边区域发展", "提高公众满意度", "降低企业运营成本", "推动高质量发展", "增强城市吸引力",
           "发挥示范带动作用", "加快项目落地见效", "补上民生短板", "提升治理能力", "激发市场主体活力",
           "改善人居环境", "保护传统风貌", "增加就业岗位", "提高应急处置能力", "促进共同富裕"]
NAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"


def sentence(rng: random.Random) -> str:
    return f"关于{rng.choice(SUBJECTS)},{rng.choice(ACTIONS)},{rng.choice(DETAILS)}。"


def name(rng: random.Random) -> str:
    return "".join(rng.choice(NAMES) for _ in range(rng.choice((2, 3))))


def copy_of(template: list[str], rng: random.Random) -> str:
    """One copy of a campaign letter with small edits."""
    parts = list(template)
    if rng.random() < 0.5:
        parts.insert(rng.randrange(len(parts) + 1), sentence(rng))
    if rng.random() < 0.1:
        parts.pop(rng.randrange(len(parts)))
    text = "尊敬的编制组:" + "".join(parts) + "此致敬礼!居民" + name(rng)
    if rng.random() < 0.2:
        text = text.replace(",", ", ").replace("。", "!")
    return text


def corpus(n: int, templates: int, rng: random.Random) -> tuple[list[list[str]], list[tuple[int | None, str]]]:
    """The letters, and (letter number or None, body) in arrival order."""
    letters = [[sentence(rng) for _ in range(rng.randint(8, 14))] for _ in range(templates)]
    out = []
    for _ in range(n):
        if rng.random() < 0.6:
            t = rng.randrange(templates)
            out.append((t, copy_of(letters[t], rng)))
        else:
            out.append((None, unrelated(rng)))
    return letters, out


def unrelated(rng: random.Random) -> str:
    return "".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def row(cid: int, body: str, i: int) -> dict:
    return {"consultation_id": cid, "block_id": None, "block_rev": None, "kind": "remark", "source": "public",
            "name": "", "contact": "", "body": body, "suggestion": "", "quote": None, "quote_start": None,
            "receipt": f"R{i:012d}", "form_token": f"t{i}", "status": "pending",
            "created_at": "2024-03-01T00:00:00Z"}


def classic_minhash(text: str, a: list[int], b: list[int]) -> list[int]:
    """MinHash with 128 hash functions (a*x+b mod 2^61-1): the textbook way, for comparison."""
    xs = grouping.shingles(grouping.normalise(text))
    p = (1 << 61) - 1
    return [min([(ai * x + bi) % p for x in xs]) for ai, bi in zip(a, b)]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--templates", type=int, default=200)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        db = open_database(settings.db_path)
        drafts.ensure_default(db, settings)
        cid = db.execute("select id from consultations").fetchone()[0]
        letters, made = corpus(args.comments, args.templates, rng)
        print(f"{args.comments} comments: {sum(t is not None for t, _ in made)} copies of {args.templates} letters, "
              f"the rest unrelated; mean length {statistics.mean(len(b) for _, b in made):.0f} characters")

        start = time.perf_counter()
        for _, body in made:
            grouping.fingerprint({"kind": "remark", "body": body, "suggestion": ""})
        signing = time.perf_counter() - start
        print(f"signatures (normalise, shingles, one-permutation MinHash, 32 band keys): "
              f"{len(made) / signing:,.0f} comments/s = {signing / len(made) * 1000:.3f} ms each")
        draw = random.Random(2)
        a = [draw.randrange(1, (1 << 61) - 1) for _ in range(grouping.BINS)]
        b = [draw.randrange(0, (1 << 61) - 1) for _ in range(grouping.BINS)]
        sample = [body for _, body in made[:500]]
        start = time.perf_counter()
        for body in sample:
            classic_minhash(body, a, b)
        classic = (time.perf_counter() - start) / len(sample)
        print(f"  classic MinHash, 128 hash functions in pure Python: {classic * 1000:.3f} ms each "
              f"({classic / (signing / len(made)):.0f}x)")

        with writing(db):
            db.conn.executemany(
                "insert into comments (consultation_id, kind, source, name, contact, body, suggestion, receipt, "
                "form_token, status, created_at) values (?, 'remark', 'public', '', '', ?, '', ?, ?, 'pending', ?)",
                [(cid, body, f"R{i:012d}", f"t{i}", "2024-03-01T00:00:00Z") for i, (_, body) in enumerate(made)])
        comments = list(db.query("select id, consultation_id, block_id, kind, body, suggestion from comments order by id"))
        start = time.perf_counter()
        for i, comment in enumerate(comments, start=1):
            grouping.place(db, comment)
            if i % 20_000 == 0:
                print(f"  placed {i:,} ({i / (time.perf_counter() - start):,.0f}/s)", flush=True)
        placing = time.perf_counter() - start
        print(f"placing, one write transaction each (synchronous=FULL): {len(comments) / placing:,.0f} comments/s "
              f"= {placing / len(comments) * 1000:.3f} ms each")
        bands = db.execute("select count(*) from comment_bands").fetchone()[0]
        print(f"  band rows: {bands:,} ({bands / len(comments):.1f} per comment; {grouping.BANDS} without sharing)")

        quality(db, made, comments)

        # One new comment through the real path (form-token check, insert, grouping, one commit)
        # against the floor: the bare insert of the same row in its own transaction.
        floor, plain, copies, others = [], [], [], []
        for i in range(args.runs):
            copy = i % 2 == 0
            body = copy_of(rng.choice(letters), rng) if copy else unrelated(rng)
            for n, (samples, then) in enumerate(((floor, None), (plain, None), (copies if copy else others, True))):
                new = row(cid, body, 10_000_000 + 3 * i + n)
                start = time.perf_counter()
                if samples is floor:
                    with writing(db):
                        insert(db, "comments", new)
                else:
                    comment_store.insert_once(db, new, then=grouping.placer(new) if then else None)
                samples.append(time.perf_counter() - start)
        base = median_ms(floor)
        print(f"one new comment at {len(comments):,}: bare insert of the row (floor) {base:.3f} ms; "
              f"recorded without grouping {median_ms(plain):.3f} ms ({median_ms(plain) / base:.1f}x); "
              f"recorded and grouped: a campaign copy {median_ms(copies):.3f} ms ({median_ms(copies) / base:.1f}x), "
              f"an unrelated comment {median_ms(others):.3f} ms ({median_ms(others) / base:.1f}x)")

        for label, filters in (("grouped (default)", queue_store.Filters()),
                               ("one by one", queue_store.Filters(grouped=False)),
                               ("grouped, pending only", queue_store.Filters(disposition="pending")),
                               ("grouped, page 100", queue_store.Filters(page=100))):
            samples = []
            for _ in range(10):
                start = time.perf_counter()
                rows, total = queue_store.page(db, cid, filters)
                samples.append(time.perf_counter() - start)
            print(f"queue page at {len(comments):,}, {label}: {median_ms(samples):.1f} ms ({total:,} rows)")
        db.close()


def quality(db, made: list[tuple[int | None, str]], comments: list[dict]) -> None:
    """How well groups match the templates: copies in their template's largest group, strangers in it."""
    group_of = dict(db.execute("select id, group_id from comments").fetchall())
    by_template: dict[int, Counter] = {}
    members: dict[int, Counter] = {}
    for (t, _), comment in zip(made, comments):
        g = group_of[comment["id"]]
        if t is not None:
            by_template.setdefault(t, Counter())[g] += 1
        if g is not None:
            members.setdefault(g, Counter())[t] += 1
    together = sum(c.most_common(1)[0][1] for c in by_template.values() if c.most_common(1)[0][0] is not None)
    copies = sum(sum(c.values()) for c in by_template.values())
    main = {t: c.most_common(1)[0][0] for t, c in by_template.items()}
    strangers = sum(n for t, g in main.items() if g is not None for k, n in members[g].items() if k != t)
    others = sum(1 for t, _ in made if t is None)
    grouped_others = sum(1 for (t, _), c in zip(made, comments) if t is None and group_of[c["id"]] is not None)
    print(f"groups: {len(members):,}; copies in their letter's largest group {together / copies:.2%}; "
          f"comments of other letters or unrelated in those groups: {strangers}; "
          f"unrelated comments grouped (with each other) {grouped_others / others:.2%}")


if __name__ == "__main__":
    main()
