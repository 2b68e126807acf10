"""Form letters and near-duplicates: comments grouped as they arrive (MinHash + LSH banding).

The text of a comment is normalised (NFKC, lower case, letters and digits only), cut into
overlapping 3-character shingles (Chinese needs no word segmentation: a shingle of three
characters spans a word or two), each hashed to 32 bits. A 128-value MinHash signature is
computed by one-permutation hashing with optimal densification (Li et al. 2012; Shrivastava
2017): each shingle is hashed once into one of 128 bins and each bin keeps its minimum; an
empty bin borrows the value of the first filled bin in a fixed random order of bins. Two
signatures agree in a bin with probability equal to the Jaccard similarity of the shingle
sets, like 128 independent permutations, at a fraction of the cost in pure Python (measured by
bench/grouping.py: 128 separate hash functions take ~2.6 ms for a 230-character letter, 25
times this whole fingerprint and more than a whole comment submission).

LSH: the signature is cut into 32 bands of 4 values; comments that agree on a whole band
share its key, so the candidates for a new comment are 32 indexed lookups. A pair of
similarity s shares at least one band with probability 1-(1-s^4)^32: 0.988 at 0.6, 0.9999 at
0.7, 0.87 at 0.5, 0.23 at 0.3 and 0.05 at 0.2 (the S-curve's midpoint (1/32)^(1/4) = 0.42 sits
below the threshold, so few pairs above it are missed; candidates below it are dropped by the
confirmation). A candidate is confirmed when the signatures agree in at least 60 % of bins
(THRESHOLD: a letter with a sentence added or a name changed scores 0.8-0.97, punctuation
changes 1.0, another comment on the same topic below 0.1; two comments quoting the same
passage with different opinions around it ~0.4, below the line; the estimate's standard
deviation at 0.6 is 0.04).

Texts under MIN_CHARS normalised characters ("同意", "支持") carry too little text to compare:
they are grouped only with exact duplicates (after normalisation) on the same paragraph. The
kind and the proposed wording are part of every key: comments group only when they propose
the same change. A new comment joins the group of its best match; groups are never merged,
so a decision recorded on one group is never silently extended to another's members.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import sys
import unicodedata
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import eq

from sqlite_utils import Database

from revise.store import groups as group_store
from revise.store import writing
from revise.timeutil import utc_now_text

log = logging.getLogger(__name__)

SHINGLE = 3  # characters per shingle
BINS = 128  # signature length
BANDS, ROWS = 32, 4  # BANDS * ROWS == BINS
THRESHOLD = 0.6  # estimated Jaccard similarity at which two comments are the same letter
MIN_CHARS = 20  # shorter normalised texts group only with exact duplicates
EXACT_BAND = -1  # the band number of exact-duplicate keys (short texts)
PER_BAND = 8  # rows read per band key (the oldest: a group's first members)
MAX_CHECK = 12  # candidates confirmed against their signatures, those sharing most bands first
PER_GROUP = 3  # of which at most this many from one group: more members of it would only confirm it again

_NOT_WORD = re.compile(r"[\W_]+")
_rng = random.Random(20240601)  # fixed seed: signatures must be the same in every process
_BIN_A, _BIN_B = _rng.getrandbits(64) | 1, _rng.getrandbits(64)
_VALUE_A, _VALUE_B = _rng.getrandbits(64) | 1, _rng.getrandbits(64)
_BORROW = [_rng.sample(range(BINS), BINS) for _ in range(BINS)]  # densification order per bin
_MASK64 = (1 << 64) - 1
_EMPTY = 1 << 32  # above every 32-bit value
assert array("I").itemsize == 4, "signatures are stored as 32-bit values"


def normalise(text: str) -> str:
    """NFKC, lower case, letters and digits only: punctuation, spaces and symbols do not count."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text or "").casefold())


def shingles(text: str, size: int = SHINGLE) -> set[int]:
    """The 32-bit hashes of every run of `size` characters of a normalised text."""
    if len(text) <= size:
        return {zlib.crc32(text.encode())} if text else set()
    return {zlib.crc32(text[i:i + size].encode()) for i in range(len(text) - size + 1)}


