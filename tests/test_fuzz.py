"""Hostile and broken input gets a clear refusal, never a crash (property-based, hypothesis).

Counts of inputs tried are printed with -s; the figures go in the closing note of issue #6.
"""

import io
import tracemalloc
import zipfile

import pytest
from conftest import DRAFT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revise.docx_import import ImportRefused, import_docx

ORIGINAL = DRAFT.read_bytes()
MEMORY_BOUND = 200 * 1024 * 1024  # bytes of Python allocations while importing one file


def _parts(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(info, z.read(info)) for info in z.infolist()]


def _rezip(parts, rename=None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info, content in parts:
            name = rename(info.filename) if rename else info.filename
            z.writestr(name, content)
    return buf.getvalue()


def _refused_or_read(data: bytes) -> str:
    """Import the bytes; the only acceptable outcomes are a document or a refusal with a message."""
    tracemalloc.start()
    try:
        document = import_docx(data, max_inflated=50 * 1024 * 1024)
        outcome = f"read {len(document.blocks)}"
    except ImportRefused as refused:
        assert refused.message and refused.code
        outcome = f"refused {refused.code}"
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"peak {peak / 1e6:.0f} MB"
    return outcome


TRIED = {"importer": 0, "forms": 0}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=len(ORIGINAL) - 1))
def test_a_truncated_docx_is_refused(cut):
    TRIED["importer"] += 1
    assert _refused_or_read(ORIGINAL[:cut]).startswith("refused")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corrupted_xml_inside_the_document_is_refused_or_read_never_a_crash(data):
    TRIED["importer"] += 1
    parts = _parts(ORIGINAL)
    index = next(i for i, (info, _) in enumerate(parts) if info.filename == "word/document.xml")
    info, xml = parts[index]
    where = data.draw(st.integers(0, len(xml) - 1))
    junk = data.draw(st.binary(min_size=1, max_size=40))
    mode = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    if mode == "replace":
        xml = xml[:where] + junk + xml[where + len(junk):]
    elif mode == "insert":
        xml = xml[:where] + junk + xml[where:]
    else:
        xml = xml[:where] + xml[where + len(junk):]
    parts[index] = (info, xml)
    _refused_or_read(_rezip(parts))


@settings(max_examples=40, deadline=None)
@given(name=st.binary(min_size=1, max_size=30))
def test_parts_with_non_utf8_names_are_handled(name):
    TRIED["importer"] += 1
    # zipfile only writes UTF-8 or ASCII names: write a placeholder, then put the raw bytes in
    # (local header and central directory), with the UTF-8 flag off, as old zip tools do.
    placeholder = b"Q" * len(name)
    parts = _parts(ORIGINAL) + [(zipfile.ZipInfo(placeholder.decode()), b"<x/>")]
    data = _rezip(parts).replace(placeholder, name)
    _refused_or_read(data)


@settings(max_examples=30, deadline=None)
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_are_refused(data):
    TRIED["importer"] += 1
    assert _refused_or_read(data).startswith("refused")


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    TRIED["importer"] += 1
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for info, content in _parts(ORIGINAL):
            z.writestr(info.filename, content)
        with z.open("word/media/bomb.bin", "w", force_zip64=True) as f:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(300):
                f.write(chunk)
    assert len(buf.getvalue()) < 2 * 1024 * 1024
    assert _refused_or_read(buf.getvalue()) == "refused inflates"


def test_xml_with_entity_expansion_is_refused():
    TRIED["importer"] += 1
    parts = _parts(ORIGINAL)
    lol = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
           + b"".join(f'<!ENTITY a{i} "{"&a;" * 10 if i == 0 else f"&a{i - 1};" * 10}">'.encode() for i in range(9))
           + b"]>")
    parts = [(info, lol + content.split(b"?>", 1)[1] if info.filename == "word/document.xml" else content)
             for info, content in parts]
    assert _refused_or_read(_rezip(parts)) == "refused entities"


BOUNDED_IMPORT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1024 ** 3, 1024 ** 3))  # 1 GiB of address space at most
sys.path.insert(0, sys.argv[1])
from revise.docx_import import ImportRefused, import_docx
try:
    print("read", len(import_docx(sys.stdin.buffer.read()).blocks[0].text))
