"""Limits on what is read from disk: non-regular files, sizes, brand lists, JSON, PDF, eval regexes,
and linear-time chunking (issue 16).

Each probe of the issue hung, ran out of memory, took minutes or ended in a traceback; each must now be
an InputError naming the file (and the field or limit) within a generous time budget. Probes that used
to hang or eat memory run in a forked child with a time and memory cap (:func:`run_bounded`), so a
regression fails the test instead of stalling the suite or the machine.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from core.errors import InputError
from knowledge import documents
from knowledge import index as index_module
from knowledge.brand import MAX_BANNED_TERMS, MAX_TERM_CHARS, load_brand
from knowledge.chunking import chunk_document, keep_sentences
from knowledge.documents import MAX_DOCUMENT_BYTES, MAX_JSON_DEPTH, MAX_KNOWLEDGE_BYTES, read_documents
from knowledge.embedders import BrandForgeEmbeddings
from knowledge.index import build_index
from knowledge.lexical import terms
from pipelines.evals.assertions import Target, Tools, check
from pipelines.evals.spec import NotRegex, Regex, load_suite
from tests.conftest import EXAMPLES, MINI_BRAND, MINI_DOCS, write_brand
from tests.pdfs import pdf_from_objects

pytestmark = [pytest.mark.unit, pytest.mark.security]

BUDGET_S = 15.0  # every probe here takes well under 2 s now; before the fixes, 44 s to forever
MIB = 1 << 20


def run_bounded(
    fn: Callable[..., Any], *args: Any, budget_s: float = BUDGET_S, memory_mib: int = 1024
) -> tuple[str, Any, float]:
    """Run ``fn(*args)`` in a forked child allowed ``budget_s`` seconds and ``memory_mib`` MiB more
    address space than the parent has; return (``"ok"`` or the exception's type name, the result or
    the exception's message, seconds taken). A child past its budget is killed and the test fails."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        resource.setrlimit(resource.RLIMIT_AS, (used + (memory_mib << 20), hard))
        try:
            out: tuple[str, Any] = ("ok", fn(*args))
        except BaseException as exc:  # reported to the parent, which asserts on it
            out = (type(exc).__name__, str(exc)[:4000])
        send.send(out)

    started = time.perf_counter()
    proc = ctx.Process(target=child)
    proc.start()
    if not receive.poll(budget_s):
        proc.kill()
        proc.join()
        pytest.fail(f"{getattr(fn, '__name__', fn)} ran past its {budget_s:.0f} s budget")
    kind, value = receive.recv()
    proc.join()
    return kind, value, time.perf_counter() - started


def _input_error(fn: Callable[..., Any], *args: Any, **kw: Any) -> str:
    kind, value, _ = run_bounded(fn, *args, **kw)
    assert kind == "InputError", f"expected an InputError, got {kind}: {str(value)[:300]}"
    return str(value)


# -- non-regular files and links ------------------------------------------------------------------


def test_fifo_in_knowledge_is_refused_without_waiting(mini_brand: Path) -> None:
    os.mkfifo(mini_brand / "knowledge" / "pipe.md")
    message = _input_error(read_documents, mini_brand / "knowledge", mini_brand)
    assert "pipe.md" in message and "named pipe" in message and "regular file" in message


def test_brand_yaml_linked_to_dev_zero_is_refused(tmp_path: Path) -> None:
    root = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)
    (root / "brand.yaml").unlink()
    (root / "brand.yaml").symlink_to("/dev/zero")
    message = _input_error(load_brand, root, memory_mib=512)
    assert "brand.yaml" in message and "outside the brand folder" in message