def signature(hashes: Iterable[int]) -> array | None:
    """A 128-value MinHash signature (one permutation hashing, densified); None for no shingles."""
    bins = [_EMPTY] * BINS
    for x in hashes:
        # Two multiply-shift hashes (a fixed-seed universal family): the bin from the top 7 bits
        # of one, the value from the top 32 bits of the other.
        b = ((x * _BIN_A + _BIN_B) & _MASK64) >> 57
        v = ((x * _VALUE_A + _VALUE_B) & _MASK64) >> 32
        if v < bins[b]:
            bins[b] = v
    if _EMPTY not in bins:
        return array("I", bins)
    if all(v == _EMPTY for v in bins):
        return None
    # Optimal densification: an empty bin takes the value of the first filled bin in its own
    # fixed random order, the same for every text, so two texts agree there with probability J.
    out = array("I", [0]) * BINS
    for i, v in enumerate(bins):
        if v == _EMPTY:
            for j in _BORROW[i]:
                if bins[j] != _EMPTY:
                    v = bins[j]
                    break
        out[i] = v
    return out


def to_bytes(sig: array) -> bytes:
    """A signature as stored: 128 little-endian 32-bit values."""
    if sys.byteorder == "big":
        sig = array("I", sig)
        sig.byteswap()
    return sig.tobytes()


def from_bytes(data: bytes) -> array:
    sig = array("I")
    sig.frombytes(data)
    if sys.byteorder == "big":
        sig.byteswap()
    return sig


def similarity(a: array, b: array) -> float:
    """Estimated Jaccard similarity: the share of bins where two signatures agree."""
    return sum(map(eq, a, b)) / BINS


def _key(*parts: bytes) -> int:
    """A signed 64-bit key (an SQLite integer) for a band or an exact text."""
    digest = hashlib.blake2b(b"\x1f".join(parts), digest_size=8, person=b"revise-lsh").digest()
    return int.from_bytes(digest, "big", signed=True)


def band_keys(sig: array, context: bytes) -> list[tuple[int, int]]:
    """(band, key) for each band of ROWS values; the context (kind, wording) is in every key."""
    raw = to_bytes(sig)
    width = ROWS * sig.itemsize
    return [(band, _key(context, bytes([band]), raw[band * width:(band + 1) * width])) for band in range(BANDS)]


@dataclass(frozen=True)
class Fingerprint:
    """What is stored for a comment: its signature (None when too short) and its lookup keys."""

    signature: array | None
    keys: list[tuple[int, int]]


def fingerprint(comment: dict) -> Fingerprint:
    """Signature and keys of a comment's body, in the context of its kind and proposed wording."""
    context = f"{comment.get('kind') or ''}\x1f{normalise(comment.get('suggestion') or '')}".encode()
    text = normalise(comment.get("body") or "")
    if len(text) < MIN_CHARS:
        # Too little text to compare: only the same words on the same paragraph are the same.
        exact = text or "".join(unicodedata.normalize("NFKC", comment.get("body") or "").split())
        if not exact:
            return Fingerprint(None, [])
        block = str(comment.get("block_id") or "").encode()
        return Fingerprint(None, [(EXACT_BAND, _key(context, block, exact.encode()))])
    sig = signature(shingles(text))
    return Fingerprint(sig, band_keys(sig, context))


def place(db: Database, comment: dict) -> int | None:
    """Group a newly recorded comment with its closest earlier one; return its group id (or None)."""
    found = fingerprint(comment)  # computed outside the write lock
    with writing(db):
        return _place(db, comment, found)


