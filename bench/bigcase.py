"""Build the deadline-day case of issue #11 in a data folder: a 1,000-paragraph draft and N comments.

    .venv/bin/python bench/bigcase.py DATA [--comments 1000000] [--paragraphs 1000] [--seed 11]
                                           [--grouping known|none] [--published-share 0.9]

Reproducible (seeded RNG, fixed clock offsets: only the window moves with today's date so the
consultation is open when the benches POST). DATA must not hold a database yet.

1. A generated draft .docx (python-docx): headings at three levels numbered 一、/(一)/1. as in
   docs/draft.docx, body paragraphs of sentences taken from the seed text
   (../shared/seed/*.txt), and a few tables; imported through revise.drafts.import_draft, the
   path `server.py import` takes. The .docx is also left in DATA/bigcase-draft.docx.
2. Departments on the roster (revise.departments.add) and an editor account
   (revise.accounts.create_account; user "bench", password in DATA/bigcase.json).
3. N comments through revise.store.bulk.insert_comments: varied Chinese text built from a
   vocabulary of a few hundred phrases cut from the seed text, mixed into sentence frames,
   plus form-letter campaigns (copies of 200 templates with small edits, about 12 % of all),
   spread over the blocks with a skew (a few paragraphs draw most comments), over kinds
   (edit/delete/insert/remark), sources and channels (public web, departments, the ledger's
   letters/hotline/meetings/e-mail), statuses (pending/published/hidden) and dispositions
   (pending/adopted/partly/rejected/reflected, reasons where the rules require them), with
   created_at spread over the part of the window already past, in id order.
   Grouping: campaign copies are put in one group per template (the generator knows them);
   with --grouping known (default) every comment is marked placed with no signature (never a
   candidate for later comments); with --grouping none all are left for grouping.place_missing.

Prints the time each step took and writes DATA/bigcase.json (slug, counts, the editor's
password) for bench/scale.py and bench/export_big.py.
"""

from __future__ import annotations

import argparse
import bisect
import io
import json
import random
import re
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import docx  # noqa: E402

from revise import accounts, departments, drafts  # noqa: E402
from revise.security import RECEIPT_ALPHABET, RECEIPT_LENGTH  # noqa: E402
from revise.settings import Settings  # noqa: E402
from revise.store import bulk, open_database  # noqa: E402
from revise.store import consultations as consultation_store  # noqa: E402
from revise.window import Window  # noqa: E402

SEED_DIR = ROOT.parent / "shared" / "seed"
SLUG = "big-2024"
EDITOR, EDITOR_PASSWORD = "bench", "bench-password-2024"
CN_NUM = "一二三四五六七八九十"
_CJK = re.compile(r"[\u4e00-\u9fff]")

# Sentence frames a commenter writes in; {p} and {q} are phrases from the seed text.
FRAMES = [
    "建议将“{p}”修改为“{q}”。", "关于{p},建议进一步明确具体措施。", "{p}的提法过于笼统,建议细化。",
    "建议补充{p}的量化指标。", "{p}和{q}应当统筹考虑。", "请说明{p}的统计口径。", "建议删除“{p}”。",
    "我认为{p}很重要,但{q}还不够具体。", "{p}这一条写得好,希望尽快落实。", "建议增加{p}方面的内容。",
    "对{p}有不同意见:{q}的目标偏高。", "应明确{p}的牵头单位和完成时限。", "{p}与上位规划的表述不一致。",
    "希望在{p}中体现{q}。", "作为本地居民,我关心{p}。", "{p}的资金来源是什么?", "建议{p}优先考虑{q}。",
    "同意{p},建议同时做好{q}。", "{p}部分文字有误,请核对。", "建议将{p}放到{q}之前表述。",
]
OPENINGS = ["", "", "", "您好,", "尊敬的编制组:", "我是一名教师,", "作为企业代表,", "本人在高新区工作,",
            "看了征求意见稿,", "提一点建议:"]
