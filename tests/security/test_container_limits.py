"""Limits on zip-based and e-mail knowledge documents (.docx, .pptx, .xlsx, .epub, .eml) and on
LangChain loaders plugged in with ``register_loader`` (issue 17).

A crafted archive must be refused before it is inflated, whichever reader (ours or a registered
LangChain loader) would read it; each probe runs in a forked child with a time and memory cap
(:func:`run_bounded`), so inflating the bomb would fail the test instead of eating the machine.
What is inflated must also be cheap to parse: each part read once however often it is listed,
streamed rather than held as a tree, and within one document's parse budget.
"""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from core.errors import InputError
from knowledge import documents, formats
from knowledge.documents import read_documents, register_loader, unregister_loader
from tests import office_docs
from tests.security.test_input_limits import run_bounded

pytestmark = [pytest.mark.unit, pytest.mark.security]

BOMB_BYTES = 300 << 20  # inflates past MAX_ZIP_UNCOMPRESSED (256 MiB)


def _knowledge(tmp_path: Path, files: dict[str, bytes]) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return office_docs.zip_bomb("word/document.xml", BOMB_BYTES)


@pytest.mark.parametrize("suffix", [".docx", ".pptx", ".xlsx", ".epub"])
def test_zip_bomb_is_refused_before_inflating(tmp_path: Path, bomb: bytes, suffix: str) -> None:
    assert len(bomb) < 1 << 20  # under a MiB on disk: well within the document size limit
    folder = _knowledge(tmp_path, {f"sheet{suffix}": bomb})
    # 128 MiB of address space more than the parent: inflating the 300 MiB member cannot fit.
    kind, message, seconds = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=128)
    assert kind == "InputError", message
    assert f"sheet{suffix}" in message and "would inflate to 314,572,800 bytes" in message
    assert "decompression bomb" in message and seconds < 10


def test_zip_bomb_never_reaches_a_registered_langchain_loader(tmp_path: Path, bomb: bytes) -> None:
    calls: list[Path] = []

    def factory(path: Path):  # type: ignore[no-untyped-def]
        from langchain_community.document_loaders import Docx2txtLoader

        calls.append(path)
        return Docx2txtLoader(str(path))

    register_loader(".docx", factory)
    try:
        folder = _knowledge(tmp_path, {"bomb.docx": bomb})
        with pytest.raises(InputError, match=r"bomb\.docx: docx archive would inflate"):
            read_documents(folder, tmp_path)
        assert calls == []
        # The same guard holds for a suffix the built-in readers do not know, if the bytes are a zip.
        register_loader(".odt", factory)
        (folder / "bomb.docx").rename(folder / "bomb.odt")
        with pytest.raises(InputError, match=r"bomb\.odt: odt archive would inflate"):
            read_documents(folder, tmp_path)
        assert calls == []
    finally:
        unregister_loader(".docx")
        unregister_loader(".odt")


def test_a_member_that_lies_about_its_size_is_not_inflated(tmp_path: Path) -> None:
    # Declares 1,000 bytes, inflates to 100 MiB: passes the declared-size check. ZipFile.read() would
    # inflate the whole compressed chunk at once (a MemoryError under this cap, found by this test);
    # the 64 KiB verification pass stops at the declared size and fails the CRC check instead.
    liar = office_docs.lying_zip("word/document.xml", 100 << 20, 1000)
    folder = _knowledge(tmp_path, {"liar.docx": liar})
    kind, message, seconds = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=64)
    assert kind == "InputError", message
    assert (
        "liar.docx: Word (.docx) archive member 'word/document.xml' does not hold what it declares" in message
    )
    assert "BadZipFile" in message and seconds < 10


def test_a_lying_member_never_reaches_openpyxl(tmp_path: Path) -> None:
    liar = office_docs.lying_zip("xl/workbook.xml", 100 << 20, 1000)
    folder = _knowledge(tmp_path, {"liar.xlsx": liar})
    kind, message, _ = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=64)
    assert kind == "InputError" and "liar.xlsx: Excel (.xlsx) archive member 'xl/workbook.xml'" in message


def test_too_many_members(tmp_path: Path) -> None:
    folder = _knowledge(tmp_path, {"many.pptx": office_docs.many_members(formats.MAX_ZIP_MEMBERS + 1)})
    with pytest.raises(InputError, match=r"many\.pptx: PowerPoint \(\.pptx\) archive has 10,001 members"):
        read_documents(folder, tmp_path)


def test_billion_laughs_in_a_docx_is_refused(tmp_path: Path) -> None:
    entities = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10))
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
        f'<w:document xmlns:w="{office_docs.W_NS}"><w:body><w:p><w:r><w:t>&a9;</w:t></w:r></w:p>'
        "</w:body></w:document>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", xml)
    folder = _knowledge(tmp_path, {"laughs.docx": buffer.getvalue()})
    kind, message, _ = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=256)
    assert kind == "InputError", message
    assert "laughs.docx: Word (.docx) part 'word/document.xml' is not well-formed XML" in message
    assert "amplification" in message  # expat's own guard against entity expansion