def _place(db: Database, comment: dict, found: Fingerprint) -> int | None:
    cid, comment_id = comment["consultation_id"], comment["id"]
    hits = [h for h in group_store.band_hits(db, cid, found.keys, PER_BAND) if h[2] != comment_id]
    best = _best_match(db, found, hits)
    group_id = None
    if best is not None:
        best_id, group_id = best
        if group_id is None:
            group_id = group_store.new_group(db, cid, [best_id], utc_now_text())
        group_store.join(db, group_id, [comment_id])
        # A key another member of the group already holds adds nothing: skipping it keeps the
        # rows per key few however large a campaign grows (identical letters add none).
        held = {(band, key) for band, key, other, other_group in hits
                if other == best_id or (other_group is not None and other_group == group_id)}
        keys = [k for k in found.keys if k not in held]
    else:
        keys = found.keys
    sig = to_bytes(found.signature) if found.signature is not None else None
    group_store.save(db, cid, comment_id, sig, keys)
    return group_id


def _best_match(db: Database, found: Fingerprint, hits: list[tuple]) -> tuple[int, int | None] | None:
    """(comment id, group id) of the most similar earlier comment at or above the threshold."""
    if not hits:
        return None
    groups = {other: other_group for _, _, other, other_group in hits}
    if found.signature is None:  # exact-duplicate keys: any hit is the same text; take the oldest
        first = min(groups)
        return first, groups[first]
    shared = Counter(other for _, _, other, _ in hits)
    per_group: Counter = Counter()
    candidates = []
    for i in sorted(shared, key=lambda i: (-shared[i], i)):
        if groups[i] is None or per_group[groups[i]] < PER_GROUP:
            per_group[groups[i]] += 1
            candidates.append(i)
    candidates = candidates[:MAX_CHECK]
    scored = [(similarity(found.signature, from_bytes(sig)), i)
              for i, sig in group_store.signatures(db, candidates).items() if sig]
    # Best score; between equals the one already in a group, then the oldest.
    scored = [(s, groups[i] is not None, -i) for s, i in scored if s >= THRESHOLD]
    if not scored:
        return None
    best = -max(scored)[2]
    return best, groups[best]


def place_missing(db: Database, consultation_id: int) -> int:
    """Group the comments not yet placed (recorded before grouping, or when it failed); return how many."""
    done = 0
    for comment in group_store.unplaced(db, consultation_id):
        place(db, comment)
        done += 1
    return done


def drain_queue(db: Database, limit: int) -> int:
    """Place up to `limit` queued comments in one write transaction; how many left the queue.

    Fingerprints are computed first, outside the write lock. Inside it a comment is placed only
    if it is still queued (another worker process may have placed it meanwhile). A comment that
    cannot be placed is logged and left ungrouped (place_missing can try again); it leaves the
    queue either way, so one bad comment never blocks the others.
    """
    prints = []
    for comment in group_store.queued(db, limit):
        try:
            prints.append((comment, fingerprint(comment)))
        except Exception:
            log.exception("could not fingerprint comment %s", comment["id"])
            prints.append((comment, None))
    if not prints:
        return 0
    with writing(db):
        for comment, found in prints:
            if not group_store.dequeue(db, comment["id"]) or found is None:
                continue
            db.execute("savepoint grouping")
            try:
                _place(db, comment, found)
            except Exception:
                log.exception("could not group comment %s", comment["id"])
                db.execute("rollback to grouping")
            db.execute("release grouping")
    return len(prints)


def placer(row: dict) -> Callable[[Database, dict], None]:
    """The grouping of a comment about to be recorded, for store.comments.insert_once(then=...).

    The signature is computed now, outside the write lock; the placing runs inside the
    comment's own transaction under a savepoint, so the comment and its group commit together
    (one fsync) and a failure undoes only the grouping: it is logged, the comment is recorded
    ungrouped and place_missing() can place it later.
    """
    try:
        found = fingerprint(row)
    except Exception:  # grouping helps editors; the comment itself must be recorded
        log.exception("could not fingerprint a comment")
        return lambda db, comment: None

    def place_here(db: Database, comment: dict) -> None:
        db.execute("savepoint grouping")
        try:
            comment["group_id"] = _place(db, comment, found)
        except Exception:
            log.exception("could not group comment %s", comment.get("id"))
            comment["group_id"] = None
            db.execute("rollback to grouping")
        db.execute("release grouping")

    return place_here