CLOSINGS = ["", "", "", "谢谢!", "以上建议供参考。", "望采纳。", "盼复。", "此致敬礼!"]
SHORT = ["同意", "支持", "赞成!", "很好", "没有意见", "同意此条", "建议保留", "支持!!"]
REASONS_REJECTED = ["与上位规划不一致,不予采纳。", "超出本方案范围,不予采纳。", "相关内容已由其他文件规定。",
                    "目标值经测算确定,暂不调整。"]
REASONS_PARTLY = ["已吸收部分意见,调整了相关表述。", "采纳其中关于时间表的建议。", "部分采纳,量化指标另行制定。"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力"
DEPARTMENTS = ["市发展改革委", "市经济和信息化局", "市教育局", "市财政局", "市人力资源社会保障局", "市自然资源规划局",
               "市生态环境局", "市住房城乡建设局", "市交通运输局", "市农业农村局", "市商务局", "市文化广电旅游局",
               "市卫生健康委", "市市场监管局", "市统计局", "市金融工作局", "南充高新区管委会", "顺庆区人民政府",
               "高坪区人民政府", "嘉陵区人民政府"]
EDITORS = ["张编辑", "李审核", "王科长"]


# --- the seed text: sentences for the draft, phrases for the comments ---

def seed_text() -> str:
    files = sorted(SEED_DIR.glob("*.txt"))
    if not files:
        raise SystemExit(f"no seed text in {SEED_DIR}")
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def seed_sentences(text: str) -> list[str]:
    """Sentences of 15-160 characters, mostly Chinese, in order of appearance, without repeats."""
    seen, out = set(), []
    for raw in re.split(r"(?<=[。;!?])|\n", text):
        s = raw.strip()
        if 15 <= len(s) <= 160 and len(_CJK.findall(s)) > 0.7 * len(s) and s not in seen:
            seen.add(s)
            out.append(s if s[-1] in "。;!?" else s + "。")
    return out


def seed_phrases(text: str, rng: random.Random, n: int = 400) -> list[str]:
    """A vocabulary of n phrases (3-14 characters) cut from the seed text at punctuation."""
    pieces = {p.strip() for p in re.split(r"[,。;:、()()《》“”\"'!?\s\d.%%—-]+", text)}
    good = sorted(p for p in pieces if 3 <= len(p) <= 14 and all(_CJK.match(ch) for ch in p))
    return rng.sample(good, min(n, len(good)))


# --- the draft ---

def build_draft(paragraphs: int, rng: random.Random, sentences: list[str]) -> bytes:
    """~`paragraphs` paragraphs: headings 一、/(一)/1. (Heading 1-3), body text, a table every ~150."""
    d = docx.Document()
    d.add_paragraph("南充市创新发展行动方案(2024-2026年)", style="Title")
    d.add_paragraph("征求意见稿")
    count = 2
    h1 = 0
    while count < paragraphs:
        h1 += 1
        d.add_heading(f"{_cn(h1)}、{rng.choice(sentences)[:12].rstrip('。,;')}", level=1)
        count += 1
        for h2 in range(1, rng.randint(4, 8) + 1):
            if count >= paragraphs:
                break
            d.add_heading(f"({_cn(h2)}){rng.choice(sentences)[:14].rstrip('。,;')}", level=2)
            count += 1
            for h3 in range(1, rng.randint(2, 5) + 1):
                if count >= paragraphs:
                    break
                d.add_heading(f"{h3}.{rng.choice(sentences)[:10].rstrip('。,;')}", level=3)
                count += 1
                for _ in range(rng.randint(3, 7)):
                    if count >= paragraphs:
                        break
                    d.add_paragraph("".join(rng.sample(sentences, rng.randint(1, 3))))
                    count += 1
                if rng.random() < 0.05:
                    _table(d, rng)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _cn(n: int) -> str:
    if n <= 10:
        return CN_NUM[n - 1]
    return ("" if n < 20 else CN_NUM[n // 10 - 1]) + "十" + (CN_NUM[n % 10 - 1] if n % 10 else "")


def _table(d, rng: random.Random) -> None:
    rows = rng.randint(5, 10)
    table = d.add_table(rows=rows, cols=4)
    header = ["指标", "2022年", "2024年目标", "责任单位"]
    for c, text in enumerate(header):
        table.cell(0, c).text = text
    for r in range(1, rows):
        table.cell(r, 0).text = f"指标{r}"
        table.cell(r, 1).text = str(rng.randint(10, 900))
        table.cell(r, 2).text = str(rng.randint(100, 2000))
        table.cell(r, 3).text = rng.choice(DEPARTMENTS)


# --- the comments ---

class Writer:
    """Varied comment text from the vocabulary; form-letter templates and their copies."""

    def __init__(self, rng: random.Random, phrases: list[str]):
        self.rng, self.phrases = rng, phrases
        self.templates = [[self.sentence() for _ in range(rng.randint(6, 10))] for _ in range(200)]

    def sentence(self) -> str:
        r = self.rng
        return r.choice(FRAMES).format(p=r.choice(self.phrases), q=r.choice(self.phrases))

    def name(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2))))

    def body(self) -> str:
        r = self.rng
        if r.random() < 0.04:
            return r.choice(SHORT)
        text = "".join(self.sentence() for _ in range(r.choice((1, 1, 2, 2, 3, 4, 6))))
        return r.choice(OPENINGS) + text + r.choice(CLOSINGS)

    def letter(self, t: int) -> str:
        """A copy of campaign letter t with small edits (a sentence added or dropped, a name, punctuation)."""
        r = self.rng
        parts = list(self.templates[t])
        if r.random() < 0.5:
            parts.insert(r.randrange(len(parts) + 1), self.sentence())
        if r.random() < 0.1:
            parts.pop(r.randrange(len(parts)))
        text = "尊敬的编制组:" + "".join(parts) + "此致敬礼!居民" + self.name()
        return text.replace(",", ", ").replace("。", "!") if r.random() < 0.2 else text