def test_brand_yaml_must_stay_inside_its_folder(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text(MINI_BRAND)
    root = write_brand(tmp_path / "b", MINI_BRAND, MINI_DOCS)
    (root / "brand.yaml").unlink()
    (root / "brand.yaml").symlink_to(outside)
    with pytest.raises(InputError, match=r"brand\.yaml: link points outside the brand folder"):
        load_brand(root)
    (root / "real.yaml").write_text(MINI_BRAND)
    (root / "brand.yaml").unlink()
    (root / "brand.yaml").symlink_to("real.yaml")  # a link inside the folder is fine
    assert load_brand(root).name == "Tidewater"


def test_a_knowledge_link_to_a_device_is_refused(mini_brand: Path) -> None:
    (mini_brand / "knowledge" / "zero.md").symlink_to("/dev/zero")
    message = _input_error(read_documents, mini_brand / "knowledge", mini_brand, memory_mib=512)
    assert "zero.md" in message


# -- sizes ------------------------------------------------------------------------------------------


def _sparse(path: Path, size: int) -> None:
    # A sparse file: its size without the disk space, so the limits can be tested at their real values.
    with open(path, "wb") as fh:
        fh.truncate(size)


def test_a_document_over_the_size_limit_is_refused_before_reading(mini_brand: Path) -> None:
    _sparse(mini_brand / "knowledge" / "huge.txt", MAX_DOCUMENT_BYTES + 1)
    message = _input_error(read_documents, mini_brand / "knowledge", mini_brand)
    assert "huge.txt" in message and f"{MAX_DOCUMENT_BYTES:,} bytes" in message


def test_a_knowledge_folder_over_the_total_limit_is_refused_before_reading(mini_brand: Path) -> None:
    n = MAX_KNOWLEDGE_BYTES // MAX_DOCUMENT_BYTES + 1
    for i in range(n):
        _sparse(mini_brand / "knowledge" / f"part{i:02}.txt", MAX_DOCUMENT_BYTES)
    kind, value, seconds = run_bounded(read_documents, mini_brand / "knowledge", mini_brand)
    assert kind == "InputError" and "knowledge" in value and f"{MAX_KNOWLEDGE_BYTES:,} bytes" in value
    assert seconds < 5  # refused on the sizes, not after reading 200 MB


def test_too_many_documents(mini_brand: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_DOCUMENTS", 3)
    for i in range(2):
        (mini_brand / "knowledge" / f"extra{i}.md").write_text("More text.")
    with pytest.raises(InputError, match=r"knowledge: more than 3 documents"):
        read_documents(mini_brand / "knowledge", mini_brand)


class _TinyEmbedder(BrandForgeEmbeddings):
    """Deterministic 8-d vectors: enough for testing the build loop without a model."""

    embedder_id = "tiny-test"
    dimension = 8

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = np.array([[(hash(t) >> s) & 0xFF for s in range(0, 64, 8)] for t in texts], dtype=np.float32)
        rows += 1.0
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_large_folders_report_reading_and_embedding_progress(
    mini_brand: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "PROGRESS_BYTES", 1000)
    monkeypatch.setattr(index_module, "PROGRESS_BYTES", 1000)
    monkeypatch.setattr(index_module, "EMBED_BATCH", 10)
    (mini_brand / "knowledge" / "long.md").write_text("A sentence about coffee. " * 400)
    lines: list[str] = []
    index, update = build_index(
        load_brand(mini_brand), _TinyEmbedder(), index_dir=tmp_path / "idx", progress=lines.append
    )
    assert lines[0].startswith("knowledge: reading 3 documents")
    assert any(line.startswith("knowledge: reading knowledge/long.md") for line in lines)
    assert "index: chunking knowledge/long.md (9,999 characters)" in lines
    assert f"index: embedding {update.passages_embedded:,} passages" in lines
    embedded = [line for line in lines if line.startswith("index: embedded")]
    assert len(embedded) == -(-update.passages_embedded // 10)
    assert embedded[-1].endswith(f"{len(index):,}/{len(index):,} passages")


def test_small_folders_stay_quiet(mini_brand: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    build_index(load_brand(mini_brand), _TinyEmbedder(), index_dir=tmp_path / "idx", progress=lines.append)
    assert lines == []


# -- brand.yaml lists and strings -------------------------------------------------------------------


def _brand_with(tmp_path: Path, **fields: Any) -> Path:
    data = yaml.safe_load(MINI_BRAND) | fields
    return write_brand(tmp_path / "b", yaml.safe_dump(data, allow_unicode=True), MINI_DOCS)


def test_354k_banned_terms_are_refused_at_load_quickly(tmp_path: Path) -> None:
    # The probe (a check ran past 300 s). Written compactly it is 1.8 MB, so the YAML file
    # limits refuse it before it is even parsed; the list limit itself is tested just below.
    terms_ = ",".join(np.base_repr(i, 36) for i in range(354_000))
    root = write_brand(
        tmp_path / "b", MINI_BRAND.replace("banned_terms: [cheap]", f"banned_terms: [{terms_}]"), MINI_DOCS
    )
    kind, message, seconds = run_bounded(load_brand, root)
    assert kind == "InputError" and "brand.yaml" in message and "the limit is" in message
    assert len(message) < 400 and seconds < 5  # the terms are not echoed


def test_banned_terms_over_the_limit_name_the_field_and_the_limit(tmp_path: Path) -> None:
    root = _brand_with(tmp_path, banned_terms=[f"term{i}" for i in range(MAX_BANNED_TERMS + 1)])
    with pytest.raises(InputError) as err:
        load_brand(root)
    message = str(err.value)
    assert (
        "brand.yaml" in message
        and f"banned_terms: List should have at most {MAX_BANNED_TERMS} items" in message
    )
    assert len(message) < 400
    assert load_brand(_brand_with(tmp_path, banned_terms=[f"t{i}" for i in range(MAX_BANNED_TERMS)]))


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"products": [{"name": f"p{i}"} for i in range(101)]}, "products: List should have at most 100"),
        (
            {"products": [{"name": "p", "facts": ["f"] * 51}]},
            "products[0].facts: List should have at most 50",
        ),
        ({"voice": {"do": ["rule"] * 51}}, "voice.do: List should have at most 50"),
        ({"required_terms": ["t"] * 501}, "required_terms: List should have at most 500"),
        ({"competitors": ["c"] * 501}, "competitors: List should have at most 500"),
        ({"channels": ["c"] * 51}, "channels: List should have at most 50"),
        (
            {"channel_inputs": {"cs_reply": {"question": "q" * 5000}}},
            "question: String should have at most 4000",
        ),
        ({"compliance": {"allowed_hosts": ["h.com"] * 501}}, "allowed_hosts: List should have at most 500"),
        ({"positioning": "p" * 5000}, "positioning: String should have at most 4000"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_brand_lists_and_strings_have_limits(tmp_path: Path, fields: dict[str, Any], where: str) -> None:
    with pytest.raises(InputError) as err:
        load_brand(_brand_with(tmp_path, **fields))
    assert "brand.yaml" in str(err.value) and where in str(err.value)
    assert len(str(err.value)) < 500  # the offending value is not echoed in full


def test_a_long_banned_term_is_refused(tmp_path: Path) -> None:
    root = _brand_with(tmp_path, banned_terms=["x" * 10**6])
    with pytest.raises(InputError, match=rf"banned_terms\[0\]: String should have at most {MAX_TERM_CHARS}"):
        load_brand(root)


# -- JSON -------------------------------------------------------------------------------------------


def _read_json_doc(tmp_path: Path, body: str) -> Any:
    k = tmp_path / "knowledge"
    k.mkdir(exist_ok=True)
    (k / "data.json").write_text(body)
    return read_documents(k, tmp_path).documents[0].text


def test_json_nested_100k_deep_is_an_input_error(tmp_path: Path) -> None:
    message = _input_error(_read_json_doc, tmp_path, "[" * 100_000 + "]" * 100_000)
    assert "data.json" in message and "nested" in message


def test_json_nested_past_the_limit_is_an_input_error(tmp_path: Path) -> None:
    body = '{"a": ' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1)
    message = _input_error(_read_json_doc, tmp_path, body)
    assert "data.json" in message and f"deeper than {MAX_JSON_DEPTH} levels" in message


def test_json_numbers_keep_their_text_even_with_100k_digits(tmp_path: Path) -> None:
    digits = "7" * 100_000
    kind, text, _ = run_bounded(
        _read_json_doc, tmp_path, json.dumps({"price": "x"})[:-1] + f', "n": {digits}}}'
    )
    assert kind == "ok" and f"n: {digits}" in text
    assert "rating: 4.50; big: 1e400" in _read_json_doc(tmp_path, '[{"rating": 4.50, "big": 1e400}]')


# -- PDF --------------------------------------------------------------------------------------------


def _pdf_with_pages(contents: list[bytes]) -> bytes:
    n = len(contents)
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, body in enumerate(contents):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream")
    return pdf_from_objects(objects)


def _read_pdf_doc(tmp_path: Path, raw: bytes) -> Any:
    k = tmp_path / "knowledge"
    k.mkdir(exist_ok=True)
    (k / "sheet.pdf").write_bytes(raw)
    return read_documents(k, tmp_path).documents[0].text


def test_pdf_text_is_read(tmp_path: Path) -> None:
    assert (
        _read_pdf_doc(tmp_path, _pdf_with_pages([b"BT /F1 24 Tf 72 700 Td (Hello PDF) Tj ET"])) == "Hello PDF"
    )


def test_pdf_nested_100k_deep_is_an_input_error(tmp_path: Path) -> None:
    raw = _pdf_with_pages([b"BT /F1 24 Tf " + b"[" * 100_000 + b" TJ ET"])
    message = _input_error(_read_pdf_doc, tmp_path, raw)
    assert "sheet.pdf" in message and "unreadable PDF" in message


def test_pdf_page_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_PDF_PAGES", 2)
    raw = _pdf_with_pages([b"BT /F1 24 Tf 72 700 Td (Page) Tj ET"] * 3)
    with pytest.raises(InputError, match=r"sheet\.pdf: PDF has 3 pages; the limit is 2"):
        _read_pdf_doc(tmp_path, raw)


# -- eval regexes -----------------------------------------------------------------------------------


def _suite(tmp_path: Path, assertion: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "cases:\n"
        "  - id: probe\n"
        f"    brand: {EXAMPLES / 'tidewater'}\n"
        "    channel: social_post\n"
        f"    assert:\n      - {assertion}\n"
    )
    return path


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("(unclosed", "missing )"), ("^(?!#)", "invalid perl operator"), (r"(a)\1", "invalid escape")],
)
def test_an_invalid_eval_regex_names_the_file_case_and_field(
    tmp_path: Path, pattern: str, reason: str
) -> None:
    with pytest.raises(InputError) as err:
        load_suite(_suite(tmp_path, f"{{type: regex, field: text, value: {json.dumps(pattern)}}}"))
    message = str(err.value)
    assert "suite.yaml" in message and "cases[0].assert[0]" in message and "invalid regex" in message
    assert reason in message and "RE2 syntax" in message