except ImportRefused as refused:
    print("refused", refused.code)
"""


def _import_in_bounded_process(data: bytes) -> str:
    """Import in a child process whose address space is capped: C allocations (lxml) count too."""
    import subprocess
    import sys

    from conftest import ROOT

    result = subprocess.run([sys.executable, "-c", BOUNDED_IMPORT, str(ROOT)], input=data,
                            capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return result.stdout.decode().strip()


def test_a_huge_single_paragraph_is_read_within_the_memory_bound():
    import random

    import docx

    TRIED["importer"] += 1
    rng = random.Random(7)
    text = "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(3_000_000))  # 3 million characters, one paragraph
    document = docx.Document()
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    assert _import_in_bounded_process(buf.getvalue()) == "read 3000000"


def test_a_huge_repetitive_paragraph_is_refused_as_a_possible_bomb():
    import docx

    TRIED["importer"] += 1
    document = docx.Document()
    document.add_paragraph("创新" * 2_000_000)  # 12 MB of XML that compresses 1000×
    buf = io.BytesIO()
    document.save(buf)
    assert _import_in_bounded_process(buf.getvalue()) == "refused inflates"


# --- every public form and URL parameter ---------------------------------------------------

text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=20),
    st.just(""),
    st.text(min_size=6000, max_size=7000),
    st.sampled_from(["<script>alert(1)</script>", "' or 1=1 --", "../../etc/passwd", "%00", "\ud800", "𝕏" * 10]),
)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory):
    from starlette.testclient import TestClient

    from revise.app import create_app
    from revise.settings import Settings

    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("fuzz"), comments_per_minute=10**9, base_url="http://testserver"))
    with TestClient(app, raise_server_exceptions=False) as client:
        html = client.get("/c/nanchong-2022/b/12").text
        client.csrf = html.split('name="csrf" value="')[1].split('"')[0]
        yield client


STATUSES: list[int] = []


def _check(response):
    STATUSES.append(response.status_code)
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert response.text.strip(), "a refusal comes with a message"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.sampled_from(["kind", "name", "contact", "body", "suggestion", "quote", "action",
                                               "form_token", "csrf", "extra"]), text, max_size=8),
       keep_csrf=st.booleans(), path=st.sampled_from(["/c/nanchong-2022/b/12/comments", "/c/nanchong-2022/remarks",
                                                      "/c/nanchong-2022/b/999999/comments", "/c/nope/remarks"]))
def test_comment_forms_answer_4xx_with_a_message_never_500(fuzz_client, fields, keep_csrf, path):
    TRIED["forms"] += 1
    if keep_csrf:
        fields["csrf"] = fuzz_client.csrf
    _check(fuzz_client.post(path, data={k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in fields.items()}))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=3000), content_type=st.sampled_from([
    "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=xyz",
    "application/json", "text/plain", "", "application/x-www-form-urlencoded; charset=gbk"]))
def test_raw_bodies_and_wrong_content_types_never_500(fuzz_client, body, content_type):
    TRIED["forms"] += 1
    headers = {"content-type": content_type} if content_type else {}
    _check(fuzz_client.post("/c/nanchong-2022/b/12/comments", content=body, headers=headers))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=st.text(max_size=40), query=st.dictionaries(st.sampled_from(["lang", "receipt", "code", "page", "q"]), text, max_size=3),
       route=st.sampled_from(["/c/{}", "/r/{}", "/d/{}", "/c/nanchong-2022/b/{}", "/r", "/", "/c/nanchong-2022"]))
def test_url_parameters_never_500(fuzz_client, segment, query, route):
    TRIED["forms"] += 1
    from urllib.parse import quote

    path = route.format(quote(segment.encode("utf-8", "surrogatepass"), safe=""))
    clean = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in query.items()}
    _check(fuzz_client.get(path, params=clean))


def test_no_500_across_the_whole_run_and_how_many_inputs_were_tried():
    # Runs last in this module: every status seen above was below 500.
    assert STATUSES and max(STATUSES) < 500
    print(f"\nfuzzed inputs tried: importer {TRIED['importer']}, forms and URLs {TRIED['forms']}; "
          f"statuses seen: {sorted(set(STATUSES))}")