def receipt_of(i: int) -> str:
    """A unique receipt code for comment number i (an odd multiplier is a bijection mod 32^10)."""
    n = (i * 0x9E3779B97F4A7C15 + 12345) % (32 ** RECEIPT_LENGTH)
    out = []
    for _ in range(RECEIPT_LENGTH):
        n, d = divmod(n, 32)
        out.append(RECEIPT_ALPHABET[d])
    return "".join(out)


def comments(n: int, cid: int, blocks: list[dict], dept_ids: list[tuple[int, str]], opens: datetime,
             now: datetime, rng: random.Random, writer: Writer, published_share: float):
    """Yield n comment rows (with "group" for campaign copies, "extra_blocks" for some ledger entries)."""
    order = list(blocks)
    rng.shuffle(order)
    cum, total = [], 0.0
    for rank in range(len(order)):  # Zipf-like: the first paragraphs in `order` draw most comments
        total += 1.0 / (rank + 1) ** 1.05
        cum.append(total)
    span = int((now - opens).total_seconds()) - 60
    # Arrival times sorted so ids follow time; fewer early on, a surge near the deadline-day end.
    times = sorted(int(span * rng.random() ** 0.6) for _ in range(n))
    campaign_blocks = [order[rng.randrange(min(40, len(order)))] for _ in writer.templates]
    for i in range(n):
        at = opens + timedelta(seconds=times[i])
        created = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        r = rng.random()
        group = None
        block = order[bisect.bisect_left(cum, rng.random() * total)] if rng.random() > 0.04 else None
        if r < 0.12:  # a campaign copy: remark on its template's paragraph
            t = rng.randrange(len(writer.templates))
            block, kind, body, suggestion, group = campaign_blocks[t], "remark", writer.letter(t), "", ("letter", t)
        else:
            body = writer.body()
            kind = "remark" if block is None else rng.choices(("edit", "remark", "delete", "insert"), (35, 40, 10, 15))[0]
            suggestion = ""
            if kind == "edit":
                suggestion = _edited(block, writer, rng)
                if suggestion is None:
                    kind = "remark"
                    suggestion = ""
            elif kind == "insert":
                suggestion = writer.sentence() + writer.sentence()
        quote = quote_start = None
        if kind in ("edit", "delete", "remark") and block is not None and block["kind"] != "table_row" and rng.random() < 0.3:
            text = block["text"]
            if len(text) > 12:
                quote_start = rng.randrange(0, len(text) - 8)
                quote = text[quote_start:quote_start + rng.randint(4, 8)]
        s = rng.random()
        channel, received_on, entered_by, extra = "web", None, None, None
        if s < 0.85:
            source, dept = "public", None
            p = rng.random()
            status = "published" if p < published_share else ("pending" if p < published_share + (1 - published_share) * 0.7 else "hidden")
        elif s < 0.93:
            source, dept = "department", rng.choice(dept_ids)
            status = "pending"
        else:  # entered by staff from the ledger's other channels
            channel = rng.choice(("letter", "hotline", "meeting", "email", "other"))
            dept = rng.choice(dept_ids) if rng.random() < 0.2 else None
            source = "department" if dept else "public"
            status = "published" if rng.random() < 0.5 else "pending"
            received_on = (at + timedelta(hours=8) - timedelta(days=rng.randint(0, 3))).date().isoformat()
            entered_by = "editor:" + EDITOR
            if block is not None and rng.random() < 0.2:
                extra = sorted({b["id"] for b in rng.sample(blocks, rng.randint(1, 3))} - {block["id"]})
        d = rng.random()
        disposition = "pending" if d < 0.5 else "adopted" if d < 0.65 else "partly" if d < 0.75 else "rejected" if d < 0.9 else "reflected"
        reason = None
        if disposition == "partly":
            reason = rng.choice(REASONS_PARTLY)
        elif disposition == "rejected":
            reason = rng.choice(REASONS_REJECTED)
        elif disposition in ("adopted", "reflected") and rng.random() < 0.3:
            reason = "已在修改稿中体现。"
        decided = disposition != "pending"
        anonymous = source == "public" and channel == "web" and rng.random() < 0.6
        yield {
            "consultation_id": cid, "block_id": block["id"] if block else None, "block_rev": 0 if block else None,
            "kind": kind, "source": source, "department_id": dept[0] if dept else None,
            "name": dept[1] if dept else ("" if anonymous else writer.name()),
            "contact": f"13{rng.randrange(10**9):09d}" if source == "public" and rng.random() < 0.3 else "",
            "body": body, "suggestion": suggestion, "quote": quote, "quote_start": quote_start,
            "anchor_start": quote_start, "anchor_rev": 0 if quote else None, "anchor_state": "ok" if quote else None,
            "receipt": receipt_of(i), "form_token": f"bulk-{i}", "status": status, "created_at": created,
            "disposition": disposition, "disposition_reason": reason,
            "decided_by": rng.choice(EDITORS) if decided else None,
            "decided_at": (at + timedelta(hours=rng.randint(1, 48))).strftime("%Y-%m-%dT%H:%M:%SZ") if decided else None,
            "channel": channel, "received_on": received_on, "late_reason": None, "entered_by": entered_by,
            "group": group, "extra_blocks": extra,
        }