def test_a_sheet_outside_excels_grid_is_refused_at_once(tmp_path: Path) -> None:
    # openpyxl steps through every missing row: row 2,000,000,000 took 5.7 s and would take longer.
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.cell(row=1, column=1, value="a")
    workbook.active.cell(row=999_999, column=1, value="b")  # openpyxl refuses to write past row 1,048,576
    buffer = io.BytesIO()
    workbook.save(buffer)
    far = office_docs.replace_in_member(
        buffer.getvalue(), "xl/worksheets/sheet1.xml", b"999999", b"2000000000"
    )
    folder = _knowledge(tmp_path, {"far.xlsx": far})
    started = time.perf_counter()
    with pytest.raises(
        InputError, match=r"far\.xlsx: xl/worksheets/sheet1\.xml addresses .*outside Excel's grid"
    ):
        read_documents(folder, tmp_path)
    assert time.perf_counter() - started < 2


def test_far_apart_cells_are_bounded_by_the_cell_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in range(1, 201):  # every row padded to column XFD by openpyxl: 200 x 16,384 cells
        sheet.cell(row=row, column=1, value="a")
        sheet.cell(row=row, column=16_384, value="z")
    buffer = io.BytesIO()
    workbook.save(buffer)
    folder = _knowledge(tmp_path, {"wide.xlsx": buffer.getvalue()})
    monkeypatch.setattr(formats, "MAX_SHEET_CELLS", 1_000_000)
    with pytest.raises(InputError, match=r"wide\.xlsx: workbook has more than 1,000,000 cells"):
        read_documents(folder, tmp_path)
    monkeypatch.setattr(formats, "MAX_SHEET_CELLS", 10_000_000)
    text = read_documents(folder, tmp_path).documents[0].text
    assert text.splitlines()[1] == "a | z"  # far-apart cells do not become 16,382 empty columns


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("plain.docx", b"not a zip at all", r"plain\.docx: not a Word \(\.docx\) file \(not a zip archive\)"),
        ("empty.pptx", b"", r"empty\.pptx: not a PowerPoint \(\.pptx\) file"),
        (
            "nobody.docx",
            office_docs.many_members(3),
            r"nobody\.docx: not a valid Word \(\.docx\) file \(word/",
        ),
        ("broken.epub", office_docs.many_members(1), r"broken\.epub: not a valid EPUB \(\.epub\) file"),
        (
            "broken.xlsx",
            office_docs.many_members(2),
            r"broken\.xlsx: not a valid Excel \(\.xlsx\) file \(\[Content_Types\]\.xml is missing\)",
        ),
        (  # content types that name no workbook part: openpyxl's own refusal, still naming the file
            "nobook.xlsx",
            office_docs.replace_in_member(
                office_docs.xlsx({"S": [["a"]]}), "[Content_Types].xml", b"sheet.main", b"x"
            ),
            r"nobook\.xlsx: unreadable Excel workbook \(OSError: File contains no valid workbook part",
        ),
    ],
)
def test_broken_containers_name_the_file(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    folder = _knowledge(tmp_path, {name: data})
    with pytest.raises(InputError, match=message):
        read_documents(folder, tmp_path)


def test_container_text_is_bounded_while_it_is_produced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_DOCUMENT_CHARS", 10_000)
    docx = office_docs.docx([("p", "Harbor Blend ships within 48 hours. " * 20)] * 50)
    folder = _knowledge(tmp_path, {"long.docx": docx})
    with pytest.raises(InputError, match=r"long\.docx: document text longer than the limit"):
        read_documents(folder, tmp_path)


def test_an_email_with_huge_headers_and_deep_nesting_stays_fast(tmp_path: Path) -> None:
    nested = b"Content-Type: multipart/mixed; boundary=b0\r\n\r\n"
    for n in range(1, 200):
        nested += f"--b{n - 1}\r\nContent-Type: multipart/mixed; boundary=b{n}\r\n\r\n".encode()
    headers = b"Subject: " + b"=?utf-8?q?" + b"a" * 500_000 + b"?=\r\nTo: " + b"(" * 200_000 + b"\r\n"
    folder = _knowledge(
        tmp_path, {"deep.eml": nested + b"--b199\r\n\r\nbody\r\n", "wide.eml": headers + b"\r\nhi"}
    )
    kind, value, seconds = run_bounded(read_documents, folder, tmp_path, budget_s=30, memory_mib=512)
    assert kind in ("ok", "InputError"), value
    assert seconds < 10


# -- parsing: each part once, streamed, within one document's budget ------------------------------
def _texts(folder: Path, root: Path) -> list[str]:
    return [document.text for document in read_documents(folder, root).documents]


def test_a_slide_listed_thousands_of_times_is_read_once(tmp_path: Path) -> None:
    # A 13 KB file: one 1.8 MB slide (300,000 empty paragraphs) listed 4,000 times. Each listing used to
    # parse the slide again (0.6 s for a 4 MB slide here: 4,000 listings, 20 minutes).
    deck = office_docs.pptx_listing_one_slide("Founded in 2015 in Portland.", 300_000, 4_000)
    assert len(deck) < 50_000
    folder = _knowledge(tmp_path, {"deck.pptx": deck})
    kind, value, seconds = run_bounded(_texts, folder, tmp_path, budget_s=20, memory_mib=64)
    assert kind == "ok", value
    assert value == ["## Slide 1\nFounded in 2015 in Portland."] and seconds < 5


def test_a_repeated_slide_is_skipped_and_said(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = _knowledge(tmp_path, {"deck.pptx": office_docs.pptx_listing_one_slide("Tide Club", 0, 3)})
    assert _texts(folder, tmp_path) == ["## Slide 1\nTide Club"]
    assert "deck.pptx: 2 repeated slide entries in ppt/presentation.xml skipped" in caplog.text


def test_a_slide_list_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    folder = _knowledge(
        tmp_path, {"long.pptx": office_docs.pptx_listing_one_slide("x", 0, formats.MAX_SLIDES + 1)}
    )
    with pytest.raises(InputError, match=r"long\.pptx: PowerPoint \(\.pptx\) lists more than 5,000 slides"):
        read_documents(folder, tmp_path)


def test_a_chapter_listed_thousands_of_times_is_read_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The spine's limit is 5,000 chapters; each used to be parsed again (1.3 s each for this chapter here).
    book = office_docs.epub_repeating_chapter("Glaciers at dawn.", 300_000, formats.MAX_EPUB_CHAPTERS)
    folder = _knowledge(tmp_path, {"book.epub": book})
    kind, value, seconds = run_bounded(_texts, folder, tmp_path, budget_s=20, memory_mib=128)
    assert kind == "ok", value
    assert value == ["# Only chapter\nGlaciers at dawn."] and seconds < 5
    small = _knowledge(tmp_path / "small", {"book.epub": office_docs.epub_repeating_chapter("Dawn.", 0, 3)})
    assert _texts(small, tmp_path) == ["# Only chapter\nDawn."]
    assert "book.epub: 2 repeated chapter entries in OEBPS/content.opf skipped" in caplog.text
    spine = office_docs.epub_repeating_chapter("x", 0, formats.MAX_EPUB_CHAPTERS + 1)
    folder = _knowledge(tmp_path, {"spine.epub": spine})
    with pytest.raises(InputError, match=r"spine\.epub: EPUB \(\.epub\) lists more than 5,000 chapters"):
        read_documents(folder, tmp_path)


def test_millions_of_xml_elements_are_streamed_not_held(tmp_path: Path) -> None:
    # 8 MiB of <w:p/> in a 13 KB file: 1.4 million elements, about 140 MB as one tree (16 MiB took 280 MB).
    # Streamed, the reader fits in 64 MiB more than the parent.
    docx = office_docs.docx_padded("Every bag ships within 48 hours.", (8 << 20) // 6)
    folder = _knowledge(tmp_path, {"padded.docx": docx})
    kind, value, seconds = run_bounded(_texts, folder, tmp_path, budget_s=20, memory_mib=64)
    assert kind == "ok", value
    assert value == ["Every bag ships within 48 hours."] and seconds < 5


def test_an_xml_part_over_the_limit_is_refused_before_parsing(tmp_path: Path) -> None:
    docx = office_docs.docx_padded("x", (formats.MAX_XML_PART_BYTES // 6) + 1)
    folder = _knowledge(tmp_path, {"huge.docx": docx})
    kind, message, seconds = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=64)
    assert kind == "InputError", message
    size = len(zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml"))
    assert (
        f"huge.docx: Word (.docx) part 'word/document.xml' holds {size:,} bytes of XML; the limit for one "
        "part is 33,554,432 bytes (32 MiB)" in message
    )
    assert seconds < 5


def test_xml_elements_are_bounded_per_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_XML_ELEMENTS", 100_000)
    folder = _knowledge(tmp_path, {"many.docx": office_docs.docx_padded("x", 100_000)})
    with pytest.raises(
        InputError,
        match=r"many\.docx: Word \(\.docx\) holds more than 100,000 XML elements, the limit for one document "
        r"\(reached in part 'word/document\.xml'\)",
    ):
        read_documents(folder, tmp_path)


def test_xml_nesting_is_bounded(tmp_path: Path) -> None:
    deep = b"<w:sdt>" * (formats.MAX_XML_DEPTH) + b"</w:sdt>" * (formats.MAX_XML_DEPTH)
    docx = office_docs.replace_in_member(
        office_docs.docx([("p", "x")]), "word/document.xml", b"<w:body>", b"<w:body>" + deep
    )
    folder = _knowledge(tmp_path, {"deep.docx": docx})
    with pytest.raises(
        InputError, match=r"deep\.docx: .* part 'word/document\.xml' nests XML elements more than 256 deep"
    ):
        read_documents(folder, tmp_path)


def test_xml_parsed_is_bounded_per_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Three distinct slides of 400 KB each: within every per-part limit, over a 1 MiB document budget.
    deck = office_docs.pptx([(f"Slide {n}", ["word " * 80_000], []) for n in range(3)])
    folder = _knowledge(tmp_path, {"big.pptx": deck})
    monkeypatch.setattr(formats, "MAX_PARSE_BYTES", 1 << 20)
    with pytest.raises(
        InputError,
        match=r"big\.pptx: PowerPoint \(\.pptx\) needs more than 1,048,576 bytes \(1 MiB\) of XML parsed, "
        r"the limit for one document \(reached at part 'ppt/slides/slide1\.xml'\)",
    ):
        read_documents(folder, tmp_path)
    monkeypatch.setattr(formats, "MAX_PARSE_BYTES", 64 << 20)
    assert _texts(folder, tmp_path)[0].startswith("## Slide 0\nword word")


def test_epub_chapter_html_is_bounded_like_one_html_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "MAX_EPUB_HTML_BYTES", 1_000)
    book = office_docs.epub([("One", "a" * 600), ("Two", "b" * 600)])
    folder = _knowledge(tmp_path, {"book.epub": book})
    with pytest.raises(
        InputError,
        match=r"book\.epub: EPUB \(\.epub\) holds more than 1,000 bytes of chapter HTML, the limit for one "
        r"book \(reached at 'OEBPS/text/chapter 1\.xhtml'\)",
    ):
        read_documents(folder, tmp_path)


def test_a_sheet_part_listed_twice_is_refused(tmp_path: Path) -> None:
    raw = office_docs.xlsx({"A": [["a"]], "B": [["b"]]})
    twice = office_docs.replace_in_member(raw, "xl/_rels/workbook.xml.rels", b"sheet2.xml", b"sheet1.xml")
    folder = _knowledge(tmp_path, {"twice.xlsx": twice})
    with pytest.raises(
        InputError,
        match=r"twice\.xlsx: Excel \(\.xlsx\) lists the sheet part 'xl/worksheets/sheet1\.xml' more than "
        r"once in xl/workbook\.xml",
    ):
        read_documents(folder, tmp_path)


def test_shared_strings_are_bounded_before_openpyxl_reads_them(tmp_path: Path) -> None:
    # openpyxl reads every shared string before the first cell, 11 µs each here: 1M took 11 s.
    count = formats.MAX_SHARED_STRING_ELEMENTS
    strings = f'<sst xmlns="{office_docs.SHEET_NS}">'.encode() + b"<si/>" * count + b"</sst>"
    raw = office_docs.xlsx_with_shared_strings(office_docs.xlsx({"S": [["a"]]}), strings)
    folder = _knowledge(tmp_path, {"strings.xlsx": raw})
    kind, message, seconds = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=128)
    assert kind == "InputError", message
    assert "strings.xlsx: Excel (.xlsx) shared strings hold more than 1,000,000 XML elements" in message
    assert seconds < 5
    fine = office_docs.xlsx_with_shared_strings(
        office_docs.xlsx({"S": [["a"]]}), strings.replace(b"<si/>" * count, b"<si><t>x</t></si>" * 10)
    )
    assert _texts(_knowledge(tmp_path, {"strings.xlsx": fine}), tmp_path) == ["# S\na"]


def test_styles_openpyxl_loads_whole_are_bounded(tmp_path: Path) -> None:
    # 100,000 cell formats took openpyxl 2.7 s and 70 MB: one object per element of styles.xml.
    xf = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    raw = office_docs.replace_in_member(
        office_docs.xlsx({"S": [["a"]]}),
        "xl/styles.xml",
        b"</cellXfs>",
        xf * formats.MAX_WORKBOOK_ELEMENTS + b"</cellXfs>",
    )
    folder = _knowledge(tmp_path, {"styles.xlsx": raw})
    kind, message, seconds = run_bounded(read_documents, folder, tmp_path, budget_s=20, memory_mib=128)
    assert kind == "InputError", message
    assert "styles.xlsx: Excel (.xlsx) holds more than 250,000 XML elements outside sheet rows" in message
    assert "reached in part 'xl/styles.xml'" in message and seconds < 5