def _tools() -> Tools:
    return Tools(
        embed=lambda texts: np.zeros((len(texts), 1)), judge=lambda c, t: (0.0, ""), passage_exists=bool
    )


def _regex_check(pattern: str, text: str, negate: bool = False) -> bool:
    kind = NotRegex if negate else Regex
    assertion = kind.model_validate(
        {"type": "not_regex" if negate else "regex", "field": "text", "value": pattern}
    )
    return check(assertion, Target(output={"text": text}), _tools()).passed


def test_eval_regexes_run_in_linear_time_on_model_output() -> None:
    # (a+)+$ backtracks 2^n times in Python's re on "aaa...ab"; RE2 answers in linear time.
    kind, passed, seconds = run_bounded(_regex_check, "(a+)+$", "a" * 100_000 + "b")
    assert kind == "ok" and passed is False
    assert seconds < BUDGET_S


def test_not_regex_passes_when_nothing_matches() -> None:
    at_most_three_tags = r"(?:#[\p{L}\p{N}_]+[\s\S]*){4}"
    assert _regex_check(at_most_three_tags, "#coffee #旅行 #fresh", negate=True)
    assert not _regex_check(at_most_three_tags, "#a #b #c #d", negate=True)


# -- chunking, lexical terms and HTML on adversarial documents --------------------------------------