def _edited(block: dict, writer: Writer, rng: random.Random) -> str | None:
    """A proposed wording: the block's text with a phrase replaced, added or cut."""
    text = block["text"]
    if block["kind"] == "table_row":
        return text + "(调整)"
    if len(text) < 6:
        return None
    at = rng.randrange(len(text) - 4)
    choice = rng.random()
    if choice < 0.5:
        return text[:at] + rng.choice(writer.phrases) + text[at + rng.randint(1, 4):]
    if choice < 0.8:
        return text[:at] + rng.choice(writer.phrases) + text[at:]
    return text[:at] + text[at + rng.randint(2, 6):] or text + "。"


# --- putting it together ---

def build(data: Path, n: int, paragraphs: int = 1000, seed: int = 11, grouping: str = "known",
          published_share: float = 0.9, quiet: bool = False) -> dict:
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    settings = Settings(data_dir=data)
    if settings.db_path.exists():
        raise SystemExit(f"{settings.db_path} exists: give an empty data folder")
    rng = random.Random(seed)
    started = time.perf_counter()
    cpu_started = time.process_time()
    text = seed_text()
    sentences = seed_sentences(text)
    phrases = seed_phrases(text, rng)
    draft = build_draft(paragraphs, rng, sentences)
    data.mkdir(parents=True, exist_ok=True)
    (data / "bigcase-draft.docx").write_bytes(draft)
    t_draft = time.perf_counter()
    say(f"draft: {len(draft) // 1024} KB .docx from {len(sentences)} seed sentences in {t_draft - started:.1f}s")

    now = datetime.now(timezone.utc).replace(microsecond=0)
    opens = now - timedelta(days=10)
    db = open_database(settings.db_path)
    cid = drafts.import_draft(db, draft, filename="bigcase-draft.docx", slug=SLUG, window=Window(opens, now + timedelta(days=30)),
                              settings=settings, title="南充市创新发展行动方案(2024-2026年)(征求意见稿)",
                              issuer="南充市科学技术局", notice="公开征求意见(基准测试用的生成数据)", contact="0817-2223280",
                              published_on=opens.date().isoformat())
    consultation = consultation_store.by_id(db, cid)
    blocks = list(db.query("select id, kind, text from blocks where consultation_id = ? order by position", [cid]))
    kinds = {}
    for b in blocks:
        kinds[b["kind"]] = kinds.get(b["kind"], 0) + 1
    dept_ids = [(departments.add(db, consultation, name, "cli:bench")[0], name) for name in DEPARTMENTS]
    accounts.create_account(db, EDITOR, "基准编辑", "editor", EDITOR_PASSWORD, "cli:bench")
    t_import = time.perf_counter()
    say(f"imported through revise.drafts.import_draft: {len(blocks)} blocks {kinds} in {t_import - t_draft:.1f}s")

    writer = Writer(rng, phrases)
    rows = comments(n, cid, blocks, dept_ids, opens, now, rng, writer, published_share)
    inserted = bulk.insert_comments(db, rows, grouping=grouping)
    t_comments = time.perf_counter()
    stored, indexed = bulk.check_fts(db)
    say(f"{inserted} comments through revise.store.bulk.insert_comments in {t_comments - t_import:.1f}s "
        f"({inserted / max(t_comments - t_import, 1e-9):.0f}/s); full-text index {indexed}/{stored} rows")
    db.execute("analyze")
    db.execute("pragma wal_checkpoint(truncate)")
    counts = {
        "by_status": dict(db.execute("select status, count(*) from comments where consultation_id = ? group by status", [cid]).fetchall()),
        "published_public": db.execute("select count(*) from comments where consultation_id = ? and source = 'public' "
                                       "and status = 'published'", [cid]).fetchone()[0],
        "groups": db.execute("select count(*) from comment_groups where consultation_id = ?", [cid]).fetchone()[0],
    }
    db.close()
    info = {"slug": SLUG, "consultation_id": cid, "comments": inserted, "blocks": len(blocks), "block_kinds": kinds,
            "paragraphs": paragraphs,
            "editor": EDITOR, "password": EDITOR_PASSWORD, "seed": seed, "grouping": grouping,
            "opens_at": opens.strftime("%Y-%m-%dT%H:%M:%SZ"), "built_seconds": round(time.perf_counter() - started, 1),
            "built_cpu_seconds": round(time.process_time() - cpu_started, 1),
            "db_bytes": settings.db_path.stat().st_size, **counts}
    (data / "bigcase.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    say(f"total {info['built_seconds']}s ({info['built_cpu_seconds']}s of CPU in this process); database {info['db_bytes'] / 2**20:.0f} MB; "
        f"published public comments {counts['published_public']}; groups {counts['groups']}; by status {counts['by_status']}")
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path, help="an empty data folder to build in")
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--paragraphs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--grouping", choices=bulk.GROUPING_MODES, default="known")
    parser.add_argument("--published-share", type=float, default=0.9,
                        help="share of public web comments published (the rest pending or hidden)")
    args = parser.parse_args()
    build(args.data, args.comments, args.paragraphs, args.seed, args.grouping, args.published_share)


if __name__ == "__main__":
    main()