M = 1_000_000
ADVERSARIAL = {
    "one-char": "a" * M,
    "dot-space": ". " * (M // 2),
    "cjk-full-stops": "。" * M,
    "cjk-punctuation": "，、。！？；…" * (M // 7),
    "dots": "." * M,
    "newlines": "\n" * M,
    "hashes": "#" * M,
    "cjk": "最" * M,
    "word-dots": "a." * (M // 2),
}


def _chunk_and_terms(text: str) -> int:
    passages = chunk_document("doc.md", text)
    kept = keep_sentences(text, lambda s: True)
    return len(passages) + len(terms(text)) + len(kept)


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_chunking_and_terms_are_linear_on_adversarial_documents(name: str) -> None:
    # Before: 1 MB of "。" took 44 s and of ". " 21 s to chunk (a passage was re-joined per sentence).
    kind, value, seconds = run_bounded(_chunk_and_terms, ADVERSARIAL[name])
    assert kind == "ok", value
    assert seconds < BUDGET_S


@pytest.mark.parametrize("body", ["<a " * 30_000, "</" * (M // 2), "<a x='" * 30_000, "<" * M])
def test_html_documents_are_linear_on_unterminated_tags(body: str) -> None:
    # Before: "<a " * 30,000 (90 KB) took 90 s: HTMLParser.close() rescans an unterminated tag per "<".
    kind, value, seconds = run_bounded(documents.html_to_text, body)
    assert kind == "ok", value
    assert seconds < BUDGET_S


def test_html_still_keeps_text_around_odd_markup() -> None:
    assert documents.html_to_text("a < b and c > d <p>x</p> tail &amp") == "a < b and c > d\nx\ntail &"


def test_json_that_flattens_into_a_huge_text_is_refused(tmp_path: Path) -> None:
    """Key paths repeat on every nested record: 120 KB of JSON would flatten into 100 MB of text."""
    import json as _json

    from knowledge.documents import json_to_text

    path = tmp_path / "bomb.json"
    path.write_text(_json.dumps({"K" * 10_000: [{"a": {}}] * 10_000}), encoding="utf-8")
    with pytest.raises(InputError, match=r"bomb\.json: JSON flattens to more than"):
        json_to_text(path.read_text(encoding="utf-8"), path)


def test_a_brand_channel_file_linking_outside_the_brand_is_refused(tmp_path: Path) -> None:
    from agents.channels import load_channels

    outside = tmp_path / "outside.yaml"
    spec = "name: leak\ndescription: d\nfields: [{name: text, description: d}]\n"
    outside.write_text(spec, encoding="utf-8")
    channels = tmp_path / "brand" / "channels"
    channels.mkdir(parents=True)
    (channels / "leak.yaml").symlink_to(outside)
    with pytest.raises(InputError, match=r"leak\.yaml: link points outside its folder"):
        load_channels(channels)
